/** The reference commands (`config`, `metrics`): a line per entry, or with --markdown the page kept under docs/. */
import type { Command } from 'commander';

export interface Reference {
  name: string;
  description: string;
  /** --markdown's help (it names the page under docs/), and what it prints. */
  markdownHelp: string;
  markdown: () => string;
  /** The plain listing: its lines, without their newlines. */
  lines: () => Iterable<string>;
}

/** Register `ref` as a command of `program`: it prints `ref.lines()`, or `ref.markdown()` with --markdown. */
export function registerReference(program: Command, ref: Reference): void {
  program
    .command(ref.name)
    .description(ref.description)
    .option('--markdown', ref.markdownHelp)
    .action((opts: { markdown?: boolean }) => {
      if (opts.markdown) { process.stdout.write(ref.markdown()); return; }
      for (const line of ref.lines()) process.stdout.write(`${line}\n`);
    });
}
