/**
 * "HRM: Resume Training": continue a run from its newest checkpoint. The run comes from the argument (a Runs tree
 * node, a folder Uri or path, or `{ run, steps, backend?, processes? }`) or a quick pick of the run folders under the
 * runs folder; the total step count from the argument or an input box (default: the run's own target, or twice the
 * newest step when the run has reached it).
 *
 * The backend: with the argument object, its `backend` (and `processes`), else the hrmLens.backend setting; nothing
 * more is asked. Asked interactively (no argument, a node, a Uri or a path), the engine looks for a Python with
 * PyTorch (`torch.info`, as "HRM: Train" does) while the prompts are open; found, a backend step follows the step
 * count with Train's items, PyTorch first when the run was trained with it (run.json's spec.backend), else the
 * setting's TF.js backend first, and PyTorch chosen, the number of processes (a divisor of the run's batch). Not
 * found, nothing more is asked and the run resumes on the TF.js setting. The prompts are recorded with Train's.
 *
 * The training itself is hrmLens.train with `{ resume }` (same progress, status bar, Stop Training, and refusal in an
 * untrusted workspace). Returns the TrainResult.
 */
import * as vscode from 'vscode';
import type { TrainResult } from '../../engine/protocol';
import { BACKEND_NAMES, TORCH_BACKEND } from '../../engine/rpc/backend-names';
import type { EngineClient } from '../engine/engine-client';
import { readSettings, runsFolderUri } from '../settings';
import { type RunInfo, listRuns, readRun } from '../views/run-files';
import { runDescription } from '../views/checkpoint-text';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { refuse } from './refusals';
import { type TrainArgs, UNTRUSTED_TRAINING, askProcesses, input, pick, startPrompts, torchOffer } from './train';
import { type TorchOffer, resumeBackendItems } from './train-backend';

/** The argument object: a run folder, its total steps, and optionally the backend (and processes with torch). */
export interface ResumeRequest { run: string; steps?: number; backend?: TrainArgs['backend']; processes?: number }

export type ResumeArgs = RunsTarget | ResumeRequest;

/** The argument object (not a Runs tree node, whose `run` is a RunInfo). */
function resumeRequest(args: ResumeArgs): ResumeRequest | undefined {
  return typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) && !('kind' in args) && typeof args.run === 'string'
    ? args as ResumeRequest : undefined;
}

async function pickRun(): Promise<RunInfo | undefined> {
  const folder = runsFolderUri();
  const runs = folder ? (await listRuns(folder.fsPath)).filter((r) => r.spec && r.checkpoints.length > 0) : [];
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('HRM: no run with a checkpoint to resume (run "HRM: Train" first).');
    return undefined;
  }
  const picked = await pick(runs.map((r) => ({ label: r.name, description: runDescription(r), run: r })),
    { title: 'HRM: Resume Training — run', placeHolder: 'a run folder; training continues from its newest checkpoint' });
  return picked?.run;
}

function defaultSteps(run: RunInfo): number {
  const last = run.checkpoints[0]?.step ?? 0;
  const target = run.spec?.steps ?? last;
  return last < target ? target : Math.max(1, last * 2);
}

/**
 * The backend step, when `torch` found a Python with PyTorch: the backend (and processes) for hrmLens.train; {} when
 * none was found (the TF.js setting, nothing asked); undefined when a prompt is dismissed.
 */
async function askBackend(run: RunInfo, torch: Promise<TorchOffer | undefined>): Promise<Pick<TrainArgs, 'backend' | 'processes'> | undefined> {
  const offer = await torch;
  if (!offer) return {};
  const picked = await pick(resumeBackendItems(BACKEND_NAMES, readSettings().backend, offer, run.spec?.backend), {
    title: `HRM: Resume Training — ${run.name}: backend`, ignoreFocusOut: true,
    placeHolder: 'a TF.js backend applies if this is the engine\'s first TF.js request (else Restart Engine first)',
  });
  if (!picked) return undefined;
  if (picked.choice.kind === 'tfjs') return { backend: picked.choice.backend };
  // Without a recorded batch, one process (which divides any batch).
  const processes = await askProcesses(`HRM: Resume Training — ${run.name}: PyTorch processes`, run.spec?.batch ?? 1);
  return processes === undefined ? undefined : { backend: TORCH_BACKEND, processes };
}

export function registerResumeTraining(engine: EngineClient): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.resumeTraining', async (args?: ResumeArgs): Promise<TrainResult | undefined> => {
    if (!vscode.workspace.isTrusted) return refuse(UNTRUSTED_TRAINING);
    const request = resumeRequest(args);
    if (request?.steps === undefined) startPrompts();
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
    // Asked interactively: the search for PyTorch runs while the step count is typed.
    const torch = request ? undefined : torchOffer(engine);
    let steps = typeof request?.steps === 'number' ? request.steps : undefined;
    if (steps === undefined) {
      const last = run.checkpoints[0]?.step ?? 0;
      const typed = await input({
        title: `HRM: Resume Training — ${run.name}: steps`, value: String(defaultSteps(run)), prompt: `total optimizer steps (the newest checkpoint is at step ${last})`,
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) > last ? undefined : `a whole number > ${last}`),
      });
      if (typed === undefined) return undefined;
      steps = Number(typed.trim());
    }
    const backend = torch
      ? await askBackend(run, torch)
      : { ...(request?.backend !== undefined ? { backend: request.backend } : {}), ...(request?.processes !== undefined ? { processes: request.processes } : {}) };
    if (!backend) return undefined;
    const train: TrainArgs = { resume: run.dir, steps, ...backend };
    return vscode.commands.executeCommand<TrainResult | undefined>('hrmLens.train', train);
  });
}
