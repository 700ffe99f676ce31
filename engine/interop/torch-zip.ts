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
 *
 * Memory: every tensor is checked against its storage, and every storage against its zip entry's declared size and
 * the caps (TORCH_LIMITS, ZIP_LIMITS, PICKLE_LIMITS), before any storage is read or inflated. Each storage is then
 * read once: the tensors that view it contiguously share one decoded Float32Array (of just the elements they use),
 * so `data` arrays may alias; a strided view becomes one dense copy per distinct layout.
 */
import { promises as fs } from 'node:fs';
import { DataError } from '../util/errors';
import { bf16ToF32, f16ToF32 } from './safetensors';
import { ZipArchive } from './zip-entries';
import {
  type GlobalHandler, type HandlerContext, type PickleValue, PyDict, PyGlobal, PyObject, PyTuple, describe, showValue, unpickle,
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

/** Bounds on what a checkpoint may make the reader hold. */
export const TORCH_LIMITS = {
  /** Bytes of data.pkl (a state dict's pickle is kilobytes to a few megabytes). */
  maxPickleBytes: 64 * 2 ** 20,
  /** Bytes of all the storages that tensors use, and bytes of all the tensors as float32: each at most this. */
  maxTensorBytes: 4 * 2 ** 30,
  /** Characters of a tensor's key path (nested dict keys joined with '.'). */
  maxNameLength: 4096,
  /** Nested dicts expanded into key paths (further ones are listed as 'dict'). */
  maxDicts: 10_000,
} as const;

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
    if (!isInt(x) || x < 0) return ctx.fail(`${what} must hold non-negative integers, got ${showValue(x)}`);
    return x;
  });
}

function rebuildTensor(args: PyTuple, ctx: HandlerContext): PickleValue {
  const [storage, offset, size, stride] = args.items;
  if (args.items.length < 4) ctx.fail(`expected (storage, offset, size, stride, …), got ${args.items.length} arguments`);
  if (!(storage instanceof PyObject) || storage.kind !== 'torch.storage') ctx.fail(`first argument must be a storage, got ${describe(storage)}`);
  if (!isInt(offset) || offset < 0) ctx.fail(`storage offset must be a non-negative integer, got ${showValue(offset)}`);
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
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) return ctx.fail(`bad storage key ${showValue(key)}`);
  if (!isInt(numel) || numel < 0) return ctx.fail(`bad storage size ${showValue(numel)}`);
  const [dtype, itemSize] = STORAGE_DTYPES[type.name];
  return new PyObject<StorageRef>('torch.storage', { dtype, itemSize, key, numel });
}

/** Reads element `i` of a storage as a number. */
function elementReader(dtype: TorchDtype, bytes: Uint8Array): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32': return (i) => view.getFloat32(4 * i, true);
    case 'float16': return (i) => f16ToF32(view.getUint16(2 * i, true));
    case 'bfloat16': return (i) => bf16ToF32(view.getUint16(2 * i, true));
    case 'float64': return (i) => view.getFloat64(8 * i, true);
    case 'int64': return (i) => Number(view.getBigInt64(8 * i, true));
    case 'int32': return (i) => view.getInt32(4 * i, true);
    case 'int16': return (i) => view.getInt16(2 * i, true);
    case 'int8': return (i) => view.getInt8(i);
    case 'uint8': case 'bool': return (i) => bytes[i];
  }
}

/** Elements [start, start + count) of a storage as float32; a view without copying when `owned` float32 bytes allow. */
function decodeRange(dtype: TorchDtype, bytes: Uint8Array, owned: boolean, start: number, count: number): Float32Array {
  if (dtype === 'float32' && (bytes.byteOffset + 4 * start) % 4 === 0) {
    const view = new Float32Array(bytes.buffer, bytes.byteOffset + 4 * start, count);
    return owned ? view : view.slice();
  }
  const out = new Float32Array(count);
  if (dtype === 'bfloat16' && (bytes.byteOffset + 2 * start) % 2 === 0) {
    // bfloat16 is the top half of a float32: shift the bits into place (little-endian host, as the float32 path).
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset + 2 * start, count);
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = src[i] << 16;
    return out;
  }
  const at = elementReader(dtype, bytes);
  for (let i = 0; i < count; i++) out[i] = at(start + i);
  return out;
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
  const keys = [...root.map.keys()].slice(0, 20).map((k) => showValue(k, 40));
  throw new DataError({ file, field: 'data.pkl' }, `no tensors found at the top level of the checkpoint (keys: ${keys.join(', ') || 'none'})`);
}

/**
 * Tensors of a dict and its nested dicts, without recursion: each dict is visited once (the pickle VM keeps the
 * object graph acyclic, but one dict may be reached by several paths), at most TORCH_LIMITS.maxDicts dicts are
 * expanded (the rest are listed as 'dict'), and a key path longer than TORCH_LIMITS.maxNameLength is an error.
 */
function collect(root: PyDict, file: string, refs: Map<string, TensorRef>, other: Map<string, string>): void {
  const seen = new Set<PyDict>([root]);
  const todo: { dict: PyDict; prefix: string }[] = [{ dict: root, prefix: '' }];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const later: { dict: PyDict; prefix: string }[] = [];
    for (const [k, v] of next.dict.map) {
      const part = typeof k === 'string' ? k : String(k);
      if (next.prefix.length + part.length > TORCH_LIMITS.maxNameLength) {
        throw new DataError({ file, field: `${next.prefix.slice(0, 80)}…` },
          `a key path is longer than ${TORCH_LIMITS.maxNameLength} characters`);
      }
      const name = `${next.prefix}${part}`;
      if (v instanceof PyObject && v.kind === 'torch.Tensor') refs.set(name, (v as PyObject<TensorRef>).payload);
      else if (v instanceof PyDict && !seen.has(v) && seen.size < TORCH_LIMITS.maxDicts) {
        seen.add(v);
        later.push({ dict: v, prefix: `${name}.` });
      } else other.set(name, describe(v));
    }
    // Depth-first in key order, as a recursive walk would go.
    for (let i = later.length - 1; i >= 0; i--) todo.push(later[i]);
  }
}

/** A tensor's name for an error message (at most 200 characters). */
const shortName = (name: string): string => (name.length > 200 ? `${name.slice(0, 200)}…` : name);

/** One storage and the tensors that view it. */
interface StoragePlan {
  ref: StorageRef;
  entryName: string;
  /** The first tensor using it (named in errors). */
  user: string;
  /** Elements [lo, hi) decoded once and shared by its contiguous views. */
  lo: number;
  hi: number;
  /** Strided views, by their layout: each becomes one dense copy, shared by the tensors with that layout. */
  strided: Map<string, TensorRef>;
}

const isContiguous = (size: readonly number[], stride: readonly number[]): boolean => {
  let expect = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) return false;
    expect *= size[d];
  }
  return true;
};

/** Checks every tensor against its storage and groups them by storage, before any data is read. */
function planStorages(refs: Map<string, TensorRef>, prefix: string, file: string): Map<string, StoragePlan> {
  const plans = new Map<string, StoragePlan>();
  for (const [name, ref] of refs) {
    const { storage, offset, size, stride } = ref;
    const fail = (reason: string): never => { throw new DataError({ file, field: shortName(name) }, reason); };
    let plan = plans.get(storage.key);
    if (plan === undefined) {
      plan = { ref: storage, entryName: `${prefix}data/${storage.key}`, user: name, lo: Infinity, hi: 0, strided: new Map() };
      plans.set(storage.key, plan);
    } else if (plan.ref.dtype !== storage.dtype || plan.ref.numel !== storage.numel) {
      fail(`storage data/${storage.key} is declared as ${storage.numel} ${storage.dtype} elements here, `
        + `as ${plan.ref.numel} ${plan.ref.dtype} elements for "${shortName(plan.user)}"`);
    }
    let count = 1;
    let last = offset; // index of the last element
    for (let d = 0; d < size.length; d++) {
      count *= size[d];
      if (size[d] > 0) last += (size[d] - 1) * stride[d];
    }
    if (count === 0) continue;
    if (!Number.isSafeInteger(count) || count > storage.numel) {
      fail(`size [${size.join(', ')}] has ${count} elements, more than its storage's ${storage.numel}`);
    }
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      fail(`offset ${offset}, size [${size.join(', ')}], stride [${stride.join(', ')}] reach element ${last}, past the storage's ${storage.numel}`);
    }
    if (isContiguous(size, stride)) {
      plan.lo = Math.min(plan.lo, offset);
      plan.hi = Math.max(plan.hi, offset + count);
    } else {
      plan.strided.set(layoutKey(ref), ref);
    }
  }
  return plans;
}

const layoutKey = (ref: TensorRef): string => `${ref.offset}/${ref.size.join(',')}/${ref.stride.join(',')}`;

const elementCountOf = (size: readonly number[]): number => size.reduce((a, b) => a * b, 1);

/** The totals of a plan against TORCH_LIMITS.maxTensorBytes, before any data is read. */
function checkTotals(plans: Map<string, StoragePlan>, file: string): void {
  let stored = 0;
  let decoded = 0;
  for (const p of plans.values()) {
    if (p.hi > p.lo) decoded += 4 * (p.hi - p.lo);
    for (const ref of p.strided.values()) decoded += 4 * elementCountOf(ref.size);
    if (p.hi > p.lo || p.strided.size > 0) stored += p.ref.numel * p.ref.itemSize;
  }
  const cap = TORCH_LIMITS.maxTensorBytes;
  if (stored > cap) {
    throw new DataError({ file, field: 'storages' }, `the tensors' storages hold ${stored} bytes in all, more than the ${cap} accepted`);
  }
  if (decoded > cap) {
    throw new DataError({ file, field: 'tensors' }, `the tensors need ${decoded} bytes as float32 in all, more than the ${cap} accepted`);
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
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`, { maxSize: 16, what: 'byteorder' })).trim();
    if (order !== 'little') throw new DataError({ file, field: 'byteorder' }, `byte order "${order}" is not supported (only little-endian)`);
  }
  const pickle = zip.read(pkl[0].name, { maxSize: TORCH_LIMITS.maxPickleBytes, what: 'data.pkl' });
  const root = unpickle(pickle, { file: `${file} (${pkl[0].name})`, allowedGlobals: TORCH_ALLOWED_GLOBALS, persistentLoad: torchPersistentLoad });
  const dict = findStateDict(root, file);
  const refs = new Map<string, TensorRef>();
  const other = new Map<string, string>();
  collect(dict, file, refs, other);
  // Everything is checked before any storage is read: layouts against storage sizes, totals against the caps, and
  // each storage's zip entry against the size its tensors declare.
  const plans = planStorages(refs, prefix, file);
  for (const p of plans.values()) {
    const e = zip.entry(p.entryName);
    if (!e) throw new DataError({ file, field: shortName(p.user) }, `its storage ${p.entryName} is missing from the archive`);
    const need = p.ref.numel * p.ref.itemSize;
    if (e.size !== need) {
      throw new DataError({ file, field: `storage data/${p.ref.key}` }, `${p.ref.numel} ${p.ref.dtype} elements (${need} bytes) are `
        + `declared for "${shortName(p.user)}", but the zip entry ${p.entryName} holds ${e.size} bytes`);
    }
  }
  checkTotals(plans, file);
  // Each storage is read once; contiguous views share one decoded array, strided views get one dense copy per layout.
  const views = new Map<string, { base: Float32Array; lo: number; dense: Map<string, Float32Array> }>();
  for (const p of plans.values()) {
    if (p.hi <= p.lo && p.strided.size === 0) continue;
    const { data, owned } = zip.readEntry(p.entryName, { expectedSize: p.ref.numel * p.ref.itemSize, what: `storage data/${p.ref.key}` });
    const base = p.hi > p.lo ? decodeRange(p.ref.dtype, data, owned, p.lo, p.hi - p.lo) : new Float32Array(0);
    const dense = new Map<string, Float32Array>();
    const at = elementReader(p.ref.dtype, data);
    for (const [key, ref] of p.strided) dense.set(key, gather(ref, at));
    views.set(p.ref.key, { base, lo: p.lo, dense });
  }
  const tensors = new Map<string, TorchTensor>();
  for (const [name, ref] of refs) {
    const { storage, offset, size, stride } = ref;
    const count = elementCountOf(size);
    const v = views.get(storage.key);
    let data: Float32Array;
    if (count === 0 || v === undefined) data = new Float32Array(0);
    else if (isContiguous(size, stride)) data = v.base.subarray(offset - v.lo, offset - v.lo + count);
    else data = v.dense.get(layoutKey(ref)) as Float32Array;
    tensors.set(name, { dtype: storage.dtype, shape: size, data });
  }
  return { tensors, other, archive: prefix.replace(/\/$/, '') };
}

/** A strided view as a dense row-major array. */
function gather(ref: TensorRef, at: (i: number) => number): Float32Array {
  const { offset, size, stride } = ref;
  const count = elementCountOf(size);
  const out = new Float32Array(count);
  const idx = new Array<number>(size.length).fill(0);
  let p = offset;
  for (let i = 0; i < count; i++) {
    out[i] = at(p);
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) {
        p += stride[d];
        break;
      }
      p -= (size[d] - 1) * stride[d];
      idx[d] = 0;
    }
  }
  return out;
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
