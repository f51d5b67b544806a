/**
 * The one error type for bad input: a malformed trace, a bad config value, an unknown device.
 * The CLI prints `message` on one line (no stack trace) and exits with status 2.
 * Messages name the place (file:line, file@byte offset, or config key) and the fix.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

/** `where: what is wrong; fix` in one line. */
export function inputError(where: string, what: string, fix?: string): InputError {
  return new InputError(fix ? `${where}: ${what}; ${fix}` : `${where}: ${what}`);
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
