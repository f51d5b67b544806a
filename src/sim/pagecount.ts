/**
 * Outstanding-DMA counts per (device, 4 KiB page): an open-addressing hash table on typed arrays
 * (no Map in the hot path). Keys are device × 2^45 + page (exact below 2^53). Zero-count entries
 * stay until the table is rebuilt, which happens when it is half full.
 */
export class PageCounter {
  private keys: Float64Array;
  private counts: Int32Array;
  private used = 0;
  private mask: number;

  constructor(capacity = 4096) {
    let n = 1;
    while (n < capacity * 2) n <<= 1;
    this.keys = new Float64Array(n).fill(-1);
    this.counts = new Int32Array(n);
    this.mask = n - 1;
  }

  private slot(key: number): number {
    let h = (Math.imul((key >>> 0) ^ Math.imul((key / 4294967296) >>> 0, 0x9e3779b1), 0x85ebca6b) >>> 13) & this.mask;
    const keys = this.keys;
    for (;;) {
      const k = keys[h];
      if (k === key || k === -1) return h;
      h = (h + 1) & this.mask;
    }
  }

  add(device: number, page: number, delta: number): void {
    const key = device * 35184372088832 + page;
    let h = this.slot(key);
    if (this.keys[h] === -1) {
      if ((this.used + 1) * 2 > this.keys.length) { this.rebuild(); h = this.slot(key); }
      this.keys[h] = key;
      this.used++;
    }
    this.counts[h] += delta;
  }

  get(device: number, page: number): number {
    const h = this.slot(device * 35184372088832 + page);
    return this.keys[h] === -1 ? 0 : this.counts[h];
  }

  /** Drop zero entries; grow when more than a quarter are live. */
  private rebuild(): void {
    const oldK = this.keys, oldC = this.counts;
    let live = 0;
    for (let i = 0; i < oldK.length; i++) if (oldK[i] !== -1 && oldC[i] !== 0) live++;
    const n = live * 4 > oldK.length ? oldK.length * 2 : oldK.length;
    this.keys = new Float64Array(n).fill(-1);
    this.counts = new Int32Array(n);
    this.mask = n - 1;
    this.used = 0;
    for (let i = 0; i < oldK.length; i++) {
      if (oldK[i] === -1 || oldC[i] === 0) continue;
      const h = this.slot(oldK[i]);
      this.keys[h] = oldK[i];
      this.counts[h] = oldC[i];
      this.used++;
    }
  }
}
