/**
 * Colours of the charts: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), ordered
 * so that the first colours read well on white (its yellow comes last), and the greys of the frame.
 */

export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export const BACKGROUND = '#ffffff';
export const INK = '#222222';
export const AXIS = '#444444';
export const GRID = '#e8e8e8';
export const MUTED = '#888888';

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const NAME = /^[a-zA-Z]{3,20}$/;

/** The colour when it is a hex colour or a colour name, else undefined (the palette's colour is used instead). */
export function safeColor(color: string | undefined): string | undefined {
  if (typeof color !== 'string') return undefined;
  const c = color.trim();
  return HEX.test(c) || NAME.test(c) ? c : undefined;
}

/**
 * A colour for each item: its own when valid, else the palette's colour of its label (items that share a label share
 * a colour, in the order labels first appear; the palette repeats past eight labels).
 */
export function assignColors(items: readonly { label: string; color?: string }[]): string[] {
  const byLabel = new Map<string, string>();
  return items.map((it) => {
    const own = safeColor(it.color);
    if (own) return own;
    const label = String(it.label ?? '');
    let c = byLabel.get(label);
    if (!c) {
      c = PALETTE[byLabel.size % PALETTE.length];
      byLabel.set(label, c);
    }
    return c;
  });
}
