/**
 * "HRM: Kick Basins Over a Dataset" and "HRM: Patch Over a Dataset": the engine's `intervene.kickData` and
 * `intervene.patchData` (docs/analyses.md §Kicks over a dataset, §Patching over a dataset) with progress and cancel,
 * the report shown in a read-only `hrm-lens` document (a Markdown summary above the text `hrm-lens kick --data` /
 * `hrm-lens patch --data` prints).
 *   Kick args:  KickDataParams — else a checkpoint pick, an optional second one of the same grid size to compare
 *               (e.g. trained with data mixing), and the puzzles: 100 generated, or a dataset file's first 100.
 *   Patch args: PatchDataParams — else the receiving checkpoint, the donor checkpoint of the same grid size, and the
 *               puzzles as above.
 * Refused: workspace checkpoints in an untrusted workspace, files that are not HRM Lens checkpoints. Each returns the
 * engine's result.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isCancelled } from '../../engine/protocol';
import type { InterventionPuzzles, KickDataParams, KickDataResult, PatchDataParams, PatchDataResult } from '../../engine/intervene/intervene-protocol';
import type { Proportion } from '../../engine/paper/report-types';
import type { EngineClient } from '../engine/engine-client';
import type { ResultDocuments } from './result-document';
import { type GridSide, checkpointRefusal, pickCheckpoint } from './checkpoints';
import { refuse } from './refusals';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { escapeMarkdown, markdownCodeBlock } from '../views/markdown-text';
import { boundedMessage } from '../../engine/util/errors';
import { torchRequest } from '../settings';

const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const share = (p: Proportion): string => `${p.k}/${p.n} (${pct(p.value)}, 95% ${pct(p.lo)}–${pct(p.hi)})`;
const radius = (r: number | null, n: number): string => (n === 0 ? '–' : r === null ? '< smallest ε' : `ε = ${r}`);
const name = (file: string): string => escapeMarkdown(path.basename(file));

/** The puzzles from the user: 100 generated (default), or a dataset file's first 100 rows; undefined when dismissed. */
async function pickPuzzles(title: string): Promise<InterventionPuzzles | undefined> {
  const choice = await vscode.window.showQuickPick([
    { label: '100 generated puzzles', description: 'unique-solution puzzles of the model\'s size, seed 0', file: false },
    { label: '$(file) From a dataset file…', description: 'its first 100 puzzles', file: true },
  ], { title: `${title} — puzzles` });
  if (!choice) return undefined;
  if (!choice.file) return { generate: 100, seed: 0 };
  const chosen = (await vscode.window.showOpenDialog({
    canSelectMany: false, openLabel: 'Use this dataset', title: `${title} — dataset (CSV or one puzzle per line)`,
    filters: { Datasets: ['csv', 'txt'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  }))?.[0];
  return chosen ? { data: chosen.fsPath, limit: 100 } : undefined;
}

async function withProgress<T>(title: string, run: (token: vscode.CancellationToken, report: (e: { done: number; total: number }) => void) => Promise<T>): Promise<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    let reported = 0;
    return run(token, ({ done, total }) => {
      const p = (100 * done) / Math.max(1, total);
      progress.report({ increment: p - reported, message: `${Math.round(p)}% of the segments` });
      reported = p;
    });
  });
}

/** The first refusal among `files`, shown; true if any. */
async function refused(catalog: CheckpointCatalog, files: readonly string[]): Promise<boolean> {
  for (const f of files) {
    const why = await checkpointRefusal(catalog, f);
    if (why) {
      refuse(why);
      return true;
    }
  }
  return false;
}

export function kickDataMarkdown(r: KickDataResult): string {
  const rows = r.checkpoints.map((c) => `| ${escapeMarkdown(c.label)} | ${share(c.exact)} | ${radius(c.correct.medianRadius, c.correct.puzzles)} (${c.correct.puzzles}) | `
    + `${radius(c.wrong.medianRadius, c.wrong.puzzles)} (${c.wrong.puzzles}) |`);
  const cmp = r.comparison;
  const paired = cmp && r.checkpoints.length === 2
    ? ['', `Paired on the ${cmp.paired} puzzles both answer correctly, ${escapeMarkdown(r.checkpoints[1].label)}'s basin is **wider on ${cmp.wider}**, `
      + `**narrower on ${cmp.narrower}**, the same on ${cmp.same} (two-sided sign test p = ${cmp.signTestP === null ? '–' : cmp.signTestP.toPrecision(3)}).`]
    : [];
  return ['# Kick basins over a dataset', '',
    `${escapeMarkdown(r.source)}: ${r.puzzles} puzzles, ${r.kicksPerEpsilon} kicks per ε per puzzle at ε = ${r.epsilons.join(', ')} (relative to ‖z‖), `
      + `${r.seconds.toFixed(1)} s. The *basin radius* of an answer is the largest ε at which at least ${Math.round(r.basinLevel * 100)}% of the kicks `
      + 'came back to it (at that ε and every smaller one).', '',
    '| checkpoint | exact | median radius, correct answers (puzzles) | median radius, wrong answers (puzzles) |', '|---|---|---|---|', ...rows, ...paired, '',
    markdownCodeBlock(r.text.trimEnd()), ''].join('\n');
}

export function patchDataMarkdown(r: PatchDataResult, receiver: string, donor: string): string {
  const rows = r.curve.map((p) => `| ${p.atSegment} | ${share(p.rescued)} | ${share(p.corrupted)} | ${share(p.endsAtReceiver)} |`);
  return ['# Patching over a dataset', '',
    `${name(receiver)} ← ${escapeMarkdown(donor)}: ${escapeMarkdown(r.source)}, ${r.puzzles} puzzles, ${r.segments} segments, `
      + `${r.part === 'both' ? 'z_H and z_L' : r.part === 'zH' ? 'z_H' : 'z_L'}, ${r.seconds.toFixed(1)} s. Receiver exact ${share(r.receiverExact)}; donor exact ${share(r.donorExact)}.`, '',
    '*Rescued*: of the puzzles the receiver gets wrong and the donor right, those whose run patched after segment k ends exact. '
      + '*Corrupted*: of those the receiver gets right and the donor wrong, those whose patched run no longer does.', '',
    '| k | rescued | corrupted | ends at the receiver\'s own answer |', '|---|---|---|---|', ...rows, '',
    markdownCodeBlock(r.text.trimEnd()), ''].join('\n');
}

export function registerInterventionReports(engine: EngineClient, docs: ResultDocuments, catalog: CheckpointCatalog): vscode.Disposable {
  const message = (e: unknown): string => boundedMessage(e);
  const kick = vscode.commands.registerCommand('hrmLens.kickBasins', async (args?: KickDataParams): Promise<KickDataResult | undefined> => {
    const title = 'HRM: Kick Basins Over a Dataset';
    let params = args;
    if (!params) {
      const a = await pickCheckpoint(catalog, `${title} — checkpoint`);
      if (!a) return undefined;
      const side = await catalog.gridSizeOf(a);
      const b = await pickCheckpoint(catalog, `${title} — a second checkpoint to compare (Esc: none)`, [], side as GridSide | undefined);
      const puzzles = await pickPuzzles(title);
      if (!puzzles) return undefined;
      params = { checkpoints: b && b !== a ? [a, b] : [a], puzzles };
    }
    if (await refused(catalog, params.checkpoints)) return undefined;
    const p: KickDataParams = { ...params, torch: torchRequest().torch };
    try {
      const r = await withProgress('HRM: kicks over a dataset', (token, onProgress) => engine.request('intervene.kickData', p, { token, onProgress }));
      await docs.show('kick-basins', kickDataMarkdown(r));
      return r;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`${title} failed: ${message(e)}`);
      return undefined;
    }
  });
  const patch = vscode.commands.registerCommand('hrmLens.patchDataset', async (args?: PatchDataParams): Promise<PatchDataResult | undefined> => {
    const title = 'HRM: Patch Over a Dataset';
    let params = args;
    if (!params) {
      const receiver = await pickCheckpoint(catalog, `${title} — the receiving checkpoint (its runs are patched)`);
      if (!receiver) return undefined;
      const side = await catalog.gridSizeOf(receiver);
      const donor = await pickCheckpoint(catalog, `${title} — the donor checkpoint (same grid size and width)`, [], side as GridSide | undefined);
      if (!donor) return undefined;
      const puzzles = await pickPuzzles(title);
      if (!puzzles) return undefined;
      params = { checkpoint: receiver, source: { kind: 'trace', checkpoint: donor }, puzzles };
    }
    const files = params.source.kind === 'trace' ? [params.checkpoint, params.source.checkpoint] : [params.checkpoint];
    if (await refused(catalog, files)) return undefined;
    const p: PatchDataParams = { ...params, torch: torchRequest().torch };
    const donorName = p.source.kind === 'trace' ? path.basename(p.source.checkpoint) : `relabel ${p.source.perm.join('')}`;
    try {
      const r = await withProgress('HRM: patching over a dataset', (token, onProgress) => engine.request('intervene.patchData', p, { token, onProgress }));
      await docs.show('patch-dataset', patchDataMarkdown(r, p.checkpoint, donorName));
      return r;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`${title} failed: ${message(e)}`);
      return undefined;
    }
  });
  return vscode.Disposable.from(kick, patch);
}
