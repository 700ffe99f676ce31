/**
 * A writer of stored (uncompressed) zip archives, the layout `torch.save` writes and zip-entries.ts reads: local
 * header + data per entry, then the central directory and the end record. As PyTorch's own writer does, each entry's
 * data starts on a 64-byte boundary (ZIP_WRITE_ALIGNMENT): the local header carries an extra field with the id "FB"
 * filled with 'Z' bytes to get there, so the storages can be memory-mapped. Dates are fixed (the earliest MS-DOS date, at midnight), so
 * the same entries always give the same bytes.
 *
 * No zip64: an archive of ZIP_WRITE_LIMITS.maxBytes or more, or with more than ZIP_WRITE_LIMITS.maxEntries entries,
 * is a RangeError (callers turn it into an error naming their output file).
 */
import { crc32 } from './zip-entries';

export interface ZipWriteEntry {
  /** Path inside the archive (ASCII, '/'-separated). */
  name: string;
  data: Uint8Array;
}

/** Data alignment of every entry (PyTorch's kFieldAlignment). */
export const ZIP_WRITE_ALIGNMENT = 64;

/** What a plain (non-zip64) archive can hold. */
export const ZIP_WRITE_LIMITS = {
  /** Bytes of the whole archive: offsets and sizes are 32-bit. */
  maxBytes: 0xffffffff,
  /** Entries: the end record counts them in 16 bits. */
  maxEntries: 0xffff,
} as const;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
/** The earliest date a zip can hold, in MS-DOS date format (year 0 = 1980, month 1, day 1); the time is midnight. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const PAD_FIELD_ID = 0x4246; // "FB" little-endian
const PAD_BYTE = 0x5a; // 'Z'
const VERSION = 20;

/** Bytes of extra field that put the data of a local header at `offset` (name of `nameLength` bytes) on the boundary. */
function paddingFor(offset: number, nameLength: number): number {
  const start = offset + 30 + nameLength + 4; // data start with an empty "FB" field
  return 4 + ((ZIP_WRITE_ALIGNMENT - (start % ZIP_WRITE_ALIGNMENT)) % ZIP_WRITE_ALIGNMENT);
}

/** The archive's bytes. Throws RangeError when the archive would need zip64, TypeError for a non-ASCII name. */
export function encodeStoredZip(entries: readonly ZipWriteEntry[]): Uint8Array {
  if (entries.length > ZIP_WRITE_LIMITS.maxEntries) {
    throw new RangeError(`${entries.length} entries: more than the ${ZIP_WRITE_LIMITS.maxEntries} a zip without zip64 holds`);
  }
  const enc = new TextEncoder();
  const plan: { name: Uint8Array; data: Uint8Array; crc: number; offset: number; extra: number }[] = [];
  let offset = 0;
  for (const e of entries) {
    if (!/^[\x20-\x7e]+$/.test(e.name)) throw new TypeError(`zip entry name must be printable ASCII: ${JSON.stringify(e.name)}`);
    const name = enc.encode(e.name);
    const extra = paddingFor(offset, name.length);
    plan.push({ name, data: e.data, crc: crc32(e.data), offset, extra });
    offset += 30 + name.length + extra + e.data.length;
  }
  const centralSize = plan.reduce((a, p) => a + 46 + p.name.length, 0);
  const total = offset + centralSize + 22;
  if (total > ZIP_WRITE_LIMITS.maxBytes) {
    throw new RangeError(`the archive would be ${total} bytes: ${ZIP_WRITE_LIMITS.maxBytes} or more needs zip64, which is not written`);
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  for (const p of plan) {
    let at = p.offset;
    v.setUint32(at, SIG_LOCAL, true);
    v.setUint16(at + 4, VERSION, true);
    v.setUint16(at + 6, 0, true); // flags
    v.setUint16(at + 8, 0, true); // stored
    v.setUint16(at + 10, 0, true); // time
    v.setUint16(at + 12, DOS_DATE, true);
    v.setUint32(at + 14, p.crc, true);
    v.setUint32(at + 18, p.data.length, true);
    v.setUint32(at + 22, p.data.length, true);
    v.setUint16(at + 26, p.name.length, true);
    v.setUint16(at + 28, p.extra, true);
    out.set(p.name, at + 30);
    at += 30 + p.name.length;
    v.setUint16(at, PAD_FIELD_ID, true);
    v.setUint16(at + 2, p.extra - 4, true);
    out.fill(PAD_BYTE, at + 4, at + p.extra);
    out.set(p.data, at + p.extra);
  }
  let at = offset;
  for (const p of plan) {
    v.setUint32(at, SIG_CENTRAL, true);
    v.setUint16(at + 4, VERSION, true); // made by
    v.setUint16(at + 6, VERSION, true); // needed
    v.setUint16(at + 8, 0, true);
    v.setUint16(at + 10, 0, true);
    v.setUint16(at + 12, 0, true);
    v.setUint16(at + 14, DOS_DATE, true);
    v.setUint32(at + 16, p.crc, true);
    v.setUint32(at + 20, p.data.length, true);
    v.setUint32(at + 24, p.data.length, true);
    v.setUint16(at + 28, p.name.length, true);
    // extra, comment, disk, internal / external attributes: 0
    v.setUint32(at + 42, p.offset, true);
    out.set(p.name, at + 46);
    at += 46 + p.name.length;
  }
  v.setUint32(at, SIG_EOCD, true);
  v.setUint16(at + 8, plan.length, true);
  v.setUint16(at + 10, plan.length, true);
  v.setUint32(at + 12, centralSize, true);
  v.setUint32(at + 16, offset, true);
  return out;
}
