/**
 * Options of the reproduction (`hrm-lens reproduce`, engine/paper/reproduce.ts), their defaults and their ranges.
 *
 * Defaults are sized so that two 6×6 runs (D = 64, 1+1 layers, 16 segments, 10 checkpoints) finish well within half an
 * hour on two CPU cores: 500 held-out puzzles, 9 relabelings, the last 10 checkpoints, the run's evaluation segments,
 * landscapes of 8 failing puzzles on an 11×11 grid.
 * Held-out seed: without a dataset file the held-out puzzles are generated with generator seed 424242, the seed
 * HRM Lens uses for held-out sets elsewhere (models/README.md). Training never seeds a generator with a plain seed: its
 * draw k uses the seed derived from (run seed, 1, k, redraw) and its own held-out set the seed derived from
 * (run seed, 12) (engine/train/trainer.ts, data-source.ts), so 424242 names a stream training does not draw from.
 * Ranges: the shared table engine/util/limits.ts where an option sizes the same work elsewhere; a value outside its
 * range is a RangeError naming the option (`--puzzles must be an integer in 1…100000, got 0` on the command line,
 * `puzzles must be …` in a request).
 */
import { type IntLimit, LIMITS, intProblem } from '../util/limits';

export const DEFAULT_HELD_OUT_SEED = 424242;

export const REPRODUCE_DEFAULTS = Object.freeze({
  puzzles: 500,
  relabelings: 9,
  checkpoints: 10,
  landscapeSample: 8,
  landscapeSize: 11,
  stuckWindow: 4,
  trivialWithin: 3,
  alignWindow: 8,
  probeSeed: 0,
  sampleSeed: 0,
  batch: 64,
  maxRows: 256,
  probeMasks: ['cell', 'row', 'box'] as readonly string[],
});

export const REPRODUCE_LIMITS = Object.freeze({
  runs: LIMITS.sources,
  puzzles: LIMITS.puzzles,
  relabelings: LIMITS.perturbations,
  checkpoints: LIMITS.checkpoints,
  segments: LIMITS.segments,
  landscapeSample: { min: 0, max: 1000 },
  landscapeSize: LIMITS.landscapeSize,
  stuckWindow: LIMITS.segmentCount,
  seed: LIMITS.seed,
  batch: LIMITS.batch,
} satisfies Record<string, IntLimit>);

export interface ReproduceOptions {
  /** Run folders of the baseline arm (several = training seeds). */
  baseline: string[];
  /** Run folders of the data-mixing arm. */
  mixing: string[];
  /** A dataset file of held-out puzzles (its first `puzzles` rows); default: generated as the runs' training data. */
  data?: string;
  puzzles?: number;
  seeds?: { heldOut?: number; probe?: number; sample?: number };
  relabelings?: number;
  checkpoints?: number;
  /** Default: the first baseline run's evaluation segments. */
  segments?: number;
  landscapeSample?: number;
  landscapeSize?: number;
  stuckWindow?: number;
  /** Default: .hrm/reports/paper-<time> under the working directory. */
  out?: string;
  /** The command line to record (default: rebuilt from the options). */
  command?: string;
}

/** Every problem with the options, each naming its option (prefix '--' and kebab-case on the command line). */
export function reproduceOptionProblems(o: ReproduceOptions, flagStyle = false): string[] {
  const name = (n: string) => (flagStyle ? `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : n);
  const out: string[] = [];
  const int = (n: string, v: number | undefined, l: IntLimit) => {
    if (v === undefined) return;
    const p = intProblem(name(n), v, l);
    if (p !== undefined) out.push(p);
  };
  for (const arm of ['baseline', 'mixing'] as const) {
    const runs = o[arm];
    if (!Array.isArray(runs) || runs.length === 0) out.push(`${name(arm)} must name at least one run folder`);
    else if (runs.length > REPRODUCE_LIMITS.runs.max) out.push(`${name(arm)} names ${runs.length} run folders, at most ${REPRODUCE_LIMITS.runs.max} are allowed`);
    else if (runs.some((r) => typeof r !== 'string' || r.trim() === '')) out.push(`${name(arm)} holds an empty run folder name`);
  }
  if (o.data !== undefined && (typeof o.data !== 'string' || o.data.trim() === '')) out.push(`${name('data')} must name a dataset file`);
  int('puzzles', o.puzzles, REPRODUCE_LIMITS.puzzles);
  int('relabelings', o.relabelings, REPRODUCE_LIMITS.relabelings);
  int('checkpoints', o.checkpoints, REPRODUCE_LIMITS.checkpoints);
  int('segments', o.segments, REPRODUCE_LIMITS.segments);
  int('landscapeSample', o.landscapeSample, REPRODUCE_LIMITS.landscapeSample);
  int('landscapeSize', o.landscapeSize, REPRODUCE_LIMITS.landscapeSize);
  int('stuckWindow', o.stuckWindow, REPRODUCE_LIMITS.stuckWindow);
  if (o.seeds !== undefined && (o.seeds === null || typeof o.seeds !== 'object' || Array.isArray(o.seeds))) {
    out.push(`${name('seeds')} must be ${flagStyle ? '1 to 3 comma-separated integers' : 'an object { heldOut, probe, sample }'}`);
  } else if (o.seeds !== undefined) {
    for (const k of ['heldOut', 'probe', 'sample'] as const) {
      const v = o.seeds[k];
      if (v !== undefined) {
        const p = intProblem(flagStyle ? `--seeds (${k})` : `seeds.${k}`, v, REPRODUCE_LIMITS.seed);
        if (p !== undefined) out.push(p);
      }
    }
  }
  if (o.out !== undefined && (typeof o.out !== 'string' || o.out.trim() === '')) out.push(`${name('out')} must name a folder`);
  return out;
}

/** Throws a RangeError listing every problem (none: returns the options). */
export function validateReproduceOptions(o: ReproduceOptions, flagStyle = false): ReproduceOptions {
  const problems = reproduceOptionProblems(o, flagStyle);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return o;
}

/** `--seeds a[,b[,c]]`: held-out generator seed, probe mask seed, landscape sample seed. */
export function parseSeeds(text: string | undefined): { heldOut?: number; probe?: number; sample?: number } | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length > 3 || parts.some((s) => s === '')) {
    throw new RangeError(`--seeds must be 1 to 3 comma-separated integers (held-out, probe, landscape sample), got ${JSON.stringify(text.slice(0, 60))}`);
  }
  const names = ['held-out', 'probe', 'sample'];
  const nums = parts.map((s, i) => {
    const v = /^\s*\d+\s*$/.test(s) ? Number(s) : NaN;
    const p = intProblem(`--seeds (${names[i]})`, v, REPRODUCE_LIMITS.seed, s);
    if (p !== undefined) throw new RangeError(p);
    return v;
  });
  return { heldOut: nums[0], probe: nums[1], sample: nums[2] };
}

/** `a,b,c` → run folders (empty entries dropped). */
export function parseRunList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
