/**
 * report.html in headless Chromium: the page draws its charts and writes a self-check into
 * <pre id="selftest">; --dump-dom prints the DOM after rendering. Installs Debian's chromium when
 * /usr/bin/chromium is missing (the beforeAll may take minutes; the test itself a few seconds).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport, toReportInput, type ReportInput } from '../../src/report/report.js';
import { shippedSweep, IO_PATHS_CHARTS, IOTLB_SIZE_CHARTS } from './shipped-sweeps.js';
import { tempDir } from '../setup/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const EVIL = '<img src=x onerror=window.__pwned=1>';

function run(size: number): unknown {
  const n = 100;
  return {
    schema: 'iommusim.result/1', iommusim: '0.1.0',
    config: { platform: 'test-plat', workload: { size } },
    workload: { name: EVIL, source: `generator:${EVIL}`, format: 'generator', records: n, devices: ['</script><script>window.__pwned=2</script>'], ops: {}, timeSpanNs: 0 },
    metrics: {
      iotlb: { lookups: 100, hits: 80, misses: 20, hitRate: 0.8, mergedMisses: 0 },
      walks: { count: 20, memReads: 60, readsPerWalk: 3 },
      invalidations: { iotlb: 0, wait: 0 }, faults: { count: 0 },
      dma: { requests: n, bytes: n * size },
      throughputGbps: size / 20,
      latencyNs: { min: 400, p50: 500 + size, p90: 600 + size, p99: 900 + size, max: 2000 + size },
      latencyCdfNs: [[500 + size, 0.5], [600 + size, 0.9], [900 + size, 0.99], [2000 + size, 1]],
    },
  };
}

function compare(): unknown {
  const mode = (m: string, t: number) => ({
    mode: m, description: EVIL, throughputGbps: t, packetsPerSec: 1, bottleneck: 'vCPU', offeredGbps: 10, deviceGbps: 10, cpuBoundGbps: t,
    cyclesPerPacket: { guest: 1000, host: 3000, total: 4000, parts: { 'guest.driver': 1000, 'host.exit': 3000 }, exitsPerPacket: 1 },
    coreUtilisation: { vcpu: 1, backend: 0 }, exitsPerSec: 30000 * t, interruptsPerSec: 20000,
    iotlb: { lookups: 10, hitRate: 0.7, misses: 3, walks: 3, readsPerWalk: 2, mergedMisses: 0 }, latencyNs: { p50: 400, p99: 900 }, settings: [],
  });
  return {
    schema: 'iommusim.compare/1', workload: EVIL,
    hypervisor: { name: 'kvm', description: 'd', postedInterrupts: true, eoiVirtualized: true, refuses: {}, userIoExitScale: 1, kernelIoExitScale: 1, notes: [], sources: [] },
    modes: [mode('passthrough', 9), mode('virtio', 5), mode('emulated', 1)], passthroughOverEmulated: 9,
  };
}

interface SelfTest { charts: number; canvases: Array<{ id: string; width: number; height: number; nonBackgroundPixels: number; points: number }>; errors: string[] }

function openInChromium(html: string): { dom: string; stderr: string } {
  const profile = mkdtempSync(join(tmpdir(), 'iommusim-chromium-'));
  try {
    const r = spawnSync(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0',
      '--window-size=1200,900', '--run-all-compositor-stages-before-draw', '--virtual-time-budget=5000', '--dump-dom',
      pathToFileURL(html).href,
    ], { encoding: 'utf8', timeout: 45_000, maxBuffer: 64 << 20 });
    if (r.error) throw r.error;
    return { dom: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

async function check(input: ReportInput, expectedCharts: string[], evil = true): Promise<void> {
  const dir = tempDir('iommusim-report-browser-'); // removed after the file, even when a check fails
  await writeReport(input, dir);
  const { dom, stderr } = openInChromium(join(dir, 'report.html'));
  const m = dom.match(/<pre id="selftest">([^<]*)<\/pre>/);
  expect(m, `no self-check in the DOM; chromium stderr:\n${stderr.slice(-2000)}`).not.toBeNull();
  const self = JSON.parse(m![1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as SelfTest;
  expect(self.errors).toEqual([]);
  expect(self.charts).toBe(expectedCharts.length);
  expect(self.canvases.map((c) => c.id)).toEqual(expectedCharts);
  for (const c of self.canvases) {
    expect(c.width, c.id).toBeGreaterThan(100);
    expect(c.points, c.id).toBeGreaterThan(0);
    expect(c.nonBackgroundPixels, c.id).toBeGreaterThan(2000);
  }
  expect(stderr).not.toMatch(/Uncaught|CONSOLE.*error/i);
  // escaped markup stays text: no injected element, no injected script ran
  expect(dom).not.toMatch(/<img/i);
  expect(dom).not.toContain('__pwned=2</script>');
  if (evil) expect(dom).toContain('&lt;img src=x onerror=window.__pwned=1&gt;');
}

describe('report.html in headless Chromium', () => {
  beforeAll(() => {
    if (!existsSync(CHROMIUM)) {
      execFileSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'], { stdio: 'inherit', timeout: 600_000 });
    }
    expect(existsSync(CHROMIUM)).toBe(true);
  }, 660_000);

  it('a compare report draws every chart, non-blank, without errors', async () => {
    await check(toReportInput(compare(), 'c.json'), ['throughput', 'cycles-per-packet', 'exits-interrupts', 'iotlb-hit-rate', 'latency']);
  }, 60_000);

  it('a sweep report draws every chart, non-blank, without errors', async () => {
    await check(toReportInput([run(64), run(256), run(1024)], 's.json'), ['throughput', 'iotlb-hit-rate', 'walk-reads', 'latency-cdf']);
  }, 60_000);

  it('the shipped frame size × I/O path × hypervisor sweep: every chart (bars, lines, CDF, heat maps) drawn, non-blank, no errors', async () => {
    await check(await shippedSweep('io-paths'), IO_PATHS_CHARTS, false);
  }, 120_000);

  it('the shipped IOTLB entries × superpages sweep: every chart drawn, non-blank, no errors', async () => {
    await check(await shippedSweep('iotlb-size'), IOTLB_SIZE_CHARTS, false);
  }, 120_000);
});
