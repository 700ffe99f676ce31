/**
 * The numbers behind the paper-style landscape (webview/landscape-paper-canvas.ts draws it): E clipped for the colour
 * scale, a seeded random sample of the flow arrows, each arrow at its full length, and the colour map. Pure functions:
 * no DOM, no Node, so a unit test imports them as they are.
 *
 * Flow arrows: `flow` holds, per grid point p (row-major [j + r][i + r]), the point's destination (i', j') after one
 * segment, in grid units. The arrow of p starts at p's own plane coordinates (i, j) and moves by the segment's
 * displacement (i' − i, j' − j), so it ends at (i', j'), however far that is (no normalization).
 */

/**
 * The top of the paper's colour scale for E (the number of Sudoku rule conflicts of the decoded grid): heights above
 * it are drawn in the colour of this value, and the legend's top label reads "≥ 40".
 */
export const PAPER_E_CLIP = 40;

/**
 * The share of the flow arrows the paper draws, in percent of the grid points: a random sample, so that arrows at
 * full length do not cover the heat map.
 */
export const PAPER_ARROW_PERCENT = 5;

/** The seed of the arrow sample: the same arrows on every redraw and after a reload. */
export const PAPER_ARROW_SEED = 0x48524d31;

/** E as the colour scale reads it: at most `clip` (a non-finite height reads as `clip`, never below 0). */
export function clipEnergy(e: number, clip: number = PAPER_E_CLIP): number {
  if (!Number.isFinite(e)) return clip;
  return Math.max(0, Math.min(clip, e));
}

/**
 * How many of `n` arrows the sample holds: `percent`% of n rounded half up, computed in integers
 * (floor((n · percent + 50) / 100)), and at least 1 when n ≥ 1 and percent > 0. So 441 points (21×21) → 22,
 * 1681 points (41×41) → 84, 30 → 2, 10 → 1, 1 → 1, 0 → 0.
 */
export function arrowSampleSize(n: number, percent: number = PAPER_ARROW_PERCENT): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`arrow sample: n must be an integer >= 0, got ${n}`);
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new RangeError(`arrow sample: percent must be an integer in 0..100, got ${percent}`);
  if (n === 0 || percent === 0) return 0;
  return Math.max(1, Math.floor((n * percent + 50) / 100));
}

/** A small seeded generator of uniform numbers in [0, 1) (mulberry32): the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The grid points whose arrows are drawn: arrowSampleSize(n, percent) distinct indices in 0..n − 1, drawn without
 * replacement (a partial Fisher–Yates shuffle driven by seededRandom(seed)), in increasing order.
 */
export function sampleArrows(n: number, seed: number = PAPER_ARROW_SEED, percent: number = PAPER_ARROW_PERCENT): number[] {
  const k = arrowSampleSize(n, percent);
  const random = seededRandom(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, k).sort((a, b) => a - b);
}

/** One flow arrow in plane coordinates (grid units, PC1 → i, PC2 → j). */
export interface PlaneArrow {
  /** The grid point (row-major index). */
  point: number;
  start: { i: number; j: number };
  /** Where one segment moves the point, relative to its start. */
  displacement: { di: number; dj: number };
  /** start + displacement: the arrow at its full length. */
  end: { i: number; j: number };
}

/** The full-length arrow of grid point `p` of a landscape with `size` points per side and radius `radius`. */
export function fullLengthArrow(flow: ArrayLike<number>, size: number, radius: number, p: number): PlaneArrow {
  const i = (p % size) - radius;
  const j = Math.floor(p / size) - radius;
  const di = flow[2 * p] - i;
  const dj = flow[2 * p + 1] - j;
  return { point: p, start: { i, j }, displacement: { di, dj }, end: { i: i + di, j: j + dj } };
}

/**
 * The two barb ends of an arrow head at (x1, y1) for a shaft from (x0, y0), `length` long and `spread` radians off
 * the shaft (any units); null for a shaft of zero length (the point does not move).
 */
export function arrowHead(x0: number, y0: number, x1: number, y1: number, length: number, spread = 0.45): [[number, number], [number, number]] | null {
  if (x1 === x0 && y1 === y0) return null;
  const a = Math.atan2(y1 - y0, x1 - x0);
  return [
    [x1 - length * Math.cos(a - spread), y1 - length * Math.sin(a - spread)],
    [x1 - length * Math.cos(a + spread), y1 - length * Math.sin(a + spread)],
  ];
}

/** Viridis (matplotlib's default colour map), sampled every eighth: dark violet (low E) to yellow (high E). */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84], [70, 50, 127], [54, 92, 141], [39, 127, 142], [31, 161, 135], [74, 194, 109], [159, 218, 58], [253, 231, 37],
];

/** The colour of a clipped height, `e` in 0..clip, as 'rgb(r, g, b)' (linear between the map's samples). */
export function paperColour(e: number, clip: number = PAPER_E_CLIP): string {
  const t = clipEnergy(e, clip) / clip;
  const x = t * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - k;
  const [a, b] = [VIRIDIS[k], VIRIDIS[k + 1]];
  const c = a.map((v, q) => Math.round(v + (b[q] - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** The legend's ticks: 0, a quarter, a half, three quarters of the scale, and "≥ clip" at the top. */
export function legendTicks(clip: number = PAPER_E_CLIP): { value: number; label: string }[] {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const value = Math.round(f * clip);
    return { value, label: f === 1 ? `≥ ${value}` : String(value) };
  });
}
