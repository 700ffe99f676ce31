/** A small PNG reader for tests: the IHDR fields and, for 8-bit non-interlaced images, the pixels (zlib + the 5 filters). */
import { inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export interface PngHeader { width: number; height: number; bitDepth: number; colorType: number; interlace: number }

export function pngHeader(png: Uint8Array): PngHeader {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!PNG_SIGNATURE.every((v, i) => b[i] === v)) throw new Error('not a PNG: bad signature');
  if (b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG: the first chunk is not IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bitDepth: b[24], colorType: b[25], interlace: b[28] };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** The pixels, `channels` bytes each, row by row (gray, gray+alpha, RGB or RGBA at 8 bits). */
export function decodePng(png: Uint8Array): PngHeader & { channels: number; data: Uint8Array } {
  const h = pngHeader(png);
  const channels = CHANNELS[h.colorType];
  if (h.bitDepth !== 8 || !channels || h.interlace !== 0) throw new Error(`decodePng: unsupported PNG (depth ${h.bitDepth}, colour type ${h.colorType}, interlace ${h.interlace})`);
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= b.length;) {
    const len = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') idat.push(b.subarray(at + 8, at + 8 + len));
    if (type === 'IEND') break;
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = h.width * channels;
  const out = new Uint8Array(stride * h.height);
  for (let y = 0; y < h.height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[row + x - channels] : 0;
      const up = y > 0 ? out[row - stride + x] : 0;
      const ul = y > 0 && x >= channels ? out[row - stride + x - channels] : 0;
      let v = src[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += up;
      else if (filter === 3) v += (a + up) >> 1;
      else if (filter === 4) {
        const p = a + up - ul;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - ul);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? up : ul;
      } else if (filter !== 0) throw new Error(`decodePng: bad filter ${filter} on row ${y}`);
      out[row + x] = v & 0xff;
    }
  }
  return { ...h, channels, data: out };
}
