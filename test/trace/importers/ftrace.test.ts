import { test } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseFtrace, detectFtrace } from '../../../src/trace/importers/ftrace.js';
test('smoke', () => {
  for (const f of ['real_linux-6.18_net_lo_trace.txt', 'real_linux-6.18_net_lo_trace-cmd-report.txt']) {
    const t = readFileSync('/work/shared/data/ftrace/' + f, 'utf8');
    const r = parseFtrace(t, f);
    console.log(f, detectFtrace(t.slice(0, 4096)), r.layout, r.cpus, r.lost, r.skipped, r.columns.count, r.warnings);
  }
});
