/** registerReference (src/cli/reference.ts): the listing, or the Markdown page with --markdown. */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { Command } from 'commander';
import { registerReference } from '../../src/cli/reference.js';

function run(args: string[]): string {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  try {
    const program = new Command().exitOverride();
    registerReference(program, { name: 'things', description: 'list things', markdownHelp: 'as Markdown', markdown: () => '# Things\n', lines: () => ['a 1', 'b 2'] });
    program.parse(['node', 'iommusim', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out.join('');
}

describe('reference commands', () => {
  afterEach(() => { vi.restoreAllMocks(); });
  it('print a line per entry', () => {
    expect(run(['things'])).toBe('a 1\nb 2\n');
  });
  it('print the Markdown page with --markdown', () => {
    expect(run(['things', '--markdown'])).toBe('# Things\n');
  });
});
