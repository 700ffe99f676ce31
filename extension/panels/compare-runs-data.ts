/**
 * The data of "HRM: Compare Runs": several run folders read the way the training dashboard reads one (run.json and the
 * checkpoints' .eval.json through run-files.ts, metrics.jsonl through training-history.ts), assembled into the table
 * of settings and held-out accuracies (one row per run, one column per setting) and each run's curves. A log of more
 * than MAX_COMPARE_POINTS steps is reduced to bucket means (webview/training-series.ts reducePoints, the dashboard's
 * series maths), so that a dozen long runs stay a few MiB on the wire. Also the table as CSV. No `vscode` import:
 * unit-tested on real run folders.
 */
import * as path from 'node:path';
import type { CompareCell, CompareColumn, CompareHeldOut, CompareRun } from '../../webview/protocol';
import { reducePoints } from '../../webview/training-series';
import { type CheckpointInfo, type RunSpecInfo, readRun } from '../views/run-files';
import { csvLine } from './csv';
import { type MetricsHistory, readMetricsHistory } from './training-history';

/** Runs shown side by side at most (a larger selection is cut to the first ones, with a warning). */
export const MAX_COMPARE_RUNS = 12;
/** Points per run on the wire at most: a longer history arrives as bucket means. */
export const MAX_COMPARE_POINTS = 4000;
/** Columns of evaluation sets named by Evaluate (beside the held-out set) at most: the most common names. */
export const MAX_SET_COLUMNS = 6;

/** What the table needs of one run folder (its curves are kept apart: see ComparedRun). */
export interface RunReading {
  dir: string;
  name: string;
  spec: RunSpecInfo | undefined;
  /** Newest step first (run-files.ts). */
  checkpoints: CheckpointInfo[];
  /** The last step of metrics.jsonl. */
  lastStep: number | undefined;
  /** Whether the folder could be read as a folder at all. */
  found: boolean;
}

/** A run's curves as posted (everything of CompareRun but the table's cells). */
export type CompareCurves = Omit<CompareRun, 'cells'>;

/** One run folder read: what the table needs, and its curves. */
export interface ComparedRun {
  reading: RunReading;
  curves: CompareCurves;
}

/**
 * Reads one run folder: run.json, the checkpoints' evaluations and metrics.jsonl (each bounded as the views read them);
 * the history is reduced to its curves here, so that only one log at a time is held whole.
 */
export async function readRunForComparison(dir: string, maxMetricsBytes?: number): Promise<ComparedRun> {
  const resolved = path.resolve(dir);
  const [run, history] = await Promise.all([readRun(resolved), readMetricsHistory(resolved, maxMetricsBytes)]);
  const reading: RunReading = {
    dir: resolved, name: path.basename(resolved), spec: run?.spec, checkpoints: run?.checkpoints ?? [], lastStep: history.points.at(-1)?.step, found: run !== undefined,
  };
  return { reading, curves: curvesOf(reading, history) };
}

/** The held-out figures of the run's evaluated checkpoints, oldest step first. */
export function heldOutHistory(r: RunReading): CompareHeldOut[] {
  const out: CompareHeldOut[] = [];
  for (const c of r.checkpoints) {
    const h = c.evaluation?.sets.find((s) => s.name === 'held-out');
    if (h && c.step !== undefined) out.push({ step: c.step, exact: h.exact, cell: h.cell, puzzles: h.puzzles });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The figures of evaluation set `name` of the newest checkpoint that has them. */
function newestSet(r: RunReading, name: string): { exact: number; cell: number; step: number } | undefined {
  for (const c of r.checkpoints) {
    const s = c.evaluation?.sets.find((x) => x.name === name);
    if (s) return { exact: s.exact, cell: s.cell, step: c.step ?? s.step };
  }
  return undefined;
}

/** Evaluation sets named by Evaluate in any of the runs, the most common first (then by name). */
function namedSets(readings: readonly RunReading[]): string[] {
  const count = new Map<string, number>();
  for (const r of readings) {
    const names = new Set(r.checkpoints.flatMap((c) => c.evaluation?.sets.map((s) => s.name) ?? []).filter((n) => n !== 'held-out'));
    for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  }
  return [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_SET_COLUMNS).map(([n]) => n);
}

interface ColumnDef extends CompareColumn {
  value(r: RunReading): CompareCell;
}

const opt = <T extends CompareCell>(v: T | undefined): T | null => (v === undefined ? null : v);

function modelText(s: RunSpecInfo | undefined): string | null {
  if (!s || s.hidden === undefined) return null;
  const parts = [`${s.variant ?? 'hrm'} D${s.hidden}`];
  if (s.heads !== undefined) parts.push(`${s.heads} heads`);
  if (s.hLayers !== undefined && s.lLayers !== undefined) parts.push(`H${s.hLayers}/L${s.lLayers} blocks`);
  if (s.hCycles !== undefined && s.lCycles !== undefined) parts.push(`${s.hCycles}×${s.lCycles} cycles`);
  return parts.join(' · ');
}

function mixingText(s: RunSpecInfo | undefined): string | null {
  if (s?.mixing === undefined) return null;
  return s.mixing ? `on${s.mixingMode ? ` (${s.mixingMode})` : ''}` : 'off';
}

function dataText(s: RunSpecInfo | undefined): string | null {
  if (!s?.data) return null;
  return s.data === 'generated' ? 'generated' : path.basename(s.data);
}

const BASE_COLUMNS: ColumnDef[] = [
  { key: 'run', label: 'run', kind: 'text', title: 'the run folder', value: (r) => r.name },
  { key: 'preset', label: 'preset', kind: 'text', title: 'the preset it started from', value: (r) => opt(r.spec?.preset) },
  { key: 'seed', label: 'seed', kind: 'int', title: 'the seed of the model and the data', value: (r) => opt(r.spec?.seed) },
  { key: 'mixing', label: 'mixing', kind: 'text', title: 'data mixing (hint twins), and how the twins are drawn', value: (r) => mixingText(r.spec) },
  { key: 'augment', label: 'augment', kind: 'flag', title: 'digit-relabeling augmentation', value: (r) => opt(r.spec?.augment) },
  { key: 'data', label: 'data', kind: 'text', title: 'generated puzzles, or the training file', value: (r) => dataText(r.spec) },
  { key: 'grid', label: 'grid', kind: 'text', title: 'the Sudoku size', value: (r) => (r.spec?.gridSize ? `${r.spec.gridSize}×${r.spec.gridSize}` : null) },
  { key: 'step', label: 'step', kind: 'int', title: 'the last step logged in metrics.jsonl (else the newest checkpoint)', value: (r) => r.lastStep ?? opt(r.checkpoints[0]?.step) },
  { key: 'steps', label: 'of steps', kind: 'int', title: 'the target step count', value: (r) => opt(r.spec?.steps) },
  { key: 'batch', label: 'batch', kind: 'int', title: 'the global batch', value: (r) => opt(r.spec?.batch) },
  { key: 'lr', label: 'lr', kind: 'number', title: 'the peak learning rate', value: (r) => opt(r.spec?.lr) },
  { key: 'model', label: 'model', kind: 'text', title: 'variant, width, heads, H/L blocks, H×L cycles', value: (r) => modelText(r.spec) },
  { key: 'params', label: 'params', kind: 'int', title: 'the parameter count', value: (r) => opt(r.spec?.numParams) },
  { key: 'segments', label: 'segments', kind: 'int', title: 'the ACT segment budget (M_max)', value: (r) => opt(r.spec?.haltMaxSteps) },
  { key: 'heldOutExact', label: 'held-out exact', kind: 'percent', title: 'exact accuracy on the run\'s held-out set, newest evaluated checkpoint', value: (r) => opt(heldOutHistory(r).at(-1)?.exact) },
  { key: 'heldOutCell', label: 'held-out cell', kind: 'percent', title: 'cell accuracy on the run\'s held-out set, newest evaluated checkpoint', value: (r) => opt(heldOutHistory(r).at(-1)?.cell) },
  { key: 'heldOutStep', label: 'evaluated at', kind: 'int', title: 'the step of that checkpoint', value: (r) => opt(heldOutHistory(r).at(-1)?.step) },
  { key: 'bestExact', label: 'best held-out exact', kind: 'percent', title: 'the best held-out exact accuracy of the run\'s checkpoints (those kept)', value: (r) => {
    const h = heldOutHistory(r);
    return h.length ? h.reduce((best, x) => (x.exact > best ? x.exact : best), h[0].exact) : null;
  } },
];

const TAIL_COLUMNS: ColumnDef[] = [
  { key: 'backend', label: 'backend', kind: 'text', title: 'the compute backend it trained on', value: (r) => opt(r.spec?.backend) },
  { key: 'created', label: 'created', kind: 'text', title: 'when the run started', value: (r) => opt(r.spec?.created) },
];

function columnDefs(readings: readonly RunReading[]): ColumnDef[] {
  const sets: ColumnDef[] = namedSets(readings).map((name) => ({
    key: `set:${name}`, label: `exact · ${name}`, kind: 'percent', title: `exact accuracy on ${name} (Evaluate), newest checkpoint evaluated on it`,
    value: (r) => opt(newestSet(r, name)?.exact),
  }));
  return [...BASE_COLUMNS, ...sets, ...TAIL_COLUMNS];
}

/** The table's columns for these runs (the named evaluation sets depend on them). */
export function compareColumns(readings: readonly RunReading[]): CompareColumn[] {
  return columnDefs(readings).map(({ key, label, kind, title }) => ({ key, label, kind, title }));
}

function noteOf(r: RunReading, h: MetricsHistory): string {
  const parts: string[] = [];
  if (!r.found) parts.push('not a folder (moved or deleted?)');
  else if (!r.spec) parts.push('no readable run.json');
  if (r.found && h.points.length === 0 && h.skipped === 0) parts.push('no steps in metrics.jsonl');
  if (h.skipped) parts.push(`${h.skipped} unreadable line${h.skipped > 1 ? 's' : ''} of metrics.jsonl skipped`);
  if (h.omittedBytes) parts.push(`the oldest ${(h.omittedBytes / 2 ** 20).toFixed(1)} MiB of metrics.jsonl not read`);
  if (h.points.length > MAX_COMPARE_POINTS) parts.push(`${h.points.length} steps drawn as ${MAX_COMPARE_POINTS} bucket means`);
  return parts.join('; ');
}

function curvesOf(r: RunReading, h: MetricsHistory): CompareCurves {
  return {
    dir: r.dir, name: r.name, points: reducePoints(h.points, MAX_COMPARE_POINTS), loggedSteps: h.points.length,
    segments: r.spec?.haltMaxSteps ?? h.points.reduce((m, p) => Math.max(m, p.segmentExact.length), 0), heldOut: heldOutHistory(r), note: noteOf(r, h),
  };
}

/** A run's row of the table, in the order of `columns`. */
export function compareCells(r: RunReading, columns: readonly CompareColumn[]): CompareCell[] {
  const defs = new Map(columnDefs([r]).map((d) => [d.key, d]));
  return columns.map((c) => {
    const d = defs.get(c.key);
    return d ? d.value(r) : c.key.startsWith('set:') ? opt(newestSet(r, c.key.slice(4))?.exact) : null;
  });
}

/** The runs as the panel draws them: the table's columns for all of them, and each run's row and curves. */
export function assembleComparison(compared: readonly ComparedRun[]): { columns: CompareColumn[]; runs: CompareRun[] } {
  const columns = compareColumns(compared.map((c) => c.reading));
  return { columns, runs: compared.map((c) => ({ ...c.curves, cells: compareCells(c.reading, columns) })) };
}

/** Run folders in the order given, each once (by resolved path), at most MAX_COMPARE_RUNS; `dropped` counts the rest. */
export function uniqueRunDirs(dirs: readonly string[]): { dirs: string[]; dropped: number } {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of dirs) {
    const r = path.resolve(d);
    if (!seen.has(r)) {
      seen.add(r);
      out.push(r);
    }
  }
  return { dirs: out.slice(0, MAX_COMPARE_RUNS), dropped: Math.max(0, out.length - MAX_COMPARE_RUNS) };
}

/** Reads the runs one after the other (one metrics.jsonl in memory at a time) and assembles the table and curves. */
export async function readComparison(dirs: readonly string[]): Promise<{ columns: CompareColumn[]; runs: CompareRun[] }> {
  const compared: ComparedRun[] = [];
  for (const dir of uniqueRunDirs(dirs).dirs) compared.push(await readRunForComparison(dir));
  return assembleComparison(compared);
}

/**
 * The table as CSV: a header of the column labels then one line per run, in `order` (indices into `runs`; the given
 * order when it is not a permutation of them), and the run folder last. Percent columns hold fractions (0…1).
 */
export function comparisonCsv(columns: readonly CompareColumn[], runs: readonly Pick<CompareRun, 'cells' | 'dir'>[], order?: readonly unknown[]): string {
  const valid = Array.isArray(order) && order.length === runs.length && order.every((i) => Number.isInteger(i)) && new Set(order).size === runs.length
    && order.every((i) => (i as number) >= 0 && (i as number) < runs.length);
  const rows = valid ? (order as number[]).map((i) => runs[i]) : runs;
  const lines = [csvLine([...columns.map((c) => (c.kind === 'percent' ? `${c.label} (fraction)` : c.label)), 'folder'])];
  for (const r of rows) lines.push(csvLine([...r.cells, r.dir]));
  return `${lines.join('\n')}\n`;
}
