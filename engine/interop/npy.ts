/**
 * NumPy `.npy` files: read and write uint8 / int32 / int64 / float32 arrays in C order, format versions 1, 2 and 3.
 *
 * Layout: magic "\x93NUMPY", major and minor version bytes, header length (uint16 LE for v1, uint32 LE for v2/v3),
 * then an ASCII (v3: UTF-8) Python dict literal `{'descr': '<i4', 'fortran_order': False, 'shape': (3, 81), }`
 * padded with spaces and a final '\n' so that the data starts at a multiple of 64 bytes (older writers: 16).
 * Data: little-endian, C (row-major) order. Big-endian data, Fortran order and other dtypes are refused with a
 * DataError that says what was found and what is supported.
 *
 * Whole-array helpers (`parseNpy`, `encodeNpy`, `readNpy`, `writeNpy`) and a streaming row reader (`NpyFileReader`)
 * that never holds more than one chunk of rows in memory (for the reference builder's 1M-row training splits).
 */
import { promises as fs } from 'node:fs';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';

export type NpyDtype = 'uint8' | 'int32' | 'int64' | 'float32';

export interface NpyDataTypes {
  uint8: Uint8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  float32: Float32Array;
}

export type NpyData = NpyDataTypes[NpyDtype];

export interface NpyArray<D extends NpyDtype = NpyDtype> {
  dtype: D;
  /** Dimensions, outermost first; [] for a scalar. */
  shape: number[];
  /** The elements in C order; length = product of shape. */
  data: NpyDataTypes[D];
}

export interface NpyHeader {
  version: 1 | 2 | 3;
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
  /** Bytes per element. */
  itemSize: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<NpyDtype, string> = { uint8: '|u1', int32: '<i4', int64: '<i8', float32: '<f4' };
const ITEM_SIZE: Record<NpyDtype, number> = { uint8: 1, int32: 4, int64: 8, float32: 4 };
const DTYPE_OF_DESCR: Record<string, NpyDtype> = {
  '|u1': 'uint8', '<u1': 'uint8', 'u1': 'uint8', '=u1': 'uint8',
  '<i4': 'int32', '<i8': 'int64', '<f4': 'float32',
};

function fail(file: string, field: string, reason: string): never {
  throw new DataError({ file, field }, reason);
}

/** Bytes of the header dict: NumPy itself refuses more than 10,000 by default; a 64-dimension shape needs ~1,500. */
export const NPY_MAX_HEADER_BYTES = 1 << 20;
/** Dimensions of a shape (NumPy allows 64). */
export const NPY_MAX_DIMS = 64;

/** Header text for an error message: at most 120 characters. */
function excerpt(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 120 ? `${t.slice(0, 120)}…` : t);
}

/** Parse the header dict (already decoded to text). */
function parseHeaderDict(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  if (!descr) fail(file, 'header', `no 'descr' entry in the .npy header ${excerpt(text)}`);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortran) fail(file, 'header', `no 'fortran_order' entry in the .npy header ${excerpt(text)}`);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shape) fail(file, 'header', `no 'shape' tuple in the .npy header ${excerpt(text)}`);
  const parts = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length > NPY_MAX_DIMS) fail(file, 'shape', `${parts.length} dimensions, more than the ${NPY_MAX_DIMS} supported`);
  const dims = parts.map((s) => {
    const v = /^\d{1,16}L?$/.test(s) ? Number.parseInt(s, 10) : Number.NaN;
    if (!Number.isSafeInteger(v)) fail(file, 'shape', `bad dimension ${excerpt(s)} in shape (${excerpt(shape[1])})`);
    return v;
  });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: dims };
}

/** Parse the preamble and header from the first bytes of a file (at least the whole header must be present). */
export function parseNpyHeader(bytes: Uint8Array, file = '<npy>'): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail(file, 'magic', 'not a .npy file (missing the "\\x93NUMPY" magic string)');
  const major = bytes[6];
  if (major !== 1 && major !== 2 && major !== 3) fail(file, 'version', `unsupported .npy format version ${major}.${bytes[7]} (supported: 1.0, 2.0, 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail(file, 'header', 'file ends inside the .npy preamble');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLen > NPY_MAX_HEADER_BYTES) fail(file, 'header', `header of ${headerLen} bytes, more than the ${NPY_MAX_HEADER_BYTES} accepted`);
  const start = 8 + lenBytes;
  const dataOffset = start + headerLen;
  if (bytes.length < dataOffset) fail(file, 'header', `file ends inside the .npy header (needs ${dataOffset} bytes, has ${bytes.length})`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataOffset));
  const { descr, fortran, shape } = parseHeaderDict(text, file);
  const dtype = DTYPE_OF_DESCR[descr];
  if (dtype === undefined) {
    const hint = descr.startsWith('>') ? ' (big-endian data is not supported; save with a little-endian dtype)' : '';
    fail(file, 'descr', `unsupported dtype '${descr}'${hint}; supported: uint8 '|u1', int32 '<i4', int64 '<i8', float32 '<f4'`);
  }
  if (fortran) fail(file, 'fortran_order', 'Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray)');
  return { version: major, dtype, shape, dataOffset, itemSize: ITEM_SIZE[dtype] };
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A typed array over a fresh, aligned copy of `bytes` (which must hold exactly count elements). */
function typedCopy(dtype: NpyDtype, bytes: Uint8Array): NpyData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  switch (dtype) {
    case 'uint8': return copy;
    case 'int32': return new Int32Array(copy.buffer);
    case 'int64': return new BigInt64Array(copy.buffer);
    case 'float32': return new Float32Array(copy.buffer);
  }
}

/** Decode a whole .npy file held in memory. */
export function parseNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  const h = parseNpyHeader(bytes, file);
  const count = elementCount(h.shape);
  const need = h.dataOffset + count * h.itemSize;
  if (bytes.length < need) fail(file, 'data', `truncated: shape (${h.shape.join(', ')}) needs ${count * h.itemSize} data bytes, file has ${bytes.length - h.dataOffset}`);
  if (bytes.length > need) fail(file, 'data', `${bytes.length - need} unexpected bytes after the data for shape (${h.shape.join(', ')})`);
  return { dtype: h.dtype, shape: h.shape, data: typedCopy(h.dtype, bytes.subarray(h.dataOffset, need)) };
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'float32';
}

/** The header bytes (preamble + padded dict) for an array; v1 unless the dict is too long for a uint16 length. */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const v1Total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const version = v1Total - 10 > 0xffff ? 2 : 1;
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  const headerLen = total - pre;
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const text = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

/** Encode an array as .npy bytes (C order, little-endian). */
export function encodeNpy(arr: { shape: readonly number[]; data: NpyData }): Uint8Array {
  const dtype = dtypeOf(arr.data);
  const count = elementCount(arr.shape);
  if (count !== arr.data.length) throw new RangeError(`encodeNpy: shape (${arr.shape.join(', ')}) has ${count} elements, data has ${arr.data.length}`);
  if (arr.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new RangeError(`encodeNpy: bad shape (${arr.shape.join(', ')})`);
  const header = encodeNpyHeader(dtype, arr.shape);
  const body = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** Read a whole .npy file. */
export async function readNpy(file: string): Promise<NpyArray> {
  return parseNpy(new Uint8Array(await fs.readFile(file)), file);
}

/** Write a .npy file atomically (temp file + rename). */
export async function writeNpy(file: string, arr: { shape: readonly number[]; data: NpyData }): Promise<void> {
  await writeFileAtomic(file, encodeNpy(arr));
}

/** Elements as plain numbers (int64 values beyond 2^53 lose precision). */
export function toNumbers(data: NpyData): Uint8Array | Int32Array | Float32Array | Float64Array {
  if (data instanceof BigInt64Array) return Float64Array.from(data, (v) => Number(v));
  return data;
}

/**
 * Streaming access to the rows (first axis) of a .npy file: open reads only the header; `rows()` reads
 * `chunkRows` rows at a time. Close it when done (or iterate `rows()` to the end, which does not close).
 */
export class NpyFileReader {
  private constructor(readonly file: string, readonly header: NpyHeader, private readonly handle: fs.FileHandle,
    /** Rows (first dimension; 1 for a scalar). */
    readonly rowCount: number,
    /** Elements per row (product of the other dimensions). */
    readonly rowSize: number) {}

  static async open(file: string): Promise<NpyFileReader> {
    const handle = await fs.open(file, 'r');
    try {
      const stat = await handle.stat();
      const probe = new Uint8Array(Math.min(stat.size, 12));
      await handle.read(probe, 0, probe.length, 0);
      let header: NpyHeader;
      if (probe.length >= 12 && MAGIC.every((b, i) => probe[i] === b)) {
        const view = new DataView(probe.buffer);
        const len = probe[6] === 1 ? view.getUint16(8, true) + 10 : view.getUint32(8, true) + 12;
        if (len > NPY_MAX_HEADER_BYTES + 12) fail(file, 'header', `header of ${len} bytes, more than the ${NPY_MAX_HEADER_BYTES} accepted`);
        const headBytes = new Uint8Array(Math.min(stat.size, len));
        await handle.read(headBytes, 0, headBytes.length, 0);
        header = parseNpyHeader(headBytes, file);
      } else {
        header = parseNpyHeader(probe, file);
      }
      const rowCount = header.shape.length === 0 ? 1 : header.shape[0];
      const rowSize = elementCount(header.shape.slice(1));
      if (rowSize === 0 && rowCount > 0) fail(file, 'shape', `shape (${header.shape.join(', ')}) has rows of no elements`);
      const need = header.dataOffset + rowCount * rowSize * header.itemSize;
      if (stat.size < need) fail(file, 'data', `truncated: shape (${header.shape.join(', ')}) needs ${need - header.dataOffset} data bytes, file has ${stat.size - header.dataOffset}`);
      if (stat.size > need) fail(file, 'data', `${stat.size - need} unexpected bytes after the data for shape (${header.shape.join(', ')})`);
      return new NpyFileReader(file, header, handle, rowCount, rowSize);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Read rows [start, start + count) as one typed array (count * rowSize elements). */
  async readRows(start: number, count: number): Promise<NpyData> {
    if (!(start >= 0 && count >= 0 && start + count <= this.rowCount)) {
      throw new RangeError(`NpyFileReader.readRows: rows [${start}, ${start + count}) outside 0..${this.rowCount}`);
    }
    const rowBytes = this.rowSize * this.header.itemSize;
    const bytes = new Uint8Array(count * rowBytes);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, this.header.dataOffset + start * rowBytes + done);
      if (bytesRead === 0) fail(this.file, 'data', 'file ended early');
      done += bytesRead;
    }
    return typedCopyNoDup(this.header.dtype, bytes);
  }

  /** Chunks of up to `chunkRows` rows, in order: { start, count, data }. */
  async *rows(chunkRows = 4096): AsyncGenerator<{ start: number; count: number; data: NpyData }> {
    for (let start = 0; start < this.rowCount; start += chunkRows) {
      const count = Math.min(chunkRows, this.rowCount - start);
      yield { start, count, data: await this.readRows(start, count) };
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Like typedCopy but takes ownership of a freshly allocated, aligned buffer. */
function typedCopyNoDup(dtype: NpyDtype, bytes: Uint8Array): NpyData {
  switch (dtype) {
    case 'uint8': return bytes;
    case 'int32': return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    case 'int64': return new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
    case 'float32': return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  }
}
