/**
 * `HrmLensGroupMatMul`: a [G, M, K] @ b [G, K, N] → [G, M, N] as G calls of the wasm backend's own rank-2 XNNPACK
 * product, on zero-copy views of the operands.
 *
 * tfjs-backend-wasm 4.22 takes XNNPACK's fast path only for batch-1, untransposed BatchMatMul; a batched product falls
 * to a scalar loop (~1.2 GFLOP/s against ~16–25 GFLOP/s). Splitting into G tf.matMul calls on tf.slice'd blocks works
 * (engine/model/group-matmul.ts) but pays two copies and four TF.js dispatches per group. This kernel registers, for
 * each group g, three temporary tensor ids in the wasm module's tensor registry that POINT INTO the existing buffers
 * (a at a + g·M·K, b at b + g·K·N, out at out + g·M·N), calls the module's exported BatchMatMul on them (shapes
 * [1, M, K] · [1, K, N]: the XNNPACK path), and unregisters them — which also frees the XNNPACK operator cached for
 * the b view. No data is copied and TF.js's engine sees one kernel. The ids come from the backend's own counter, so
 * they never collide with real tensors; the memory stays owned by a, b and out.
 *
 * It relies on the backend's internal module interface (`wasm.tfjs.registerTensor`, `disposeData`, the
 * `BatchMatMul` export, `dataIdMap`), checked at install time: when any piece is missing (another tfjs version),
 * nothing is installed and callers use the slice-based path.
 */
import { tf } from '../tf';
import { gemmGroupsInto, ownGemmInstalled } from './wasm-gemm';

export const GROUP_MATMUL_KERNEL = 'HrmLensGroupMatMul';

interface TensorData { id: number; memoryOffset: number }
interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdMap: { get(dataId: object): TensorData | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

let installed: boolean | undefined;

function internals(b: unknown): WasmBackendInternals | undefined {
  const be = b as Partial<WasmBackendInternals> | undefined;
  if (!be || typeof be.makeOutput !== 'function' || !be.dataIdMap || typeof be.dataIdNextNumber !== 'number') return undefined;
  const w = be.wasm as Partial<WasmModule> | undefined;
  if (!w || typeof w.cwrap !== 'function' || !w.tfjs || typeof w.tfjs.registerTensor !== 'function' || typeof w.tfjs.disposeData !== 'function') return undefined;
  return be as WasmBackendInternals;
}

/**
 * Registers the kernel for the active wasm backend once per process; returns whether it is available. Call after
 * `tf.setBackend('wasm')`.
 */
export function installWasmGroupMatMul(): boolean {
  if (installed !== undefined) return installed;
  const be = internals(tf.findBackend('wasm'));
  if (!be) return (installed = false);
  let batchMatMul: (...a: unknown[]) => void;
  try {
    batchMatMul = be.wasm.cwrap('BatchMatMul', null, ['number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number']);
  } catch {
    return (installed = false);
  }
  tf.registerKernel({
    kernelName: GROUP_MATMUL_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const bk = backend as unknown as WasmBackendInternals;
      const a = inputs.a as tf.TensorInfo;
      const b = inputs.b as tf.TensorInfo;
      const [G, M, K] = a.shape;
      const N = b.shape[2];
      const out = bk.makeOutput([G, M, N], 'float32');
      if (ownGemmInstalled()) {
        // The project's GEMM (wasm-gemm.ts) when it replaced BatchMatMul: the same bits as tf.matMul of each block.
        const heap = (t: tf.TensorInfo) => bk.typedArrayFromHeap(t) as Float32Array;
        gemmGroupsInto(heap(a), heap(b), heap(out), G, M, K, N);
        return out;
      }
      const aOff = bk.dataIdMap.get(a.dataId)?.memoryOffset;
      const bOff = bk.dataIdMap.get(b.dataId)?.memoryOffset;
      const oOff = bk.dataIdMap.get(out.dataId)?.memoryOffset;
      if (aOff === undefined || bOff === undefined || oOff === undefined) throw new Error(`${GROUP_MATMUL_KERNEL}: tensor not on the wasm heap`);
      const aShape = new Uint8Array(new Int32Array([1, M, K]).buffer);
      const bShape = new Uint8Array(new Int32Array([1, K, N]).buffer);
      const { registerTensor, disposeData } = bk.wasm.tfjs;
      for (let g = 0; g < G; g++) {
        const ia = bk.dataIdNextNumber++;
        const ib = bk.dataIdNextNumber++;
        const io = bk.dataIdNextNumber++;
        registerTensor(ia, M * K, aOff + 4 * g * M * K);
        registerTensor(ib, K * N, bOff + 4 * g * K * N);
        registerTensor(io, M * N, oOff + 4 * g * M * N);
        try {
          batchMatMul(ia, aShape, 3, ib, bShape, 3, 0, 0, io);
        } finally {
          disposeData(io);
          disposeData(ib);
          disposeData(ia);
        }
      }
      return out;
    },
  });
  return (installed = true);
}
