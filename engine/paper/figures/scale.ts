/**
 * Axes' scales and ticks: linear and log10 scales from data values to pixels, "nice" tick values (1, 2 or 5 times a
 * power of ten on a linear axis; decades, with 2 and 5 between them when the axis spans two decades or less, on a log
 * axis) and their labels.
 */

/** Most ticks an axis draws; past this the step grows. */
export const MAX_TICKS = 50;

export interface Scale {
  /** Data value → pixel. */
  map(v: number): number;
  domain: [number, number];
  ticks: number[];
  format(v: number): string;
  log: boolean;
}

const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A value without floating-point noise (0.30000000000000004 → 0.3). */
const clean = (v: number): number => Number(v.toPrecision(12));

/** A step of 1, 2 or 5 × 10^k giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 6): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return clean((norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag);
}

/** Multiples of `step` within [lo, hi] (at most MAX_TICKS; the step doubles until they fit). */
export function ticksWithin(lo: number, hi: number, step: number): number[] {
  if (!fin(lo) || !fin(hi) || !(step > 0) || !Number.isFinite(step)) return [];
  let s = step;
  while ((hi - lo) / s > MAX_TICKS) s *= 2;
  const eps = s * 1e-9;
  const first = Math.ceil((lo - eps) / s);
  const last = Math.floor((hi + eps) / s);
  const out: number[] = [];
  for (let i = first; i <= last && out.length <= MAX_TICKS; i++) {
    const t = clean(i * s);
    if (out[out.length - 1] !== t) out.push(t);
  }
  return out;
}

/** Decimals needed to write `step` exactly (0.25 → 2, 5 → 0), at most 12. */
function decimalsOf(step: number): number {
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return 12;
}

/** A label for a value in exponent notation: 2e6, 1.5e-5. */
function exponent(v: number): string {
  return Number(v.toPrecision(3)).toExponential().replace('e+', 'e');
}

/** A label for a tick of a linear axis whose ticks are `step` apart: as many decimals as the step has, on every tick. */
export function formatLinear(v: number, step: number): string {
  const decimals = Math.min(12, decimalsOf(step));
  if (v === 0 || Math.abs(v) < step * 1e-9) return (0).toFixed(decimals);
  const a = Math.abs(v);
  if (a >= 1e6 || (a < 1e-4 && step < 1e-4)) return exponent(v);
  return v.toFixed(decimals);
}

/** A label for a tick of a log axis: plain from 0.001 to 10000, else in exponent notation. */
export function formatLog(v: number): string {
  if (v >= 1e-3 && v < 1e5) return String(Number(v.toPrecision(6)));
  return exponent(v);
}

/** A linear scale over [lo, hi] (values as given; widened when empty) onto [r0, r1]. */
export function linearScale(lo: number, hi: number, r0: number, r1: number, ticks: number[], step: number): Scale {
  const span = hi - lo || 1;
  return {
    map: (v) => r0 + ((v - lo) / span) * (r1 - r0),
    domain: [lo, hi],
    ticks,
    format: (v) => formatLinear(v, step),
    log: false,
  };
}

/** A log10 scale over [lo, hi] (both > 0) onto [r0, r1]. */
export function logScale(lo: number, hi: number, r0: number, r1: number, ticks: number[]): Scale {
  const l0 = Math.log10(lo);
  const span = Math.log10(hi) - l0 || 1;
  return {
    map: (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0),
    domain: [lo, hi],
    ticks,
    format: formatLog,
    log: true,
  };
}

/** The extent of the finite values (and, for a log axis, positive ones), or undefined when there is none. */
export function extent(values: Iterable<unknown>, log = false): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!fin(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : undefined;
}

export interface AxisDomain {
  lo: number;
  hi: number;
  ticks: number[];
  step: number;
}

/**
 * A linear axis over the data extent: the ends given (`fixedLo`/`fixedHi`, when finite) are kept, the others are
 * extended to a tick (`nice`) or kept at the data's ends. An empty or one-value extent is widened.
 */
export function linearAxis(data: [number, number] | undefined, fixedLo: unknown, fixedHi: unknown, nice: boolean, target = 6): AxisDomain {
  let lo = fin(fixedLo) ? fixedLo : data ? data[0] : 0;
  let hi = fin(fixedHi) ? fixedHi : data ? data[1] : 1;
  if (!(hi > lo)) {
    if (fin(fixedLo) && !fin(fixedHi)) hi = lo + (Math.abs(lo) || 1);
    else if (fin(fixedHi) && !fin(fixedLo)) lo = hi - (Math.abs(hi) || 1);
    else {
      const mid = fin(fixedLo) ? lo : data ? data[0] : 0;
      const pad = Math.abs(mid) * 0.1 || 1;
      lo = mid - pad;
      hi = mid + pad;
    }
  }
  if (!Number.isFinite(hi - lo)) {
    lo = -Number.MAX_VALUE / 2;
    hi = Number.MAX_VALUE / 2;
  }
  const step = niceStep(hi - lo, target);
  if (nice) {
    if (!fin(fixedLo)) lo = clean(Math.floor(lo / step + 1e-9) * step);
    if (!fin(fixedHi)) hi = clean(Math.ceil(hi / step - 1e-9) * step);
  }
  return { lo, hi, ticks: ticksWithin(lo, hi, step), step };
}

/** A log axis over the positive data extent: the ends given (when finite and > 0) are kept, the others go to a decade. */
export function logAxis(data: [number, number] | undefined, fixedLo: unknown, fixedHi: unknown): AxisDomain {
  const pos = (v: unknown): v is number => fin(v) && v > 0;
  let lo = pos(fixedLo) ? fixedLo : data ? 10 ** Math.floor(Math.log10(data[0]) + 1e-9) : 0.1;
  let hi = pos(fixedHi) ? fixedHi : data ? 10 ** Math.ceil(Math.log10(data[1]) - 1e-9) : 10;
  if (!(lo > 0)) lo = data ? data[0] : 0.1;
  if (!(hi > lo)) {
    if (pos(fixedHi) && !pos(fixedLo)) lo = hi / 10;
    else hi = lo * 10;
  }
  if (!Number.isFinite(hi)) hi = Number.MAX_VALUE;
  return { lo, hi, ticks: logTicks(lo, hi), step: 1 };
}

/** Ticks of a log axis over [lo, hi]: decades (every k-th past 8 decades), with 2 and 5 between them over ≤ 2 decades. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > lo)) return [];
  const k0 = Math.floor(Math.log10(lo));
  const k1 = Math.ceil(Math.log10(hi));
  const decades = k1 - k0;
  const mantissas = Math.log10(hi / lo) <= 2 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil(decades / 8));
  const out: number[] = [];
  for (let k = k0; k <= k1; k++) {
    if ((k - k0) % every !== 0 && mantissas.length === 1) continue;
    for (const m of mantissas) {
      const t = clean(m * 10 ** k);
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) out.push(t);
    }
  }
  if (out.length >= 2) return out;
  const dense = logTicksDense(lo, hi);
  return dense.length >= 2 ? dense : [clean(lo), clean(hi)];
}

/** Ticks 1…9 × 10^k over a span too short for decades alone. */
function logTicksDense(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (let m = 1; m <= 9; m++) {
      const t = clean(m * 10 ** k);
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) out.push(t);
    }
  }
  return out;
}
