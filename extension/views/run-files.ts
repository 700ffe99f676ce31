/**
 * Reading what the engine writes into a run folder (engine/train/checkpoint.ts, trainer.ts, eval-session.ts):
 *
 *   <runs>/<preset>-s<seed>-<time>/run.json                  { spec: { preset, seed, mixing, augment, model, train: { steps, batch, lr }, backend: { name, detail } }, numParams, created }
 *   <runs>/<run>/step-000500.safetensors                     a checkpoint (step-*.optim.safetensors: its optimizer state)
 *   <runs>/<run>/step-000500.eval.json                       held-out figures at the top level (written by training)
 *                                                            and/or { sets: { <data file name>: figures } } (Evaluate)
 *
 * Plain JSON reading only (no numerics, no engine code), through bounded-read.ts: run.json and .eval.json are read only
 * when they are regular files of at most MAX_JSON_BYTES. Missing, refused or malformed files read as undefined.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EvalFigures } from '../../engine/protocol';
import { readBoundedJsonObject } from './bounded-read';

/** One set of figures of an .eval.json: the held-out set of the training run, or a named dataset. */
export interface EvalSet extends Pick<EvalFigures, 'step' | 'puzzles' | 'segments' | 'exact' | 'cell'> {
  /** 'held-out' for the training run's own set, else the name stored by Evaluate (the data file's name). */
  name: string;
  time?: string;
}

/** The evaluation stored beside a checkpoint. */
export interface CheckpointEval {
  file: string;
  /** Held-out first, then the named sets in file order. */
  sets: EvalSet[];
}

/** What run.json says about a run (the fields shown in the views). */
export interface RunSpecInfo {
  preset?: string;
  seed?: number;
  mixing?: boolean;
  steps?: number;
  batch?: number;
  backend?: string;
  backendDetail?: string;
  data?: string;
  created?: string;
  /** The model's ACT segment budget (spec.model.haltMaxSteps). */
  haltMaxSteps?: number;
  /** The model's grid side (spec.model.gridSize: 4, 6 or 9). */
  gridSize?: number;
  /** Digit-relabeling augmentation (spec.augment). */
  augment?: boolean;
  /** How hint twins are drawn when mixing (spec.mixingMode: 'fixed' or 'resample'). */
  mixingMode?: string;
  /** Peak learning rate (spec.train.lr). */
  lr?: number;
  /** The model's size: width, heads, H/L blocks and cycles, 'hrm' or 'trm' (spec.model), and its parameter count. */
  hidden?: number;
  heads?: number;
  hLayers?: number;
  lLayers?: number;
  hCycles?: number;
  lCycles?: number;
  variant?: string;
  numParams?: number;
}

export interface CheckpointInfo {
  file: string;
  /** From the file name (step-000500.safetensors), else the evaluation's step. */
  step: number | undefined;
  mtime: number;
  evaluation: CheckpointEval | undefined;
  /** The run folder's run.json, when the checkpoint lives in one. */
  run: RunSpecInfo | undefined;
}

export interface RunInfo {
  dir: string;
  name: string;
  spec: RunSpecInfo | undefined;
  mtime: number;
  /** Newest step first. */
  checkpoints: CheckpointInfo[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const readJson = (file: string): Promise<Json | undefined> => readBoundedJsonObject(file);

/** True for a checkpoint's weight file (not its optimizer state). */
export function isCheckpointFile(file: string): boolean {
  return file.endsWith('.safetensors') && !file.endsWith('.optim.safetensors');
}

/** `<stem>.eval.json` beside a checkpoint (engine/train/checkpoint.ts evalFileOf). */
export function evalFileOf(checkpoint: string): string {
  return `${checkpoint.slice(0, -'.safetensors'.length)}.eval.json`;
}

/** The checkpoint an .eval.json belongs to. */
export function checkpointOfEvalFile(evalFile: string): string {
  return `${evalFile.slice(0, -'.eval.json'.length)}.safetensors`;
}

const STEP_RE = /^step-(\d+)\.safetensors$/;

function figures(name: string, v: Json): EvalSet | undefined {
  const exact = num(v.exact);
  const cell = num(v.cell);
  if (exact === undefined || cell === undefined) return undefined;
  return { name, exact, cell, step: num(v.step) ?? 0, puzzles: num(v.puzzles) ?? 0, segments: num(v.segments) ?? 0, time: str(v.time) };
}

/** The evaluation stored beside `checkpoint`, or undefined when there is none (or it holds no figures). */
export async function readCheckpointEval(checkpoint: string): Promise<CheckpointEval | undefined> {
  const file = evalFileOf(checkpoint);
  const json = await readJson(file);
  if (!json) return undefined;
  const sets: EvalSet[] = [];
  const top = figures('held-out', json);
  if (top) sets.push(top);
  if (isObject(json.sets)) {
    for (const [name, v] of Object.entries(json.sets)) {
      const f = isObject(v) ? figures(name, v) : undefined;
      if (f) sets.push(f);
    }
  }
  return sets.length ? { file, sets } : undefined;
}

/** The fields of a run folder's run.json, or undefined. */
export async function readRunSpec(dir: string): Promise<RunSpecInfo | undefined> {
  const json = await readJson(path.join(dir, 'run.json'));
  if (!json || !isObject(json.spec)) return undefined;
  const s = json.spec;
  const train = isObject(s.train) ? s.train : {};
  const backend = isObject(s.backend) ? s.backend : {};
  const data = isObject(s.data) ? s.data : {};
  const model = isObject(s.model) ? s.model : {};
  return {
    haltMaxSteps: num(model.haltMaxSteps), gridSize: num(model.gridSize),
    preset: str(s.preset), seed: num(s.seed), mixing: typeof s.mixing === 'boolean' ? s.mixing : undefined,
    steps: num(train.steps), batch: num(train.batch), backend: str(backend.name), backendDetail: str(backend.detail),
    data: data.kind === 'file' ? str(data.path) : str(data.kind), created: str(json.created),
    augment: typeof s.augment === 'boolean' ? s.augment : undefined, mixingMode: str(s.mixingMode), lr: num(train.lr),
    hidden: num(model.hidden), heads: num(model.heads), hLayers: num(model.H_layers), lLayers: num(model.L_layers),
    hCycles: num(model.H_cycles), lCycles: num(model.L_cycles), variant: str(model.variant), numParams: num(json.numParams),
  };
}

async function mtimeOf(p: string): Promise<number | undefined> {
  try {
    return (await fs.stat(p)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A checkpoint file's figures and run (undefined when the file does not exist). `run` may be passed when known. */
export async function readCheckpointInfo(file: string, run?: RunSpecInfo | null): Promise<CheckpointInfo | undefined> {
  const mtime = await mtimeOf(file);
  if (mtime === undefined) return undefined;
  const evaluation = await readCheckpointEval(file);
  const m = STEP_RE.exec(path.basename(file));
  return {
    file, mtime, evaluation,
    step: m ? Number(m[1]) : evaluation?.sets[0]?.step,
    run: run === null ? undefined : (run ?? (await readRunSpec(path.dirname(file)))),
  };
}

/** The checkpoints of one run folder, newest step first. */
export async function readRunCheckpoints(dir: string, spec?: RunSpecInfo): Promise<CheckpointInfo[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const infos = await Promise.all(names.filter(isCheckpointFile).map((n) => readCheckpointInfo(path.join(dir, n), spec ?? null)));
  return infos.filter((c): c is CheckpointInfo => c !== undefined).sort((a, b) => (b.step ?? -1) - (a.step ?? -1) || b.mtime - a.mtime);
}

/** One run folder (undefined when it is not a folder). */
export async function readRun(dir: string): Promise<RunInfo | undefined> {
  try {
    const st = await fs.stat(dir);
    if (!st.isDirectory()) return undefined;
    const spec = await readRunSpec(dir);
    return { dir, name: path.basename(dir), spec, mtime: st.mtimeMs, checkpoints: await readRunCheckpoints(dir, spec) };
  } catch {
    return undefined;
  }
}

/** The run folders under `runsDir` (those with a run.json or a checkpoint), newest first. */
export async function listRuns(runsDir: string): Promise<RunInfo[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const runs = await Promise.all(entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => readRun(path.join(runsDir, e.name))));
  return runs
    .filter((r): r is RunInfo => r !== undefined && (r.spec !== undefined || r.checkpoints.length > 0))
    .sort((a, b) => (b.spec?.created ?? '').localeCompare(a.spec?.created ?? '') || b.mtime - a.mtime || a.name.localeCompare(b.name));
}
