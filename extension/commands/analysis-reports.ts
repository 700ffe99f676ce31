/**
 * "HRM: Run Fixed-Point Probe" and "HRM: Ensemble Report": the engine's `probe` and `ensemble` methods with
 * progress and cancel, the report shown in a read-only `hrm-lens` document (the same text as `hrm-lens probe` /
 * `hrm-lens ensemble`, under a Markdown summary).
 *   Probe args:    `{ checkpoints: [a, b?], data?, masks?, count?, segments?, seed? }` — else a checkpoint pick, an
 *                  optional second one to compare (e.g. trained with data mixing), and the solved grids: generated,
 *                  or a dataset file's (`data`).
 *   Ensemble args: `{ sources: [run folder | checkpoint…], last?, perturb?, count?, data?, generate?, limit?,
 *                  segments?, seed?, view? }` — else a pick of the shipped models and the runs of the runs folder (a
 *                  run: its last 10 checkpoints, as the paper; "Browse…" for others) on 200 generated puzzles; from
 *                  the Runs tree or the Explorer, the run (or checkpoint) it was invoked on, on 200 generated
 *                  puzzles. The report opens in the ensemble panel (extension/panels/ensemble-panel.ts), or as the
 *                  Markdown document with `view: 'document'`.
 * Refused: workspace checkpoints in an untrusted workspace, files that are not HRM Lens checkpoints. Each returns the
 * engine's result.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled } from '../../engine/protocol';
import type { EnsembleParams, EnsembleResult, ProbeParams, ProbeResult } from '../../engine/analysis/analysis-protocol';
import type { EngineClient } from '../engine/engine-client';
import type { ResultDocuments } from './result-document';
import { promises as fs } from 'node:fs';
import { checkpointRefusal, pickCheckpoint, runsFolder, workspaceCheckpointRefusal } from './checkpoints';
import { refuse } from './refusals';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { listRuns } from '../views/run-files';
import { shippedModelDescription, shippedModelLabel } from '../views/shipped-models';
import { runDescription } from '../views/checkpoint-text';
import { type EnsemblePanel, toEnsembleView } from '../panels/ensemble-panel';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { escapeMarkdown, markdownCodeBlock } from '../views/markdown-text';
import { boundedMessage } from '../../engine/util/errors';
import { DEFAULT_LAST_CHECKPOINTS } from '../../engine/ensemble/defaults';
import { torchRequest } from '../settings';

export type EnsembleArgs = EnsembleParams & { view?: 'panel' | 'document' };

const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const message = (e: unknown): string => boundedMessage(e);

/** The first refusal among `files` (run folders are checked for trust only; files as checkpoints), shown; true if any. */
async function refused(catalog: CheckpointCatalog, files: readonly string[]): Promise<boolean> {
  for (const f of files) {
    const isFolder = await fs.stat(f).then((st) => st.isDirectory(), () => false);
    const why = isFolder ? workspaceCheckpointRefusal(f) : await checkpointRefusal(catalog, f);
    if (why) {
      refuse(why);
      return true;
    }
  }
  return false;
}

/** The ensemble's sources from the user: shipped models and/or runs of the runs folder, or "Browse…"; undefined when dismissed. */
async function pickEnsembleSources(catalog: CheckpointCatalog): Promise<string[] | undefined> {
  const folder = vscode.workspace.isTrusted ? runsFolder() : undefined;
  const runs = folder ? (await listRuns(folder.fsPath)).filter((r) => r.checkpoints.length > 0) : [];
  const shipped = await catalog.shippedModels();
  const items: (vscode.QuickPickItem & { source?: string; browse?: boolean })[] = [
    ...shipped.map((m, i) => ({
      label: shippedModelLabel(m), description: `one checkpoint: the relabeling rows · ${shippedModelDescription(m)}`, source: m.file, picked: runs.length === 0 && i === 0,
    })),
    ...runs.map((r) => ({ label: r.name, description: runDescription(r), detail: `its last ${Math.min(DEFAULT_LAST_CHECKPOINTS, r.checkpoints.length)} checkpoint${r.checkpoints.length === 1 ? '' : 's'}`, source: r.dir })),
    { label: '$(folder-opened) Browse…', description: 'run folders or checkpoints elsewhere', browse: true, alwaysShow: true },
  ];
  const picked = await vscode.window.showQuickPick(items, { canPickMany: true, title: `HRM: Ensemble Report — checkpoints and runs (a run: its last ${DEFAULT_LAST_CHECKPOINTS} checkpoints), on 200 generated puzzles` });
  if (!picked?.length) return undefined;
  const sources = picked.flatMap((p) => (p.source ? [p.source] : []));
  if (picked.some((p) => p.browse)) {
    const more = await vscode.window.showOpenDialog({
      canSelectFiles: true, canSelectFolders: true, canSelectMany: true, defaultUri: runsFolder(),
      openLabel: 'Use these', title: `HRM: Ensemble Report — run folders (their last ${DEFAULT_LAST_CHECKPOINTS} checkpoints each) or checkpoints`,
    });
    sources.push(...(more ?? []).map((u) => u.fsPath));
  }
  return sources.length ? sources : undefined;
}

/** Where the probe's solved grids come from: generated (default), or a dataset file (e.g. in the workspace); undefined when dismissed. */
async function pickProbeGrids(): Promise<{ data?: string } | undefined> {
  const choice = await vscode.window.showQuickPick([
    { label: '100 generated grids', description: 'random solved grids of the model\'s size', file: false },
    { label: '$(file) From a dataset file…', description: 'its first 100 rows: their answers, or the solver\'s solutions', file: true },
  ], { title: 'HRM: Run Fixed-Point Probe — solved grids' });
  if (!choice) return undefined;
  if (!choice.file) return {};
  const chosen = (await vscode.window.showOpenDialog({
    canSelectMany: false, openLabel: 'Probe on this dataset', title: 'HRM: Run Fixed-Point Probe — dataset (CSV or one puzzle per line)',
    filters: { Datasets: ['csv', 'txt'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  }))?.[0];
  return chosen ? { data: chosen.fsPath } : undefined;
}

async function withEngineProgress<T>(title: string, run: (token: vscode.CancellationToken, report: (e: { done: number; total: number }) => void) => Promise<T>): Promise<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    let reported = 0;
    return run(token, ({ done, total }) => {
      const p = (100 * done) / Math.max(1, total);
      progress.report({ increment: p - reported, message: `${done}/${total} puzzles` });
      reported = p;
    });
  });
}

export function probeMarkdown(r: ProbeResult): string {
  const rows = r.rows.map((x) => `| ${escapeMarkdown(path.basename(x.checkpoint))} | ${escapeMarkdown(String(x.mask))} | ${x.puzzles} | ${pct(x.finalAccuracy)} | ${pct(x.stabilityRate)} | ${x.corruptionEvents} |`);
  return ['# Fixed-point probe', '', `${r.segments} segments, halting off, ${r.seconds.toFixed(1)} s. *Stable*: exact at every segment after the first exact one; `
    + '*corruptions*: exact → not exact events (paper fact a).', '',
  '| checkpoint | mask | puzzles | final exact | stable | corruptions |', '|---|---|---|---|---|---|', ...rows, '', markdownCodeBlock(r.text.trimEnd()), ''].join('\n');
}

export function ensembleMarkdown(r: EnsembleResult): string {
  const s = r.summary;
  return ['# Ensemble report', '', `${r.puzzles} puzzles × ${r.checkpoints} checkpoints × ${r.perturbations} perturbations, ${r.seconds.toFixed(1)} s.`, '',
    '| configuration | oracle | label-free |', '|---|---|---|',
    `| baseline | ${pct(s.baseline.oracle)} | ${pct(s.baseline.labelFree)} |`, `| + relabeling | ${pct(s.relabeling.oracle)} | ${pct(s.relabeling.labelFree)} |`,
    `| + checkpoints | ${pct(s.checkpoints.oracle)} | ${pct(s.checkpoints.labelFree)} |`, `| + both | ${pct(s.both.oracle)} | ${pct(s.both.labelFree)} |`, '',
    '*Oracle*: the paper\'s rule (uses the labels); *label-free*: plurality over halted passes, ties by lower E then higher q_halt.', '',
    markdownCodeBlock(r.text.trimEnd()), ''].join('\n');
}

export function registerAnalysisReports(engine: EngineClient, docs: ResultDocuments, ensemblePanel: EnsemblePanel, catalog: CheckpointCatalog): vscode.Disposable {
  const probe = vscode.commands.registerCommand('hrmLens.runProbe', async (args?: ProbeParams): Promise<ProbeResult | undefined> => {
    let params = args;
    if (!params) {
      const a = await pickCheckpoint(catalog, 'HRM: Run Fixed-Point Probe — checkpoint');
      if (!a) return undefined;
      const b = await pickCheckpoint(catalog, 'HRM: Run Fixed-Point Probe — a second checkpoint to compare (Esc: none)');
      const grids = await pickProbeGrids();
      if (!grids) return undefined;
      params = { checkpoints: b && b !== a ? [a, b] : [a], ...grids };
    }
    if (await refused(catalog, params.checkpoints)) return undefined;
    try {
      const p: ProbeParams = { ...params, torch: torchRequest().torch };
      const r = await withEngineProgress('HRM: fixed-point probe', (token, onProgress) => engine.request('probe', p, { token, onProgress }));
      await docs.show('probe', probeMarkdown(r));
      return r;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`HRM: Run Fixed-Point Probe failed: ${message(e)}`);
      return undefined;
    }
  });
  const ensemble = vscode.commands.registerCommand('hrmLens.ensembleReport', async (target?: EnsembleArgs | RunsTarget): Promise<EnsembleResult | undefined> => {
    // From the Runs tree (a run or a checkpoint node) or the Explorer (a folder or file): that source, 200 generated puzzles.
    const fromView = typeof target === 'string' || target instanceof vscode.Uri || (typeof target === 'object' && target !== null && 'kind' in target);
    const args: EnsembleArgs | undefined = fromView ? { sources: [targetPath(target as RunsTarget) ?? ''], last: DEFAULT_LAST_CHECKPOINTS, generate: 200 } : (target as EnsembleArgs | undefined);
    const { view, ...given } = args ?? {};
    let params: EnsembleParams | undefined = args ? (given as EnsembleParams) : undefined;
    if (!params) {
      const sources = await pickEnsembleSources(catalog);
      if (!sources) return undefined;
      params = { sources, last: DEFAULT_LAST_CHECKPOINTS, generate: 200 };
    }
    if (await refused(catalog, params.sources)) return undefined;
    try {
      const p: EnsembleParams = { ...params, torch: torchRequest().torch };
      const r = await withEngineProgress('HRM: ensemble report', (token, onProgress) => engine.request('ensemble', p, { token, onProgress }));
      if (view === 'document') await docs.show('ensemble', ensembleMarkdown(r));
      else ensemblePanel.show(toEnsembleView(r, p));
      return r;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`HRM: Ensemble Report failed: ${message(e)}`);
      return undefined;
    }
  });
  return vscode.Disposable.from(probe, ensemble);
}
