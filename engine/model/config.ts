/**
 * HRM / TRM model configuration: fields, defaults, presets, validation, derived sizes and a JSON round-trip.
 *
 * Field names follow the reference (`H_layers`, `L_cycles`, …) where the brief and the papers use them.
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
  constructor(problems: readonly string[]) {
    super(`invalid HRM config: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
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

/** The 4×4 demo model (hrm-reference §10.3 "tiny-4x4", with SwiGLU rounding to 32 as in the prototype). */
export const TINY_4X4: Readonly<HrmConfig> = Object.freeze({
  gridSize: 4, hidden: 64, heads: 2, expansion: 2, interMultiple: 32,
  H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2,
  haltMaxSteps: 4, haltExplorationProb: 0.1,
  positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});

/** The reference Sudoku-Extreme HRM (hrm-reference §1.1): 27,275,266 trainable parameters. */
export const HRM_SUDOKU_27M: Readonly<HrmConfig> = Object.freeze({
  gridSize: 9, hidden: 512, heads: 8, expansion: 4, interMultiple: 256,
  H_layers: 4, L_layers: 4, H_cycles: 2, L_cycles: 2,
  haltMaxSteps: 16, haltExplorationProb: 0.1,
  positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});

/** TRM with attention (hrm-reference §1.11, "TRM-Att"): one shared 2-block net, 6,828,034 trainable parameters. */
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

/** All problems with a config (empty when valid). */
export function configProblems(c: HrmConfig): string[] {
  const p: string[] = [];
  const posInt = (k: keyof HrmConfig, min: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) p.push(`${k} must be an integer >= ${min}, got ${String(v)}`);
  };
  const posNum = (k: keyof HrmConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) p.push(`${k} must be a finite number > 0, got ${String(v)}`);
  };
  if (!isGridSize(c.gridSize as number)) p.push(`gridSize must be 4, 6 or 9, got ${String(c.gridSize)}`);
  posInt('hidden', 1);
  posInt('heads', 1);
  posNum('expansion');
  posInt('interMultiple', 1);
  if (c.variant === 'hrm') posInt('H_layers', 1);
  else if (typeof c.H_layers !== 'number' || !Number.isInteger(c.H_layers) || c.H_layers < 0) p.push(`H_layers must be an integer >= 0, got ${String(c.H_layers)}`);
  posInt('L_layers', 1);
  posInt('H_cycles', 1);
  posInt('L_cycles', 1);
  posInt('haltMaxSteps', 1);
  if (typeof c.haltExplorationProb !== 'number' || !(c.haltExplorationProb >= 0 && c.haltExplorationProb <= 1)) {
    p.push(`haltExplorationProb must be in [0, 1], got ${String(c.haltExplorationProb)}`);
  }
  if (c.positions !== 'rope' && c.positions !== 'learned') p.push(`positions must be 'rope' or 'learned', got ${String(c.positions)}`);
  posNum('ropeTheta');
  posNum('rmsEps');
  posInt('puzzleEmbLen', 0);
  if (c.variant !== 'hrm' && c.variant !== 'trm') p.push(`variant must be 'hrm' or 'trm', got ${String(c.variant)}`);
  if (Number.isInteger(c.hidden) && Number.isInteger(c.heads) && c.heads >= 1) {
    if (c.hidden % c.heads !== 0) p.push(`hidden (${c.hidden}) must be divisible by heads (${c.heads})`);
    else if (c.positions === 'rope' && (c.hidden / c.heads) % 2 !== 0) p.push(`head dim hidden/heads = ${c.hidden / c.heads} must be even (RoPE rotate-half)`);
  }
  return p;
}

/** Throws a ConfigError listing every problem. */
export function validateConfig(c: HrmConfig): HrmConfig {
  const p = configProblems(c);
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
  const problems: string[] = [];
  const known = new Set<string>(KEYS);
  for (const k of Object.keys(rec)) if (!known.has(k)) problems.push(`unknown field "${k}"`);
  const c: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const k of KEYS) {
    if (!(k in rec)) continue;
    const v = rec[k];
    const wantString = k === 'positions' || k === 'variant';
    if (wantString ? typeof v !== 'string' : typeof v !== 'number') problems.push(`field "${k}" must be a ${wantString ? 'string' : 'number'}`);
    else c[k] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  return validateConfig(c as unknown as HrmConfig);
}
