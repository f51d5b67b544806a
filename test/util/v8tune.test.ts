/**
 * The V8 flags tuneV8() sets must be flags this Node's V8 knows: setFlagsFromString ignores an
 * unknown one silently, so a renamed flag would quietly lose the speed-up. On the command line an
 * unknown V8 flag is an error, which is what this checks.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { V8_INLINING_FLAGS, tuneV8 } from '../../src/util/v8tune.js';

describe('tuneV8', () => {
  it('sets only flags this V8 accepts, and can be called twice', () => {
    const flags = V8_INLINING_FLAGS.split(' ');
    expect(flags.length).toBe(2);
    const r = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bad = spawnSync(process.execPath, ['--max-inlined-bytecode-sizes=1000', '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0); // the check above can fail
    expect(() => { tuneV8(); tuneV8(); }).not.toThrow();
  });
});
