/**
 * Training checkpoints on disk (docs/architecture.md §On disk):
 *
 *   step-000500.safetensors        weights in PyTorch layout (linear weights [out, in]) with
 *                                  __metadata__ = { format: 'hrm-lens', format_version, step, config: JSON, meta: JSON }
 *   step-000500.optim.safetensors  optimizer / EMA arrays, with __metadata__ = { format: 'hrm-lens-optim', step,
 *                                  state: JSON (step counters, RNG states, slot carry, …) }
 *   step-000500.eval.json          evaluation results, written later by writeEvalResult
 *
 * Every file is written atomically (temp file beside it + fsync + rename): a killed writer leaves at most a dot-file
 * `.step-….tmp`, which listCheckpoints ignores. The optimizer file is written before the weights file, so a visible
 * checkpoint always has its optimizer state. After a save, checkpoints beyond the newest `keepLast` (by step) are
 * pruned with their optimizer and eval files; the one just written is never pruned.
 *
 * In memory, linear weights are [in, out]; `transposeNames` lists them (the model's `linearWeightNames(config)`) and
 * they are transposed on save. loadCheckpoint returns PyTorch layout; `toMemoryLayout`/`assignWeights` undo it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { encodeSafetensors, readSafetensors, type SafeTensorInput } from '../interop/safetensors';
import { assertFiniteWeights } from '../model/finite-weights';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A named array with its shape (optimizer moments, EMA shadow, slot carry, …). */
export interface StateArray {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** Serialisable state of a training component: arrays plus a JSON object. */
export interface StateDict {
  arrays: Record<string, StateArray>;
  json: JsonObject;
}

export interface SaveCheckpointOptions {
  /** Model weights by reference state-dict name, in memory layout. */
  weights: ReadonlyMap<string, tf.Tensor>;
  /** Weights stored [in, out] in memory, to be written [out, in] (PyTorch layout). */
  transposeNames: ReadonlySet<string>;
  /** Model config (JSON). */
  config: JsonObject;
  /** Run id, step, seed, backend, dataset spec, data mixing, time, … */
  meta: JsonObject;
  /** Written to `<stem>.optim.safetensors` when given. */
  optimizerState?: StateDict;
  /** Keep only the newest N checkpoints (>= 1); undefined keeps all. */
  keepLast?: number;
}

export interface SavedCheckpoint {
  file: string;
  optimFile?: string;
  /** Weight files removed by pruning. */
  pruned: string[];
}

export interface LoadedCheckpoint {
  file: string;
  step: number;
  config: JsonObject;
  meta: JsonObject;
  /** Weights in PyTorch layout, float32. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  /** Present when `<stem>.optim.safetensors` exists. */
  optimizer?: StateDict;
}

export interface CheckpointEntry {
  step: number;
  file: string;
}

export const CHECKPOINT_FORMAT = 'hrm-lens';
export const OPTIM_FORMAT = 'hrm-lens-optim';
const FORMAT_VERSION = '1';
const CHECKPOINT_RE = /^step-(\d+)\.safetensors$/;

/** `step-000500.safetensors` (6 digits, more when needed). */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`checkpoint step must be an integer >= 0, got ${step}`);
  return `step-${String(step).padStart(6, '0')}.safetensors`;
}

/** The path without `.safetensors` (`…/step-000500`). */
export function checkpointStem(file: string): string {
  return file.endsWith('.safetensors') ? file.slice(0, -'.safetensors'.length) : file;
}

export function optimFileOf(file: string): string {
  return `${checkpointStem(file)}.optim.safetensors`;
}

export function evalFileOf(file: string): string {
  return `${checkpointStem(file)}.eval.json`;
}

/** Transpose a row-major [rows, cols] array. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/** Combine several components' states under prefixes: arrays `<part>/<name>`, json `{ <part>: json }`. */
export function combineStates(parts: Record<string, StateDict>, extraJson: JsonObject = {}): StateDict {
  const arrays: Record<string, StateArray> = {};
  const json: JsonObject = { ...extraJson };
  for (const [part, s] of Object.entries(parts)) {
    if (part.includes('/')) throw new Error(`combineStates: part name "${part}" must not contain "/"`);
    for (const [k, a] of Object.entries(s.arrays)) arrays[`${part}/${k}`] = a;
    json[part] = s.json;
  }
  return { arrays, json };
}

/** One component's state back out of combineStates' result (undefined when the part is absent). */
export function pickState(state: StateDict, part: string): StateDict | undefined {
  const json = state.json[part];
  if (json === undefined || json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const arrays: Record<string, StateArray> = {};
  const prefix = `${part}/`;
  for (const [k, a] of Object.entries(state.arrays)) if (k.startsWith(prefix)) arrays[k.slice(prefix.length)] = a;
  return { arrays, json };
}

function weightToInput(name: string, t: tf.Tensor, transpose: boolean): SafeTensorInput {
  if (t.dtype !== 'float32') throw new Error(`saveCheckpoint: weight "${name}" must be float32, is ${t.dtype}`);
  const data = t.dataSync() as Float32Array; // encoded (copied) before the first await
  if (!transpose) return { shape: [...t.shape], data };
  if (t.rank !== 2) {
    throw new Error(`saveCheckpoint: "${name}" is listed for transposition but is not rank 2 (shape [${t.shape.join(', ')}])`);
  }
  const [rows, cols] = t.shape as [number, number];
  return { shape: [cols, rows], data: transpose2d(data, rows, cols) };
}

/**
 * Write a checkpoint for `step` into `dir`; prune old ones when keepLast is set. Weights and optimizer state are
 * snapshotted synchronously, before the first await, so training may go on while the files are written.
 */
export async function saveCheckpoint(dir: string, step: number, options: SaveCheckpointOptions): Promise<SavedCheckpoint> {
  if (options.keepLast !== undefined && !(Number.isInteger(options.keepLast) && options.keepLast >= 1)) {
    throw new RangeError(`saveCheckpoint: keepLast must be an integer >= 1, got ${options.keepLast}`);
  }
  for (const name of options.transposeNames) {
    if (!options.weights.has(name)) throw new Error(`saveCheckpoint: transposeNames lists "${name}", which is not a weight`);
  }
  const file = path.join(dir, checkpointFileName(step));
  const tensors = new Map<string, SafeTensorInput>();
  for (const [name, t] of options.weights) tensors.set(name, weightToInput(name, t, options.transposeNames.has(name)));
  const weightBytes = encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT, format_version: FORMAT_VERSION, step: String(step),
    config: JSON.stringify(options.config), meta: JSON.stringify(options.meta),
  });
  tensors.clear();
  const optimBytes = options.optimizerState === undefined ? undefined : encodeSafetensors(options.optimizerState.arrays, {
    format: OPTIM_FORMAT, format_version: FORMAT_VERSION, step: String(step), state: JSON.stringify(options.optimizerState.json),
  });

  // Optimizer file first: a visible weights file always has its optimizer state beside it.
  const optimFile = optimFileOf(file);
  if (optimBytes !== undefined) await writeFileAtomic(optimFile, optimBytes);
  else await fs.rm(optimFile, { force: true }); // a stale one from an earlier run must not pair with new weights
  await writeFileAtomic(file, weightBytes);
  await fs.rm(evalFileOf(file), { force: true }); // results for an older file of the same name are stale

  const pruned: string[] = [];
  if (options.keepLast !== undefined) {
    const all = await listCheckpoints(dir);
    const keep = new Set(all.slice(-options.keepLast).map((c) => c.file));
    keep.add(file);
    for (const c of all) {
      if (keep.has(c.file)) continue;
      await Promise.all([c.file, optimFileOf(c.file), evalFileOf(c.file)].map((f) => fs.rm(f, { force: true })));
      pruned.push(c.file);
    }
  }
  return optimBytes !== undefined ? { file, optimFile, pruned } : { file, pruned };
}

function parseJsonObject(text: string | undefined, file: string, field: string): JsonObject {
  if (text === undefined) throw new DataError({ file, field }, `missing "${field}" in the safetensors metadata`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DataError({ file, field }, `metadata "${field}" is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataError({ file, field }, `metadata "${field}" must be a JSON object`);
  return v as JsonObject;
}

function parseStep(text: string | undefined, file: string): number {
  const step = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(step)) {
    throw new DataError({ file, field: 'step' }, `metadata "step" must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return step;
}

/**
 * Read a checkpoint written by saveCheckpoint (and its optimizer file, if present). Weights with NaN or infinite
 * values are a DataError naming the file and the tensor (engine/model/finite-weights.ts).
 */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  const st = await readSafetensors(file);
  const md = st.metadata;
  if (md.format !== CHECKPOINT_FORMAT) {
    throw new DataError({ file, field: '__metadata__.format' },
      `not an HRM Lens checkpoint (metadata format ${JSON.stringify(md.format)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  const step = parseStep(md.step, file);
  const config = parseJsonObject(md.config, file, 'config');
  const meta = parseJsonObject(md.meta, file, 'meta');
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of st.tensors) {
    if (!(t.data instanceof Float32Array)) throw new DataError({ file, field: name }, `weight must be a float tensor (F32, F16 or BF16), found ${t.dtype}`);
    tensors.set(name, { shape: t.shape, data: t.data });
  }
  assertFiniteWeights(file, tensors);
  const result: LoadedCheckpoint = { file, step, config, meta, tensors };
  const optimFile = optimFileOf(file);
  let exists = true;
  try {
    await fs.access(optimFile);
  } catch {
    exists = false;
  }
  if (exists) result.optimizer = await loadOptimizerState(optimFile, step);
  return result;
}

/** Read an optimizer-state file; `expectStep` checks it belongs to the weights it sits beside. */
export async function loadOptimizerState(file: string, expectStep?: number): Promise<StateDict> {
  const st = await readSafetensors(file);
  const md = st.metadata;
  if (md.format !== OPTIM_FORMAT) {
    throw new DataError({ file, field: '__metadata__.format' }, `not an HRM Lens optimizer file (format ${JSON.stringify(md.format)}, expected "${OPTIM_FORMAT}")`);
  }
  const step = parseStep(md.step, file);
  if (expectStep !== undefined && step !== expectStep) {
    throw new DataError({ file, field: 'step' }, `optimizer state is for step ${step}, the weights beside it are for step ${expectStep}`);
  }
  const json = parseJsonObject(md.state, file, 'state');
  const arrays: Record<string, StateArray> = {};
  for (const [name, t] of st.tensors) {
    if (t.data instanceof Float32Array || t.data instanceof Int32Array || t.data instanceof Uint8Array) {
      arrays[name] = { shape: t.shape, data: t.data };
    } else {
      throw new DataError({ file, field: name }, `optimizer arrays must be F32, I32 or U8, found ${t.dtype}`);
    }
  }
  return { arrays, json };
}

/** Checkpoints in `dir` (weights files `step-N.safetensors`), oldest step first; [] when the folder is missing. */
export async function listCheckpoints(dir: string): Promise<CheckpointEntry[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: CheckpointEntry[] = [];
  for (const name of names) {
    const m = CHECKPOINT_RE.exec(name);
    if (m) out.push({ step: Number(m[1]), file: path.join(dir, name) });
  }
  return out.sort((a, b) => a.step - b.step || (a.file < b.file ? -1 : 1));
}

/** The newest checkpoint in `dir`, or undefined. */
export async function latestCheckpoint(dir: string): Promise<CheckpointEntry | undefined> {
  const all = await listCheckpoints(dir);
  return all[all.length - 1];
}

/** Store evaluation results beside a checkpoint as `<stem>.eval.json` (atomic). */
export async function writeEvalResult(checkpointFile: string, result: JsonValue): Promise<string> {
  const file = evalFileOf(checkpointFile);
  await writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** The evaluation results beside a checkpoint, or undefined when there are none. */
export async function readEvalResult(checkpointFile: string): Promise<JsonValue | undefined> {
  const file = evalFileOf(checkpointFile);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new DataError({ file }, `not valid JSON: ${(err as Error).message}`);
  }
}

/** Loaded (PyTorch-layout) tensors turned back into memory layout ([in, out] for `transposeNames`). */
export function toMemoryLayout(tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>,
  transposeNames: ReadonlySet<string>): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of tensors) {
    if (!transposeNames.has(name)) {
      out.set(name, t);
      continue;
    }
    if (t.shape.length !== 2) throw new Error(`toMemoryLayout: "${name}" should be rank 2, has shape [${t.shape.join(', ')}]`);
    const [rows, cols] = t.shape;
    out.set(name, { shape: [cols, rows], data: transpose2d(t.data, rows, cols) });
  }
  return out;
}

/**
 * Assign loaded (PyTorch-layout) tensors into model variables. Every variable must be present with the right
 * shape; extra tensors in the file are an error unless `allowExtra`. Errors name the checkpoint and the tensor.
 */
export function assignWeights(weights: ReadonlyMap<string, tf.Variable>, loaded: Pick<LoadedCheckpoint, 'file' | 'tensors'>,
  transposeNames: ReadonlySet<string>, options: { allowExtra?: boolean } = {}): void {
  const mem = toMemoryLayout(loaded.tensors, transposeNames);
  const file = loaded.file;
  for (const [name, v] of weights) {
    const t = mem.get(name);
    if (t === undefined) throw new DataError({ file, field: name }, 'the checkpoint has no such weight');
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new DataError({ file, field: name }, `shape [${t.shape.join(', ')}] (memory layout) does not match the model's [${v.shape.join(', ')}]`);
    }
  }
  if (!options.allowExtra) {
    for (const name of mem.keys()) if (!weights.has(name)) throw new DataError({ file, field: name }, 'the model has no such weight');
  }
  for (const [name, v] of weights) {
    const t = mem.get(name) as { shape: number[]; data: Float32Array };
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, v.dtype)));
  }
}
