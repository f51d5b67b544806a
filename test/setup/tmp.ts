/**
 * Temporary folders for tests, removed when the test file ends: `tempDir('iommusim-x-')` makes one
 * under the OS temp folder and an afterAll hook (registered when a test file imports this module)
 * deletes every folder made, recursively. Nothing is left in the temp folder after `npm test`.
 */
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Remove every folder tempDir made so far (also run after each test file). */
export function removeTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

afterAll(removeTempDirs);
