/**
 * A large synthetic capture for the bounded-memory measurements (issue #17): N minimum-size
 * Ethernet frames (60 bytes without FCS: Ethernet, IPv4 and UDP headers with real lengths and
 * checksum-free UDP, 18 bytes of payload) over F flows, back to back at a line rate (each frame
 * takes 84 bytes of wire time: preamble, FCS, gap), as a nanosecond pcap (or pcapng EPBs), written
 * a piece at a time (memory stays small whatever N).
 *
 *   npm run build && node dist/bench/gen-pcap.js --frames 10e6 -o /tmp/big.pcap      # 760 MB
 *   node dist/bench/gen-pcap.js --frames 1e6 --format pcapng --gzip -o /tmp/big.pcapng.gz
 *   /usr/bin/time -v node dist/src/cli/main.js trace gen nic-pcap --set workload.pcap=/tmp/big.pcap -o /tmp/out.iotrace
 */
import { closeSync, createWriteStream, openSync, writeSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { Command } from 'commander';

const program = new Command()
  .option('--frames <n>', 'frames to write (1e6 style allowed)', '10e6')
  .option('--flows <n>', 'UDP flows', '64')
  .option('--rate <gbps>', 'line rate the frames arrive at', '100')
  .option('--format <f>', 'pcap or pcapng', 'pcap')
  .option('--gzip', 'gzip-compress the output')
  .requiredOption('-o, --out <file>', 'the capture to write')
  .parse();
const o = program.opts<{ frames: string; flows: string; rate: string; format: string; gzip?: boolean; out: string }>();
const frames = Math.round(Number(o.frames));
const flows = Math.round(Number(o.flows));
const rate = Number(o.rate);
if (!(frames >= 0) || !(flows >= 1) || !(rate > 0) || (o.format !== 'pcap' && o.format !== 'pcapng')) {
  process.stderr.write('gen-pcap: give --frames ≥ 0, --flows ≥ 1, --rate > 0, --format pcap|pcapng\n');
  process.exit(2);
}
const ng = o.format === 'pcapng';
const FRAME = 60;
const REC = ng ? 28 + FRAME + 4 : 16 + FRAME; // EPB: 28-byte head, data (60, already a multiple of 4), trailing length
const T0 = 1_795_317_689n * 1_000_000_000n; // 2026-11-22, in ns
const nsPerFrame = (84 * 8) / rate;

const PIECE = 1 << 14; // frames per write
const buf = new Uint8Array(PIECE * REC);
const dv = new DataView(buf.buffer);

/** The frame of flow f at buf[p ..]: Ethernet / IPv4 / UDP, lengths and IPv4 checksum filled in. */
function frame(p: number, f: number, seq: number): void {
  buf.fill(0, p, p + FRAME);
  buf.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], p); // dst, src MAC
  dv.setUint16(p + 12, 0x0800);
  const ip = p + 14;
  dv.setUint16(ip, 0x4500); // v4, IHL 5
  dv.setUint16(ip + 2, FRAME - 14); // total length 46
  dv.setUint16(ip + 4, seq & 0xffff);
  dv.setUint16(ip + 6, 0x4000); // DF
  dv.setUint8(ip + 8, 64);
  dv.setUint8(ip + 9, 17);
  dv.setUint32(ip + 12, (10 << 24) | (f >> 8 << 8) | 1);
  dv.setUint32(ip + 16, (10 << 24) | (1 << 16) | 2);
  let sum = 0;
  for (let k = 0; k < 20; k += 2) sum += dv.getUint16(ip + k);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(ip + 10, ~sum & 0xffff);
  const udp = ip + 20;
  dv.setUint16(udp, 10000 + (f & 0xff));
  dv.setUint16(udp + 2, 5201);
  dv.setUint16(udp + 4, FRAME - 34);
}

function header(): Uint8Array {
  if (!ng) {
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, 0xa1b23c4d, true); // nanosecond magic, little-endian
    h.setUint16(4, 2, true); h.setUint16(6, 4, true);
    h.setUint32(16, 65535, true); h.setUint32(20, 1, true);
    return new Uint8Array(h.buffer);
  }
  const h = new DataView(new ArrayBuffer(28 + 28));
  h.setUint32(0, 0x0a0d0d0a, true); h.setUint32(4, 28, true); h.setUint32(8, 0x1a2b3c4d, true);
  h.setUint16(12, 1, true); h.setBigInt64(16, -1n, true); h.setUint32(24, 28, true);
  // IDB: Ethernet, snaplen 65535, if_tsresol 9 (ns)
  h.setUint32(28, 1, true); h.setUint32(32, 28, true); h.setUint16(36, 1, true); h.setUint32(40, 65535, true);
  h.setUint16(44, 9, true); h.setUint16(46, 1, true); h.setUint8(48, 9); h.setUint32(52, 28, true);
  return new Uint8Array(h.buffer);
}

async function main(): Promise<void> {
  let write: (b: Uint8Array) => Promise<void>;
  let close: () => Promise<void>;
  if (o.gzip) {
    const gz = createGzip({ level: 1 });
    const out = createWriteStream(o.out);
    gz.pipe(out);
    write = async (b) => { if (!gz.write(b.slice())) await new Promise<void>((r) => gz.once('drain', () => r())); };
    close = async () => { gz.end(); await new Promise<void>((r) => out.on('finish', () => r())); };
  } else {
    const fd = openSync(o.out, 'w');
    write = async (b) => { let off = 0; while (off < b.length) off += writeSync(fd, b, off); };
    close = async () => { closeSync(fd); };
  }
  await write(header());
  let seq = 0;
  for (let done = 0; done < frames;) {
    const k = Math.min(PIECE, frames - done);
    for (let j = 0; j < k; j++, seq++) {
      const p = j * REC;
      const t = T0 + BigInt(Math.round(seq * nsPerFrame));
      const f = Math.floor((seq * 2654435761) / 4294967296 * flows) % flows; // spread over the flows
      if (ng) {
        dv.setUint32(p, 6, true); dv.setUint32(p + 4, REC, true); dv.setUint32(p + 8, 0, true);
        dv.setUint32(p + 12, Number(t >> 32n), true); dv.setUint32(p + 16, Number(t & 0xffffffffn), true);
        dv.setUint32(p + 20, FRAME, true); dv.setUint32(p + 24, FRAME, true);
        frame(p + 28, f, seq);
        dv.setUint32(p + REC - 4, REC, true);
      } else {
        dv.setUint32(p, Number(t / 1_000_000_000n), true); dv.setUint32(p + 4, Number(t % 1_000_000_000n), true);
        dv.setUint32(p + 8, FRAME, true); dv.setUint32(p + 12, FRAME, true);
        frame(p + 16, f, seq);
      }
    }
    await write(buf.subarray(0, k * REC));
    done += k;
  }
  await close();
  process.stdout.write(`${o.out}: ${frames} frames (${o.format}${o.gzip ? ', gzip' : ''})\n`);
}

await main();
