/**
 * Output paths through the CLI: checked before anything is simulated (exit 2, one line naming the
 * path and the reason), and written whole or not at all when the disk fills during the write (a
 * preload, test/fixtures/preload/enospc.mjs, fills the disk for the files it is told).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const preload = pathToFileURL(join(root, 'test/fixtures/preload/enospc.mjs')).href;

interface Ran { code: number | null; out: string; err: string }
function iommusim(args: string[], opts: { env?: Record<string, string>; uid?: number; preload?: boolean } = {}): Ran {
  const argv = opts.preload ? ['--import', preload, cli, ...args] : [cli, ...args];
  const r = spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8', env: { ...process.env, ...opts.env }, ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Exit 2 and one line on stderr, no stack trace. */
function refused(r: Ran): string {
  expect(r.code).toBe(2);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.err).not.toMatch(/internal error|\bat .*\.js:\d+/);
  return r.err.trim();
}

let dir: string;
beforeAll(() => {
  if (!existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  dir = mkdtempSync(join(tmpdir(), 'iommusim-out-'));
  chmodSync(dir, 0o755); // an unprivileged user (the read-only test) must reach its folders
  writeFileSync(join(dir, 'afile'), 'a regular file\n');
});
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('output paths are checked before the run', () => {
  it('run --json into a missing folder: exit 2, one line naming the path, before the input is even read', () => {
    // the input does not exist either: the output path is checked first, so that is what is reported
    const err = refused(iommusim(['run', join(dir, 'no-such-trace.csv'), '--json', join(dir, 'missing', 'out.json')]));
    expect(err).toBe(`iommusim: ${join(dir, 'missing', 'out.json')}: folder ${join(dir, 'missing')} does not exist; create it (mkdir -p ${join(dir, 'missing')}) or pick another --json path`);
  });

  const cases: Array<[string, string[], RegExp]> = [
    ['compare --json under a regular file', ['compare', 'nic-10g-tcp', '--json', 'DIR/afile/c.json'], /afile\/c\.json: .*\/afile is a file, not a folder; pick another --json path$/],
    ['compare --out under a regular file', ['compare', 'nic-10g-tcp', '--out', 'DIR/afile/rep'], /afile\/rep: .*\/afile is a file, not a folder; pick another --out path$/],
    ['migrate --json into a missing folder', ['migrate', 'nic-10g-tcp', '--json', 'DIR/gone/m.json'], /gone\/m\.json: folder .*\/gone does not exist/],
    ['validate --json into a missing folder', ['validate', '--fast', '--json', 'DIR/gone/v.json'], /gone\/v\.json: folder .*\/gone does not exist/],
    ['validate --out that is a file', ['validate', '--fast', '--out', 'DIR/afile'], /afile: is a file, not a folder; pick another --out path$/],
    ['sweep --out under a regular file', ['sweep', 'workloads/sweeps/iotlb-size.yaml', '--out', 'DIR/afile/sw', '--workers', '0'], /afile\/sw: .*\/afile is a file, not a folder; pick another --out path$/],
    ['merge --out under a regular file', ['merge', 'DIR/shard', '--out', 'DIR/afile/all'], /afile\/all: .*\/afile is a file, not a folder; pick another --out path$/],
    ['report --out under a regular file', ['report', 'DIR/r.json', '--out', 'DIR/afile/rep'], /afile\/rep: .*\/afile is a file, not a folder; pick another --out path$/],
    ['trace gen -o into a missing folder', ['trace', 'gen', 'pciebench', '-o', 'DIR/gone/t.csv'], /gone\/t\.csv: folder .*\/gone does not exist; create it .* or pick another -o path$/],
    ['run --json naming a folder', ['run', 'pciebench', '--json', 'DIR'], /: is a folder, not a file; give a file name to --json, e.g. .*\/out\.json$/],
  ];
  for (const [what, args, re] of cases) {
    it(`${what}: exit 2, one line, nothing run`, () => {
      const r = iommusim(args.map((a) => a.replace('DIR', dir)));
      expect(refused(r)).toMatch(re);
      expect(r.out).toBe('');
    });
  }

  it('a read-only folder: exit 2, one line naming the file and the reason (as root, run as nobody: chmod does not stop root)', () => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const asRoot = process.getuid?.() === 0;
    let r: Ran;
    try {
      r = iommusim(['run', 'pciebench', '--set', 'workload.count=100', '--json', join(ro, 'out.json')], asRoot ? { uid: 65534 } : {});
    } catch (e) {
      // root without the right to change uid (a user namespace): a folder mounted read-only cannot be made here
      expect((e as NodeJS.ErrnoException).code).toBe('EPERM');
      return;
    }
    expect(refused(r)).toBe(`iommusim: ${join(ro, 'out.json')}: cannot write in folder ${ro}: permission denied (read-only for this user) (EACCES); pick another --json path or make the folder writable`);
    expect(readdirSync(ro)).toEqual([]);
  });
});

describe('a full disk while writing', () => {
  it('run --json: exit 2, one line naming the file, no cut out.json and no temporary file', () => {
    const d = join(dir, 'full-run');
    mkdirSync(d);
    const r = iommusim(['run', 'pciebench', '--set', 'workload.count=100', '--json', join(d, 'out.json'), '--quiet'], { preload: true, env: { IOMMUSIM_TEST_ENOSPC: 'out\\.json', IOMMUSIM_TEST_ENOSPC_ROOM: '3000' } });
    expect(refused(r)).toBe(`iommusim: ${join(d, 'out.json')}: not written: no space left on the device (ENOSPC); free some space or pick another --json path (no partial file was left)`);
    expect(readdirSync(d)).toEqual([]);
  });

  it('compare --out: the report stops at the file that failed; that file is not left cut', () => {
    const d = join(dir, 'full-report');
    const r = iommusim(['compare', 'nic-10g-tcp', '--modes', 'passthrough,emulated', '--set', 'workload.count=2000', '--out', d, '--quiet'], { preload: true, env: { IOMMUSIM_TEST_ENOSPC: 'report\\.html', IOMMUSIM_TEST_ENOSPC_ROOM: '100000' } });
    expect(refused(r)).toMatch(/report\.html: not written: no space left on the device \(ENOSPC\); free some space or pick another --out path/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('sweep: results.jsonl keeps whole lines only, the sweep stops with one line, and --resume then finishes it as one run would', () => {
    const spec = join(dir, 'small.yaml');
    writeFileSync(spec, 'name: small\nworkloads: [pciebench]\nsettings: { workload.count: 500 }\naxes:\n  workload.size: [64, 256, 1024]\n');
    const ref = join(dir, 'sweep-ref');
    expect(iommusim(['sweep', spec, '--out', ref, '--workers', '0', '--quiet', '--no-report']).code).toBe(0);
    const lines = readFileSync(join(ref, 'results.jsonl'), 'utf8').split('\n');
    const d = join(dir, 'sweep-full');
    const room = lines[0].length + 1 + Math.floor(lines[1].length / 2); // the second line is cut by the full disk
    const r = iommusim(['sweep', spec, '--out', d, '--workers', '1', '--quiet', '--no-report'], { preload: true, env: { IOMMUSIM_TEST_ENOSPC: 'results\\.jsonl$', IOMMUSIM_TEST_ENOSPC_ROOM: String(room) } });
    expect(refused(r)).toMatch(new RegExp(`^iommusim: ${d}/results\\.jsonl: cannot append: no space left on the device \\(ENOSPC\\); the sweep stopped after 1 jobs \\(the 1 recorded are kept\\): free some space or fix the folder, then run again with --resume$`));
    const kept = readFileSync(join(d, 'results.jsonl'), 'utf8');
    expect(kept.endsWith('\n')).toBe(true);
    expect(kept.trimEnd().split('\n').map((l) => JSON.parse(l).id)).toHaveLength(1);
    expect(existsSync(join(d, 'results.json'))).toBe(false);
    expect(existsSync(join(d, 'iommusim.lock'))).toBe(false);
    const again = iommusim(['sweep', spec, '--out', d, '--workers', '1', '--quiet', '--no-report', '--resume']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(d, 'results.json'), 'utf8')).toBe(readFileSync(join(ref, 'results.json'), 'utf8'));
  });
});
