/**
 * A small, strict reader of zip archives held in memory (PKWARE APPNOTE: end of central directory, zip64 end record
 * and locator, central directory, local headers). Enough for `torch.save` files, which store their entries
 * uncompressed (and pad local headers with an extra field so that data is 64-byte aligned); deflated entries are
 * inflated too, with the output capped at the size the central directory declares.
 *
 * Every offset and length is checked against the buffer before it is used; CRC-32 is verified. Failures are
 * DataErrors naming the file and the entry.
 */
import { inflateRawSync } from 'node:zlib';
import { DataError } from '../util/errors';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** More entries than this is not a checkpoint. */
const MAX_ENTRIES = 1_000_000;

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3), as zip uses it. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipArchive {
  readonly entries: ZipEntry[];
  private readonly byName: Map<string, ZipEntry>;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readCentralDirectory();
    this.byName = new Map();
    for (const e of this.entries) {
      if (this.byName.has(e.name)) this.fail(e.name, 'the archive has two entries of this name');
      this.byName.set(e.name, e);
    }
  }

  private fail(field: string, reason: string): never {
    throw new DataError({ file: this.file, field }, reason);
  }

  private u16(p: number): number { return this.view.getUint16(p, true); }
  private u32(p: number): number { return this.view.getUint32(p, true); }
  private u64(p: number, field: string): number {
    const lo = this.u32(p);
    const hi = this.u32(p + 4);
    if (hi > 0x1fffff) this.fail(field, 'a zip64 size or offset does not fit in 53 bits');
    return hi * 2 ** 32 + lo;
  }

  private inBounds(p: number, n: number, field: string, what: string): void {
    if (!(p >= 0 && n >= 0 && p + n <= this.bytes.length)) {
      this.fail(field, `${what} (${n} bytes at offset ${p}) lies outside the ${this.bytes.length}-byte file: truncated or not a zip archive`);
    }
  }

  private findEocd(): number {
    const b = this.bytes;
    if (b.length < 22) this.fail('zip', `too short for a zip archive (${b.length} bytes)`);
    const stop = Math.max(0, b.length - 22 - 0xffff);
    for (let p = b.length - 22; p >= stop; p--) {
      if (b[p] === 0x50 && b[p + 1] === 0x4b && this.u32(p) === SIG_EOCD) return p;
    }
    return this.fail('zip', 'no end-of-central-directory record: not a zip archive (or truncated)');
  }

  private readCentralDirectory(): ZipEntry[] {
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_ZIP64_LOCATOR) this.fail('zip64', 'zip64 sizes are flagged but the zip64 locator is missing');
      const recOffset = this.u64(loc + 8, 'zip64');
      this.inBounds(recOffset, 56, 'zip64', 'the zip64 end record');
      if (this.u32(recOffset) !== SIG_ZIP64_EOCD) this.fail('zip64', 'bad zip64 end-record signature');
      count = this.u64(recOffset + 32, 'zip64');
      cdSize = this.u64(recOffset + 40, 'zip64');
      cdOffset = this.u64(recOffset + 48, 'zip64');
    }
    this.inBounds(cdOffset, cdSize, 'central directory', 'the central directory');
    if (count > MAX_ENTRIES || count * 46 > cdSize) this.fail('central directory', `${count} entries cannot fit in ${cdSize} bytes`);
    const entries: ZipEntry[] = [];
    let p = cdOffset;
    const end = cdOffset + cdSize;
    for (let i = 0; i < count; i++) {
      const field = `central directory entry ${i}`;
      this.inBounds(p, 46, field, 'the entry header');
      if (p + 46 > end || this.u32(p) !== SIG_CENTRAL) this.fail(field, 'bad central-directory signature');
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      this.inBounds(p + 46, nameLen + extraLen + commentLen, field, 'the entry name, extra field and comment');
      if (p + 46 + nameLen + extraLen + commentLen > end) this.fail(field, 'entry runs past the central directory');
      if (flags & 0x1) this.fail(field, 'encrypted entries are not supported');
      const nameBytes = this.bytes.subarray(p + 46, p + 46 + nameLen);
      let name: string;
      try {
        name = new TextDecoder('utf-8', { fatal: true }).decode(nameBytes);
      } catch {
        return this.fail(field, 'entry name is not valid UTF-8');
      }
      // zip64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in this order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      while (x + 4 <= xEnd) {
        const id = this.u16(x);
        const len = this.u16(x + 2);
        if (x + 4 + len > xEnd) this.fail(name, 'extra field runs past its end');
        if (id === 0x0001) {
          let q = x + 4;
          const take = (): number => {
            if (q + 8 > x + 4 + len) this.fail(name, 'zip64 extra field too short');
            const v = this.u64(q, name);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        x += 4 + len;
      }
      entries.push({ name, method, compressedSize, size, crc32: crc, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The bytes of one entry (a view into the archive for stored entries), CRC-checked. */
  read(name: string): Uint8Array {
    const e = this.byName.get(name);
    if (!e) return this.fail(name, 'no such entry in the archive');
    const p = e.localHeaderOffset;
    this.inBounds(p, 30, name, 'the local header');
    if (this.u32(p) !== SIG_LOCAL) this.fail(name, 'bad local-header signature');
    const start = p + 30 + this.u16(p + 26) + this.u16(p + 28);
    this.inBounds(start, e.compressedSize, name, 'the entry data');
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) this.fail(name, `stored entry: compressed size ${e.compressedSize} != size ${e.size}`);
      data = raw;
    } else if (e.method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) }));
      } catch (err) {
        return this.fail(name, `cannot inflate: ${(err as Error).message}`);
      }
      if (data.length !== e.size) this.fail(name, `inflated to ${data.length} bytes, the directory says ${e.size}`);
    } else {
      return this.fail(name, `compression method ${e.method} is not supported (only stored and deflate)`);
    }
    const c = crc32(data);
    if (c !== e.crc32) this.fail(name, `CRC-32 mismatch (0x${c.toString(16)} != 0x${e.crc32.toString(16)}): the file is corrupt`);
    return data;
  }
}
