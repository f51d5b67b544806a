/**
 * `npm run bench`: every bench/*.bench.ts (compiled to dist/bench) in turn, or the ones named:
 * `npm run bench -- iotlb pcap`. Figures print as Markdown tables; bench/README.md records them.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Promise<unknown> };
  if (typeof mod.run !== 'function') continue;
  process.stdout.write(`\n# ${f.replace('.bench.js', '')}\n`);
  await mod.run();
}
