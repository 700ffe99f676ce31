/**
 * The ranges of every option that sizes work (segments, puzzles, grid points, batches, steps, checkpoints, …), in one
 * table shared by the command line (engine/cli/*) and the engine's request handlers (engine/rpc/*-handlers.ts), with
 * the checks both use. A value outside its range is refused before anything is loaded or allocated, with a message
 * that names the option: "--segments must be an integer in 1…256, got 0" (CLI), "segments must be …" (requests).
 * Model config fields have their own table (engine/model/config.ts CONFIG_RANGES). Free of Node imports.
 */

/** Allowed integers min…max (only odd ones when `odd`). */
export interface IntLimit {
  readonly min: number;
  readonly max: number;
  readonly odd?: boolean;
}

/** Allowed numbers: finite, above `min` (or at it, when `minInclusive`), at most `max`. */
export interface NumLimit {
  readonly min: number;
  readonly max: number;
  readonly minInclusive?: boolean;
}

export const LIMITS = Object.freeze({
  /** Segments of a run (inspect, eval, probe, classify, ensemble, landscape; also --flow-segments, --max-segments). */
  segments: { min: 1, max: 256 },
  /** Generated or probed puzzles (--generate, probe --count, --eval-puzzles, --fixed-set). */
  puzzles: { min: 1, max: 100_000 },
  /** The first N puzzles of a dataset file (--limit). */
  limit: { min: 1, max: 100_000_000 },
  /** Landscape grid points per side (odd). */
  landscapeSize: { min: 1, max: 201, odd: true },
  /** Rows per forward batch of the analyses (--batch, --max-rows) and slots of a training batch (--batch, --micro-batch). */
  batch: { min: 1, max: 65_536 },
  /** Optimizer steps of a training (--steps), also steps between checkpoints (--checkpoint-every). */
  steps: { min: 1, max: 10_000_000 },
  /** Checkpoints kept by a training (--keep-last). */
  keepLast: { min: 1, max: 10_000 },
  /** Checkpoints taken from a run folder (ensemble --last). */
  checkpoints: { min: 1, max: 1000 },
  /** Checkpoint files or run folders of one ensemble. */
  sources: { min: 1, max: 64 },
  /** Perturbations (relabelings, symmetries) per puzzle (ensemble --count). */
  perturbations: { min: 1, max: 1000 },
  /** Probe masks per request. */
  masks: { min: 1, max: 16 },
  /** Segment counts inside a run: classify --trivial-within / --last, landscape --patience. */
  segmentCount: { min: 1, max: 256 },
  /** Attention heads given on the command line or in a request (import --heads); the config's range. */
  heads: { min: 1, max: 256 },
  /** Random seeds. */
  seed: { min: 0, max: 2 ** 32 - 1 },
  /** wasm threads (--threads). */
  threads: { min: 1, max: 256 },
  /** Random directions per kick size (kick --directions). */
  kickDirections: { min: 0, max: 1024 },
  /** Principal directions of the kicks, each pushed both ways (kick --pcs). */
  kickPcs: { min: 0, max: 64 },
  /** Kick sizes ε of one request (kick --eps). */
  kickSizes: { min: 1, max: 64 },
  /** Kicked copies of one state: sizes × (directions + 2 · pcs); each holds a whole state in memory. */
  kicks: { min: 1, max: 1024 },
  /** Batch row of a latents file (the donor of a patch). */
  latentsRow: { min: 0, max: 99_999 },
  /** Leading eigenvalues of a Jacobian spectrum (spectrum --count). */
  eigenvalues: { min: 1, max: 64 },
  /** Krylov dimension of a spectrum: products with the Jacobian, each one segment forward and backward (spectrum --max-iterations). */
  krylov: { min: 1, max: 300 },
  /** Counts in one list of a compute sweep (sweep --h-cycles, --l-cycles, --segments). */
  sweepValues: { min: 1, max: 16 },
} satisfies Record<string, IntLimit>);

export const NUM_LIMITS = Object.freeze({
  /** Landscape grid unit (--step). */
  landscapeStep: { min: 0, max: 1e6 },
  /** Peak learning rate (--lr). */
  lr: { min: 0, max: 10 },
  /** Basin tolerance (landscape --tolerance). */
  tolerance: { min: 0, max: 1e6, minInclusive: true },
  /** Settling threshold τ (classify --tau). */
  tau: { min: 0, max: 1e6, minInclusive: true },
  /** Kick size ε, relative to the state's norm (kick --eps). */
  kickEpsilon: { min: 0, max: 1000 },
  /** Relative residual at which a spectrum's eigenvalues count as converged (spectrum --tolerance). */
  eigenTolerance: { min: 0, max: 1 },
} satisfies Record<string, NumLimit>);

/** "1…256". */
export function limitText(l: IntLimit): string {
  return `${l.min}…${l.max}`;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return /^[+-]?\d+(\.\d+)?$/.test(value) ? value : JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** The problem with `value` as `name`, or undefined when it is an integer within `l`; `raw` is what the message shows. */
export function intProblem(name: string, value: unknown, l: IntLimit, raw: unknown = value): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= l.min && value <= l.max && (!l.odd || value % 2 === 1)) return undefined;
  return `${name} must be ${l.odd ? 'an odd integer' : 'an integer'} in ${limitText(l)}, got ${shown(raw)}`;
}

/** The problem with `value` as `name`, or undefined when it is a number within `l`; `raw` is what the message shows. */
export function numProblem(name: string, value: unknown, l: NumLimit, raw: unknown = value): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && (l.minInclusive ? value >= l.min : value > l.min) && value <= l.max) return undefined;
  return `${name} must be a number in ${l.minInclusive ? '[' : '('}${l.min}, ${l.max}], got ${shown(raw)}`;
}

/** A command-line number: decimal digits (with an optional sign, fraction or exponent); anything else is NaN. */
function parseNumber(text: string): number {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : NaN;
}

/**
 * An integer option of the command line (`--name <n>`): undefined stays undefined, anything outside `l` throws
 * "--name must be an integer in min…max, got X".
 */
export function intOption(text: string | undefined, name: string, l: IntLimit): number | undefined {
  if (text === undefined) return undefined;
  const n = parseNumber(text);
  const problem = intProblem(`--${name}`, n, l, text);
  if (problem !== undefined) throw new RangeError(problem);
  return n;
}

/** A number option of the command line; like intOption. */
export function numOption(text: string | undefined, name: string, l: NumLimit): number | undefined {
  if (text === undefined) return undefined;
  const n = parseNumber(text);
  const problem = numProblem(`--${name}`, n, l, text);
  if (problem !== undefined) throw new RangeError(problem);
  return n;
}
