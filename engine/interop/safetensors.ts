/**
 * safetensors files, read and written by hand from the public format
 * (https://github.com/huggingface/safetensors, "Format"):
 *
 *   [8 bytes]  N = header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON object: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *              "__metadata__": { "<key>": "<string value>", … } }   (padded with spaces; we pad to 8-byte alignment)
 *   [rest]     the byte buffer; offsets are relative to its start; little-endian, C (row-major) order.
 *
 * Read: F32, F16, BF16 (F16/BF16 converted to float32), I32, I64 (as float64 numbers when every value is a safe
 * integer, else as a BigInt64Array), U8, I8. Every field is validated (header length against the file size, JSON
 * shape, duplicate names, offsets inside the buffer and not overlapping, byte count = product(shape)·dtype size), and
 * every failure is a DataError that names the file and the tensor: garbage never crashes or hangs the reader.
 * Write: tensors sorted by name, F32 by default (F16/BF16 from float32 with round-to-nearest-even on request).
 */
import { promises as fs } from 'node:fs';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'U8' | 'I8';

/** What a read tensor holds: float32 for F32/F16/BF16; int32, uint8, int8; int64 as numbers (or bigints). */
export type SafeTensorData = Float32Array | Int32Array | Uint8Array | Int8Array | Float64Array | BigInt64Array;

export interface SafeTensor {
  /** The dtype in the file (F16/BF16 data has been converted to float32). */
  dtype: SafeDtype;
  shape: number[];
  data: SafeTensorData;
}

/** A tensor to write. `dtype` defaults from the data: Float32Array → F32, Int32Array → I32, … */
export interface SafeTensorInput {
  shape: readonly number[];
  data: Float32Array | Int32Array | Uint8Array | Int8Array | BigInt64Array;
  /** F16 / BF16 need Float32Array data (converted, round-to-nearest-even); otherwise must match the data. */
  dtype?: SafeDtype;
}

export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const DTYPE_SIZE: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, U8: 1, I8: 1 };
/** The reference implementation refuses headers over 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;
const MAX_JSON_DEPTH = 32;

function isDtype(s: unknown): s is SafeDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

function fail(file: string, field: string, reason: string): never {
  throw new DataError({ file, field: field.length > 200 ? `${field.slice(0, 200)}…` : field }, reason);
}

/** A JSON value for an error message, at most about 100 characters, without serialising large values. */
function brief(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    const simple = v.length <= 8 && v.every((x) => x === null || typeof x !== 'object');
    return simple ? `[${v.map(brief).join(', ')}]` : `an array of ${v.length} items`;
  }
  return 'an object';
}

// ---------------------------------------------------------------------------------------------------------------
// A small strict JSON parser: JSON.parse silently keeps the last of duplicate keys; the format forbids duplicates.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class StrictJson {
  private i = 0;
  constructor(private readonly s: string, private readonly file: string) {}

  parse(): Json {
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.err(`unexpected ${JSON.stringify(this.s[this.i])} after the JSON value`);
    return v;
  }

  private err(reason: string): never {
    fail(this.file, 'header', `invalid JSON header at character ${this.i}: ${reason}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) this.err(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === undefined) this.err('unexpected end of text');
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(this.s.slice(this.i, this.i + 512));
    if (!lit) this.err(`unexpected ${JSON.stringify(c)}`);
    this.i += lit[0].length;
    return JSON.parse(lit[0]) as Json;
  }

  private string(): string {
    const start = this.i;
    const s = this.s;
    this.i++;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        try {
          return JSON.parse(s.slice(start, this.i)) as string;
        } catch {
          this.i = start;
          this.err('bad string literal');
        }
      }
      if (c === 0x5c) this.i += 2;
      else if (c < 0x20) this.err('control character inside a string');
      else this.i++;
    }
    this.i = start;
    return this.err('unterminated string');
  }

  private array(depth: number): Json[] {
    this.i++;
    const out: Json[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.err("expected ',' or ']' in an array");
      }
    }
  }

  private object(depth: number): { [k: string]: Json } {
    this.i++;
    const out: { [k: string]: Json } = Object.create(null) as { [k: string]: Json };
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.err('expected a string key');
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        fail(this.file, key, `duplicate name ${brief(key)} in the JSON header`);
      }
      this.ws();
      if (this.s[this.i++] !== ':') {
        this.i--;
        this.err("expected ':' after a key");
      }
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.err("expected ',' or '}' in an object");
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Half-precision conversions.

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 binary16 bits → number. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → binary16 bits, round to nearest even; overflow gives ±Infinity. */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // rounds to ±0
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) === 1)) half++;
    return sign | half;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: still correct
  return h;
}

let f16Lookup: Float32Array | undefined;
function f16Table(): Float32Array {
  if (f16Lookup === undefined) {
    f16Lookup = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) f16Lookup[h] = f16ToF32(h);
  }
  return f16Lookup;
}

/** bfloat16 bits → number. */
export function bf16ToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0];
}

/** number → bfloat16 bits, round to nearest even (NaN stays NaN). */
export function f32ToBf16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading.

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function decodeData(dtype: SafeDtype, bytes: Uint8Array, count: number): SafeTensorData {
  const copy = bytes.slice(); // aligned, owned
  const view = new DataView(copy.buffer);
  switch (dtype) {
    case 'F32': return new Float32Array(copy.buffer, 0, count);
    case 'I32': return new Int32Array(copy.buffer, 0, count);
    case 'U8': return copy;
    case 'I8': return new Int8Array(copy.buffer, 0, count);
    case 'F16': {
      const table = f16Table();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64': {
      const big = new BigInt64Array(copy.buffer, 0, count);
      const nums = new Float64Array(count);
      const max = BigInt(Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < count; i++) {
        const v = big[i];
        if (v > max || v < -max) return big;
        nums[i] = Number(v);
      }
      return nums;
    }
  }
}

interface Entry { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }

/** Parse the JSON header and validate every entry against the buffer size. */
function parseHeader(text: string, bufferLength: number, file: string): { entries: Entry[]; metadata: Record<string, string> } {
  const root = new StrictJson(text, file).parse();
  if (root === null || typeof root !== 'object' || Array.isArray(root)) fail(file, 'header', 'the JSON header is not an object');
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(root)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, name, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') fail(file, `__metadata__.${k}`, `metadata values must be strings, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, name, 'tensor entry must be an object {dtype, shape, data_offsets}');
    const { dtype, shape, data_offsets: offsets } = raw;
    if (!isDtype(dtype)) {
      fail(file, name, `unsupported dtype ${brief(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      fail(file, name, `shape must be an array of non-negative integers, got ${brief(shape)}`);
    }
    const dims = shape as number[];
    if (!Array.isArray(offsets) || offsets.length !== 2
      || offsets.some((o) => typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)) {
      fail(file, name, `data_offsets must be [begin, end] with non-negative integers, got ${brief(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end) fail(file, name, `data_offsets [${begin}, ${end}]: begin is after end`);
    if (end > bufferLength) fail(file, name, `data_offsets [${begin}, ${end}] run past the end of the ${bufferLength}-byte data buffer`);
    const count = elementCount(dims);
    const bytes = count * DTYPE_SIZE[dtype];
    if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
      fail(file, name, `shape [${dims.join(', ')}] of ${dtype} needs ${bytes} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    entries.push({ name, dtype, shape: dims, begin, end });
  }
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      fail(file, cur.name, `data_offsets [${cur.begin}, ${cur.end}] overlap those of "${prev.name}" [${prev.begin}, ${prev.end}]`);
    }
  }
  return { entries, metadata };
}

/** Decode a whole safetensors file held in memory. `file` only names the source in errors. */
export function parseSafetensors(bytes: Uint8Array, file = '<safetensors>'): SafeTensorsFile {
  if (bytes.length < 8) fail(file, 'header', `too short for a safetensors file (${bytes.length} bytes; the header length alone takes 8)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > bytes.length - 8) {
    fail(file, 'header', `header length ${headerLen} is larger than the rest of the file (${bytes.length - 8} bytes): truncated or not a safetensors file`);
  }
  if (headerLen > MAX_HEADER_BYTES) fail(file, 'header', `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerLen < 2) fail(file, 'header', `header length ${headerLen} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    fail(file, 'header', 'the JSON header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(file, 'header', 'the JSON header does not start with "{"');
  const bufferStart = 8 + headerLen;
  const bufferLength = bytes.length - bufferStart;
  const { entries, metadata } = parseHeader(text, bufferLength, file);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const count = elementCount(e.shape);
    const data = decodeData(e.dtype, bytes.subarray(bufferStart + e.begin, bufferStart + e.end), count);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Read a safetensors file from a path, or decode bytes already in memory. */
export async function readSafetensors(source: string | Uint8Array, name?: string): Promise<SafeTensorsFile> {
  if (typeof source !== 'string') return parseSafetensors(source, name);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(source));
  } catch (err) {
    fail(source, 'file', `cannot read: ${(err as Error).message}`);
  }
  return parseSafetensors(bytes, name ?? source);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

function defaultDtype(data: SafeTensorInput['data']): SafeDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Int8Array) return 'I8';
  return 'I64';
}

function encodeData(name: string, t: SafeTensorInput, dtype: SafeDtype): Uint8Array {
  const d = t.data;
  const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const bad = (what: string): TypeError => new TypeError(`safetensors: tensor "${name}": dtype ${dtype} needs ${what} data`);
  switch (dtype) {
    case 'F32': if (!(d instanceof Float32Array)) throw bad('Float32Array'); return bytesOf(d);
    case 'I32': if (!(d instanceof Int32Array)) throw bad('Int32Array'); return bytesOf(d);
    case 'U8': if (!(d instanceof Uint8Array)) throw bad('Uint8Array'); return bytesOf(d);
    case 'I8': if (!(d instanceof Int8Array)) throw bad('Int8Array'); return bytesOf(d);
    case 'I64': if (!(d instanceof BigInt64Array)) throw bad('BigInt64Array'); return bytesOf(d);
    case 'F16':
    case 'BF16': {
      if (!(d instanceof Float32Array)) throw bad('Float32Array');
      const out = new Uint8Array(d.length * 2);
      const view = new DataView(out.buffer);
      const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < d.length; i++) view.setUint16(2 * i, conv(d[i]), true);
      return out;
    }
  }
}

function isMap<K, V>(x: ReadonlyMap<K, V> | object): x is ReadonlyMap<K, V> {
  return x instanceof Map;
}

/** Encode tensors (sorted by name) and string metadata as safetensors bytes. */
export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensorInput> | Record<string, SafeTensorInput>,
  metadata: Record<string, string> = {}): Uint8Array {
  const list: [string, SafeTensorInput][] = isMap(tensors) ? [...tensors.entries()] : Object.entries(tensors);
  const entries = list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`safetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new TypeError('safetensors: "__metadata__" is not a valid tensor name');
    if (t.shape.some((s) => !Number.isSafeInteger(s) || s < 0)) throw new RangeError(`safetensors: tensor "${name}": bad shape [${t.shape.join(', ')}]`);
    const count = elementCount(t.shape);
    if (count !== t.data.length) {
      throw new RangeError(`safetensors: tensor "${name}": shape [${t.shape.join(', ')}] has ${count} elements, data has ${t.data.length}`);
    }
    const dtype = t.dtype ?? defaultDtype(t.data);
    const body = encodeData(name, t, dtype);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + body.length] };
    bodies.push(body);
    offset += body.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const b of bodies) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

/** Write a safetensors file atomically (temp file + rename). */
export async function writeSafetensors(file: string, tensors: ReadonlyMap<string, SafeTensorInput> | Record<string, SafeTensorInput>,
  metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** Float32 view of a read tensor, for F32/F16/BF16 entries; a DataError naming the tensor otherwise. */
export function asFloat32(t: SafeTensor, name: string, file = '<safetensors>'): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  return fail(file, name, `expected a float tensor (F32, F16 or BF16), found ${t.dtype}`);
}
