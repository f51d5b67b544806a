/**
 * The repository as a new user (or a cluster) gets it: the Containerfile builds the way the README
 * installs (npm ci, package.json's scripts), and npm 11 has nothing to warn about install scripts.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (f: string): string => readFileSync(join(root, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; bin: Record<string, string>; engines: { node: string }; allowScripts?: Record<string, boolean> };

interface Instr { op: string; args: string; stage: number }
/** Containerfile instructions, continuation lines joined, comments dropped; stage = index of its FROM. */
function instructions(text: string): Instr[] {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  let stage = -1;
  return joined.split('\n').map((l) => l.trim()).filter((l) => l !== '').map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    return { op: op.toUpperCase(), args: rest.join(' '), stage };
  });
}
/** The shell commands of the RUN lines, split at && and ;, in order. */
const runCommands = (ins: Instr[]): Array<{ cmd: string; stage: number }> =>
  ins.filter((i) => i.op === 'RUN').flatMap((i) => i.args.split(/&&|;/).map((c) => ({ cmd: c.trim().replace(/\s+/g, ' '), stage: i.stage })));

describe('Containerfile', () => {
  const ins = instructions(read('Containerfile'));
  const runs = runCommands(ins);

  it('builds on node:20-slim, the Node major package.json asks for', () => {
    const froms = ins.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThan(0);
    for (const f of froms) expect(f).toBe('node:20-slim');
    expect(pkg.engines.node).toMatch(/^>=20\./);
  });

  it('installs with the README\'s install command, before anything else npm does', () => {
    const readme = read('README.md');
    const install = /^(npm ci)\b/m.exec(readme.split('```sh')[1] ?? '')?.[1];
    expect(install, 'README.md opens with `npm ci && …`').toBe('npm ci');
    const npm = runs.filter((r) => r.cmd.startsWith('npm '));
    expect(npm[0].cmd).toBe(install);
  });

  it('every npm script it runs is one of package.json\'s, the build among them, then dev dependencies pruned', () => {
    const npm = runs.filter((r) => r.cmd.startsWith('npm ')).map((r) => r.cmd);
    const scripts = npm.filter((c) => c.startsWith('npm run ')).map((c) => c.split(' ')[2]);
    expect(scripts).toContain('build');
    for (const s of scripts) expect(Object.keys(pkg.scripts), `npm run ${s}`).toContain(s);
    expect(npm.indexOf('npm prune --omit=dev')).toBeGreaterThan(npm.indexOf('npm run build'));
  });

  it('copies what npm ci (which compiles: the prepare script) and the build need before running them, from files that exist', () => {
    expect(pkg.scripts.prepare).toBe(pkg.scripts.build);
    const ci = ins.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copied = ins.slice(0, ci).filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
    expect(tsconfig.include).toContain('src/**/*.ts');
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) expect(copied).toContain(f);
    for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      for (const f of i.args.split(/\s+/).slice(0, -1)) expect(existsSync(join(root, f)), f).toBe(true);
    }
  });

  it('runs iommusim: the entry point is package.json\'s bin, linked onto PATH in the final stage', () => {
    const last = Math.max(...ins.map((i) => i.stage));
    const entry = ins.find((i) => i.op === 'ENTRYPOINT');
    expect(entry && JSON.parse(entry.args)).toEqual(['iommusim']);
    const link = runs.find((r) => r.stage === last && r.cmd.startsWith('ln -s '));
    expect(link?.cmd).toBe(`ln -s /app/${pkg.bin.iommusim} /usr/local/bin/iommusim`);
    const copiedFinal = ins.filter((i) => i.op === 'COPY' && i.stage === last).map((i) => i.args);
    for (const want of ['/app/dist ./dist', '/app/node_modules ./node_modules', 'workloads ./workloads']) expect(copiedFinal.some((a) => a.endsWith(want)), want).toBe(true);
  });

  it('docs/batch.md gives the build command and the image the Job runs', () => {
    const batch = read('docs/batch.md');
    expect(batch).toContain('podman build -t iommusim -f Containerfile .');
    expect(batch).toContain('docker build -t iommusim -f Containerfile .');
    expect(batch).toMatch(/image: registry\.example\.com\/iommusim:0\.1\.0/);
  });
});

describe('npm install scripts', () => {
  it('every dependency with an install script is covered by package.json allowScripts (npm 11 warns otherwise; npm 10 ignores the field)', () => {
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages).filter(([p, v]) => p !== '' && v.hasInstallScript).map(([p, v]) => ({ name: p.replace(/^.*node_modules\//, ''), version: v.version }));
    expect(withScripts.map((p) => p.name)).toContain('esbuild');
    for (const p of withScripts) {
      const covered = pkg.allowScripts?.[p.name] !== undefined || pkg.allowScripts?.[`${p.name}@${p.version}`] !== undefined;
      expect(covered, `${p.name}@${p.version} has install scripts: npm install-scripts approve ${p.name} (or deny)`).toBe(true);
    }
  });
});
