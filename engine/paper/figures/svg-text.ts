/**
 * Text and numbers as they go into SVG: XML escaping (labels come from run names), characters XML cannot hold
 * replaced, coordinates written with a fixed number of decimals (the same chart gives the same bytes), and the
 * width of a text estimated from its length (DejaVu Sans, the font the PNGs are drawn with, averages about 0.6 em).
 */

/** Characters XML 1.0 cannot hold (controls other than tab and newlines, lone surrogates, U+FFFE/U+FFFF). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The text escaped for XML content and attribute values; characters XML cannot hold become U+FFFD. */
export function escapeXml(text: unknown): string {
  return String(text ?? '')
    .replace(NOT_XML, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Coordinates beyond this many pixels are pulled in (the plot is clipped; a value of 1e300 stays drawable). */
const FAR = 1e6;

/** A coordinate with at most `decimals` decimals, no exponent and no "-0". */
export function num(v: number, decimals = 2): string {
  const c = Math.max(-FAR, Math.min(FAR, v));
  const f = 10 ** decimals;
  const r = Math.round(c * f) / f;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Estimated width in pixels of `text` at `fontSize`. */
export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.6;
}

/** The text cut to at most `maxChars` characters (code points), with "…" when cut. Whitespace runs become one space. */
export function truncate(text: unknown, maxChars: number): string {
  const chars = [...String(text ?? '').replace(/\s+/g, ' ').trim()];
  if (chars.length <= maxChars) return chars.join('');
  return chars.slice(0, Math.max(1, maxChars - 1)).join('') + '…';
}

/** The text cut to fit `width` pixels at `fontSize`. */
export function fitText(text: unknown, width: number, fontSize: number): string {
  return truncate(text, Math.max(2, Math.floor(width / (fontSize * 0.6))));
}

/** An SVG <text> element. */
export function textEl(x: number, y: number, text: string, attrs: string, fontSize: number): string {
  return `<text x="${num(x)}" y="${num(y)}" font-size="${fontSize}"${attrs ? ' ' + attrs : ''}>${escapeXml(text)}</text>`;
}

/** FNV-1a hash of a string, as 8 hex digits. */
export function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
