/** Anchors on mechanisms (probe:) and on I/O paths (mode:), with ratios (over:, overMode:). */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAnchor, runAnchor, listAnchors } from '../../src/validate/validate.js';
import { findKnob } from '../../src/config/schema.js';
import { tempDir } from '../setup/tmp.js';

const d = tempDir('iommusim-probe-anchor-');
const anchor = (text: string) => { const f = join(d, 'a.yaml'); writeFileSync(f, text); return f; };
const head = 'name: a\ndescription: d\nsource: s\nunit: x\nmetric: exit\npublished: 2\ntolerance: 0.1\n';

describe('probe and I/O-path anchors', () => {
  it('a probe ratio: nested over single-level, the same figure under both settings', () => {
    const a = loadAnchor(anchor(`${head}probe: exit-cycles\nsettings: { virt.nested: true, virt.l1.vmcsShadowing: true }\nover: { virt.nested: false }\n`));
    const r = runAnchor(a);
    expect(r.simulated).toBeCloseTo((1300 + 5945 + 1059) / 1300, 3);
  });
  it('an I/O-path ratio: one path over another of the same generator', () => {
    const a = loadAnchor(anchor(`name: a\ndescription: d\nsource: s\nunit: x\nmetric: cyclesPerPacket.total\npublished: 1\ntolerance: 0.1\ngenerator: nic-tcp\nmode: passthrough\noverMode: passthrough-pi\nhypervisor: kvm\nsettings: { workload.count: 1500 }\n`));
    const r = runAnchor(a);
    expect(r.simulated!).toBeGreaterThan(1); // the exits of interrupts without posting cost cycles
  });
  const bad: Array<[string, string, RegExp]> = [
    ['an unknown probe', `${head}probe: crystal-ball\n`, /a\.yaml: unknown probe 'crystal-ball'; use one of exit-cycles, fault-latency/],
    ['a probe and a generator', `${head}probe: exit-cycles\ngenerator: pciebench\n`, /a probe anchor has no generator or mode/],
    ['no generator or probe', head, /a\.yaml: generator is missing; add generator: \(or probe:\)/],
    ['an unknown path', `${head}generator: nic-tcp\nmode: teleport\n`, /a\.yaml: mode 'teleport' is not an I\/O path/],
    ['overMode without mode', `${head}generator: nic-tcp\noverMode: virtio\n`, /overMode without mode/],
    ['an unknown hypervisor', `${head}generator: nic-tcp\nmode: virtio\nhypervisor: hyperv\n`, /hypervisor 'hyperv' is unknown/],
    ['minus and over', `${head}probe: exit-cycles\nminus: {}\nover: {}\n`, /both minus and over/],
  ];
  for (const [what, text, re] of bad) it(`a malformed anchor is one error naming the file: ${what}`, () => expect(() => loadAnchor(anchor(text))).toThrow(re));
  it('a metric the probe does not give is one error naming the file and the figures it gives', () => {
    const a = loadAnchor(anchor(`${head.replace('metric: exit', 'metric: warp')}probe: exit-cycles\n`));
    expect(() => runAnchor(a)).toThrow(/a\.yaml: metric 'warp' is not a figure of probe exit-cycles; use one of exit, exit\.l1Exits/);
  });
  it('every shipped ratio anchor divides by public settings only', () => {
    for (const a of listAnchors()) for (const k of Object.keys(a.over ?? {})) expect(findKnob(k), `${a.file}: ${k}`).toBeDefined();
  });
});
