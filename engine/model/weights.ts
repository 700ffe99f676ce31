/**
 * Named weights: the reference state-dict keys (without the `model.inner.` prefix), their PyTorch-layout shapes, which
 * are linear weights (PyTorch [out, in], kept IN MEMORY as TF.js [in, out]), which optimizer trains them, and how each
 * is initialised (docs/model.md §Initialisation).
 *
 * Groups:
 * - trainable (`trainableWeightNames`): the main optimizer's parameters; their count is the reference `num_params`
 *   (27,275,266 for the Sudoku HRM).
 * - puzzle embedding (`puzzleEmbeddingName`, only when puzzleEmbLen > 0): trained separately by sign-SGD; it gets a
 *   gradient like any trainable weight but is not counted in `num_params` (a buffer in the reference).
 * - buffers (`bufferWeightNames`): `H_init`, `L_init`, fixed forever, never on the tape.
 */
import { type HrmConfig, modelDims } from './config';

export type WeightRole = 'trainable' | 'puzzle' | 'buffer';
export type WeightInit =
  | { kind: 'truncNormal'; std: number }
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number };

export interface WeightSpec {
  name: string;
  /** PyTorch layout (what checkpoints store). */
  shape: number[];
  /** PyTorch [out, in] linear weight: stored transposed ([in, out]) in memory. */
  linear: boolean;
  role: WeightRole;
  init: WeightInit;
}

export const puzzleEmbeddingName = 'puzzle_emb.weights';
export const bufferWeightNames: readonly string[] = ['H_init', 'L_init'];

export type BlockPart = 'self_attn.qkv_proj.weight' | 'self_attn.o_proj.weight' | 'mlp.gate_up_proj.weight' | 'mlp.down_proj.weight';
export type Level = 'H_level' | 'L_level';

export function blockWeightName(level: Level, layer: number, part: BlockPart): string {
  return `${level}.layers.${layer}.${part}`;
}

/** Levels that exist: HRM has H_level and L_level, TRM only the shared L_level. */
export function levels(c: HrmConfig): { level: Level; layers: number }[] {
  return c.variant === 'trm' ? [{ level: 'L_level', layers: c.L_layers }]
    : [{ level: 'H_level', layers: c.H_layers }, { level: 'L_level', layers: c.L_layers }];
}

/** Every weight of a config, in a fixed order. */
export function weightSpecs(c: HrmConfig): WeightSpec[] {
  const d = modelDims(c);
  const D = c.hidden;
  const lecun = (fanIn: number): WeightInit => ({ kind: 'truncNormal', std: 1 / Math.sqrt(fanIn) });
  const specs: WeightSpec[] = [
    { name: 'embed_tokens.embedding_weight', shape: [d.vocab, D], linear: false, role: 'trainable', init: lecun(D) },
  ];
  if (c.positions === 'learned') {
    specs.push({ name: 'embed_pos.embedding_weight', shape: [d.totalLen, D], linear: false, role: 'trainable', init: lecun(D) });
  }
  if (c.puzzleEmbLen > 0) specs.push({ name: puzzleEmbeddingName, shape: [1, D], linear: false, role: 'puzzle', init: { kind: 'zeros' } });
  for (const { level, layers } of levels(c)) {
    for (let i = 0; i < layers; i++) {
      const lin = (part: BlockPart, out: number, inp: number): WeightSpec => (
        { name: blockWeightName(level, i, part), shape: [out, inp], linear: true, role: 'trainable', init: lecun(inp) });
      specs.push(
        lin('self_attn.qkv_proj.weight', 3 * D, D),
        lin('self_attn.o_proj.weight', D, D),
        lin('mlp.gate_up_proj.weight', 2 * d.inter, D),
        lin('mlp.down_proj.weight', D, d.inter),
      );
    }
  }
  specs.push(
    { name: 'lm_head.weight', shape: [d.vocab, D], linear: true, role: 'trainable', init: lecun(D) },
    { name: 'q_head.weight', shape: [2, D], linear: true, role: 'trainable', init: { kind: 'zeros' } },
    { name: 'q_head.bias', shape: [2], linear: false, role: 'trainable', init: { kind: 'constant', value: -5 } },
    { name: 'H_init', shape: [D], linear: false, role: 'buffer', init: { kind: 'truncNormal', std: 1 } },
    { name: 'L_init', shape: [D], linear: false, role: 'buffer', init: { kind: 'truncNormal', std: 1 } },
  );
  return specs;
}

export function weightNames(c: HrmConfig): string[] {
  return weightSpecs(c).map((s) => s.name);
}

/** PyTorch-layout shape per name. */
export function weightShapes(c: HrmConfig): Map<string, number[]> {
  return new Map(weightSpecs(c).map((s) => [s.name, s.shape]));
}

/** Names stored [out, in] by PyTorch and [in, out] in memory: transpose these on save and load. */
export function linearWeightNames(c: HrmConfig): string[] {
  return weightSpecs(c).filter((s) => s.linear).map((s) => s.name);
}

/** The main optimizer's parameters (excludes the puzzle embedding and the H_init/L_init buffers). */
export function trainableWeightNames(c: HrmConfig): string[] {
  return weightSpecs(c).filter((s) => s.role === 'trainable').map((s) => s.name);
}

/** Every weight that receives a gradient: trainable weights plus the puzzle embedding (when present). */
export function gradientWeightNames(c: HrmConfig): string[] {
  return weightSpecs(c).filter((s) => s.role !== 'buffer').map((s) => s.name);
}

/** In-memory (TF.js) shape: linear weights transposed to [in, out]. */
export function memoryShape(spec: Pick<WeightSpec, 'shape' | 'linear'>): number[] {
  return spec.linear ? [spec.shape[1], spec.shape[0]] : [...spec.shape];
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The reference `num_params`: trainable weights only (27,275,266 for HRM_SUDOKU_27M). Allocates nothing. */
export function paramCount(c: HrmConfig): number {
  return weightSpecs(c).filter((s) => s.role === 'trainable').reduce((n, s) => n + shapeSize(s.shape), 0);
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
