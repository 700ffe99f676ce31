/**
 * The legend, to the right of the plot area (it never covers data): one entry per distinct label and style (500 thin
 * lines labelled "puzzle" make one entry), at most MAX_LEGEND_ENTRIES and as many as fit the height, then "+ N more".
 */
import { FONT } from './frame';
import { INK, MUTED } from './palette';
import { num, textEl, textWidth, truncate } from './svg-text';

export const MAX_LEGEND_ENTRIES = 16;
/** Longest label a legend entry shows (characters; longer ones end in "…"). */
export const MAX_LEGEND_CHARS = 32;

const ROW = 17;
const SWATCH = 24;

export interface LegendEntry {
  label: string;
  color: string;
  kind: 'line' | 'bar';
  dashed?: boolean;
  thin?: boolean;
  band?: boolean;
}

/** The entries with a non-empty label, the first of each (label, colour, style), in order. */
export function distinctEntries(entries: readonly LegendEntry[]): LegendEntry[] {
  const seen = new Set<string>();
  const out: LegendEntry[] = [];
  for (const e of entries) {
    const label = truncate(e.label, MAX_LEGEND_CHARS);
    if (!label) continue;
    const key = JSON.stringify([label, e.color, e.kind, !!e.dashed, !!e.thin, !!e.band]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...e, label });
  }
  return out;
}

export interface LegendLayout {
  entries: LegendEntry[];
  /** Entries left out for want of room. */
  more: number;
  width: number;
}

/** Which entries fit in `maxHeight` pixels, and the legend's width (at most `maxWidth`; 0 when there is no entry). */
export function layoutLegend(all: readonly LegendEntry[], maxHeight: number, maxWidth: number): LegendLayout {
  if (all.length === 0) return { entries: [], more: 0, width: 0 };
  const rows = Math.max(1, Math.min(MAX_LEGEND_ENTRIES, Math.floor(maxHeight / ROW)));
  const shown = all.length <= rows ? all.slice() : all.slice(0, rows - 1);
  const more = all.length - shown.length;
  const texts = shown.map((e) => e.label).concat(more ? [moreText(more)] : []);
  const width = Math.min(maxWidth, SWATCH + 6 + Math.max(...texts.map((t) => textWidth(t, FONT.legend))));
  return { entries: shown, more, width: Math.ceil(width) };
}

const moreText = (n: number): string => `+ ${n} more`;

function swatch(e: LegendEntry, x: number, y: number): string {
  if (e.kind === 'bar') return `<rect x="${num(x + 4)}" y="${num(y - 5)}" width="${SWATCH - 8}" height="10" fill="${e.color}"/>`;
  const band = e.band ? `<rect x="${num(x)}" y="${num(y - 5)}" width="${SWATCH}" height="10" fill="${e.color}" fill-opacity="0.2"/>` : '';
  const dash = e.dashed ? ' stroke-dasharray="6 3"' : '';
  const width = e.thin ? 1 : 2;
  const opacity = e.thin ? ' stroke-opacity="0.6"' : '';
  return `${band}<path d="M${num(x)} ${num(y)}h${SWATCH}" stroke="${e.color}" stroke-width="${width}"${opacity}${dash} fill="none"/>`;
}

/** The legend with its top-left corner at (x, y). */
export function legendSvg(layout: LegendLayout, x: number, y: number): string {
  if (layout.entries.length === 0) return '';
  const maxChars = Math.max(2, Math.floor((layout.width - SWATCH - 6) / (FONT.legend * 0.6)));
  const rows = layout.entries.map((e, i) => {
    const cy = y + ROW * i + ROW / 2;
    return swatch(e, x, cy) + textEl(x + SWATCH + 6, cy + FONT.legend * 0.35, truncate(e.label, maxChars), `fill="${INK}"`, FONT.legend);
  });
  if (layout.more) {
    const cy = y + ROW * layout.entries.length + ROW / 2;
    rows.push(textEl(x + SWATCH + 6, cy + FONT.legend * 0.35, moreText(layout.more), `fill="${MUTED}"`, FONT.legend));
  }
  return `<g>${rows.join('')}</g>`;
}
