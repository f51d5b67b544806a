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
  utf16Bad: (name: string): InputError => new InputError(`${name}: starts with a UTF-16 byte-order mark but is not valid UTF-16 text; save it as UTF-8`),
};

/**
 * A gzip stream cut short (the file ends at byte `rawLength`): with `strict` an error; otherwise one
 * warning saying how many bytes were decompressed before the cut, which are used.
 */
function cutShort(name: string, rawLength: number, decompressed: number, opts: ReadOptions): void {
  if (opts.strict) throw inputMessages.gzipCutStrict(name, rawLength);
  warnOf(opts)(inputMessages.gzipCutWarning(name, rawLength, decompressed));
}

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
  if (opts.strict) cutShort(name, raw.length, 0, opts);
  let part: Uint8Array;
  try {
    part = zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (e) {
    throw inputMessages.gzipCorrupt(name, (e as Error).message);
  }
  cutShort(name, raw.length, part.length, opts);
  return part;
}

const utf8Bom = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
const utf16Le = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0xff && b[1] === 0xfe;
const utf16Be = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0xfe && b[1] === 0xff;

/** Drop a UTF-8 byte-order mark; turn UTF-16 (with its mark) into UTF-8. */
function withoutBom(b: Uint8Array, name: string): Uint8Array {
  if (utf8Bom(b)) return b.subarray(3);
  const le = utf16Le(b);
  const be = utf16Be(b);
  if (le || be) {
    let text: string;
    try {
      text = new TextDecoder(le ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(b.subarray(2));
    } catch {
      throw inputMessages.utf16Bad(name);
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

// ---------------------------------------------------------------------------------------------
// Streamed reading: the same content as readInputBytes, a piece at a time

/** Bytes a streamed reader reads from the file at a time. */
export const STREAM_READ_BYTES = 1 << 20;
/** Decoded bytes read ahead when a file is opened: format detection looks at the first 4,096. */
export const HEAD_BYTES = 4096;
/** Decompressed bytes one gunzip step gives at most (memory stays bounded whatever the ratio). */
const GUNZIP_STEP_BYTES = 1 << 16;

/** The native zlib handle behind a node:zlib stream, as lib/zlib.js's own synchronous calls use it. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

/**
 * gunzip a piece at a time, synchronously. node:zlib has no public call for that: gunzipSync takes
 * the whole input and a Gunzip stream is asynchronous, while the replay pulls its chunks
 * synchronously. So this drives a Gunzip's native handle the way zlib's own gunzipSync does
 * (lib/zlib.js processChunkSync: `_handle.writeSync`, `_writeState`), one step at a time, without
 * closing it between steps: the same engine, hence the same bytes and errors as gunzipSync
 * (several members, zero padding after the last, trailing garbage, a cut or corrupt stream; tested
 * at every split). `create` gives null where a Node release lacks those internals.
 */
class StepGunzip {
  private input: Uint8Array = new Uint8Array(0);
  private inOff = 0;
  private inLen = 0;
  /** The last step filled the output: more is waiting inside zlib. */
  private more = false;
  private finishing = false;
  private err: { message: string; code?: string } | null = null;
  private readonly out = new Uint8Array(GUNZIP_STEP_BYTES);
  /** The stream is over: finished, or followed by bytes zlib does not take (zero padding, ignored as gunzipSync does). */
  ended = false;

  private constructor(private readonly z: zlib.Gunzip, private readonly h: ZlibHandle, private readonly state: Uint32Array) {
    h.onerror = (message, _errno, code) => { this.err = { message, code }; };
  }

  static create(): StepGunzip | null {
    const z = zlib.createGunzip();
    const inner = z as unknown as { _handle?: ZlibHandle | null; _writeState?: unknown };
    if (typeof inner._handle?.writeSync !== 'function' || !(inner._writeState instanceof Uint32Array)) { z.close(); return null; }
    return new StepGunzip(z, inner._handle, inner._writeState);
  }

  /** The next compressed bytes (once the ones before are used up: pull() gave null). */
  feed(b: Uint8Array): void { this.input = b; this.inOff = 0; this.inLen = b.length; }

  /** No more compressed bytes: pull() then says whether the stream was whole (a cut one throws Z_BUF_ERROR). */
  finish(): void { this.finishing = true; }

  /** The next decompressed bytes (a copy), or null when the bytes fed are used up; zlib's errors are thrown with their code. */
  pull(): Uint8Array | null {
    while (!this.ended && (this.inLen > 0 || this.more || this.finishing)) {
      const flush = this.finishing ? zlib.constants.Z_FINISH : zlib.constants.Z_NO_FLUSH;
      this.h.writeSync(flush, this.input, this.inOff, this.inLen, this.out, 0, this.out.length);
      if (this.err) throw Object.assign(new Error(this.err.message), { code: this.err.code });
      const availOut = this.state[0], availIn = this.state[1];
      this.inOff += this.inLen - availIn;
      this.inLen = availIn;
      this.more = availOut === 0;
      if (!this.more && (this.inLen > 0 || this.finishing)) this.ended = true;
      const have = this.out.length - availOut;
      if (have > 0) return this.out.slice(0, have);
    }
    return null;
  }

  close(): void { this.z.close(); }
}

/** Whether gzip is decompressed a step at a time here (else a gzip file is decompressed whole when opened). */
export function gunzipInSteps(): boolean {
  const g = StepGunzip.create();
  g?.close();
  return g !== null;
}

/**
 * A file's content as readInputBytes gives it — gzip decompressed, a byte-order mark dropped,
 * UTF-16 turned into UTF-8, an empty file refused, with the same messages and warnings — read a
 * piece at a time: memory stays bounded by one read (STREAM_READ_BYTES) and one gunzip step,
 * whatever the file's size. `head` holds the first decoded bytes (for format detection); next()
 * gives them first. A fault further into the file (a gzip stream cut short or corrupt, bad UTF-16)
 * surfaces when the reader gets there; `drain` finds it early (see there).
 */
export class InputStream {
  readonly label: string;
  readonly compression?: 'gzip';
  /** The first decoded bytes: HEAD_BYTES or more, unless the content is shorter. */
  readonly head: Uint8Array;
  private fd: number | null;
  private readonly raw: Uint8Array;
  /** Raw bytes read but not yet handed on (the two bytes looked at for the gzip magic). */
  private back: Uint8Array | null = null;
  private rawBytes = 0;
  private rawDone = false;
  private gz: StepGunzip | null = null;
  /** Decompressed whole (where StepGunzip is not available), handed on once. */
  private gzWhole: Uint8Array | null = null;
  private decompressed = 0;
  /** No more decoded (decompressed) bytes. */
  private done = false;
  private utf16: InstanceType<typeof TextDecoder> | null = null;
  private utf16Flushed = false;
  private readonly enc = new TextEncoder();
  private headGiven = false;

  private constructor(private readonly path: string, private readonly opts: ReadOptions, readBytes: number, what: string, fix: string) {
    try {
      checkNotFolder(path, what);
      this.fd = openSync(path, 'r');
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw inputReadError(path, e, what, fix);
    }
    this.raw = new Uint8Array(Math.max(2, readBytes));
    this.readError = (e: unknown) => inputReadError(path, e, what, fix);
    this.label = path;
    try {
      const magic = this.readRaw(2);
      if (magic === null) throw inputMessages.empty(path);
      this.back = magic.slice();
      if (isGzip(magic)) {
        this.compression = 'gzip';
        this.label = `${path} (decompressed)`;
        this.gz = StepGunzip.create();
        if (this.gz === null) this.gzWhole = gunzip(this.readAllRaw(), path, opts);
      }
      this.head = this.readHead();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private readonly readError: (e: unknown) => InputError;

  /**
   * Open a file and read its first bytes. `what` names the kind of file in messages, `fix` the hint
   * for a path that cannot be read (as readInputBytes); `readBytes`: bytes read at a time.
   */
  static open(path: string, opts: ReadOptions = {}, readBytes = STREAM_READ_BYTES, what = 'trace', fix = 'check the path'): InputStream {
    return new InputStream(path, opts, readBytes, what, fix);
  }

  /** The head, then the rest of the content a piece at a time; null at the end. A piece is valid until the next call. */
  next(): Uint8Array | null {
    if (!this.headGiven) {
      this.headGiven = true;
      if (this.head.length > 0) return this.head;
    }
    for (;;) {
      const p = this.piece();
      if (this.utf16 === null) return p;
      const out = this.utf16Piece(p);
      if (out === null || out.length > 0) return out;
    }
  }

  /**
   * Read to the end, keeping nothing, so that a fault of the file itself (a gzip stream cut short
   * or corrupt, bad UTF-16) is thrown, and a cut stream's warning given, now. A reader that found a
   * parse error calls this before throwing it: the whole-file read meets those faults before any
   * parsing, so they win, as there. A plain file cannot have them and is not read further.
   */
  drain(): void {
    if (this.gz === null && this.gzWhole === null && this.utf16 === null) return;
    for (let p = this.piece(); ; p = this.piece()) {
      if (this.utf16 !== null && this.utf16Piece(p) === null) return;
      if (p === null) return;
    }
  }

  close(): void {
    if (this.fd !== null) { closeSync(this.fd); this.fd = null; }
    this.gz?.close();
    this.gz = null;
  }

  /** Up to `max` raw bytes (a view of the read buffer), null at the end of the file. */
  private readRaw(max = this.raw.length): Uint8Array | null {
    if (this.back !== null) { const b = this.back; this.back = null; return b; }
    if (this.rawDone || this.fd === null) return null;
    let n: number;
    try {
      n = readSync(this.fd, this.raw, 0, Math.min(max, this.raw.length), null);
    } catch (e) {
      throw this.readError(e);
    }
    if (n === 0) { this.rawDone = true; return null; }
    this.rawBytes += n;
    return this.raw.subarray(0, n);
  }

  private readAllRaw(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let p = this.readRaw(); p !== null; p = this.readRaw()) parts.push(p.slice());
    return Buffer.concat(parts);
  }

  /** The next decompressed (or, for a plain file, raw) bytes; null at the end. */
  private piece(): Uint8Array | null {
    if (this.done) return null;
    if (this.gzWhole !== null) {
      const b = this.gzWhole;
      this.gzWhole = null;
      this.done = true;
      return b.length > 0 ? b : null;
    }
    const gz = this.gz;
    if (gz === null) {
      const p = this.readRaw();
      if (p === null) this.done = true;
      return p;
    }
    for (;;) {
      let out: Uint8Array | null;
      try {
        out = gz.pull();
      } catch (e) {
        this.done = true;
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'Z_BUF_ERROR') throw inputMessages.gzipCorrupt(this.path, err.message);
        cutShort(this.path, this.rawBytes, this.decompressed, this.opts); // the input ended inside the stream
        return null;
      }
      if (out !== null) { this.decompressed += out.length; return out; }
      if (gz.ended) { this.done = true; return null; }
      const p = this.readRaw();
      if (p === null) gz.finish(); else gz.feed(p);
    }
  }

  /**
   * A decoded piece of a UTF-16 file (null: the end) as UTF-8: possibly empty (a character cut
   * between pieces waits for the next); null once the content has ended. Bad UTF-16 is the
   * whole-file read's error, after a gzip fault further on (that read decompresses first).
   */
  private utf16Piece(p: Uint8Array | null): Uint8Array | null {
    try {
      if (p !== null) return this.enc.encode(this.utf16!.decode(p, { stream: true }));
      if (this.utf16Flushed) return null;
      this.utf16Flushed = true;
      const out = this.enc.encode(this.utf16!.decode());
      return out.length > 0 ? out : null;
    } catch {
      while (this.piece() !== null) { /* read on: a gzip fault is thrown here */ }
      throw inputMessages.utf16Bad(this.path);
    }
  }

  /** Read ahead: the first decoded bytes, after the checks the whole-file read makes on the whole. */
  private readHead(): Uint8Array {
    const parts: Uint8Array[] = [];
    let n = 0;
    while (n < HEAD_BYTES + 3) {
      const p = this.piece();
      if (p === null) break;
      parts.push(p.slice());
      n += p.length;
    }
    let head: Uint8Array = Buffer.concat(parts);
    if (this.compression && this.done && head.length === 0) throw inputMessages.gzipEmpty(this.path);
    if (utf8Bom(head)) head = head.subarray(3);
    else if (utf16Le(head) || utf16Be(head)) {
      this.utf16 = new TextDecoder(utf16Le(head) ? 'utf-16le' : 'utf-16be', { fatal: true });
      const out: Uint8Array[] = [];
      let m = 0;
      let p: Uint8Array | null = head.subarray(2);
      for (;;) {
        const u = this.utf16Piece(p);
        if (u === null) break;
        out.push(u);
        m += u.length;
        if (m >= HEAD_BYTES) break;
        p = this.piece();
      }
      head = Buffer.concat(out);
    }
    if (this.done && head.length === 0) throw inputMessages.bomOnly(this.path);
    return head;
  }
}

/**
 * An InputStream as runs of whole lines: each run ends just after a newline (the file's last run
 * may end without one), so a text parser never sees a line cut between reads; the partial line
 * after a run waits for the next read. Memory: one read plus the longest line.
 */
export class LineBlocks {
  private buf = new Uint8Array(0);
  /** Bytes held; the run handed out last ends at `start`. */
  private len = 0;
  private start = 0;
  private ended = false;

  constructor(readonly input: InputStream) {}

  /** The next run of whole lines (a view, valid until the next call), or null at the end. */
  next(): Uint8Array | null {
    if (this.ended) return null;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.len); // the partial line after the last run
      this.len -= this.start;
      this.start = 0;
    }
    for (;;) {
      const p = this.input.next();
      if (p === null) {
        this.ended = true;
        this.start = this.len;
        return this.len > 0 ? this.buf.subarray(0, this.len) : null;
      }
      if (this.len + p.length > this.buf.length) {
        const bigger = new Uint8Array(Math.max(2 * this.buf.length, this.len + p.length));
        bigger.set(this.buf.subarray(0, this.len));
        this.buf = bigger;
      }
      this.buf.set(p, this.len);
      const nl = p.lastIndexOf(10);
      this.len += p.length;
      if (nl >= 0) {
        this.start = this.len - p.length + nl + 1;
        return this.buf.subarray(0, this.start);
      }
    }
  }
}

/** UTF-8 text of a run of lines (invalid bytes become U+FFFD, as Buffer.toString of the whole file). */
export const utf8 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
