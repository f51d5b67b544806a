/**
 * Preloaded into a child `node` by bench/memory.ts (`node --import <this> dist/src/cli/main.js …`):
 * at exit, the process's peak resident set size (getrusage's ru_maxrss, KiB on Linux) as the last
 * line of stderr, so the parent reads it without /usr/bin/time.
 */
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nmaxRSS-KiB ${process.resourceUsage().maxRSS}\n`);
});
