/**
 * Builders of hostile reader inputs, made in memory by the tests (nothing binary is committed): pickles written
 * opcode by opcode, torch.save-like zips whose entries are stored or deflated with any declared size and CRC, and
 * deflate streams of many zeros built without allocating the zeros (a zip bomb of 1 GiB is about 1 MB).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { crc32 } from '../../../engine/interop/zip-entries';

const enc = new TextEncoder();

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Writes a protocol-2 pickle opcode by opcode (the opcodes torch.save emits). */
export class PickleWriter {
  private readonly parts: Uint8Array[] = [];

  raw(bytes: number[] | Uint8Array): this {
    this.parts.push(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
    return this;
  }

  /** One opcode byte, `n` times. */
  op(code: number, n = 1): this {
    return this.raw(new Uint8Array(n).fill(code));
  }

  proto(): this { return this.raw([0x80, 0x02]); }
  stop(): this { return this.op(0x2e); }
  mark(n = 1): this { return this.op(0x28, n); }
  emptyDict(n = 1): this { return this.op(0x7d, n); }
  emptyList(n = 1): this { return this.op(0x5d, n); }
  emptyTuple(): this { return this.op(0x29); }
  none(): this { return this.op(0x4e); }
  newFalse(): this { return this.op(0x89); }
  tuple(n = 1): this { return this.op(0x74, n); }
  tuple1(n = 1): this { return this.op(0x85, n); }
  tuple2(): this { return this.op(0x86); }
  list(n = 1): this { return this.op(0x6c, n); }
  setitem(n = 1): this { return this.op(0x73, n); }
  setitems(): this { return this.op(0x75); }
  append(n = 1): this { return this.op(0x61, n); }
  appends(): this { return this.op(0x65); }
  pop(): this { return this.op(0x30); }
  reduce(): this { return this.op(0x52); }
  build(): this { return this.op(0x62); }
  binpersid(): this { return this.op(0x51); }
  frozenset(n = 1): this { return this.op(0x91, n); }
  put(i: number): this { return this.raw([0x72, ...u32(i)]); }
  get(i: number): this { return this.raw([0x6a, ...u32(i)]); }

  global(module: string, name: string): this {
    return this.raw(enc.encode(`c${module}\n${name}\n`));
  }

  str(s: string): this {
    const b = enc.encode(s);
    return this.raw([0x58, ...u32(b.length)]).raw(b);
  }

  int(n: number): this {
    if (Number.isInteger(n) && n >= 0 && n < 256) return this.raw([0x4b, n]);
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) return this.raw([0x4a, ...u32(n)]);
    // LONG1: little-endian two's complement.
    let x = BigInt(n);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      if ((x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1] & 0x80) !== 0)) break;
    }
    return this.raw([0x8a, bytes.length, ...bytes]);
  }

  /** A tuple of small integers. */
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  /** Appends another writer's opcodes. */
  add(other: PickleWriter): this {
    return this.raw(other.bytes());
  }

  bytes(): Uint8Array {
    return concat(this.parts);
  }
}

export type StorageType = 'FloatStorage' | 'HalfStorage' | 'BFloat16Storage' | 'DoubleStorage' | 'LongStorage' | 'ByteStorage';

/** One tensor of a state dict: a view of storage `key` (numel elements of `type`). */
export interface TensorSpec {
  name: string;
  key: string;
  type?: StorageType;
  numel: number;
  offset?: number;
  size: readonly number[];
  /** Default: row-major contiguous. */
  stride?: readonly number[];
}

function contiguousStride(size: readonly number[]): number[] {
  const out = new Array<number>(size.length).fill(1);
  for (let d = size.length - 2; d >= 0; d--) out[d] = out[d + 1] * size[d + 1];
  return out;
}

/** The `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` call for one tensor (memo 0 = OrderedDict). */
export function tensorPickle(t: TensorSpec, parts: { size?: PickleWriter; offset?: PickleWriter; stride?: PickleWriter } = {}): PickleWriter {
  const w = new PickleWriter().global('torch._utils', '_rebuild_tensor_v2').mark()
    .mark().str('storage').global('torch', t.type ?? 'FloatStorage').str(t.key).str('cpu').int(t.numel).tuple().binpersid();
  if (parts.offset) w.add(parts.offset);
  else w.int(t.offset ?? 0);
  if (parts.size) w.add(parts.size);
  else w.ints(t.size);
  if (parts.stride) w.add(parts.stride);
  else w.ints(t.stride ?? contiguousStride(t.size));
  return w.newFalse().get(0).emptyTuple().reduce().tuple().reduce();
}

/** A state dict pickle: OrderedDict(name → tensor, …), the way torch.save writes one. */
export function stateDictPickle(tensors: readonly TensorSpec[]): Uint8Array {
  const w = new PickleWriter().proto().global('collections', 'OrderedDict').put(0).emptyTuple().reduce().put(1).mark();
  for (const t of tensors) w.str(t.name).add(tensorPickle(t));
  return w.setitems().stop().bytes();
}

/** A zip entry: stored `data`, or a raw `deflated` stream with a declared `size` (and `crc`, default 0). */
export interface ZipSpec {
  name: string;
  data?: Uint8Array;
  deflated?: Uint8Array;
  size?: number;
  crc?: number;
}

/** A zip archive of the given entries (sizes and CRCs as given: they may lie). */
export function zipOf(entries: readonly ZipSpec[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.deflated ?? e.data ?? new Uint8Array(0);
    const method = e.deflated ? 8 : 0;
    const size = e.size ?? body.length;
    const crc = e.crc ?? (e.deflated ? 0 : crc32(body));
    const header = (sig: number, len: number): DataView => {
      const v = new DataView(new ArrayBuffer(len));
      v.setUint32(0, sig, true);
      return v;
    };
    const lv = header(0x04034b50, 30);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    const local = concat([new Uint8Array(lv.buffer), name, body]);
    const cv = header(0x02014b50, 46);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    locals.push(local);
    centrals.push(concat([new Uint8Array(cv.buffer), name]));
    offset += local.length;
  }
  const cd = concat(centrals);
  const ev = new DataView(new ArrayBuffer(22));
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, cd, new Uint8Array(ev.buffer)]);
}

/** A torch.save-like zip: `archive/data.pkl`, `archive/byteorder` and the given storages `archive/data/<key>`. */
export function torchZip(pickle: Uint8Array, storages: readonly (Omit<ZipSpec, 'name'> & { key: string })[] = [], archive = 'archive'): Uint8Array {
  return zipOf([
    { name: `${archive}/data.pkl`, data: pickle },
    { name: `${archive}/byteorder`, data: enc.encode('little') },
    ...storages.map(({ key, ...rest }) => ({ name: `${archive}/data/${key}`, ...rest })),
  ]);
}

/**
 * A copy of a one-storage zip with a second central-directory entry, named `archive/data/1`, that points at the local
 * entry of `archive/data/0`: two storages sharing their bytes.
 */
export function withSharedDirectoryEntry(zip: Uint8Array): Uint8Array {
  const cdEntry = 46 + 'archive/data/0'.length;
  const extra = zip.slice(zip.length - 22 - cdEntry, zip.length - 22);
  extra.set(enc.encode('archive/data/1'), 46);
  const eocd = zip.slice(zip.length - 22);
  const ev = new DataView(eocd.buffer);
  ev.setUint16(8, 4, true);
  ev.setUint16(10, 4, true);
  ev.setUint32(12, ev.getUint32(12, true) + extra.length, true);
  return concat([zip.subarray(0, zip.length - 22), extra, eocd]);
}

let zeroChunk: Uint8Array | undefined;
const ZERO_CHUNK = 1 << 20;

/** A raw deflate stream that inflates to `n` zero bytes (`n` a multiple of 1 MiB), about n / 1000 bytes long. */
export function deflatedZeros(n: number): Uint8Array {
  if (n % ZERO_CHUNK !== 0) throw new RangeError('deflatedZeros: n must be a multiple of 1 MiB');
  zeroChunk ??= new Uint8Array(deflateRawSync(new Uint8Array(ZERO_CHUNK), { level: 9, finishFlush: constants.Z_SYNC_FLUSH }));
  const end = new Uint8Array(deflateRawSync(new Uint8Array(0)));
  const chunks = new Array<Uint8Array>(n / ZERO_CHUNK).fill(zeroChunk);
  return concat([...chunks, end]);
}

/** Float32 bytes of `values` (little-endian). */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Starts a new peak for peakRss() (Linux: /proc/self/clear_refs); returns the resident set now, in bytes. */
export function resetPeakRss(): number {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux, or not allowed: the peak then covers the whole process
  }
  return process.memoryUsage().rss;
}

/** The peak resident set of this process so far (VmHWM; the current RSS where /proc is missing), in bytes. */
export function peakRss(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}
