/**
 * The models that ship with the extension: every `*.safetensors` at the top of its `models/` folder whose header marks
 * it as an HRM Lens checkpoint (checkpoint-header.ts), with its `<name>.eval.json` (the held-out figures). The
 * checkpoint pickers offer them (those of the puzzle's grid size for a puzzle), the Models view lists them, and
 * Inspect Puzzle uses the one model of a grid size when there is exactly one. Sub-folders (a model's training run,
 * `models/<name>-run/`) are not looked into; at most MAX_SHIPPED_MODELS files are read. No `vscode` import, no
 * numerics: unit-tested on real files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileReadRefused, readBoundedText } from './bounded-read';
import { readCheckpointHeader } from './checkpoint-header';
import { type EvalSet, evalFileOf, isCheckpointFile, readCheckpointEval } from './run-files';

/** Most `.safetensors` files of the models folder that are read (in name order). */
export const MAX_SHIPPED_MODELS = 64;

export interface ShippedModel {
  /** Absolute path of the checkpoint. */
  file: string;
  /** The file name without `.safetensors` ("small-6x6"). */
  name: string;
  gridSize: 4 | 6 | 9 | undefined;
  /** The preset it was trained with (the checkpoint's metadata). */
  preset: string | undefined;
  step: number | undefined;
  /** Size of the checkpoint file in bytes. */
  bytes: number;
  /** The figures of its .eval.json: the held-out set of its training run, else the first named set. */
  heldOut: EvalSet | undefined;
  /** Why its .eval.json gave no figures although the file is there (unreadable, not JSON, no figures). */
  evalProblem: string | undefined;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Why an .eval.json that exists gave no figures. */
async function evalProblemOf(evalFile: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readBoundedText(evalFile);
  } catch (e) {
    if (e instanceof FileReadRefused && e.reason === 'missing') return undefined;
    return `${path.basename(evalFile)} was not read: ${e instanceof FileReadRefused ? e.detail : e instanceof Error ? e.message : String(e)}`;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${path.basename(evalFile)} is not a JSON object`;
  } catch (e) {
    return `${path.basename(evalFile)} is not JSON (${e instanceof Error ? e.message.slice(0, 120) : String(e)})`;
  }
  return `${path.basename(evalFile)} holds no exact and cell accuracy`;
}

/** One file of the models folder as a shipped model, or undefined when it is no HRM Lens checkpoint. */
export async function readShippedModel(file: string): Promise<ShippedModel | undefined> {
  const { kind, preset } = await readCheckpointHeader(file);
  if (!kind.hrm) return undefined;
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const evaluation = await readCheckpointEval(file);
  const heldOut = evaluation?.sets.find((s) => s.name === 'held-out') ?? evaluation?.sets[0];
  return {
    file, name: path.basename(file, '.safetensors'), gridSize: kind.gridSize, preset, step: kind.step ?? heldOut?.step, bytes: st.size,
    heldOut, evalProblem: heldOut ? undefined : await evalProblemOf(evalFileOf(file)),
  };
}

/**
 * The shipped models of `dir` (absolute paths), by grid size (unknown last), then name. A missing or unreadable folder
 * has none; files that are no HRM Lens checkpoint, optimizer state and sub-folders are left out.
 */
export async function readShippedModels(dir: string): Promise<ShippedModel[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const names = entries.filter((e) => e.isFile() && isCheckpointFile(e.name)).map((e) => e.name).sort().slice(0, MAX_SHIPPED_MODELS);
  const models: ShippedModel[] = [];
  for (const n of names) {
    const m = await readShippedModel(path.join(path.resolve(dir), n));
    if (m) models.push(m);
  }
  return models.sort((a, b) => (a.gridSize ?? 99) - (b.gridSize ?? 99) || a.name.localeCompare(b.name));
}

/** "small-6x6 (shipped model)": the pickers' label. */
export function shippedModelLabel(m: ShippedModel): string {
  return `${m.name} (shipped model)`;
}

/** "held-out exact 91.8%", "not evaluated" or "evaluation unreadable". */
export function shippedAccuracyText(m: ShippedModel): string {
  return m.heldOut ? `${m.heldOut.name} exact ${pct(m.heldOut.exact)}` : m.evalProblem ? 'evaluation unreadable' : 'not evaluated';
}

/** "6×6 · preset small-6x6 · held-out exact 91.8%": the pickers' and the Models view's description. */
export function shippedModelDescription(m: ShippedModel): string {
  return [m.gridSize ? `${m.gridSize}×${m.gridSize}` : 'grid size unknown', ...(m.preset ? [`preset ${m.preset}`] : []), shippedAccuracyText(m)].join(' · ');
}

/** "models/small-6x6.safetensors · step 20000 · 280 KiB · cell 99.5%, 500 puzzles, 8 segments": the pickers' detail line. */
export function shippedModelDetail(m: ShippedModel): string {
  const h = m.heldOut;
  return [
    `models/${path.basename(m.file)}`, ...(m.step !== undefined ? [`step ${m.step}`] : []), `${Math.max(1, Math.round(m.bytes / 1024))} KiB`,
    ...(h ? [`cell ${pct(h.cell)}, ${h.puzzles} puzzles, ${h.segments} segments`] : m.evalProblem ? [m.evalProblem] : []),
  ].join(' · ');
}
