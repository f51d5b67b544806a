/**
 * A device's interrupts through interrupt remapping and, on posted paths, posted-interrupt
 * descriptors: the MSI-X messages of its queue vectors are remappable (handle = queue), each IRTE
 * validated against the device's requester id (SVT 1, SQ 0), remapped to a host vector or posted to
 * the guest vCPU's descriptor. The vCPU is running and takes each notification before the next
 * (PIR synced per interrupt), so nothing is suppressed; counts come from the real structures.
 */
import { InterruptRemapper, encodeRemappableMsi, IRQ_POSTED, IRQ_REMAPPED, type IrqRemapMetrics } from '../iommu/irq/remap.js';
import { PostedInterrupts, type PostedMetrics } from '../iommu/irq/posted.js';
import { irqSpecFrom } from '../config/knobs/irq.js';
import type { Config } from '../config/config.js';

export interface InterruptFigures {
  remap: IrqRemapMetrics;
  posted: PostedMetrics | null;
  delivered: number;
  /** Interrupts that reached the host (and, for a guest without posting, need an exit + injection). */
  hostDelivered: number;
}

export function deliverInterrupts(cfg: Readonly<Config>, sid: number, queues: number, interrupts: number, posted: boolean): InterruptFigures {
  const r = new InterruptRemapper(irqSpecFrom(cfg), cfg.seed);
  const pi = posted ? new PostedInterrupts() : null;
  const pda = pi ? pi.allocDescriptor(0xf2, 0, { running: true }) : 0;
  const q = Math.max(1, queues);
  for (let v = 0; v < q; v++) {
    r.programIrte(v, posted ? { posted: true, vector: 0x40 + v, pda, sid, svt: 1, sq: 0 } : { vector: 0x40 + v, destId: v, sid, svt: 1, sq: 0 });
  }
  let delivered = 0, host = 0;
  for (let k = 0; k < interrupts; k++) {
    const res = r.remap(sid, encodeRemappableMsi(k % q, false), 0);
    if (res === IRQ_POSTED && pi) {
      pi.post(r.outPda, r.outVector, r.outUrgent);
      pi.syncPir(pda);
      delivered++;
    } else if (res === IRQ_REMAPPED) {
      delivered++;
      host++;
    }
  }
  return { remap: r.metrics(), posted: pi ? pi.metrics() : null, delivered, hostDelivered: host };
}
