/** NIC generators: synthetic packets or a capture through the NIC device model (src/devices/nic). */
import type { Config, TraceLoadConfig } from '../../config/config.js';
import type { TraceColumns, TraceChunks } from '../../trace/columns.js';
import { nicTrace, syntheticPackets, NIC_DEFAULTS, NicTraceStream, SyntheticPacketStream, onePacketChunk, type NicStats, type PacketChunks, type SyntheticPacketOptions } from '../../devices/nic/nic.js';
import type { PacketColumns } from '../../trace/importers/pcap.js';
import { captureChunks, readCaptureFile } from '../../trace/capture-file.js';
import { InputError } from '../../util/errors.js';
import { warnOf, type ReadOptions } from '../../trace/input.js';
import type { DeviceStats } from '../../virt/paths.js';

export const NIC_DEVICE = '0000:03:00.0';

/** Frame-size mixes (bytes without FCS, weight). */
const MIXES: Record<string, Array<[number, number]>> = {
  // memcached-like (Atikoglu et al., SIGMETRICS 2012): mostly small GET requests/responses, some values up to 1 KiB
  memcached: [[78, 30], [110, 30], [262, 15], [518, 15], [1078, 10]],
  // IMIX 7:4:1 (64, 594, 1518 B frames with FCS → 60, 590, 1514 without)
  imix: [[60, 7], [590, 4], [1514, 1]],
};

/**
 * The frames of the capture workload.pcap names (the config-independent part of nic-pcap), whole:
 * 24 B per frame, read a piece at a time (the file's bytes are not held). Gzip is decompressed; a
 * capture cut inside a record gives the records before the cut and a warning, or with
 * `read.strict` an InputError.
 */
export function readCapturePackets(path: string, read: ReadOptions = {}): PacketColumns {
  const cap = readCaptureFile(path, read, CAPTURE_FILE);
  for (const w of cap.warnings) warnOf(read)(w);
  return cap.packets;
}

/** How workload.pcap is named in messages about it. */
const CAPTURE_FILE = { what: 'capture', fix: 'check workload.pcap' } as const;

/** `captured`: workload.pcap's frames already read (readCapturePackets), e.g. shared with sweep workers; `read`: how to read it otherwise. */
export function nicPackets(cfg: Readonly<Config>, captured?: PacketColumns, read: ReadOptions = {}): { packets: PacketColumns; offeredGbps: number } {
  const w = cfg.workload;
  if (w.kind === 'nic-pcap') {
    const path = capturePath(cfg);
    const p = captured ?? readCapturePackets(path, read);
    let sum = 0;
    for (let i = 0; i < p.count; i++) sum += p.origLen[i] + 24;
    const spanNs = p.count > 1 ? p.tsNs[p.count - 1] - p.tsNs[0] : 1;
    return { packets: p, offeredGbps: (sum * 8) / Math.max(1, spanNs) };
  }
  const packets = syntheticPackets(syntheticOptions(cfg));
  // offered payload rate: the line rate less each frame's 24 B of preamble, FCS and gap (and padding to 60 B)
  let payload = 0, wire = 0;
  for (let i = 0; i < packets.count; i++) { payload += packets.origLen[i]; wire += Math.max(60, packets.origLen[i]) + 24; }
  return { packets, offeredGbps: wire > 0 ? (cfg.workload.rateGbps * payload) / wire : cfg.workload.rateGbps };
}

/** The synthetic NIC workloads' packets, from workload.* */
function syntheticOptions(cfg: Readonly<Config>): SyntheticPacketOptions {
  const w = cfg.workload;
  const size = w.kind === 'nic-udp64' ? 60 : w.size;
  const mix = w.mix === 'fixed' ? undefined : MIXES[w.mix];
  const dir = w.dir === 'tx' ? 'tx' : w.dir === 'by-flow' ? 'by-flow' : 'rx';
  // the TCP generators' frames are TCP segments (IP protocol 6): nic.acks answers them
  const l4 = w.kind === 'nic-tcp' || w.kind === 'nic-fs-multiflow' ? 6 : 17;
  return { count: w.count, sizeBytes: mix ? undefined : size, sizeMix: mix, rateGbps: w.rateGbps, flows: w.flows, seed: w.seed, dir, l4 };
}

/**
 * The NIC generator's rows a chunk at a time (`chunkRecords` rows, reused): synthetic packets are
 * drawn a chunk at a time too (`chunkPackets`), and a capture (nic-pcap) is read a chunk of
 * `chunkPackets` frames at a time (captureChunks: fixed reads, gzip inflated as it is read), so
 * memory is bounded whatever workload.count or the capture's length. `captured`: the frames
 * already read (a sweep's shared frames), streamed from memory. A capture's warnings go to
 * `read.warn` once its last frame is read.
 */
export function nicStream(cfg: Readonly<Config>, captured?: PacketColumns, read: ReadOptions = {}, chunkRecords?: number, chunkPackets?: number, readBytes?: number): NicTraceStream {
  const ncfg = cfg.nic; // the model's spec, checked once by resolveConfig
  let packets: PacketChunks;
  if (cfg.workload.kind !== 'nic-pcap') packets = new SyntheticPacketStream(syntheticOptions(cfg), chunkPackets);
  else {
    const path = capturePath(cfg);
    packets = captured ? onePacketChunk(captured) : captureChunks(path, read, { ...CAPTURE_FILE, chunkPackets, readBytes });
  }
  return new NicTraceStream(packets, ncfg, { device: NIC_DEVICE }, chunkRecords);
}

/**
 * A capture file (pcap, pcapng, gzip-compressed or not) as the DMA trace of the NIC model, a
 * chunk at a time in bounded memory: the rows loadTrace(path, 'auto', {}, cfg, read).columns gives
 * for a capture (captureColumns), the NIC configured by cfg's nic section (the defaults without
 * one), and the format found (for the run's label). For `run FILE.pcap`; the capture's warnings go to `read.warn` at
 * its end, a file that is not a capture is an InputError here.
 */
export function captureStream(path: string, cfg?: TraceLoadConfig, read: ReadOptions = {}, chunkRecords?: number, chunkPackets?: number): TraceChunks & { format: 'pcap' | 'pcapng'; close(): void } {
  const ncfg = cfg?.nic ?? NIC_DEFAULTS;
  const chunks = captureChunks(path, read, { chunkPackets });
  // close(): the file (and a gzip stream's worker thread) when a run stops before the end
  return Object.assign(new NicTraceStream(chunks, ncfg, { device: NIC_DEVICE }, chunkRecords), { format: chunks.reader.format, close: () => chunks.reader.close() });
}

function capturePath(cfg: Readonly<Config>): string {
  const w = cfg.workload;
  if (!w.pcap) throw new InputError('workload.pcap: empty; name the capture file (pcap or pcapng) to replay');
  return w.pcap;
}

export function nicGenerate(cfg: Readonly<Config>, captured?: PacketColumns, read: ReadOptions = {}): { trace: TraceColumns; stats: NicStats; device: DeviceStats; offeredGbps: number } {
  const { packets, offeredGbps } = nicPackets(cfg, captured, read);
  const { trace, stats } = nicTrace(packets, cfg.nic, { device: NIC_DEVICE });
  const device: DeviceStats = {
    packets: stats.rxPackets + stats.txPackets, bytes: stats.payloadBytes, interrupts: stats.interrupts,
    maps: stats.maps, unmaps: stats.unmaps, flushes: 0,
  };
  return { trace, stats, device, offeredGbps };
}
