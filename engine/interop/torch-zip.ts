/**
 * PyTorch checkpoints written by `torch.save` (the zip layout used since PyTorch 1.6):
 *
 *   <archive>/data.pkl         a pickle of the saved object; tensors appear as
 *                              _rebuild_tensor_v2(<persistent id ('storage', torch.FloatStorage, '<key>', 'cpu', numel)>,
 *                                                 storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
 *   <archive>/data/<key>       the raw little-endian bytes of each storage
 *   <archive>/byteorder        'little' (newer versions; absent = little)    <archive>/version   format version
 *
 * The pickle is read by the restricted VM of pickle.ts with a short allow-list (OrderedDict, the tensor/parameter
 * rebuild functions, storage types and dtypes); anything else is refused before anything runs — the promise of
 * `torch.load(weights_only=True)`. float32 / float16 / bfloat16 / float64 storages become Float32Array; integer and
 * bool tensors are read too (as float32) so that a checkpoint holding e.g. a step counter opens, but callers should
 * use only float tensors as weights. Storage offset, size and stride are honoured (any non-negative strides whose
 * elements lie inside the storage). Errors are DataErrors naming the file and the tensor or entry.
 */
import { promises as fs } from 'node:fs';
import { DataError } from '../util/errors';
import { bf16ToF32, f16ToF32 } from './safetensors';
import { ZipArchive } from './zip-entries';
import {
  type GlobalHandler, type HandlerContext, type PickleValue, PyDict, PyGlobal, PyObject, PyTuple, describe, unpickle,
} from './pickle';

export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface TorchTensor {
  /** The dtype in the file; the data is float32 whatever it was. */
  dtype: TorchDtype;
  shape: number[];
  data: Float32Array;
}

export interface TorchCheckpoint {
  /** Tensors by their key in the state dict (nested dicts are joined with '.'). */
  tensors: Map<string, TorchTensor>;
  /** Keys whose values are not tensors (numbers, strings, None…), with a short type name. */
  other: Map<string, string>;
  /** The archive folder name inside the zip (usually the file's stem, or 'archive'). */
  archive: string;
}

const STORAGE_DTYPES: Readonly<Record<string, [TorchDtype, number]>> = {
  FloatStorage: ['float32', 4], HalfStorage: ['float16', 2], BFloat16Storage: ['bfloat16', 2], DoubleStorage: ['float64', 8],
  LongStorage: ['int64', 8], IntStorage: ['int32', 4], ShortStorage: ['int16', 2], CharStorage: ['int8', 1],
  ByteStorage: ['uint8', 1], BoolStorage: ['bool', 1],
};
const DTYPE_NAMES: readonly string[] = ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];
const MAX_RANK = 16;

interface StorageRef {
  dtype: TorchDtype;
  itemSize: number;
  key: string;
  numel: number;
}

interface TensorRef {
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

function isInt(v: PickleValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function intTuple(v: PickleValue, what: string, ctx: HandlerContext): number[] {
  if (!(v instanceof PyTuple)) return ctx.fail(`${what} must be a tuple of integers, got ${describe(v)}`);
  if (v.items.length > MAX_RANK) ctx.fail(`${what} has ${v.items.length} dimensions (more than ${MAX_RANK})`);
  return v.items.map((x) => {
    if (!isInt(x) || x < 0) return ctx.fail(`${what} must hold non-negative integers, got ${JSON.stringify(String(x))}`);
    return x;
  });
}

function rebuildTensor(args: PyTuple, ctx: HandlerContext): PickleValue {
  const [storage, offset, size, stride] = args.items;
  if (args.items.length < 4) ctx.fail(`expected (storage, offset, size, stride, …), got ${args.items.length} arguments`);
  if (!(storage instanceof PyObject) || storage.kind !== 'torch.storage') ctx.fail(`first argument must be a storage, got ${describe(storage)}`);
  if (!isInt(offset) || offset < 0) ctx.fail(`storage offset must be a non-negative integer, got ${String(offset)}`);
  const sz = intTuple(size, 'size', ctx);
  const st = intTuple(stride, 'stride', ctx);
  if (sz.length !== st.length) ctx.fail(`size has ${sz.length} dimensions, stride ${st.length}`);
  const ref: TensorRef = { storage: (storage as PyObject<StorageRef>).payload, offset: offset as number, size: sz, stride: st };
  return new PyObject<TensorRef>('torch.Tensor', ref);
}

function rebuildParameter(args: PyTuple, ctx: HandlerContext): PickleValue {
  const data = args.items[0];
  if (!(data instanceof PyObject) || data.kind !== 'torch.Tensor') ctx.fail(`first argument must be a tensor, got ${describe(data)}`);
  return data as PyObject;
}

function orderedDict(args: PyTuple, ctx: HandlerContext): PickleValue {
  const d = new PyDict(true);
  if (args.items.length === 0) return d;
  const pairs = args.items[0];
  if (args.items.length > 1 || !Array.isArray(pairs)) return ctx.fail('expected OrderedDict() or OrderedDict([(key, value), …])');
  for (const p of pairs) {
    if (!(p instanceof PyTuple) || p.items.length !== 2) ctx.fail('OrderedDict items must be (key, value) pairs');
    const [k, v] = (p as PyTuple).items;
    if (typeof k !== 'string') ctx.fail(`OrderedDict key must be a string here, got ${describe(k)}`);
    d.map.set(k as string, v);
  }
  return d;
}

/** The allow-list: nothing else may appear in a checkpoint's pickle. */
export const TORCH_ALLOWED_GLOBALS: ReadonlyMap<string, GlobalHandler> = new Map<string, GlobalHandler>([
  ['collections.OrderedDict', { call: orderedDict }],
  ['torch._utils._rebuild_tensor_v2', { call: rebuildTensor }],
  ['torch._utils._rebuild_tensor', { call: rebuildTensor }],
  ['torch._utils._rebuild_parameter', { call: rebuildParameter }],
  ...Object.keys(STORAGE_DTYPES).map((n): [string, GlobalHandler] => [`torch.${n}`, {}]),
  ...DTYPE_NAMES.map((n): [string, GlobalHandler] => [`torch.${n}`, {}]),
]);

/** BINPERSID for torch.save pickles: ('storage', torch.<Type>Storage, key, location, numel) → a storage reference. */
export function torchPersistentLoad(pid: PickleValue, ctx: HandlerContext): PickleValue {
  if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
    return ctx.fail(`persistent id must be ('storage', type, key, location, numel), got ${describe(pid)}`);
  }
  const [, type, key, , numel] = pid.items;
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
    return ctx.fail(`unsupported storage type ${describe(type)} (supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`);
  }
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) return ctx.fail(`bad storage key ${JSON.stringify(String(key))}`);
  if (!isInt(numel) || numel < 0) return ctx.fail(`bad storage size ${String(numel)}`);
  const [dtype, itemSize] = STORAGE_DTYPES[type.name];
  return new PyObject<StorageRef>('torch.storage', { dtype, itemSize, key, numel });
}

function decodeStorage(dtype: TorchDtype, bytes: Uint8Array, start: number, count: number): Float32Array {
  // `start`/`count` in elements; returns the elements [start, start + count).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'float32':
      if ((bytes.byteOffset + 4 * start) % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset + 4 * start, count));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * (start + i), true);
      break;
    case 'float16': for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(2 * (start + i), true)); break;
    case 'bfloat16': for (let i = 0; i < count; i++) out[i] = bf16ToF32(view.getUint16(2 * (start + i), true)); break;
    case 'float64': for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * (start + i), true); break;
    case 'int64': for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * (start + i), true)); break;
    case 'int32': for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * (start + i), true); break;
    case 'int16': for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * (start + i), true); break;
    case 'int8': for (let i = 0; i < count; i++) out[i] = view.getInt8(start + i); break;
    case 'uint8': case 'bool': for (let i = 0; i < count; i++) out[i] = bytes[start + i]; break;
  }
  return out;
}

function materialise(ref: TensorRef, storageBytes: Uint8Array, file: string, name: string): TorchTensor {
  const { storage, offset, size, stride } = ref;
  const fail = (reason: string): never => { throw new DataError({ file, field: name }, reason); };
  if (storageBytes.length !== storage.numel * storage.itemSize) {
    fail(`storage data/${storage.key} holds ${storageBytes.length} bytes, ${storage.numel} ${storage.dtype} elements need ${storage.numel * storage.itemSize}`);
  }
  let count = 1;
  let last = offset; // index of the last element
  for (let d = 0; d < size.length; d++) {
    count *= size[d];
    if (size[d] > 0) last += (size[d] - 1) * stride[d];
  }
  if (count === 0) return { dtype: storage.dtype, shape: size, data: new Float32Array(0) };
  if (!Number.isSafeInteger(count) || count > storage.numel) {
    fail(`size [${size.join(', ')}] has ${count} elements, more than its storage's ${storage.numel}`);
  }
  if (last >= storage.numel) {
    fail(`offset ${offset}, size [${size.join(', ')}], stride [${stride.join(', ')}] reach element ${last}, past the storage's ${storage.numel}`);
  }
  // Contiguous (row-major) → one slice; otherwise gather element by element.
  let contiguous = true;
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d];
  }
  if (contiguous) return { dtype: storage.dtype, shape: size, data: decodeStorage(storage.dtype, storageBytes, offset, count) };
  const all = decodeStorage(storage.dtype, storageBytes, 0, storage.numel);
  const out = new Float32Array(count);
  const idx = new Array<number>(size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let p = offset;
    for (let d = 0; d < size.length; d++) p += idx[d] * stride[d];
    out[i] = all[p];
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape: size, data: out };
}

/** The dict holding the tensors: the top object, or a `state_dict` / `model` / `model_state_dict` entry of it. */
function findStateDict(root: PickleValue, file: string): PyDict {
  if (!(root instanceof PyDict)) throw new DataError({ file, field: 'data.pkl' }, `the checkpoint holds a ${describe(root)}, not a dict of tensors`);
  const hasTensors = (d: PyDict) => [...d.map.values()].some((v) => v instanceof PyObject && v.kind === 'torch.Tensor');
  if (hasTensors(root)) return root;
  for (const k of ['state_dict', 'model', 'model_state_dict', 'module']) {
    const v = root.map.get(k);
    if (v instanceof PyDict && hasTensors(v)) return v;
  }
  const keys = [...root.map.keys()].slice(0, 20).map(String);
  throw new DataError({ file, field: 'data.pkl' }, `no tensors found at the top level of the checkpoint (keys: ${keys.join(', ') || 'none'})`);
}

/** Tensors of a dict and its nested dicts (each dict visited once: a crafted pickle may make cycles). */
function collect(dict: PyDict, prefix: string, refs: Map<string, TensorRef>, other: Map<string, string>, seen: Set<PyDict>): void {
  seen.add(dict);
  for (const [k, v] of dict.map) {
    const name = `${prefix}${String(k)}`;
    if (v instanceof PyObject && v.kind === 'torch.Tensor') refs.set(name, (v as PyObject<TensorRef>).payload);
    else if (v instanceof PyDict && !seen.has(v) && seen.size < 10_000) collect(v, `${name}.`, refs, other, seen);
    else other.set(name, describe(v));
  }
}

/** Decode a torch.save zip held in memory. `file` names the source in errors. */
export function parseTorchCheckpoint(bytes: Uint8Array, file = '<torch checkpoint>'): TorchCheckpoint {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) {
    throw new DataError({ file, field: 'format' }, 'this is a legacy (pre-1.6, non-zip) torch.save file, which is not supported: '
      + 're-save it with a current PyTorch (torch.save(torch.load(f), g)), or export safetensors');
  }
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new DataError({ file, field: 'format' }, 'not a torch.save zip archive (no "PK" signature)');
  }
  const zip = new ZipArchive(bytes, file);
  const pkl = zip.entries.filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
  if (pkl.length !== 1) {
    throw new DataError({ file, field: 'data.pkl' }, pkl.length === 0 ? 'the archive has no data.pkl: not a torch.save file'
      : `the archive has ${pkl.length} data.pkl entries`);
  }
  const prefix = pkl[0].name.slice(0, -'data.pkl'.length);
  if (zip.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little') throw new DataError({ file, field: 'byteorder' }, `byte order "${order}" is not supported (only little-endian)`);
  }
  const root = unpickle(zip.read(pkl[0].name), { file: `${file} (${pkl[0].name})`, allowedGlobals: TORCH_ALLOWED_GLOBALS, persistentLoad: torchPersistentLoad });
  const dict = findStateDict(root, file);
  const refs = new Map<string, TensorRef>();
  const other = new Map<string, string>();
  collect(dict, '', refs, other, new Set());
  const tensors = new Map<string, TorchTensor>();
  const storages = new Map<string, Uint8Array>();
  for (const [name, ref] of refs) {
    const entryName = `${prefix}data/${ref.storage.key}`;
    let data = storages.get(entryName);
    if (data === undefined) {
      if (!zip.has(entryName)) throw new DataError({ file, field: name }, `its storage ${entryName} is missing from the archive`);
      data = zip.read(entryName);
      storages.set(entryName, data);
    }
    tensors.set(name, materialise(ref, data, file, name));
  }
  return { tensors, other, archive: prefix.replace(/\/$/, '') };
}

/** Read a torch.save checkpoint from a path, or decode bytes already in memory. */
export async function readTorchCheckpoint(source: string | Uint8Array, name?: string): Promise<TorchCheckpoint> {
  if (typeof source !== 'string') return parseTorchCheckpoint(source, name);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(source));
  } catch (err) {
    throw new DataError({ file: source, field: 'file' }, `cannot read: ${(err as Error).message}`);
  }
  return parseTorchCheckpoint(bytes, source);
}
