/**
 * A copy-free `Slice` kernel for the wasm backend.
 *
 * tfjs-backend-wasm 4.22's Slice starts with `backend.readSync(x)`, which copies the WHOLE input out of the wasm heap
 * before taking a slice of it. Cutting a [G·S, d] activation into G row blocks therefore costs O(G²) bytes copied:
 * 128 slices of a 1.3 MB tensor took ~100 ms, more than the matrix products they fed. This kernel reads the input
 * through a heap view instead (taken after `makeOutput`, which may grow and so detach the heap) and copies only the
 * slice: contiguous slices with one `set`, others row by row over the last axis. Same values, any rank, any
 * non-string dtype; strings are left to the original kernel.
 */
import { tf } from '../tf';
import { overrideWasmKernel } from './override-kernel';

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): tf.TypedArray;
}

let installed = false;

/** Replaces the wasm Slice kernel once per process (idempotent). Call after the wasm backend is registered. */
export function installWasmSlice(): void {
  if (installed) return;
  installed = overrideWasmKernel('Slice', (original) => (args) => {
    const x = args.inputs.x as unknown as WasmTensorInfo;
    if (x.dtype === 'string') return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, attrs.begin, attrs.size);
    const out = backend.makeOutput(size, x.dtype);
    const total = size.reduce((acc, n) => acc * n, 1);
    if (total === 0) return out as unknown as tf.TensorInfo;
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    copySlice(xv, x.shape, ov, begin, size);
    return out as unknown as tf.TensorInfo;
  });
}

/** Copies the box `begin`/`size` of the row-major array `x` (shape `shape`) into `out`. */
export function copySlice(x: tf.TypedArray, shape: readonly number[], out: tf.TypedArray, begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) { strides[d] = acc; acc *= shape[d]; }
  // Merge the trailing axes that are taken whole into one contiguous run.
  let inner = rank - 1;
  let run = size[rank - 1] ?? 1;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner];
  }
  // Axes [0, inner) are iterated; axis `inner` starts at begin[inner] and covers `run` elements.
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let n = 0; n < count; n++) {
    let off = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) off += (begin[d] + idx[d]) * strides[d];
    (out as Float32Array).set((x as Float32Array).subarray(off, off + run), o);
    o += run;
    for (let d = inner - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
}
