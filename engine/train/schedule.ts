/**
 * Learning-rate schedule of the reference `pretrain.py` (docs/model.md §Learning-rate schedule): linear warmup, then a
 * half-cosine from `base` down to `base · minRatio` at `total` steps. The step counter starts at 1 for the first batch,
 * so the first lr is base/warmup. minRatio 1 (the reference default) gives a constant lr after warmup. Past `total` the
 * lr stays at its final value.
 */

export interface LrSchedule {
  /** Peak learning rate. */
  base: number;
  /** Warmup steps (reference: 2000). */
  warmup: number;
  /** Total training steps. */
  total: number;
  /** Final lr as a fraction of base (reference default 1.0 = constant). */
  minRatio?: number;
}

/** The learning rate for optimizer step `step` (1-based). */
export function learningRate(step: number, s: LrSchedule): number {
  const minRatio = s.minRatio ?? 1;
  if (step < s.warmup) return (s.base * step) / Math.max(1, s.warmup);
  const progress = Math.min(1, Math.max(0, (step - s.warmup) / Math.max(1, s.total - s.warmup)));
  return s.base * (minRatio + Math.max(0, (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress))));
}

/** Checks a schedule's numbers; returns a list of problems (empty when fine). */
export function validateSchedule(s: LrSchedule): string[] {
  const problems: string[] = [];
  if (!(Number.isFinite(s.base) && s.base >= 0)) problems.push(`base lr must be a finite number >= 0, got ${s.base}`);
  if (!(Number.isInteger(s.warmup) && s.warmup >= 0)) problems.push(`warmup must be an integer >= 0, got ${s.warmup}`);
  if (!(Number.isInteger(s.total) && s.total >= 1)) problems.push(`total steps must be an integer >= 1, got ${s.total}`);
  const r = s.minRatio ?? 1;
  if (!(r >= 0 && r <= 1)) problems.push(`minRatio must be in [0, 1], got ${r}`);
  return problems;
}
