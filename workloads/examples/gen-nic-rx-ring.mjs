// Writes nic-rx-ring.csv (deterministic). Run: node workloads/examples/gen-nic-rx-ring.mjs
import { writeFileSync } from 'node:fs';
const lines = [
  '# Example: a 10 GbE NIC (03:00.0) receiving 1514-byte frames into a 256-entry RX ring.',
  '# The driver maps each RX buffer before posting it and unmaps it after the frame lands (per-packet',
  "# DMA-API mapping; IOVAs come top-down and are recycled LIFO, like Linux's allocator with per-CPU",
  '# caches). The descriptor ring is mapped once (coherent). One frame every 1230 ns (10 Gb/s line rate',
  '# for 1514 B frames + 24 B of preamble, FCS and gap). Written by gen-nic-rx-ring.mjs.',
  'time_ns,device,pasid,op,iova,size,dir,paddr',
];
const hex = (n) => '0x' + n.toString(16);
const dev = '0000:03:00.0';
const ringIova = 0xfffff000, ringPa = 0x7f000000;
lines.push(`0,${dev},,map,${hex(ringIova)},4096,,${hex(ringPa)}`);
const free = [];
let next = ringIova;
let pa = 0x100000000;
let t = 100;
const posted = [];
const post = () => {
  const iova = free.length ? free.pop() : (next -= 4096);
  lines.push(`${t},${dev},,map,${hex(iova)},4096,,${hex(pa)}`);
  pa += 4096;
  posted.push(iova);
};
for (let i = 0; i < 256; i++) { post(); t += 2; }
for (let k = 0; k < 1024; k++) {
  const iova = posted.shift();
  const desc = hex(ringIova + (k % 256) * 16);
  lines.push(`${t},${dev},,dma,${desc},16,read,`);
  lines.push(`${t + 300},${dev},,dma,${hex(iova)},1514,write,`);
  lines.push(`${t + 600},${dev},,dma,${desc},16,write,`);
  lines.push(`${t + 900},${dev},,unmap,${hex(iova)},4096,,`);
  free.push(iova);
  if (free.length > 64) free.shift();
  t += 901;
  post();
  t += 329;
}
writeFileSync(new URL('./nic-rx-ring.csv', import.meta.url), lines.join('\n') + '\n');
