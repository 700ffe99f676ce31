/**
 * The `all_config.yaml` that the reference trainers write beside their checkpoints (a dump of their pydantic
 * PretrainConfig), for an HRM Lens model exported in the reference layout (export-official.ts).
 *
 * `arch` holds what the reference model classes take from the YAML (their config's other fields, batch_size,
 * seq_len, vocab_size and num_puzzle_identifiers, come from the dataset's metadata): name, loss {name, loss_type},
 * H_cycles, L_cycles, H_layers, L_layers, hidden_size, num_heads, expansion, pos_encodings, rope_theta, rms_norm_eps,
 * halt_max_steps, halt_exploration_prob, puzzle_emb_ndim, forward_dtype; TRM adds mlp_t, puzzle_emb_len and
 * no_ACT_continue. The training fields are the run's (run.json) where it recorded them and the reference's Sudoku
 * recipe otherwise; the data path is the run's dataset folder, else a placeholder the header comment names. sapientinc/HRM
 * reads `data_path`, TRM `data_paths` (a list): each variant gets its own, as its PretrainConfig requires.
 *
 * Floats are written so that PyYAML (YAML 1.1, which reads `1e-7` as a string) reads them as floats: always with a
 * '.' and a signed exponent when there is one (`1.0e-07`). Keys are sorted, as `yaml.dump` sorts them.
 */
import { stringify } from 'yaml';
import type { HrmConfig } from '../model/config';

/** `arch.name` of each variant (module@class, as the reference's load_model_class takes it). */
export const OFFICIAL_ARCH_NAMES = {
  hrm: 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1',
  trm: 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1',
} as const;

/** The reference's loss head and the loss type names. */
const LOSS_HEAD = 'losses@ACTLossHead';
const LOSS_TYPES: Readonly<Record<string, string>> = { stablemax: 'stablemax_cross_entropy', softmax: 'softmax_cross_entropy' };

/** Training settings taken from a run (any may be missing: the reference recipe fills them in). */
export interface OfficialTraining {
  batch?: number;
  lr?: number;
  lrMinRatio?: number;
  warmup?: number;
  weightDecay?: number;
  puzzleEmbLr?: number;
  puzzleEmbWeightDecay?: number;
  lossType?: string;
  /** EMA decay, when the run kept an EMA (TRM's `ema` / `ema_rate`). */
  ema?: number;
  seed?: number;
  /** The run's training dataset, when it was a reference dataset folder. */
  dataPath?: string;
}

export interface OfficialConfigInput {
  config: HrmConfig;
  /** SwiGLU expansion written as `arch.expansion` (gives the written width under the reference's rounding to 256). */
  expansion: number;
  /** `arch.puzzle_emb_ndim`: the width of `puzzle_emb.weights` as written (0 without a puzzle prefix). */
  puzzleEmbNdim: number;
  training?: OfficialTraining;
  /** `run_name` / `project_name` / `checkpoint_path` (informational in the reference). */
  runName?: string;
  checkpointPath?: string;
  /** Lines of the header comment (provenance); `#` is added. */
  header?: readonly string[];
}

/** The Sudoku recipe of the reference README (sapientinc/HRM: Sudoku-Extreme 1k, one GPU). */
export const REFERENCE_SUDOKU_RECIPE = {
  global_batch_size: 768, epochs: 20000, eval_interval: 2000, lr: 7e-5, lr_min_ratio: 1.0, lr_warmup_steps: 2000,
  weight_decay: 1.0, beta1: 0.9, beta2: 0.95, puzzle_emb_lr: 7e-5, puzzle_emb_weight_decay: 1.0,
} as const;

/** A placeholder dataset path (the reference builds Sudoku datasets with dataset/build_sudoku_dataset.py). */
export function placeholderDataPath(gridSize: number): string {
  return gridSize === 9 ? 'data/sudoku-extreme-1k-aug-1000' : `data/sudoku-${gridSize}x${gridSize}`;
}

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** The all_config.yaml document as an object (what `yaml.safe_load` of the written text gives). */
export function officialConfigObject(input: OfficialConfigInput): { [key: string]: YamlValue } {
  const c = input.config;
  const t = input.training ?? {};
  const trm = c.variant === 'trm';
  const arch: { [key: string]: YamlValue } = {
    name: OFFICIAL_ARCH_NAMES[c.variant],
    loss: { name: LOSS_HEAD, loss_type: LOSS_TYPES[t.lossType ?? 'stablemax'] ?? LOSS_TYPES.stablemax },
    H_cycles: c.H_cycles,
    L_cycles: c.L_cycles,
    H_layers: trm ? 0 : c.H_layers,
    L_layers: c.L_layers,
    hidden_size: c.hidden,
    num_heads: c.heads,
    expansion: input.expansion,
    pos_encodings: c.positions,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsEps,
    halt_max_steps: c.haltMaxSteps,
    halt_exploration_prob: c.haltExplorationProb,
    puzzle_emb_ndim: input.puzzleEmbNdim,
    forward_dtype: 'bfloat16',
  };
  if (trm) {
    arch.mlp_t = false;
    arch.puzzle_emb_len = c.puzzleEmbLen;
    arch.no_ACT_continue = true; // the engine's TRM halts on q_halt alone
  }
  const r = REFERENCE_SUDOKU_RECIPE;
  const dataPath = t.dataPath ?? placeholderDataPath(c.gridSize);
  const doc: { [key: string]: YamlValue } = {
    arch,
    ...(trm ? { data_paths: [dataPath], data_paths_test: [], evaluators: [] } : { data_path: dataPath }),
    global_batch_size: t.batch ?? r.global_batch_size,
    epochs: r.epochs,
    eval_interval: r.eval_interval,
    checkpoint_every_eval: true,
    lr: t.lr ?? r.lr,
    lr_min_ratio: t.lrMinRatio ?? r.lr_min_ratio,
    lr_warmup_steps: t.warmup ?? r.lr_warmup_steps,
    weight_decay: t.weightDecay ?? r.weight_decay,
    beta1: r.beta1,
    beta2: r.beta2,
    puzzle_emb_lr: t.puzzleEmbLr ?? r.puzzle_emb_lr,
    puzzle_emb_weight_decay: t.puzzleEmbWeightDecay ?? r.puzzle_emb_weight_decay,
    seed: t.seed ?? 0,
    project_name: 'HRM Lens export',
    run_name: input.runName ?? null,
    checkpoint_path: input.checkpointPath ?? null,
    eval_save_outputs: [],
  };
  if (trm) {
    doc.ema = t.ema !== undefined;
    doc.ema_rate = t.ema ?? 0.999;
    doc.freeze_weights = false;
  }
  return doc;
}

/** A float as PyYAML reads it back as a float: `0.1`, `2.0`, `1.0e-07`, `.inf`. */
export function pyYamlFloat(v: number): string {
  if (Number.isNaN(v)) return '.nan';
  if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s.includes('.') ? s : `${s}.0`;
  const mantissa = s.slice(0, e);
  const exp = s.slice(e + 1);
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
}

const FLOAT_TAG = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  identify: (v: unknown): boolean => typeof v === 'number' && !Number.isInteger(v),
  resolve: (s: string): number => Number.parseFloat(s),
  stringify: ({ value }: { value: unknown }): string => pyYamlFloat(value as number),
};

/** The YAML text of `officialConfigObject(input)`, keys sorted, with the header comment. */
export function officialConfigYaml(input: OfficialConfigInput): string {
  const body = stringify(officialConfigObject(input), {
    sortMapEntries: true,
    customTags: (tags) => [FLOAT_TAG, ...tags],
  });
  const header = (input.header ?? []).map((l) => `# ${l}`.trimEnd()).join('\n');
  return header ? `${header}\n${body}` : body;
}
