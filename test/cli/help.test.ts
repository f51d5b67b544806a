/** Every command's --help ends with an "Examples:" section: two or more, each naming options the command has. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { commandPath } from '../../src/cli/examples.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

/** The help text as `iommusim <path> --help` prints it (after-help text included). */
function helpOf(c: Command): string {
  let text = '';
  c.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; } });
  c.outputHelp();
  return text;
}

/** The command an example line runs, and the options it uses (`--set`, `-o`, `--no-report`). */
function resolveExample(program: Command, line: string): { cmd: Command; options: string[] } {
  // the iommusim part of the line (not what a pipe or a redirection does with it)
  const words = line.split(/\s+(?:[|>].*)?/).filter((w) => w !== '');
  expect(words[0]).toBe('iommusim');
  let cmd = program;
  let i = 1;
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((s) => s.name() === words[i]);
    if (!sub) break;
    cmd = sub;
  }
  return { cmd, options: words.slice(i).filter((w) => /^-{1,2}[a-z]/i.test(w)).map((w) => w.split('=')[0]) };
}

describe('help examples', () => {
  const program = buildProgram();
  const cmds = allCommands(program);

  it('covers the commands', () => {
    expect(cmds.map(commandPath)).toEqual(expect.arrayContaining(['', 'run', 'compare', 'migrate', 'sweep', 'merge', 'report', 'validate', 'config', 'platforms', 'metrics', 'workloads', 'trace info', 'trace import', 'trace gen', 'topology check']));
  });

  for (const c of cmds) {
    const name = commandPath(c) || '(the program)';
    it(`${name}: --help shows two examples whose options exist`, () => {
      const help = helpOf(c);
      const at = help.indexOf('\nExamples:\n');
      expect(at, help).toBeGreaterThan(0);
      const lines = help.slice(at + '\nExamples:\n'.length).split('\n').filter((l) => /^ {2}iommusim/.test(l)).map((l) => l.trim());
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) {
        const { cmd, options } = resolveExample(program, l);
        // an example of a command runs that command or one below it (the program's run any)
        if (c !== program) expect(commandPath(cmd).startsWith(commandPath(c)), l).toBe(true);
        expect(cmd.commands.length, `${l}: names no leaf command`).toBe(0);
        for (const o of options) expect(cmd.options.some((x) => x.long === o || x.short === o), `${l}: ${o} is not an option of ${commandPath(cmd)}`).toBe(true);
      }
    });
  }

  it('end to end: iommusim sweep --help prints them', () => {
    const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), 'sweep', '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\nExamples:\n {2}iommusim sweep workloads\/sweeps\/iotlb-size\.yaml --out reports\/iotlb-size\n {6}\S/);
  });
});

describe('`iommusim run …` builds only the run command (src/cli/run-program.ts)', () => {
  it('the same run command as the whole program: help, options, and what the command line prints', async () => {
    const { buildRunProgram } = await import('../../src/cli/run-program.js');
    const full = buildProgram().commands.find((c) => c.name() === 'run')!;
    const only = buildRunProgram();
    expect(only.commands.map((c) => c.name())).toEqual(['run']);
    const run = only.commands[0];
    expect(helpOf(run)).toBe(helpOf(full));
    expect(run.options.map((o) => o.flags)).toEqual(full.options.map((o) => o.flags));
    expect(only.version()).toBe(buildProgram().version());
    const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...args], { cwd: root, encoding: 'utf8' });
    const help = cli(['run', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(helpOf(full));
    // a mistake in a run command line: the same one-line error and hint as before
    const bad = cli(['run', 'nic-rx-ring', '--functionl']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("error: unknown option '--functionl'\n(Did you mean --functional?)\n(iommusim --help lists the commands)\n");
  });
});
