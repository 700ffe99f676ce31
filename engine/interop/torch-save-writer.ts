/**
 * `torch.save(state_dict, f)` without Python: the zip layout that torch-zip.ts reads and PyTorch 1.6 to 2.x load
 * with `torch.load` (also with `weights_only=True`):
 *
 *   archive/data.pkl     pickle protocol 2 of an OrderedDict name → tensor, each tensor written as PyTorch writes it:
 *                        torch._utils._rebuild_tensor_v2(<persistent id ('storage', torch.FloatStorage | torch.BFloat16Storage,
 *                        '<n>', 'cpu', numel)>, 0, size, contiguous stride, False, OrderedDict())
 *   archive/byteorder    'little'
 *   archive/data/<n>     the raw little-endian elements of tensor n (one storage per tensor, n = 0, 1, … in order)
 *   archive/version      '3'
 *
 * Entries are stored uncompressed and 64-byte aligned (zip-writer.ts). float32 data is written as is; bfloat16 is
 * rounded to nearest even, as `tensor.to(torch.bfloat16)` rounds.
 */
import { encodeStoredZip } from './zip-writer';
import { PyCall, PyDictOut, PyPersistentId, emptyOrderedDict, encodePickle } from './pickle-writer';
import { PyGlobal, PyTuple } from './pickle';
import { f32ToBf16 } from './safetensors';

export type TorchSaveDtype = 'float32' | 'bfloat16';

export interface TorchSaveTensor {
  /** The state-dict key. */
  name: string;
  shape: readonly number[];
  /** Row-major elements (shape's product of them). */
  data: Float32Array;
  dtype: TorchSaveDtype;
}

/** The archive folder inside the zip (what torch.save uses when writing to a file object). */
export const TORCH_SAVE_ARCHIVE = 'archive';
/** The serialization format version PyTorch 1.6 – 2.x write (and read). */
const FORMAT_VERSION = '3\n';

const STORAGE: Readonly<Record<TorchSaveDtype, PyGlobal>> = {
  float32: new PyGlobal('torch', 'FloatStorage'),
  bfloat16: new PyGlobal('torch', 'BFloat16Storage'),
};
const REBUILD = new PyGlobal('torch._utils', '_rebuild_tensor_v2');

function contiguousStride(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d];
  }
  return stride;
}

/** The little-endian bytes of a storage. */
function storageBytes(t: TorchSaveTensor): Uint8Array {
  if (t.dtype === 'float32') {
    return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength); // little-endian host, as torch-zip.ts reads
  }
  const out = new Uint16Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = f32ToBf16(t.data[i]);
  return new Uint8Array(out.buffer);
}

/**
 * The bytes of a torch.save file holding an OrderedDict of `tensors`, in order. Throws TypeError for a duplicate key or
 * a shape that disagrees with the data, RangeError when the archive would need zip64 (4 GiB or more).
 */
export function encodeTorchSave(tensors: readonly TorchSaveTensor[]): Uint8Array {
  const seen = new Set<string>();
  const entries: [string, PyCall][] = [];
  const storages: { name: string; data: Uint8Array }[] = [];
  tensors.forEach((t, i) => {
    if (seen.has(t.name)) throw new TypeError(`duplicate state-dict key "${t.name}"`);
    seen.add(t.name);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel !== t.data.length) {
      throw new TypeError(`"${t.name}": shape [${t.shape.join(', ')}] does not hold ${t.data.length} elements`);
    }
    const key = String(i);
    const storage = new PyPersistentId(new PyTuple(['storage', STORAGE[t.dtype], key, 'cpu', numel]));
    entries.push([t.name, new PyCall(REBUILD, [
      storage, 0, new PyTuple([...t.shape]), new PyTuple(contiguousStride(t.shape)), false, emptyOrderedDict(),
    ])]);
    storages.push({ name: `${TORCH_SAVE_ARCHIVE}/data/${key}`, data: storageBytes(t) });
  });
  const pickle = encodePickle(new PyDictOut(entries, true));
  return encodeStoredZip([
    { name: `${TORCH_SAVE_ARCHIVE}/data.pkl`, data: pickle },
    { name: `${TORCH_SAVE_ARCHIVE}/byteorder`, data: new TextEncoder().encode('little') },
    ...storages,
    { name: `${TORCH_SAVE_ARCHIVE}/version`, data: new TextEncoder().encode(FORMAT_VERSION) },
  ]);
}
