/**
 * Cost knobs of the I/O paths added for issue #19: virtio-iommu requests and the VFIO ioctls behind
 * them, the pooled-bounce DMA API, mediated / SR-IOV vGPUs, CUDA API remoting. Cycles are of
 * `cpu.ghz`. A default without a published figure says "assumption" and what it stands on.
 */
import type { Knob } from '../knob.js';
import type { KnobTree } from '../tree.js';

const STEVENS = 'D. Stevens, "[PATCH 0/9] Add dynamic iommu backed bounce buffers", iommu list, Aug 2021 [C]';

const VIOMMU_TABLE = [
  { key: 'virt.viommu.virtio', kind: 'bool', default: false, doc: 'the guest\'s vIOMMU is virtio-iommu (passthrough-viommu): each map of a page is a synchronous request on its virtqueue — a kick (an exit), the VMM woken, a VFIO_IOMMU_MAP_DMA ioctl — and a guest unmap queues a request per page with one kick; false: an emulated VT-d in caching mode, one trap per map or unmap call', source: `${STEVENS}: "virtio-iommu operations in a guest on a linux host require a vmexit, involvement the VMM, and a VFIO syscall"; Linux drivers/iommu/virtio-iommu.c (viommu_map sends each request synchronously, unmaps are synced once per iotlb_sync) [C]` },
  { key: 'virt.viommu.requestCycles', kind: 'number', default: 2000, min: 0, unit: 'cycles', doc: 'VMM work per virtio-iommu request besides the VFIO ioctl: pop the request from the virtqueue, check the domain and range, write the status and the used ring', source: 'assumption: under a microsecond of device-model code per request' },
  { key: 'virt.viommu.wakeCycles', kind: 'number', default: 7200, min: 0, unit: 'cycles', doc: 'a kick of the virtio-iommu queue wakes the VMM\'s device thread (ioeventfd → epoll → a sleeping thread scheduled on another core) while the vCPU spins on the used ring', source: 'assumption: ~3 µs for waking a sleeping thread on another core (scheduler wake-up latency) at 2.4 GHz' },
  { key: 'virt.vfio.ioctlCycles', kind: 'number', default: 1200, min: 0, unit: 'cycles', doc: 'one VFIO_IOMMU_MAP_DMA or UNMAP_DMA ioctl\'s system call and VFIO bookkeeping (vfio_dma lookup and insertion), besides pinning and the IOMMU work', source: 'assumption: a system call with its mitigations and an rb-tree update, ~0.5 µs' },
  { key: 'virt.vfio.pinPageCycles', kind: 'number', default: 600, min: 0, unit: 'cycles', doc: 'VFIO pins (map) or unpins (unmap) one resident 4 KiB page of guest memory: get_user_pages / put_page and the locked-memory accounting', source: 'assumption: a resident page\'s lookup and reference count, ~0.25 µs' },
] as const satisfies readonly Knob[];
export const VIOMMU_KNOBS: readonly Knob[] = VIOMMU_TABLE;

const BOUNCE_TABLE = [
  { key: 'virt.bounce.poolCycles', kind: 'number', default: 300, min: 0, unit: 'cycles', doc: 'viommu-bounce: taking a bounce buffer from the per-domain pool on map and returning it on unmap (the data is copied at cpu.memcpyBytesPerCycle: at unmap for a device write, at map for a device read)', source: `${STEVENS}: pooled buffers keep their IOMMU mappings, so a map or unmap is a pool operation and a copy; the cost of the pool operation is an assumption (a free-list under a lock)` },
] as const satisfies readonly Knob[];
export const BOUNCE_KNOBS: readonly Knob[] = BOUNCE_TABLE;

const VGPU_TABLE = [
  { key: 'virt.vgpu.tenants', kind: 'int', default: 2, min: 1, max: 64, unit: 'vGPUs', doc: 'busy vGPUs sharing the GPU\'s engines round-robin: the guest\'s copies run in one time slice of every `tenants`', source: 'assumption: the GPU shared with one other busy vGPU (sharing is what a vGPU is for; 1 = alone)' },
  { key: 'virt.vgpu.timesliceUs', kind: 'number', default: 1000, min: 1, max: 1e7, unit: 'µs', doc: 'scheduler quantum: how long a vGPU holds the engines before the next one', source: 'Linux drivers/gpu/drm/i915/gvt/sched_policy.c GVT_DEFAULT_TIME_SLICE 1,000,000 ns (Intel GVT-g) [C]; NVIDIA\'s vGPU scheduler time slice is set per GPU (nvmlVgpuSchedulerParams_t.timeslice, ns) [C]' },
  { key: 'virt.vgpu.switchUs', kind: 'number', default: 25, min: 0, max: 1e6, unit: 'µs', doc: 'engine context switch at each slice boundary (saving and restoring the vGPU\'s engine state), time no vGPU copies', source: 'assumption: tens of µs to save and restore an engine context' },
  { key: 'virt.vgpu.submitCycles', kind: 'number', default: 10000, min: 0, unit: 'cycles', doc: 'the mediator\'s work per submission besides its trap (an I/O exit in the kernel): shadowing and scanning the guest\'s command buffer before it reaches the engine', source: 'Tian et al., "A Full GPU Virtualization Solution with Mediated Pass-Through" (gVirt), USENIX ATC 2014: submissions are trapped and command buffers scanned [S]; the cycles are an assumption (~4 µs)' },
  { key: 'virt.vgpu.shadowPteCycles', kind: 'number', default: 500, min: 0, unit: 'cycles', doc: 'shadowing one guest GPU page-table entry write (the write traps: an I/O exit; then the shadow entry is translated and written), per 4 KiB page the guest maps for the GPU while copying (gpu.pinnedMapping=per-copy; static pinned buffers enter the GPU\'s page tables when allocated, before the copies)', source: 'gVirt (ATC 2014): guest GTT / PPGTT pages write-protected and shadowed [S]; Linux i915/gvt gtt.c shadow PPGTT [C]; the cycles are an assumption' },
] as const satisfies readonly Knob[];
export const VGPU_KNOBS: readonly Knob[] = VGPU_TABLE;

const GPU_SETUP_TABLE = [
  { key: 'virt.gpuPrimaryDisplay', kind: 'bool', default: false, doc: 'the GPU passed through is the guest\'s primary display (VGA): compare notes what each hypervisor needs for that (KVM: x-vga=on with -vga none; Xen: gfx_passthru=1)', source: 'seed 004 (QEMU GPU passthrough: -device vfio-pci,host=01:00.0,multifunction=on,x-vga=on -vga none) [C]; off: a compute GPU beside the guest\'s emulated display' },
] as const satisfies readonly Knob[];
export const GPU_SETUP_KNOBS: readonly Knob[] = GPU_SETUP_TABLE;

const REMOTING_TABLE = [
  { key: 'virt.remoting.callCycles', kind: 'number', default: 20000, min: 0, unit: 'cycles', doc: 'API remoting: marshalling a CUDA call in the guest library, passing it to the host server and its reply, besides the kick and the completion interrupt', source: 'vCUDA (Shi et al., IEEE TC 2012): API interception and redirection through a dedicated RPC channel [A]; the cycles are an assumption (~8 µs per forwarded call)' },
  { key: 'virt.remoting.guestCopies', kind: 'number', default: 1, min: 0, max: 4, unit: 'copies', doc: 'API remoting: CPU copies of the data in the guest per copy call (the library moves the application\'s buffer into the shared buffer)', source: 'vCUDA / GVirtuS: the guest library marshals the call\'s data into the channel [A]; 1 copy (a shared-memory channel)' },
  { key: 'virt.remoting.hostCopies', kind: 'number', default: 1, min: 0, max: 4, unit: 'copies', doc: 'API remoting: CPU copies in the host server per copy call (from the shared buffer into pinned memory the GPU reads; 0 if the shared buffer is itself pinned and mapped)', source: 'assumption: the shared buffer is guest memory the server cannot hand to cudaMemcpyAsync as pinned, so it stages it once' },
] as const satisfies readonly Knob[];
export const REMOTING_KNOBS: readonly Knob[] = REMOTING_TABLE;

export const PATH_KNOBS: Knob[] = [...VIOMMU_KNOBS, ...BOUNCE_KNOBS, ...VGPU_KNOBS, ...GPU_SETUP_KNOBS, ...REMOTING_KNOBS];

/** The configuration's `virt` knobs of the newer paths, typed from their tables. */
export type PathsSection = KnobTree<[...typeof VIOMMU_TABLE, ...typeof BOUNCE_TABLE, ...typeof VGPU_TABLE, ...typeof GPU_SETUP_TABLE, ...typeof REMOTING_TABLE]>['virt'];
