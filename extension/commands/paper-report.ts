/**
 * "HRM: Paper Report": the engine's `reproduce` method (engine/paper/paper-protocol.ts) on a baseline arm and a
 * data-mixing arm of runs, with progress per experiment and Cancel; the report (report.md with its figures, and
 * report.json) opens in the Markdown preview.
 *   Args: `{ baseline: [run…], mixing: [run…], data?, puzzles?, relabelings?, checkpoints?, segments?, out? }`; or,
 *         from the Runs tree, the selected runs, split into the two arms by their run.json's `mixing`; else two picks
 *         among the runs of the runs folder and the shipped run folders (models/<name>-run with their checkpoints),
 *         then where the held-out puzzles come from.
 * The report folder is `.hrm/reports/paper-<time>` in the first workspace folder (the extension's storage without
 * one). Refused: run folders of the workspace in an untrusted workspace.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { isCancelled } from '../../engine/protocol';
import type { ReproduceParams, ReproduceResult } from '../../engine/paper/paper-protocol';
import { boundedMessage } from '../../engine/util/errors';
import type { EngineClient } from '../engine/engine-client';
import { runsFolder, workspaceCheckpointRefusal } from './checkpoints';
import { refuse } from './refusals';
import { listRuns, readRunSpec } from '../views/run-files';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { runDescription } from '../views/checkpoint-text';

export type PaperReportArgs = Omit<ReproduceParams, 'out'> & { out?: string };

interface RunItem extends vscode.QuickPickItem {
  dir: string;
}

/** Run folders with checkpoints: the runs folder's, then the shipped ones (models/<name>-run). */
async function runItems(extensionPath: string): Promise<RunItem[]> {
  const folder = vscode.workspace.isTrusted ? runsFolder() : undefined;
  const own = folder ? (await listRuns(folder.fsPath)).filter((r) => r.checkpoints.length > 0) : [];
  const shipped = (await listRuns(path.join(extensionPath, 'models'))).filter((r) => r.checkpoints.length > 0);
  return [
    ...own.map((r) => ({ label: r.name, description: runDescription(r), dir: r.dir })),
    ...shipped.map((r) => ({ label: r.name, description: `shipped · ${runDescription(r)}`, dir: r.dir })),
  ];
}

async function pickArm(items: readonly RunItem[], arm: string, guess: (i: RunItem) => boolean): Promise<string[] | undefined> {
  const picked = await vscode.window.showQuickPick(items.map((i) => ({ ...i, picked: guess(i) })), {
    canPickMany: true,
    title: `HRM: Paper Report — the ${arm} runs (several: one per training seed)`,
  });
  return picked?.length ? picked.map((p) => p.dir) : undefined;
}

async function pickHeldOut(): Promise<{ data?: string } | undefined> {
  const choice = await vscode.window.showQuickPick([
    { label: '500 generated puzzles', description: 'generated like the runs\' training data, with a seed training never uses', file: false },
    { label: '$(file) From a dataset file…', description: 'its first 500 rows', file: true },
  ], { title: 'HRM: Paper Report — held-out puzzles' });
  if (!choice) return undefined;
  if (!choice.file) return {};
  const chosen = (await vscode.window.showOpenDialog({
    canSelectMany: false, openLabel: 'Use these puzzles', title: 'HRM: Paper Report — dataset (CSV or one puzzle per line)',
    filters: { Datasets: ['csv', 'txt'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  }))?.[0];
  return chosen ? { data: chosen.fsPath } : undefined;
}

function reportFolder(context: vscode.ExtensionContext, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return ws ? path.join(ws, '.hrm', 'reports', `paper-${stamp}`) : path.join(context.globalStorageUri.fsPath, 'reports', `paper-${stamp}`);
}

/** The selected run folders split by how they were trained; undefined unless both arms have a run. */
async function armsOfSelection(selected: readonly RunsTarget[]): Promise<{ baseline: string[]; mixing: string[] } | undefined> {
  const dirs = selected.map(targetPath).filter((d): d is string => d !== undefined);
  const specs = await Promise.all(dirs.map((d) => readRunSpec(d)));
  const baseline = dirs.filter((_, i) => specs[i] !== undefined && !specs[i]?.mixing);
  const mixing = dirs.filter((_, i) => specs[i]?.mixing === true);
  return baseline.length && mixing.length ? { baseline, mixing } : undefined;
}

const isArgs = (a: unknown): a is PaperReportArgs =>
  typeof a === 'object' && a !== null && Array.isArray((a as { baseline?: unknown }).baseline) && Array.isArray((a as { mixing?: unknown }).mixing);

export function registerPaperReport(context: vscode.ExtensionContext, engine: EngineClient): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.paperReport', async (first?: PaperReportArgs | RunsTarget, selected?: readonly RunsTarget[]): Promise<ReproduceResult | undefined> => {
    let chosen = isArgs(first) ? first : undefined;
    if (!chosen && selected && selected.length > 1) {
      const arms = await armsOfSelection(selected);
      if (!arms) {
        void vscode.window.showWarningMessage('HRM: Paper Report: select runs of both arms, at least one trained with data mixing and one without.');
        return undefined;
      }
      chosen = arms;
    }
    if (!chosen) {
      const items = await runItems(context.extensionPath);
      if (items.length < 2) {
        void vscode.window.showWarningMessage('HRM: Paper Report needs two runs with checkpoints: one trained as is and one with data mixing (HRM: Train, "Data mixing").');
        return undefined;
      }
      const baseline = await pickArm(items, 'baseline', (i) => /hard-6x6-run$/.test(i.dir));
      if (!baseline) return undefined;
      const mixing = await pickArm(items.filter((i) => !baseline.includes(i.dir)), 'data-mixing', (i) => /mixing/.test(i.label));
      if (!mixing) return undefined;
      const heldOut = await pickHeldOut();
      if (!heldOut) return undefined;
      chosen = { baseline, mixing, ...heldOut };
    }
    for (const dir of [...chosen.baseline, ...chosen.mixing, ...(chosen.data ? [chosen.data] : [])]) {
      const why = workspaceCheckpointRefusal(dir);
      if (why) {
        refuse(why);
        return undefined;
      }
    }
    const params: ReproduceParams = { ...chosen, out: chosen.out ?? reportFolder(context) };
    try {
      await fs.mkdir(path.dirname(params.out), { recursive: true });
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'HRM: Paper Report', cancellable: true },
        (progress, token) => {
          let reported = 0;
          return engine.request('reproduce', params, {
            token,
            onProgress: (e) => {
              const p = (100 * e.done) / Math.max(1, e.total);
              // Each phase restarts the bar: report the change, which may be negative.
              progress.report({ increment: p - reported, message: `${e.phase}: ${e.done}/${e.total}` });
              reported = p;
            },
          });
        },
      );
      await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(result.markdown));
      return result;
    } catch (e) {
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`HRM: Paper Report failed: ${boundedMessage(e)}`);
      return undefined;
    }
  });
}
