/**
 * Reading an input file's bytes the way people really have them: gzip-compressed (detected by the
 * magic bytes 1f 8b, not by the name; decompressed with node:zlib), with a byte-order mark in front
 * of a text trace (UTF-8 dropped; UTF-16 turned into UTF-8), or empty (an InputError saying so,
 * rather than "unknown format"). Every loader reads through `readInputBytes`.
 *
 * `ReadOptions` says how strict to be with damaged input (a capture or gzip stream cut short) and
 * where the warnings go: the CLI's `--strict` sets `strict`; warnings are one line each.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { detectIotrace } from './iotrace.js';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';

export interface ReadOptions {
  /**
   * Refuse damaged input instead of using what is whole: a capture cut inside a record, a gzip
   * stream cut short. Default false: use the complete records before the cut, with a warning
   * (as Wireshark and capinfos do).
   */
  strict?: boolean;
  /** Where warnings and notes go, one line each (no trailing newline). Default: `warnToStderr`. */
  warn?: (line: string) => void;
}

/** The default warning sink: `iommusim: warning: <line>` on stderr. */
export function warnToStderr(line: string): void {
  process.stderr.write(`iommusim: warning: ${line}\n`);
}

export const warnOf = (o: ReadOptions | undefined): ((line: string) => void) => o?.warn ?? warnToStderr;

export interface InputBytes {
  /** The content: decompressed, without a byte-order mark, never empty. */
  bytes: Uint8Array;
  /** 'gzip' when the file was gzip-compressed. */
  compression?: 'gzip';
  /** The name for messages about the content: the path, with ` (decompressed)` for gzip (byte offsets count decompressed bytes). */
  label: string;
}

/** True when the bytes start with the gzip magic (1f 8b). */
export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/**
 * A file's bytes, ready for format detection. `what` names the kind of file in messages
 * ("trace", "capture"); `fix` is the hint for a path that cannot be read.
 */
export function readInputBytes(path: string, opts: ReadOptions = {}, what = 'trace', fix = 'check the path'): InputBytes {
  let raw: Uint8Array;
  try {
    checkNotFolder(path, what);
    raw = readFileSync(path);
  } catch (e) {
    throw inputReadError(path, e, what, fix);
  }
  return decodeInput(raw, path, opts);
}

/** A folder where a file was wanted: an InputError saying so (statSync's own errors pass through). */
export function checkNotFolder(path: string, what: string): void {
  if (statSync(path).isDirectory()) throw new InputError(`${path}: is a folder, not a ${what} file; name a file`);
}

/** An error opening or reading an input file as the InputError the CLI shows (an InputError passes through). */
export function inputReadError(path: string, e: unknown, what: string, fix: string): InputError {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ERR_FS_FILE_TOO_LARGE') {
    return new InputError(`${path}: larger than 2 GiB, more than can be read into memory at once; for a trace, write it as .iotrace (trace gen/import -o x.iotrace) and replay it with run --functional, which streams it, or split it`);
  }
  return new InputError(`${path}: cannot read the ${what} (${code ?? String(e)}); ${fix}`);
}

/** The messages about damaged or empty input, shared by decodeInput and the streamed capture reader (src/trace/capture-file.ts). */
export const inputMessages = {
  empty: (name: string): InputError => new InputError(`${name}: empty file; nothing to read (was the export or copy interrupted?)`),
  gzipEmpty: (name: string): InputError => new InputError(`${name}: empty file (the gzip stream holds no data); compress the trace itself`),
  bomOnly: (name: string): InputError => new InputError(`${name}: empty file (only a byte-order mark); nothing to read`),
  gzipCorrupt: (name: string, why: string): InputError => new InputError(`${name}: not a valid gzip file (${why}); check the file (gzip -t), or decompress it with gunzip first`),
  gzipCutStrict: (name: string, size: number): InputError => new InputError(`${name}: the gzip stream is cut short (file truncated at byte ${size}); copy the file again in full, or drop --strict to read what was decompressed before the cut`),
  gzipCutWarning: (name: string, size: number, got: number): string => `${name}: the gzip stream is cut short (file truncated at byte ${size}); read the ${got} byte(s) decompressed before the cut`,
};

/** Decompress (gzip), drop or convert a byte-order mark, refuse an empty file. `name` labels messages. */
export function decodeInput(raw: Uint8Array, name: string, opts: ReadOptions = {}): InputBytes {
  if (raw.length === 0) throw inputMessages.empty(name);
  let bytes = raw;
  let compression: 'gzip' | undefined;
  if (isGzip(raw)) {
    compression = 'gzip';
    bytes = gunzip(raw, name, opts);
    if (bytes.length === 0) throw inputMessages.gzipEmpty(name);
  }
  bytes = withoutBom(bytes, name);
  if (bytes.length === 0) throw inputMessages.bomOnly(name);
  return compression ? { bytes, compression, label: `${name} (decompressed)` } : { bytes, label: name };
}

/**
 * The whole decompressed content of a gzip file (several members, as `cat a.gz b.gz` makes, are
 * read one after the other). A stream cut short gives what was decompressed before the cut, with a
 * warning (an error with `strict`); corrupt data is an error.
 */
function gunzip(raw: Uint8Array, name: string, opts: ReadOptions): Uint8Array {
  try {
    return zlib.gunzipSync(raw);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new InputError(`${name}: decompresses to more than this process can hold in memory (${err.message}); decompress it first and convert it to .iotrace (iommusim trace import), or split it`);
    }
    if (err.code !== 'Z_BUF_ERROR') throw inputMessages.gzipCorrupt(name, err.message);
  }
  // Z_BUF_ERROR: the input ended inside the stream
  if (opts.strict) throw inputMessages.gzipCutStrict(name, raw.length);
  let part: Uint8Array;
  try {
    part = zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (e) {
    throw inputMessages.gzipCorrupt(name, (e as Error).message);
  }
  warnOf(opts)(inputMessages.gzipCutWarning(name, raw.length, part.length));
  return part;
}

/** Drop a UTF-8 byte-order mark; turn UTF-16 (with its mark) into UTF-8. */
function withoutBom(b: Uint8Array, name: string): Uint8Array {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3);
  const le = b.length >= 2 && b[0] === 0xff && b[1] === 0xfe;
  const be = b.length >= 2 && b[0] === 0xfe && b[1] === 0xff;
  if (le || be) {
    let text: string;
    try {
      text = new TextDecoder(le ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(b.subarray(2));
    } catch {
      throw new InputError(`${name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 text; save it as UTF-8`);
    }
    return new TextEncoder().encode(text);
  }
  return b;
}

/** True when `path` is a readable file starting with the .iotrace magic (false for gzip, empty, missing). */
export function fileStartsWithIotrace(path: string): boolean {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return false; }
  try {
    const head = new Uint8Array(16);
    const n = readSync(fd, head, 0, head.length, 0);
    return detectIotrace(head.subarray(0, n));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}
