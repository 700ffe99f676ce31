// Draws media/icon.png (128×128): a 9×9 grid with a few highlighted cells. Run once; the PNG is committed.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const W = 128;
const px = Buffer.alloc(W * W * 4);
const set = (x, y, [r, g, b]) => { const i = (y * W + x) * 4; px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = 255; };
const bg = [30, 34, 48], cell = [52, 58, 78], hot = [236, 160, 60], ok = [90, 200, 140];
const lit = new Map([[10, hot], [20, ok], [31, ok], [40, hot], [50, ok], [60, ok], [70, hot]]);
for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) set(x, y, bg);
const off = 10, step = 12;
for (let r = 0; r < 9; r++) for (let c = 0; c < 9; c++) {
  const x0 = off + c * step + Math.floor(c / 3) * 1, y0 = off + r * step + Math.floor(r / 3) * 1;
  const col = lit.get(r * 9 + c) ?? cell;
  for (let y = y0; y < y0 + step - 2; y++) for (let x = x0; x < x0 + step - 2; x++) set(x, y, col);
}
const raw = Buffer.alloc(W * (W * 4 + 1));
for (let y = 0; y < W; y++) { raw[y * (W * 4 + 1)] = 0; px.copy(raw, y * (W * 4 + 1) + 1, y * W * 4, (y + 1) * W * 4); }
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(W, 0); ihdr.writeUInt32BE(W, 4); ihdr[8] = 8; ihdr[9] = 6;
writeFileSync(new URL('../media/icon.png', import.meta.url), Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
