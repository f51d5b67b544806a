/**
 * A capture file (pcap, pcapng) read a piece at a time, in bounded memory whatever its length:
 * the file is read with fixed-size reads on a descriptor and, when gzip-compressed (by its magic
 * bytes 1f 8b, as src/trace/input.ts decides), inflated as it is read by node:zlib's streaming
 * gunzip in a worker thread that hands the decompressed bytes over in two fixed shared buffers
 * (the reader stays synchronous, as the NIC model and the replay pull it). The CaptureReader
 * (src/trace/importers/pcap.ts) parses what arrives, carrying a record cut by a read over to the
 * next one.
 *
 * The behaviours of readInputBytes + parseCapture are kept, with the same messages: a missing file
 * or a folder, an empty file or gzip stream, a UTF-8 byte-order mark (dropped; offsets count from
 * after it), a gzip stream cut short (the bytes before the cut with a warning, or with `strict` an
 * InputError) or corrupt (an InputError), a capture cut inside a record. Gzip messages name the
 * file `x.pcap.gz (decompressed)` and count decompressed bytes. One order differs: a gzip stream
 * is checked as it is read, so a capture error before a gzip corruption is reported first.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { CaptureReader, DEFAULT_READ_BYTES, type ByteSource, type CaptureFile, type PacketColumns } from './importers/pcap.js';
import { captureSummary, CaptureTally, type CaptureInfo } from './importers/capinfo.js';
import { checkNotFolder, inputMessages, inputReadError, isGzip, readInputBytes, warnOf, type ReadOptions } from './input.js';

export interface CaptureFileOptions {
  /** Packets per chunk (default 65 536); Infinity: the whole capture in one chunk (CaptureReader.collect). */
  chunkPackets?: number;
  /** Bytes per read (default 1 MiB), of the file or of the decompressed stream. */
  readBytes?: number;
  /** The kind of file and the hint for a path that cannot be read, in messages (as readInputBytes). */
  what?: string;
  fix?: string;
}

/** Sequential reads of an open descriptor; closes it at the end. */
class FileSource implements ByteSource {
  constructor(private fd: number, private readonly path: string, private readonly what: string, private readonly fix: string) {}
  read(dst: Uint8Array, off: number, len: number): number {
    try {
      return readSync(this.fd, dst, off, len, null);
    } catch (e) {
      throw inputReadError(this.path, e, this.what, this.fix);
    }
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Bytes already read (a peeked head) served before the rest of a source. */
class PrefixSource implements ByteSource {
  constructor(private head: Uint8Array, private readonly rest: ByteSource) {}
  read(dst: Uint8Array, off: number, len: number): number {
    if (this.head.length > 0) {
      const k = Math.min(len, this.head.length);
      dst.set(this.head.subarray(0, k), off);
      this.head = this.head.subarray(k);
      return k;
    }
    return this.rest.read(dst, off, len);
  }
  close(): void {
    this.rest.close?.();
  }
}

/** Up to `n` bytes from the start of a source (fewer only at its end). */
function readHead(src: ByteSource, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = src.read(b, got, n - got);
    if (k === 0) break;
    got += k;
  }
  return b.subarray(0, got);
}

// ------------------------------------------------------------------------------------------- gzip

/** Shared control words: the two slots' byte counts, the end status, the message length, and two sequence counters to wait on. */
const SLOT_LEN = 0; // [0], [1]
const STATUS = 2; // 0 running, 1 end, 2 cut short (Z_BUF_ERROR), 3 corrupt, 4 read error
const MSG_LEN = 3;
const SEQ_FILLED = 4; // bumped by the worker when a slot is filled or the stream ends
const SEQ_FREED = 5; // bumped by the reader when it empties a slot
const CTL_BYTES = 64;
const MSG_BYTES = 4096;

/**
 * The worker: reads the file 1 MiB at a time into node:zlib's gunzip (several members, as
 * `cat a.gz b.gz` makes, are read one after the other, as gunzipSync does) and copies what comes
 * out into the two slots in turn, waiting while the reader still holds the next one.
 */
const GUNZIP_WORKER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { sab, path, slotBytes: S } = workerData;
const ctl = new Int32Array(sab, 0, 16);
const slots = [new Uint8Array(sab, ${CTL_BYTES}, S), new Uint8Array(sab, ${CTL_BYTES} + S, S)];
const msg = new Uint8Array(sab, ${CTL_BYTES} + 2 * S, ${MSG_BYTES});
let w = 0, fill = 0, done = false;
function waitFree() {
  for (;;) {
    const seq = Atomics.load(ctl, ${SEQ_FREED});
    if (Atomics.load(ctl, w) === 0) return;
    Atomics.wait(ctl, ${SEQ_FREED}, seq);
  }
}
function publish() {
  Atomics.store(ctl, w, fill);
  Atomics.add(ctl, ${SEQ_FILLED}, 1);
  Atomics.notify(ctl, ${SEQ_FILLED});
  w ^= 1;
  fill = 0;
  waitFree();
}
function put(chunk) {
  let o = 0;
  while (o < chunk.length) {
    const k = Math.min(S - fill, chunk.length - o);
    slots[w].set(chunk.subarray(o, o + k), fill);
    fill += k;
    o += k;
    if (fill === S) publish();
  }
}
function finish(status, text) {
  if (done) return;
  done = true;
  try { if (fill > 0) publish(); } catch {}
  const t = Buffer.from(String(text || '')).subarray(0, ${MSG_BYTES});
  msg.set(t);
  ctl[${MSG_LEN}] = t.length;
  Atomics.store(ctl, ${STATUS}, status);
  Atomics.add(ctl, ${SEQ_FILLED}, 1);
  Atomics.notify(ctl, ${SEQ_FILLED});
}
process.on('uncaughtException', (e) => finish(4, e && e.code ? e.code : String(e)));
let fd;
try { fd = fs.openSync(path, 'r'); } catch (e) { finish(4, e.code || String(e)); }
if (fd !== undefined) {
  const gz = zlib.createGunzip({ chunkSize: 1 << 16 });
  gz.on('data', put);
  gz.on('end', () => finish(1, ''));
  gz.on('error', (e) => finish(e.code === 'Z_BUF_ERROR' ? 2 : 3, e.message));
  const pump = () => {
    for (;;) {
      if (done) return;
      const b = Buffer.allocUnsafe(1 << 20);
      let k;
      try { k = fs.readSync(fd, b, 0, b.length, null); } catch (e) { finish(4, e.code || String(e)); return; }
      if (k === 0) { gz.end(); return; }
      if (!gz.write(b.subarray(0, k))) { gz.once('drain', pump); return; }
    }
  };
  pump();
}
`;

/**
 * A gzip file's decompressed bytes, inflated by a worker thread as they are read. At the end of a
 * stream cut short: a warning and the end (or, with `strict`, an InputError); a corrupt stream: an
 * InputError. Memory: two slots of `slotBytes`, the worker's 1 MiB reads and zlib's window.
 */
class GunzipSource implements ByteSource {
  private readonly ctl: Int32Array;
  private readonly slots: Uint8Array[];
  private readonly msg: Uint8Array;
  private worker: Worker | null;
  private cur = 0;
  private taken = 0;
  private total = 0;
  private ended = false;

  constructor(private readonly path: string, private readonly rawSize: number, private readonly read_: ReadOptions, private readonly what: string, private readonly fix: string, slotBytes = 1 << 20) {
    const sab = new SharedArrayBuffer(CTL_BYTES + 2 * slotBytes + MSG_BYTES);
    this.ctl = new Int32Array(sab, 0, 16);
    this.slots = [new Uint8Array(sab, CTL_BYTES, slotBytes), new Uint8Array(sab, CTL_BYTES + slotBytes, slotBytes)];
    this.msg = new Uint8Array(sab, CTL_BYTES + 2 * slotBytes, MSG_BYTES);
    this.worker = new Worker(GUNZIP_WORKER, { eval: true, workerData: { sab, path, slotBytes }, stdout: true, stderr: true });
    this.worker.unref();
  }

  read(dst: Uint8Array, off: number, len: number): number {
    const ctl = this.ctl;
    while (!this.ended) {
      const seq = Atomics.load(ctl, SEQ_FILLED);
      const have = Atomics.load(ctl, SLOT_LEN + this.cur);
      if (have > 0) {
        const k = Math.min(len, have - this.taken);
        dst.set(this.slots[this.cur]!.subarray(this.taken, this.taken + k), off);
        this.taken += k;
        this.total += k;
        if (this.taken === have) {
          this.taken = 0;
          Atomics.store(ctl, SLOT_LEN + this.cur, 0);
          Atomics.add(ctl, SEQ_FREED, 1);
          Atomics.notify(ctl, SEQ_FREED);
          this.cur ^= 1;
        }
        return k;
      }
      const status = Atomics.load(ctl, STATUS);
      if (status !== 0) return this.end(status);
      Atomics.wait(ctl, SEQ_FILLED, seq);
    }
    return 0;
  }

  private end(status: number): number {
    this.ended = true;
    const text = Buffer.from(this.msg.subarray(0, this.ctl[MSG_LEN])).toString();
    this.close();
    if (status === 2) {
      if (this.read_.strict) throw inputMessages.gzipCutStrict(this.path, this.rawSize);
      warnOf(this.read_)(inputMessages.gzipCutWarning(this.path, this.rawSize, this.total));
    } else if (status === 3) {
      throw inputMessages.gzipCorrupt(this.path, text);
    } else if (status === 4) {
      throw inputReadError(this.path, Object.assign(new Error(text), { code: text }), this.what, this.fix);
    }
    return 0;
  }

  close(): void {
    this.ended = true;
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
  }
}

// ------------------------------------------------------------------------------------------- opening

/**
 * Open a capture file for reading a chunk of packets at a time (CaptureReader.next). Messages are
 * those of readInputBytes(path, read, what, fix) + parseCapture; a capture cut inside a record
 * gives the complete records before it and a warning in `reader.warnings` (at its end), or with
 * `read.strict` an InputError. The caller reports `reader.warnings` (captureChunks does).
 */
export function openCaptureFile(path: string, read: ReadOptions = {}, o: CaptureFileOptions = {}): CaptureReader {
  const what = o.what ?? 'trace', fix = o.fix ?? 'check the path';
  let fd: number;
  let size: number;
  try {
    checkNotFolder(path, what);
    fd = openSync(path, 'r');
  } catch (e) {
    throw inputReadError(path, e, what, fix);
  }
  let src: ByteSource;
  let label = path;
  try {
    size = fstatSync(fd).size;
    const file = new FileSource(fd, path, what, fix);
    const magic = readHead(file, 2);
    if (magic.length === 0) throw inputMessages.empty(path);
    if (isGzip(magic)) {
      file.close();
      src = new GunzipSource(path, size, read, what, fix);
      label = `${path} (decompressed)`;
    } else {
      src = new PrefixSource(magic, file);
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let head: Uint8Array;
  let utf8Bom = false;
  try {
    head = readHead(src, 4);
    if (head.length === 0) throw inputMessages.gzipEmpty(path); // only a gzip stream can be empty here
    utf8Bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    if (utf8Bom) {
      head = head.subarray(3);
      if (head.length === 0) throw inputMessages.bomOnly(path);
    }
  } catch (e) {
    src.close?.();
    throw e;
  }
  if (!utf8Bom && head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))) {
    // UTF-16 text, not a capture: as readInputBytes turns it into UTF-8 (or refuses it), read it whole
    src.close?.();
    const { bytes, label: l } = readInputBytes(path, read, what, fix);
    return new CaptureReader(bytes, l, { allowPartial: !read.strict, chunkPackets: o.chunkPackets });
  }
  return new CaptureReader(new PrefixSource(head, src), label, {
    allowPartial: !read.strict, chunkPackets: o.chunkPackets, readBytes: o.readBytes ?? DEFAULT_READ_BYTES,
    sizeHint: label === path ? size : 4 * size,
  });
}

/**
 * A capture file's packets a chunk at a time (each chunk's columns reused by the next), its
 * warnings to `read.warn` once the last chunk is out (nicStream, captureStream).
 */
export function captureChunks(path: string, read: ReadOptions = {}, o: CaptureFileOptions = {}): { next(): PacketColumns | null; readonly reader: CaptureReader } {
  const reader = openCaptureFile(path, read, o);
  let told = false;
  return {
    reader,
    next(): PacketColumns | null {
      const p = reader.next();
      if (p === null && !told) {
        told = true;
        for (const w of reader.warnings) warnOf(read)(w);
      }
      return p;
    },
  };
}

/** A whole capture file's packets (columns of their own, 24 B per packet; the file's bytes are not held), warnings not reported. */
export function readCaptureFile(path: string, read: ReadOptions = {}, o: CaptureFileOptions = {}): CaptureFile {
  return openCaptureFile(path, read, { ...o, chunkPackets: Infinity }).collect();
}

/** What a capture file holds (capinfos' counts, `trace info`), read a chunk at a time; its warnings to `read.warn`. */
export function readCaptureInfo(path: string, read: ReadOptions = {}, o: CaptureFileOptions = {}): CaptureInfo {
  const chunks = captureChunks(path, read, o);
  const tally = new CaptureTally();
  for (let p = chunks.next(); p !== null; p = chunks.next()) tally.add(p);
  return captureSummary(chunks.reader, tally);
}
