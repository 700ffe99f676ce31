/**
 * A small, strict reader of zip archives held in memory (PKWARE APPNOTE: end of central directory, zip64 end record
 * and locator, central directory, local headers). Enough for `torch.save` files, which store their entries
 * uncompressed (and pad local headers with an extra field so that data is 64-byte aligned); deflated entries are
 * inflated too, with the output capped at the size the central directory declares.
 *
 * Every offset and length is checked against the buffer before it is used; CRC-32 is verified. Zip bombs are refused
 * before anything is inflated: the archive may hold at most ZIP_LIMITS.maxEntries entries and a central directory of
 * at most ZIP_LIMITS.maxCentralDirectoryBytes; entries may not overlap (so stored data is never counted twice); a
 * deflated entry inflates to at most the size the central directory declares (inflation stops there), and all the
 * deflated entries read from one archive together to at most ZIP_LIMITS.inflateRatio times the archive's size (or
 * ZIP_LIMITS.minInflateBudget, whichever is larger); callers also pass the size they expect or accept per entry.
 * Failures are DataErrors naming the file and the entry.
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

/** Bounds on what an archive may hold and expand to. */
export const ZIP_LIMITS = {
  /** Entries in the central directory (a torch.save file has one per storage, plus a few). */
  maxEntries: 100_000,
  /** Bytes of the central directory. */
  maxCentralDirectoryBytes: 64 * 2 ** 20,
  /** Deflated entries may inflate, in all, to this many times the archive's size… */
  inflateRatio: 16,
  /** …or to this many bytes, whichever is larger. */
  minInflateBudget: 64 * 2 ** 20,
} as const;

export interface ReadOptions {
  /** The exact size the caller expects (checked against the directory before anything is read or inflated). */
  expectedSize?: number;
  /** The most bytes the caller accepts (checked the same way). */
  maxSize?: number;
  /** Names the entry in errors (default: its name). */
  what?: string;
}

/** An entry's bytes; `owned` when they are a fresh buffer (inflated), not a view into the archive. */
export interface EntryData {
  data: Uint8Array;
  owned: boolean;
}

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
  private readonly dataStart = new Map<ZipEntry, number>();
  /** Bytes that deflated entries may still inflate to. */
  private inflateBudget: number;

  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.inflateBudget = Math.max(ZIP_LIMITS.minInflateBudget, ZIP_LIMITS.inflateRatio * bytes.length);
    this.entries = this.readCentralDirectory();
    this.byName = new Map();
    for (const e of this.entries) {
      if (this.byName.has(e.name)) this.fail(e.name, 'the archive has two entries of this name');
      this.byName.set(e.name, e);
    }
    this.checkLayout();
  }

  /** Local headers present and entries' data disjoint: no byte of the archive belongs to two entries. */
  private checkLayout(): void {
    const spans: { start: number; end: number; name: string }[] = [];
    for (const e of this.entries) {
      const p = e.localHeaderOffset;
      this.inBounds(p, 30, e.name, 'the local header');
      if (this.u32(p) !== SIG_LOCAL) this.fail(e.name, 'bad local-header signature');
      const start = p + 30 + this.u16(p + 26) + this.u16(p + 28);
      this.inBounds(start, e.compressedSize, e.name, 'the entry data');
      this.dataStart.set(e, start);
      spans.push({ start: p, end: start + e.compressedSize, name: e.name });
    }
    spans.sort((a, b) => a.start - b.start);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i].start < spans[i - 1].end) {
        this.fail(spans[i].name, `its data overlaps that of "${excerpt(spans[i - 1].name)}" (bytes ${spans[i].start}…${spans[i - 1].end - 1}): `
          + 'entries sharing bytes are a zip-bomb pattern, not a checkpoint');
      }
    }
  }

  private fail(field: string, reason: string): never {
    throw new DataError({ file: this.file, field: excerpt(field) }, reason);
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
    if (count > ZIP_LIMITS.maxEntries) this.fail('central directory', `${count} entries, more than the ${ZIP_LIMITS.maxEntries} accepted`);
    if (cdSize > ZIP_LIMITS.maxCentralDirectoryBytes) {
      this.fail('central directory', `${cdSize} bytes, more than the ${ZIP_LIMITS.maxCentralDirectoryBytes} accepted`);
    }
    if (count * 46 > cdSize) this.fail('central directory', `${count} entries cannot fit in ${cdSize} bytes`);
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
  read(name: string, options: ReadOptions = {}): Uint8Array {
    return this.readEntry(name, options).data;
  }

  /**
   * The bytes of one entry, CRC-checked, with whether they are a fresh buffer. Sizes are checked against the
   * caller's expectation and the inflation budget before anything is inflated; inflation stops at the declared size.
   */
  readEntry(name: string, options: ReadOptions = {}): EntryData {
    const e = this.byName.get(name);
    if (!e) return this.fail(name, 'no such entry in the archive');
    const what = options.what ?? name;
    const shown = excerpt(name);
    if (options.expectedSize !== undefined && e.size !== options.expectedSize) {
      this.fail(what, `the zip entry ${shown} holds ${e.size} bytes, ${options.expectedSize} expected`);
    }
    if (options.maxSize !== undefined && e.size > options.maxSize) {
      this.fail(what, `the zip entry ${shown} holds ${e.size} bytes, more than the ${options.maxSize} accepted`);
    }
    const start = this.dataStart.get(e) as number;
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    let owned = false;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) this.fail(what, `stored entry ${shown}: compressed size ${e.compressedSize} != size ${e.size}`);
      data = raw;
    } else if (e.method === 8) {
      if (e.size > this.inflateBudget) {
        this.fail(what, `the zip entry ${shown} would inflate ${e.compressedSize} bytes to ${e.size}, more than the `
          + `${this.inflateBudget} bytes this ${this.bytes.length}-byte archive may still inflate to `
          + `(at most ${ZIP_LIMITS.inflateRatio}× its size or ${ZIP_LIMITS.minInflateBudget} bytes in all): a zip bomb, not a checkpoint`);
      }
      this.inflateBudget -= e.size;
      try {
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) }));
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
          return this.fail(what, `the zip entry ${shown} inflates to more than the ${e.size} bytes the central directory declares`);
        }
        return this.fail(what, `cannot inflate the zip entry ${shown}: ${excerpt((err as Error).message)}`);
      }
      if (data.length !== e.size) this.fail(what, `the zip entry ${shown} inflated to ${data.length} bytes, the central directory says ${e.size}`);
      owned = true;
    } else {
      return this.fail(what, `the zip entry ${shown} uses compression method ${e.method}, which is not supported (only stored and deflate)`);
    }
    const c = crc32(data);
    if (c !== e.crc32) this.fail(what, `the zip entry ${shown} has a CRC-32 mismatch (0x${c.toString(16)} != 0x${e.crc32.toString(16)}): the file is corrupt`);
    return { data, owned };
  }
}

/** A name for an error message, at most 200 characters. */
function excerpt(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
