/**
 * The HRM / TRM model object: its config, its named weights (tf.Variables) and the constants the forward pass needs;
 * creation from a seed, loading from PyTorch-layout tensors and exporting back to them.
 *
 * Weights live in `model.weights`, keyed by the reference state-dict names (see weights.ts), IN MEMORY in TF.js
 * layout: linear weights [in, out]. `exportWeights` / `modelFromWeights` convert to and from the PyTorch layout
 * ([out, in]) that checkpoints use. The forward pass (segments, carry, one-step gradient) is in segment.ts and is
 * re-exported here, so `import { … } from './hrm'` gives the whole model API.
 */
import { tf } from '../tf';
import { Rng } from '../util/rng';
import { deriveSeed } from '../util/hash-seed';
import { type HrmConfig, type ModelDims, modelDims, validateConfig } from './config';
import { truncNormal } from './init';
import { type RopeTensors, ropeTensors } from './layers';
import {
  gradientWeightNames, memoryShape, shapeSize, transpose2d, trainableWeightNames, type WeightSpec, weightSpecs,
} from './weights';

export * from './segment';

let nextModelId = 1;

/** Constant tensors owned by a model (created once, disposed with it). */
export interface ModelConstants {
  rope: RopeTensors | undefined;
  /** [1, D] zeros: the embedding row of prefix positions 1..P−1. */
  zeroRow: tf.Tensor2D;
}

export class HrmModel {
  readonly config: HrmConfig;
  readonly dims: ModelDims;
  /** Reference name → variable, in TF.js layout (linear weights [in, out]). */
  readonly weights: Map<string, tf.Variable>;
  readonly consts: ModelConstants;
  /** Unique per process; prefixes the TF.js variable names (`hrm{id}/{name}`), which must be globally unique. */
  readonly id: number;
  private readonly byVariableName: Map<string, string>;
  private disposedFlag = false;

  /** Use createModel / modelFromWeights. `init(spec)` returns the PyTorch-layout data of one weight. */
  constructor(config: HrmConfig, init: (spec: WeightSpec) => Float32Array) {
    this.config = validateConfig({ ...config });
    this.dims = modelDims(this.config);
    this.id = nextModelId++;
    this.weights = new Map();
    this.byVariableName = new Map();
    for (const spec of weightSpecs(this.config)) {
      const pt = init(spec);
      const data = spec.linear ? transpose2d(pt, spec.shape[0], spec.shape[1]) : pt;
      const varName = `hrm${this.id}/${spec.name}`;
      const v = tf.tidy(() => tf.variable(tf.tensor(data, memoryShape(spec), 'float32'), spec.role !== 'buffer', varName));
      this.weights.set(spec.name, v);
      this.byVariableName.set(varName, spec.name);
    }
    const { hidden: D } = this.config;
    this.consts = {
      rope: this.config.positions === 'rope' ? ropeTensors(this.dims.totalLen, this.dims.headDim, this.config.ropeTheta) : undefined,
      zeroRow: tf.zeros([1, D]),
    };
    if (this.consts.rope) for (const t of Object.values(this.consts.rope)) tf.keep(t);
    tf.keep(this.consts.zeroRow);
  }

  /** Trainable parameter count (the reference `num_params`; excludes the puzzle embedding and H_init/L_init). */
  numParams(): number {
    return trainableWeightNames(this.config).reduce((n, name) => n + this.weight(name).size, 0);
  }

  /** The variable of one weight; throws for an unknown name. */
  weight(name: string): tf.Variable {
    const v = this.weights.get(name);
    if (!v) throw new Error(`model has no weight "${name}"`);
    return v;
  }

  /** Variables for names (default: everything that takes a gradient, including the puzzle embedding). */
  variables(names: readonly string[] = gradientWeightNames(this.config)): tf.Variable[] {
    return names.map((n) => this.weight(n));
  }

  /** Reference name of a TF.js variable name (as used by tf.variableGrads), or undefined. */
  nameOfVariable(variableName: string): string | undefined {
    return this.byVariableName.get(variableName);
  }

  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    for (const v of this.weights.values()) v.dispose();
    if (this.consts.rope) for (const t of Object.values(this.consts.rope)) t.dispose();
    this.consts.zeroRow.dispose();
  }
}

function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** PyTorch-layout initial values of one weight: seeded per (seed, name), so weights don't depend on each other. */
export function initialWeight(spec: WeightSpec, seed: number): Float32Array {
  const n = shapeSize(spec.shape);
  switch (spec.init.kind) {
    case 'zeros': return new Float32Array(n);
    case 'constant': return new Float32Array(n).fill(spec.init.value);
    case 'truncNormal': return truncNormal(new Rng(deriveSeed(seed, nameHash(spec.name))), n, spec.init.std);
  }
}

/** A freshly initialised model (docs/model.md §Initialisation); the same seed gives identical weights. */
export function createModel(config: HrmConfig, seed: number): HrmModel {
  return new HrmModel(config, (spec) => initialWeight(spec, seed));
}

/** One tensor as given to modelFromWeights: bare data (length checked) or data with its PyTorch-layout shape. */
export type WeightInput = Float32Array | { shape: readonly number[]; data: Float32Array };

export class WeightLoadError extends Error {
  readonly missing: readonly string[];
  readonly unknown: readonly string[];
  readonly mismatched: readonly string[];
  constructor(missing: string[], unknown: string[], mismatched: string[]) {
    const parts = [
      missing.length ? `missing: ${missing.join(', ')}` : '',
      unknown.length ? `unknown: ${unknown.join(', ')}` : '',
      mismatched.length ? `shape mismatch: ${mismatched.join('; ')}` : '',
    ].filter(Boolean);
    super(`weights do not fit the config — ${parts.join(' | ')}`);
    this.name = 'WeightLoadError';
    this.missing = missing;
    this.unknown = unknown;
    this.mismatched = mismatched;
  }
}

/** Strips the checkpoint prefixes `_orig_mod.` and `model.inner.` (in that order, each optional). */
export function normalizeWeightName(name: string): string {
  let n = name;
  if (n.startsWith('_orig_mod.')) n = n.slice('_orig_mod.'.length);
  if (n.startsWith('model.inner.')) n = n.slice('model.inner.'.length);
  return n;
}

/** Checks a PyTorch-layout tensor map against a config; returns normalised name → data or throws WeightLoadError. */
export function checkWeights(config: HrmConfig, tensors: ReadonlyMap<string, WeightInput>): Map<string, Float32Array> {
  const specs = new Map(weightSpecs(config).map((s) => [s.name, s]));
  const out = new Map<string, Float32Array>();
  const unknown: string[] = [];
  const mismatched: string[] = [];
  const mismatchedNames = new Set<string>();
  for (const [rawName, value] of tensors) {
    const name = normalizeWeightName(rawName);
    const spec = specs.get(name);
    if (!spec) { unknown.push(rawName); continue; }
    const data = value instanceof Float32Array ? value : value.data;
    const shape = value instanceof Float32Array ? undefined : value.shape;
    const badShape = shape !== undefined && (shape.length !== spec.shape.length || shape.some((d, i) => d !== spec.shape[i]));
    if (badShape || data.length !== shapeSize(spec.shape)) {
      mismatchedNames.add(name);
      mismatched.push(`${rawName} expected [${spec.shape}] (${shapeSize(spec.shape)} values), got ${shape ? `[${shape}]` : ''} (${data.length} values)`);
      continue;
    }
    out.set(name, data);
  }
  const missing = [...specs.keys()].filter((n) => !out.has(n) && !mismatchedNames.has(n));
  if (missing.length || unknown.length || mismatched.length) throw new WeightLoadError(missing, unknown, mismatched);
  return out;
}

/**
 * A model from PyTorch-layout tensors (linear weights [out, in] are transposed). Keys may carry the checkpoint
 * prefixes `_orig_mod.` / `model.inner.`. Throws WeightLoadError listing missing, unknown and shape-mismatched keys.
 */
export function modelFromWeights(config: HrmConfig, tensors: ReadonlyMap<string, WeightInput>): HrmModel {
  const checked = checkWeights(validateConfig({ ...config }), tensors);
  return new HrmModel(config, (spec) => checked.get(spec.name) as Float32Array);
}

/** Overwrites a model's weights in place from PyTorch-layout tensors (same checks as modelFromWeights). */
export function assignWeights(model: HrmModel, tensors: ReadonlyMap<string, WeightInput>): void {
  const checked = checkWeights(model.config, tensors);
  for (const spec of weightSpecs(model.config)) {
    const pt = checked.get(spec.name) as Float32Array;
    const data = spec.linear ? transpose2d(pt, spec.shape[0], spec.shape[1]) : pt;
    const v = model.weight(spec.name);
    tf.tidy(() => v.assign(tf.tensor(data, memoryShape(spec), 'float32')));
  }
}

/** Every weight in PyTorch layout (linear weights transposed back to [out, in]), in weightSpecs order. */
export function exportWeights(model: HrmModel): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const spec of weightSpecs(model.config)) {
    const mem = model.weight(spec.name).dataSync() as Float32Array;
    const data = spec.linear ? transpose2d(mem, spec.shape[1], spec.shape[0]) : Float32Array.from(mem);
    out.set(spec.name, { shape: [...spec.shape], data });
  }
  return out;
}
