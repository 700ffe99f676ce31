/**
 * Reference checkpoints → our weight names and config.
 *
 * sapientinc/HRM (`hrm_act_v1`), the paper's fork and TRM (SamsungSAILMontreal/TinyRecursiveModels) save
 * `loss_head.state_dict()`: the keys are ours (engine/model/weights.ts) behind `model.inner.`, with `_orig_mod.` in
 * front when the model was torch.compile'd (`_orig_mod.model.inner.L_level.layers.0.self_attn.qkv_proj.weight`).
 * DDP's `module.` and a bare `inner.` are stripped too. Both sides keep PyTorch's [out, in] layout for linear weights
 * on disk (our checkpoints do as well; the model transposes to [in, out] in memory), so tensors map 1:1, no transpose.
 *
 * The config comes from the tensor shapes (hidden, vocab → grid size, layers per level, SwiGLU width, learned
 * positions, puzzle prefix) and from the `all_config.yaml` the reference writes beside its checkpoints (heads,
 * cycles, halt_max_steps, rope_theta, …, which shapes cannot tell); what neither gives takes the reference defaults
 * and is listed in `notes`. Unsupported variants (TRM-MLP `mlp_t`, other arch names) and any missing, unknown or
 * mis-shaped key are DataErrors naming the file and listing every offending key. YAML values outside the config
 * ranges (engine/model/config.ts CONFIG_RANGES) are DataErrors naming the YAML file and key; weights with NaN or
 * infinite values are DataErrors naming the checkpoint and the tensor's key.
 */
import { parse as parseYaml } from 'yaml';
import { DataError } from '../util/errors';
import {
  type ConfigFieldRange, type HrmConfig, type ModelVariant, type NumericConfigField, CONFIG_RANGES, configIssues, rangeProblem,
  swigluInter, weightSpecs, shapeSize,
} from '../model';
import { assertFiniteWeights } from '../model/finite-weights';
import { isGridSize, type GridSize } from '../sudoku/geometry';

export interface NamedTensor {
  /** Source dtype, for the report ('float32', 'bfloat16', 'F32', …). */
  dtype?: string;
  shape: number[];
  data: Float32Array;
}

/** The `arch` part of a reference all_config.yaml (only the fields used here). */
export interface ReferenceArch {
  name?: string;
  hidden_size?: number;
  num_heads?: number;
  expansion?: number;
  H_layers?: number;
  L_layers?: number;
  H_cycles?: number;
  L_cycles?: number;
  halt_max_steps?: number;
  halt_exploration_prob?: number;
  pos_encodings?: string;
  rope_theta?: number;
  rms_norm_eps?: number;
  puzzle_emb_ndim?: number;
  puzzle_emb_len?: number;
  mlp_t?: boolean;
}

export interface MappedCheckpoint {
  config: HrmConfig;
  /** Our names → PyTorch-layout tensors. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  variant: ModelVariant;
  /** Key prefixes stripped (e.g. `_orig_mod.model.inner.`), with how many keys had each. */
  prefixes: Record<string, number>;
  /** Keys dropped on purpose (non-persistent caches). */
  ignored: string[];
  /** Source dtypes with tensor counts. */
  dtypes: Record<string, number>;
  /** Assumptions and facts worth telling the user. */
  notes: string[];
}

const PREFIXES = ['_orig_mod.', 'module.', 'model.', 'inner.'];
/** Caches some reference versions saved; recomputed here. */
const IGNORABLE = /^(?:.*\.)?rotary_emb\.(?:cos_cached|sin_cached|inv_freq)$/;
const FLOAT_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64', 'F32', 'F16', 'BF16']);

/** `_orig_mod.model.inner.X` → { name: 'X', prefix: '_orig_mod.model.inner.' }. */
export function stripReferencePrefix(key: string): { name: string; prefix: string } {
  let name = key;
  let prefix = '';
  for (let changed = true; changed;) {
    changed = false;
    for (const p of PREFIXES) {
      if (name.startsWith(p)) {
        name = name.slice(p.length);
        prefix += p;
        changed = true;
      }
    }
  }
  return { name, prefix };
}

function num(v: unknown, file: string, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new DataError({ file, field }, `must be a number, got ${JSON.stringify(v)}`);
}

/** The config field each numeric arch key sets; its range is that field's (CONFIG_RANGES). */
const ARCH_FIELDS: Readonly<Record<string, NumericConfigField>> = {
  hidden_size: 'hidden', num_heads: 'heads', expansion: 'expansion', H_layers: 'H_layers', L_layers: 'L_layers',
  H_cycles: 'H_cycles', L_cycles: 'L_cycles', halt_max_steps: 'haltMaxSteps', halt_exploration_prob: 'haltExplorationProb',
  rope_theta: 'ropeTheta', rms_norm_eps: 'rmsEps', puzzle_emb_len: 'puzzleEmbLen',
};
const ARCH_RANGES: Readonly<Record<string, ConfigFieldRange>> = {
  ...Object.fromEntries(Object.entries(ARCH_FIELDS).map(([k, f]) => [k, CONFIG_RANGES[f]])),
  puzzle_emb_ndim: { min: 0, max: CONFIG_RANGES.hidden.max, integer: true },
};

/** Parse the reference `all_config.yaml` (hydra dump of the pretrain config); returns its `arch` section. */
export function parseReferenceConfigYaml(text: string, file: string): ReferenceArch {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new DataError({ file }, `not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new DataError({ file }, 'expected a YAML mapping');
  const root = doc as Record<string, unknown>;
  const arch = root.arch ?? root;
  if (arch === null || typeof arch !== 'object' || Array.isArray(arch)) throw new DataError({ file, field: 'arch' }, 'expected a mapping');
  const a = arch as Record<string, unknown>;
  const out: ReferenceArch = {};
  if (a.name !== undefined) {
    if (typeof a.name !== 'string') throw new DataError({ file, field: 'arch.name' }, 'must be a string');
    out.name = a.name;
  }
  if (a.pos_encodings !== undefined) out.pos_encodings = String(a.pos_encodings);
  if (a.mlp_t !== undefined) out.mlp_t = a.mlp_t === true || a.mlp_t === 'true' || a.mlp_t === 'True';
  const numeric: (keyof ReferenceArch)[] = ['hidden_size', 'num_heads', 'expansion', 'H_layers', 'L_layers', 'H_cycles', 'L_cycles',
    'halt_max_steps', 'halt_exploration_prob', 'rope_theta', 'rms_norm_eps', 'puzzle_emb_ndim', 'puzzle_emb_len'];
  for (const k of numeric) {
    const v = num(a[k], file, `arch.${k}`);
    if (v === undefined) continue;
    const problem = rangeProblem(k, v, ARCH_RANGES[k as keyof typeof ARCH_RANGES]);
    if (problem !== undefined) throw new DataError({ file, field: `arch.${k}` }, problem);
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function variantFromArchName(name: string, file: string): ModelVariant {
  // e.g. hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1, recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1
  const module = name.split('@')[0];
  const last = module.split('.').pop() ?? '';
  if (last === 'trm' || /TinyRecursiveReasoningModel_ACTV1$/.test(name)) return 'trm';
  if (last === 'hrm' || last === 'hrm_act_v1' || /HierarchicalReasoningModel_ACTV1$/.test(name)) return 'hrm';
  throw new DataError({ file, field: 'arch.name' }, `architecture "${name}" is not supported (HRM hrm_act_v1 and TRM trm with attention are)`);
}

/** The SwiGLU width rule parameters that give `inter` for `hidden` (preferring the reference's 256). */
function swigluParams(hidden: number, inter: number, expansion: number | undefined): { expansion: number; interMultiple: number } {
  const expansions = [...(expansion !== undefined ? [expansion] : []), 4, 2, 1, 3, 8];
  for (const e of expansions) {
    for (const m of [256, 128, 64, 32, 16, 8]) if (swigluInter(hidden, e, m) === inter) return { expansion: e, interMultiple: m };
  }
  // Exact fit: interMultiple = inter holds for any expansion whose raw width lies in (0, inter].
  const e = expansion !== undefined && swigluInter(hidden, expansion, inter) === inter ? expansion : (1.5 * inter) / hidden;
  return { expansion: e, interMultiple: inter };
}

/**
 * Map a reference state dict onto our names and infer the config. `overrides` (e.g. from the command line) win over
 * the YAML, which wins over the defaults.
 */
export function mapReferenceStateDict(source: ReadonlyMap<string, NamedTensor>, opts: {
  file: string; arch?: ReferenceArch; archFile?: string; overrides?: Partial<HrmConfig>;
}): MappedCheckpoint {
  const { file } = opts;
  const arch = opts.arch ?? {};
  const archWhere = opts.archFile ?? 'all_config.yaml';
  const notes: string[] = [];
  const prefixes: Record<string, number> = {};
  const ignored: string[] = [];
  const dtypes: Record<string, number> = {};
  const byName = new Map<string, NamedTensor>();
  const rawOf = new Map<string, string>();
  const nonFloat: string[] = [];
  for (const [key, t] of source) {
    const { name, prefix } = stripReferencePrefix(key);
    if (IGNORABLE.test(name)) { ignored.push(key); continue; }
    if (t.dtype !== undefined && !FLOAT_DTYPES.has(t.dtype)) { nonFloat.push(`${key} (${t.dtype})`); continue; }
    if (byName.has(name)) throw new DataError({ file, field: key }, `maps to "${name}", as does "${rawOf.get(name)}"`);
    byName.set(name, t);
    rawOf.set(name, key);
    prefixes[prefix] = (prefixes[prefix] ?? 0) + 1;
    const dt = t.dtype ?? 'float32';
    dtypes[dt] = (dtypes[dt] ?? 0) + 1;
  }
  if (nonFloat.length) throw new DataError({ file, field: nonFloat[0] }, `non-float tensors cannot be weights: ${nonFloat.join(', ')}`);

  const fail = (field: string, reason: string): never => { throw new DataError({ file, field: rawOf.get(field) ?? field }, reason); };
  const shapeOf = (name: string, rank: number): number[] => {
    const t = byName.get(name);
    if (!t) {
      return fail(name, `missing: not an HRM / TRM state dict (keys present: ${[...rawOf.values()].slice(0, 12).join(', ')}${rawOf.size > 12 ? ', …' : ''})`);
    }
    if (t.shape.length !== rank) fail(name, `expected rank ${rank}, got shape [${t.shape.join(', ')}]`);
    return t.shape;
  };

  // TRM-MLP (token-mixing SwiGLU) is not implemented by the engine.
  const mlpT = [...byName.keys()].filter((k) => /\.mlp_t\./.test(k));
  if (mlpT.length || arch.mlp_t) {
    throw new DataError({ file, field: rawOf.get(mlpT[0]) ?? `${archWhere} arch.mlp_t` },
      `TRM-MLP (mlp_t, token-mixing SwiGLU) checkpoints are not supported; only attention blocks are. Keys: ${mlpT.slice(0, 4).map((k) => rawOf.get(k)).join(', ')}`);
  }

  // Shapes → sizes.
  const [vocab, hidden] = shapeOf('embed_tokens.embedding_weight', 2);
  const gridSize = vocab - 2;
  if (!isGridSize(gridSize)) fail('embed_tokens.embedding_weight', `vocabulary ${vocab} is not a Sudoku one (4×4: 6, 6×6: 8, 9×9: 11)`);
  if (arch.hidden_size !== undefined && arch.hidden_size !== hidden) {
    fail('embed_tokens.embedding_weight', `hidden size ${hidden} disagrees with ${archWhere} hidden_size ${arch.hidden_size}`);
  }
  const layerCount = (level: string): number => {
    let n = 0;
    const re = new RegExp(`^${level}\\.layers\\.(\\d+)\\.`);
    for (const k of byName.keys()) {
      const m = re.exec(k);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  };
  const H_layers = layerCount('H_level');
  const L_layers = layerCount('L_level');
  if (L_layers === 0) fail('L_level.layers.0.self_attn.qkv_proj.weight', 'missing: no L_level blocks in the checkpoint');
  let variant: ModelVariant = H_layers > 0 ? 'hrm' : 'trm';
  if (arch.name !== undefined) {
    const named = variantFromArchName(arch.name, archWhere);
    if (named !== variant) {
      fail(H_layers > 0 ? 'H_level.layers.0.self_attn.qkv_proj.weight' : 'L_level.layers.0.self_attn.qkv_proj.weight',
        `${archWhere} names a ${named.toUpperCase()} (${arch.name}) but the keys are a ${variant.toUpperCase()}'s (H_level ${H_layers > 0 ? 'present' : 'absent'})`);
    }
  }
  if (opts.overrides?.variant) variant = opts.overrides.variant;
  const gateUp = shapeOf('L_level.layers.0.mlp.gate_up_proj.weight', 2);
  const inter = gateUp[0] / 2;
  if (!Number.isInteger(inter) || inter < 1) fail('L_level.layers.0.mlp.gate_up_proj.weight', `odd first dimension ${gateUp[0]} (gate | up halves expected)`);
  const sw = swigluParams(hidden, inter, arch.expansion);

  let positions: HrmConfig['positions'] = byName.has('embed_pos.embedding_weight') ? 'learned' : 'rope';
  if (arch.pos_encodings !== undefined) {
    if (arch.pos_encodings !== 'rope' && arch.pos_encodings !== 'learned') {
      fail(`${archWhere} arch.pos_encodings`, `"${arch.pos_encodings}" is not supported (rope or learned)`);
    }
    if (arch.pos_encodings !== positions) {
      fail('embed_pos.embedding_weight', `${archWhere} says pos_encodings ${arch.pos_encodings} but the checkpoint ${positions === 'learned' ? 'has' : 'lacks'} embed_pos`);
    }
    positions = arch.pos_encodings as HrmConfig['positions'];
  }

  // Puzzle prefix: HRM ceil(ndim / hidden) positions; TRM puzzle_emb_len (16) unless 0.
  let puzzleEmbLen = 0;
  const pe = byName.get('puzzle_emb.weights');
  if (pe) {
    const [rows, ndim] = shapeOf('puzzle_emb.weights', 2);
    if (rows !== 1) fail('puzzle_emb.weights', `${rows} puzzle identifiers; HRM Lens models have one (Sudoku uses a single identifier)`);
    if (ndim !== hidden) fail('puzzle_emb.weights', `puzzle_emb_ndim ${ndim} differs from hidden ${hidden}: not supported`);
    const fromYaml = arch.puzzle_emb_len;
    if (variant === 'trm') {
      puzzleEmbLen = fromYaml !== undefined && fromYaml > 0 ? fromYaml : fromYaml === 0 ? 1 : 16;
      if (fromYaml === undefined) notes.push('puzzle prefix length 16 assumed (TRM default; not in the checkpoint)');
    } else {
      puzzleEmbLen = 1;
    }
  }
  if (positions === 'learned') {
    const [len, d] = shapeOf('embed_pos.embedding_weight', 2);
    const cells = gridSize * gridSize;
    if (d !== hidden) fail('embed_pos.embedding_weight', `width ${d} != hidden ${hidden}`);
    if (variant === 'trm' && pe && arch.puzzle_emb_len === undefined) puzzleEmbLen = len - cells;
    if (len !== puzzleEmbLen + cells) fail('embed_pos.embedding_weight', `${len} positions, expected ${puzzleEmbLen} prefix + ${cells} cells`);
  }

  const assumed = (what: string, value: number | string, from: string): void => { notes.push(`${what} = ${value} (${from})`); };
  const pick = (key: keyof ReferenceArch, fallback: number, what: string): number => {
    const v = arch[key];
    if (typeof v === 'number') return v;
    assumed(what, fallback, opts.arch ? `not in ${archWhere}: reference default` : `no ${archWhere}: reference default`);
    return fallback;
  };
  const defaultHeads = Math.max(1, Math.round(hidden / 64));
  const config: HrmConfig = {
    gridSize: gridSize as GridSize,
    hidden,
    heads: pick('num_heads', hidden % 64 === 0 ? defaultHeads : 1, 'heads'),
    expansion: sw.expansion,
    interMultiple: sw.interMultiple,
    H_layers: variant === 'hrm' ? H_layers : 0,
    L_layers,
    H_cycles: pick('H_cycles', variant === 'trm' ? 3 : 2, 'H_cycles'),
    L_cycles: pick('L_cycles', variant === 'trm' ? 6 : 2, 'L_cycles'),
    haltMaxSteps: pick('halt_max_steps', 16, 'haltMaxSteps'),
    haltExplorationProb: pick('halt_exploration_prob', 0.1, 'haltExplorationProb'),
    positions,
    ropeTheta: arch.rope_theta ?? 10000,
    rmsEps: arch.rms_norm_eps ?? 1e-5,
    puzzleEmbLen,
    variant,
    ...opts.overrides,
  };
  if (variant === 'trm' && H_layers > 0) notes.push(`H_level weights present in a TRM checkpoint (${H_layers} layers)`);
  const issues = configIssues(config);
  if (issues.length) {
    throw new DataError({ file, field: issues[0].field === 'config' ? 'config' : `config.${issues[0].field}` },
      `the inferred config is invalid: ${issues.map((i) => i.message).join('; ')}`);
  }

  // Every expected weight present with its shape; nothing left over.
  const specs = weightSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const missing: string[] = [];
  const mismatched: string[] = [];
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const s of specs) {
    const t = byName.get(s.name);
    if (!t) { missing.push(s.name); continue; }
    const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (!same || t.data.length !== shapeSize(s.shape)) {
      mismatched.push(`${rawOf.get(s.name)} [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      continue;
    }
    tensors.set(s.name, { shape: [...s.shape], data: t.data });
  }
  const unknown = [...byName.keys()].filter((k) => !expected.has(k)).map((k) => rawOf.get(k) as string);
  if (missing.length || unknown.length || mismatched.length) {
    const parts = [
      missing.length ? `missing keys: ${missing.join(', ')}` : '',
      unknown.length ? `unknown keys: ${unknown.join(', ')}` : '',
      mismatched.length ? `wrong shapes: ${mismatched.join('; ')}` : '',
    ].filter(Boolean);
    throw new DataError({ file, field: 'state dict' }, `does not match an ${variant.toUpperCase()} of the inferred config — ${parts.join(' | ')}`);
  }
  assertFiniteWeights(file, [...tensors].map(([name, t]) => [rawOf.get(name) ?? name, t] as const));
  return { config, tensors, variant, prefixes, ignored, dtypes, notes };
}
