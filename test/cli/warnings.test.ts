/** run's text summary warns about double maps and stray unmaps (counted in the JSON), one line each, only when there are some. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'run', ...args], { cwd: root, encoding: 'utf8' });

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'iommusim-warn-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const TRACE = `time_ns,device,pasid,op,iova,size,dir,paddr
0,01:00.0,,map,0x1000,4096,rw,0x5000
10,01:00.0,,map,0x1000,4096,rw,0x6000
11,01:00.0,,map,0x1000,8192,rw,0x7000
20,01:00.0,,dma,0x1000,64,read,
30,01:00.0,,unmap,0x1000,4096,,
50,02:00.0,,unmap,0x9000,4096,,
`;

describe('run: mapping warnings in the text summary', () => {
  it('two double maps and one stray unmap: one line each, with the counters of the JSON; none on a clean trace, none for unmaps the IOMMU ignores when off', () => {
    const f = join(dir, 'bad-maps.csv');
    writeFileSync(f, TRACE);
    const json = join(dir, 'r.json');
    const r = run([f, '--set', 'iommu.mode=strict', '--json', json]);
    expect(r.status).toBe(0);
    const warnings = r.stdout.split('\n').filter((l) => l.startsWith('warning'));
    expect(warnings).toEqual([
      'warning    2 double maps: a map over pages already mapped failed and mapped nothing (-EEXIST; metrics.mapping.mapFailed)',
      'warning    1 stray unmap: an unmap of a device with nothing mapped yet (no map before it) was ignored (unmap records 2 − metrics.mapping.unmapCalls 1)',
    ]);
    const m = JSON.parse(readFileSync(json, 'utf8')).metrics.mapping;
    expect([m.mapFailed, m.unmapCalls]).toEqual([2, 1]);
    expect(run(['workloads/examples/nic-rx-ring.csv', '--set', 'iommu.mode=strict']).stdout).not.toMatch(/warning/);
    expect(run([f, '--set', 'iommu.mode=off']).stdout).not.toMatch(/warning/);
  });
});
