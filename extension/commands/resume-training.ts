/**
 * "HRM: Resume Training": continue a run from its newest checkpoint. The run comes from the argument (a Runs tree
 * node, a folder Uri or path, or `{ run, steps }`) or a quick pick of the run folders under the runs folder; the total
 * step count from the argument or an input box (default: the run's own target, or twice the newest step when the
 * run has reached it). The training itself is hrmLens.train with `{ resume }` (same progress, status bar, Stop
 * Training, and refusal in an untrusted workspace). Returns the TrainResult.
 */
import * as vscode from 'vscode';
import type { TrainResult } from '../../engine/protocol';
import { runsFolderUri } from '../settings';
import { type RunInfo, listRuns, readRun } from '../views/run-files';
import { runDescription } from '../views/checkpoint-text';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { refuse } from './refusals';
import { UNTRUSTED_TRAINING } from './train';

export type ResumeArgs = RunsTarget | { run: string; steps?: number };


async function pickRun(): Promise<RunInfo | undefined> {
  const folder = runsFolderUri();
  const runs = folder ? (await listRuns(folder.fsPath)).filter((r) => r.spec && r.checkpoints.length > 0) : [];
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('HRM: no run with a checkpoint to resume (run "HRM: Train" first).');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.name, description: runDescription(r), run: r })),
    { title: 'HRM: Resume Training — run', placeHolder: 'a run folder; training continues from its newest checkpoint' });
  return picked?.run;
}

function defaultSteps(run: RunInfo): number {
  const last = run.checkpoints[0]?.step ?? 0;
  const target = run.spec?.steps ?? last;
  return last < target ? target : Math.max(1, last * 2);
}

export function registerResumeTraining(): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.resumeTraining', async (args?: ResumeArgs): Promise<TrainResult | undefined> => {
    if (!vscode.workspace.isTrusted) return refuse(UNTRUSTED_TRAINING);
    const dir = targetPath(args as RunsTarget);
    const run = dir ? await readRun(dir) : await pickRun();
    if (!run) {
      if (dir) void vscode.window.showWarningMessage(`HRM: ${dir} is not a run folder.`);
      return undefined;
    }
    if (!run.spec || run.checkpoints.length === 0) {
      void vscode.window.showWarningMessage(`HRM: ${run.name} has ${run.spec ? 'no checkpoint' : 'no run.json'} to resume from.`);
      return undefined;
    }
    let steps = typeof args === 'object' && args !== null && 'steps' in args && typeof args.steps === 'number' ? args.steps : undefined;
    if (steps === undefined) {
      const last = run.checkpoints[0]?.step ?? 0;
      const typed = await vscode.window.showInputBox({
        title: `HRM: Resume Training — ${run.name}`, value: String(defaultSteps(run)), prompt: `total optimizer steps (the newest checkpoint is at step ${last})`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) > last ? undefined : `a whole number > ${last}`),
      });
      if (typed === undefined) return undefined;
      steps = Number(typed.trim());
    }
    return vscode.commands.executeCommand<TrainResult | undefined>('hrmLens.train', { resume: run.dir, steps });
  });
}
