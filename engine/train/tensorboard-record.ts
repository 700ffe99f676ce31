/**
 * TFRecord framing, as TensorBoard's event files use it: each record is
 *
 *   uint64 length (little-endian) · uint32 masked CRC32C of those 8 bytes · data[length] · uint32 masked CRC32C of data
 *
 * with CRC32C the Castagnoli CRC (reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF) and the mask
 * ((crc >>> 15) | (crc << 17)) + 0xA282EAD8 (mod 2^32). Free of Node imports.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli) of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The masked CRC32C TFRecord stores (a CRC of data that holds CRCs is itself less likely to look valid). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Bytes of a record holding `data`: 8 + 4 + data.length + 4. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length >>> 0, true);
  view.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
