/**
 * HRM / TRM model configuration: fields, defaults, presets, validation, derived sizes and a JSON round-trip.
 *
 * Field names follow the reference implementation (`H_layers`, `L_cycles`, …); docs/model.md §Model configurations.
 *
 * Sequence layout: `puzzleEmbLen` prefix positions, then the n² cells in row-major order, so
 * `totalLen = puzzleEmbLen + n²`. HRM uses 1 prefix position (one learned puzzle vector), TRM 16 (the vector at
 * prefix position 0, zeros at 1..15). `puzzleEmbLen = 0` is allowed: there is then no prefix and no
 * `puzzle_emb.weights`, and the Q-head reads position 0 of the *cells* (the top-left cell) instead of a prefix token.
 *
 * Variants:
 * - `hrm`: separate `H_level` (H_layers blocks) and `L_level` (L_layers blocks); one-step gradient (only the last L
 *   call and the last H call of a segment are on the tape); ACT halts when q_halt > q_continue.
 * - `trm`: one shared net `L_level` (L_layers blocks) does both updates (`H_layers` is ignored); the whole last
 *   H-cycle (L_cycles L-updates + 1 H-update) is on the tape; halt-only ACT (q_halt > 0), no continue target.
 */
import { type GridSize, isGridSize } from '../sudoku/geometry';
import { DataError } from '../util/errors';

export type PositionEncoding = 'rope' | 'learned';
export type ModelVariant = 'hrm' | 'trm';

export interface HrmConfig {
  /** Sudoku side n (4, 6 or 9): n² cells, vocabulary n + 2 (0 PAD, 1 blank, digit + 1). */
  gridSize: GridSize;
  /** Model width D. */
  hidden: number;
  /** Attention heads; head dim = hidden / heads, must be even with RoPE (rotate-half). */
  heads: number;
  /** SwiGLU expansion; inter = roundUpToMultiple(round(expansion · D · 2/3), interMultiple). */
  expansion: number;
  /** SwiGLU width rounding multiple (reference: 256; small CPU models: e.g. 32). */
  interMultiple: number;
  /** Blocks in the H module (HRM only; ignored for TRM). */
  H_layers: number;
  /** Blocks in the L module (TRM: the shared net). */
  L_layers: number;
  /** High-level cycles per segment (N). */
  H_cycles: number;
  /** Low-level steps per high-level cycle (T). */
  L_cycles: number;
  /** Maximum number of ACT segments (M_max). */
  haltMaxSteps: number;
  /** Probability of drawing a random minimum halt step during training. */
  haltExplorationProb: number;
  /** 'rope' (rotary, the Sudoku default) or 'learned' (a [totalLen, D] table, added with ×1/√2). */
  positions: PositionEncoding;
  ropeTheta: number;
  rmsEps: number;
  /** Prefix positions before the cells (HRM 1, TRM 16, 0 = none; see the file comment). */
  puzzleEmbLen: number;
  variant: ModelVariant;
}

/** Sizes that follow from a config. */
export interface ModelDims {
  /** Cells n². */
  cells: number;
  /** Vocabulary n + 2. */
  vocab: number;
  /** Prefix positions. */
  prefix: number;
  /** prefix + cells: the sequence length the blocks see. */
  totalLen: number;
  headDim: number;
  /** SwiGLU intermediate width. */
  inter: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  /** The problems with the field each concerns (field 'config' when no single field is at fault). */
  readonly issues: readonly ConfigIssue[];
  constructor(problems: readonly (string | ConfigIssue)[]) {
    const issues = problems.map((p) => (typeof p === 'string' ? { field: 'config', message: p } : p));
    super(`invalid HRM config: ${issues.map((i) => i.message).join('; ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
    this.problems = issues.map((i) => i.message);
  }
}

export function roundUpToMultiple(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}

/** The reference SwiGLU width: round(expansion · D · 2/3) rounded up to a multiple of `interMultiple`. */
export function swigluInter(hidden: number, expansion: number, interMultiple: number): number {
  return roundUpToMultiple(Math.round((expansion * hidden * 2) / 3), interMultiple);
}

export function modelDims(c: HrmConfig): ModelDims {
  const cells = c.gridSize * c.gridSize;
  return {
    cells,
    vocab: c.gridSize + 2,
    prefix: c.puzzleEmbLen,
    totalLen: c.puzzleEmbLen + cells,
    headDim: c.hidden / c.heads,
    inter: swigluInter(c.hidden, c.expansion, c.interMultiple),
  };
}

/** The 4×4 demo model, with SwiGLU rounding to 32 as in the prototype (docs/model.md §Model configurations). */
export const TINY_4X4: Readonly<HrmConfig> = Object.freeze({
  gridSize: 4, hidden: 64, heads: 2, expansion: 2, interMultiple: 32,
  H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2,
  haltMaxSteps: 4, haltExplorationProb: 0.1,
  positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});

/** The reference Sudoku-Extreme HRM (docs/model.md §Model configurations): 27,275,266 trainable parameters. */
export const HRM_SUDOKU_27M: Readonly<HrmConfig> = Object.freeze({
  gridSize: 9, hidden: 512, heads: 8, expansion: 4, interMultiple: 256,
  H_layers: 4, L_layers: 4, H_cycles: 2, L_cycles: 2,
  haltMaxSteps: 16, haltExplorationProb: 0.1,
  positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});

/**
 * TRM with attention ("TRM-Att"): one shared 2-block net, 6,828,034 trainable parameters
 * (docs/model.md §Model configurations, §TRM variant).
 */
export const TRM_SUDOKU_ATT: Readonly<HrmConfig> = Object.freeze({
  gridSize: 9, hidden: 512, heads: 8, expansion: 4, interMultiple: 256,
  H_layers: 0, L_layers: 2, H_cycles: 3, L_cycles: 6,
  haltMaxSteps: 16, haltExplorationProb: 0.1,
  positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 16, variant: 'trm',
});

/** Defaults used by `makeConfig` for fields not given. */
export const DEFAULT_CONFIG: Readonly<HrmConfig> = TINY_4X4;

const KEYS: readonly (keyof HrmConfig)[] = [
  'gridSize', 'hidden', 'heads', 'expansion', 'interMultiple', 'H_layers', 'L_layers', 'H_cycles', 'L_cycles',
  'haltMaxSteps', 'haltExplorationProb', 'positions', 'ropeTheta', 'rmsEps', 'puzzleEmbLen', 'variant',
];

/** The allowed values of one numeric config field: min…max (min itself excluded when `minExclusive`). */
export interface ConfigFieldRange {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly minExclusive?: boolean;
}

export type NumericConfigField = Exclude<keyof HrmConfig, 'gridSize' | 'positions' | 'variant'>;

/**
 * The range of every numeric config field, checked whenever a config is built or read (checkpoint metadata, run.json,
 * imported checkpoints and their all_config.yaml, presets). Wide enough for the reference 27M HRM (hidden 512, 8 heads,
 * 4 + 4 layers, 2 × 2 cycles, 16 segments) and TRM (3 × 6 cycles, 16 prefix positions); narrow enough that no value
 * read from a file can make a model, a trace or a loop absurdly large. `gridSize` is 4, 6 or 9 (vocabulary n + 2);
 * `positions` is 'rope' or 'learned'; `variant` 'hrm' or 'trm'. H_layers may be 0 only for TRM.
 */
export const CONFIG_RANGES: Readonly<Record<NumericConfigField, ConfigFieldRange>> = Object.freeze({
  hidden: { min: 1, max: 8192, integer: true },
  heads: { min: 1, max: 256, integer: true },
  expansion: { min: 0, max: 16, integer: false, minExclusive: true },
  interMultiple: { min: 1, max: 131072, integer: true },
  H_layers: { min: 0, max: 64, integer: true },
  L_layers: { min: 1, max: 64, integer: true },
  H_cycles: { min: 1, max: 64, integer: true },
  L_cycles: { min: 1, max: 64, integer: true },
  haltMaxSteps: { min: 1, max: 256, integer: true },
  haltExplorationProb: { min: 0, max: 1, integer: false },
  ropeTheta: { min: 0, max: 1e9, integer: false, minExclusive: true },
  rmsEps: { min: 0, max: 1, integer: false, minExclusive: true },
  puzzleEmbLen: { min: 0, max: 256, integer: true },
});

/** The most weights (all tensors together) a config may have: 10⁹ float32 values, 4 GB. */
export const MAX_MODEL_WEIGHTS = 1_000_000_000;

/** `1…64`, `(0, 16]`-style text of a range. */
export function rangeText(r: ConfigFieldRange): string {
  if (r.integer) return `${r.min}…${r.max}`;
  return `${r.minExclusive ? '(' : '['}${r.min}, ${r.max}]`;
}

/** The problem with `value` for a field of `range`, or undefined when it is allowed. */
export function rangeProblem(name: string, value: unknown, r: ConfigFieldRange): string | undefined {
  const ok = typeof value === 'number' && Number.isFinite(value) && (r.integer ? Number.isInteger(value) : true)
    && (r.minExclusive ? value > r.min : value >= r.min) && value <= r.max;
  if (ok) return undefined;
  const what = r.integer ? `an integer in ${rangeText(r)}` : `a number in ${rangeText(r)}`;
  return `${name} must be ${what}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}

/** All weights of a config (the sum over engine/model/weights.ts's shapes, computed without building them). */
export function weightCount(c: HrmConfig): number {
  const d = modelDims(c);
  const D = c.hidden;
  const blocks = (c.variant === 'trm' ? 0 : c.H_layers) + c.L_layers;
  return d.vocab * D * 2 + (c.positions === 'learned' ? d.totalLen * D : 0) + (c.puzzleEmbLen > 0 ? D : 0)
    + blocks * (4 * D * D + 3 * d.inter * D) + 2 * D + 2 + 2 * D;
}

/** One problem with a config: the field it concerns (a config key, or 'config' for combinations) and what is wrong. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** Every problem with a config, with the field each concerns (empty when valid). */
export function configIssues(c: HrmConfig): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const add = (field: string, message: string | undefined): void => { if (message !== undefined) out.push({ field, message }); };
  if (!isGridSize(c.gridSize as number)) add('gridSize', `gridSize must be 4, 6 or 9, got ${String(c.gridSize)}`);
  for (const k of Object.keys(CONFIG_RANGES) as NumericConfigField[]) {
    const r = k === 'H_layers' && c.variant !== 'trm' ? { ...CONFIG_RANGES.H_layers, min: 1 } : CONFIG_RANGES[k];
    add(k, rangeProblem(k, c[k], r));
  }
  if (c.positions !== 'rope' && c.positions !== 'learned') add('positions', `positions must be 'rope' or 'learned', got ${String(c.positions)}`);
  if (c.variant !== 'hrm' && c.variant !== 'trm') add('variant', `variant must be 'hrm' or 'trm', got ${String(c.variant)}`);
  if (out.some((i) => i.field === 'hidden' || i.field === 'heads')) return out;
  if (c.hidden % c.heads !== 0) add('heads', `hidden (${c.hidden}) must be divisible by heads (${c.heads})`);
  else if (c.positions === 'rope' && (c.hidden / c.heads) % 2 !== 0) add('heads', `head dim hidden/heads = ${c.hidden / c.heads} must be even (RoPE rotate-half)`);
  if (out.length === 0) {
    const n = weightCount(c);
    if (n > MAX_MODEL_WEIGHTS) add('config', `the model would have ${n.toExponential(2)} weights, more than the ${MAX_MODEL_WEIGHTS.toExponential(0)} allowed`);
  }
  return out;
}

/** All problems with a config (empty when valid). */
export function configProblems(c: HrmConfig): string[] {
  return configIssues(c).map((i) => i.message);
}

/** Throws a ConfigError listing every problem. */
export function validateConfig(c: HrmConfig): HrmConfig {
  const p = configIssues(c);
  if (p.length) throw new ConfigError(p);
  return c;
}

/** Defaults (`DEFAULT_CONFIG`) overridden by `partial`, validated. */
export function makeConfig(partial: Partial<HrmConfig> = {}): HrmConfig {
  return validateConfig({ ...DEFAULT_CONFIG, ...partial });
}

/** A plain JSON object with every field (stable key order). */
export function configToJson(c: HrmConfig): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const k of KEYS) out[k] = c[k];
  return out;
}

/**
 * Parses a config from JSON text or a parsed object. Missing fields take `DEFAULT_CONFIG`'s values; unknown fields
 * and wrong types are errors (ConfigError lists them all).
 */
export function configFromJson(json: unknown): HrmConfig {
  const obj: unknown = typeof json === 'string' ? JSON.parse(json) : json;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ConfigError(['config JSON must be an object']);
  const rec = obj as Record<string, unknown>;
  const problems: ConfigIssue[] = [];
  const known = new Set<string>(KEYS);
  for (const k of Object.keys(rec)) if (!known.has(k)) problems.push({ field: k, message: `unknown field "${k}"` });
  const c: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const k of KEYS) {
    if (!(k in rec)) continue;
    const v = rec[k];
    const wantString = k === 'positions' || k === 'variant';
    if (wantString ? typeof v !== 'string' : typeof v !== 'number') problems.push({ field: k, message: `field "${k}" must be a ${wantString ? 'string' : 'number'}` });
    else c[k] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  return validateConfig(c as unknown as HrmConfig);
}

/**
 * configFromJson for a config read from a file (checkpoint metadata, run.json, …): any problem is a DataError naming
 * `file` and the field of the first problem as `<where>.<field>` (e.g. `config.haltMaxSteps`), listing every problem.
 */
export function configFromFile(json: unknown, file: string, where = 'config'): HrmConfig {
  try {
    return configFromJson(json);
  } catch (err) {
    if (err instanceof ConfigError) {
      const field = err.issues[0]?.field ?? 'config';
      throw new DataError({ file, field: field === 'config' ? where : `${where}.${field}` }, `bad model config: ${err.problems.join('; ')}`);
    }
    throw new DataError({ file, field: where }, `bad model config: ${(err as Error).message}`);
  }
}
