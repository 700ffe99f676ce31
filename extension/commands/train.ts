/**
 * "HRM: Train" and "HRM: Stop Training". Train asks for a preset, data mixing, the step count and the backend (or takes
 * them from the arguments `{ preset, steps, seed, mixing, mixingResample, batch, backend, processes, data }`, asking
 * nothing; the prompts also offer the workspace's dataset files), trains into
 * `<runs folder>/<preset>-s<seed>-<time>` (setting hrmLens.runsFolder, default `.hrm/runs`) in the engine, and shows
 * progress in a notification (Cancel = stop after a checkpoint) and in the status bar. With `{ resume: <run folder> }`
 * it continues that run instead (to `steps` in total, default the run's own; "HRM: Resume Training" uses this). The
 * backend is the argument's, else the setting hrmLens.backend. Refused in an untrusted workspace. While a training
 * runs, the context key hrmLens.trainingRunning is true (Stop Training is offered only then). Returns the engine's
 * TrainResult.
 *
 * PyTorch: when the prompts start, the engine looks for a Python with PyTorch (`torch.info`: hrmLens.pythonPath from
 * the user's settings, else its search). Found, the backend step offers "PyTorch (<python>, torch <version>,
 * cuda|cpu)" beside the TF.js backends, then the number of processes (default 1); not found, the backend step is the
 * TF.js one alone. `backend: 'torch'` (an argument or a config file) trains with PyTorch without asking. Either way
 * the engine's `train` request carries `torch` and the engine runs torchrun (engine/torch/torch-train.ts), with the
 * same progress events, dashboard, Runs tree and Stop Training as a TF.js training.
 *
 * The prompt helpers (recorded quick pick and input box, the PyTorch search, the processes step) are shared with
 * "HRM: Resume Training", whose prompts land in the same recorded list.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { isCancelled, type BackendName, type TrainResult } from '../../engine/protocol';
import { BACKEND_NAMES as BACKENDS, TORCH_BACKEND } from '../../engine/rpc/backend-names';
import type { TorchInfo } from '../../engine/torch/torch-protocol';
import type { EngineClient } from '../engine/engine-client';
import type { TrainingStatusBar } from '../status-bar';
import { TRAIN_PRESETS, runFolderName } from './train-presets';
import { readSettings, runsFolderUri } from '../settings';
import { readRunSpec } from '../views/run-files';
import type { TrainingDashboards } from '../panels/training-dashboard';
import { boundedMessage } from '../../engine/util/errors';
import { FileReadRefused, MAX_JSON_BYTES, readBoundedText } from '../views/bounded-read';
import { TRAINING_RUNNING, setContextKey } from '../context-keys';
import { refuse } from './refusals';
import { type TorchOffer, processesProblem, trainBackendItems } from './train-backend';

/** The refusal of a training in an untrusted workspace (HRM: Train, Resume Training). */
export const UNTRUSTED_TRAINING = 'HRM Lens trains only in a trusted workspace (training writes runs into the workspace and runs the engine on its data). Trust the workspace to continue.';

export interface TrainArgs {
  preset?: string;
  steps?: number;
  seed?: number;
  /** Data mixing: one hint twin per training puzzle, fixed for the run. */
  mixing?: boolean;
  /** Data mixing with a fresh hint twin per draw instead (implies mixing). */
  mixingResample?: boolean;
  batch?: number;
  /** A TF.js backend, or `torch`: PyTorch under torchrun. */
  backend?: BackendName | typeof TORCH_BACKEND;
  /** With backend torch: processes (default 1); the batch must be a multiple of it. */
  processes?: number;
  /** A dataset file (CSV or one puzzle per line, with answers) to train on instead of generated puzzles. */
  data?: string;
  /** A run folder to continue (the other settings but `steps` and `backend` are the run's). */
  resume?: string;
}

const message = (e: unknown): string => boundedMessage(e);

/** The dataset step of the prompts: generated puzzles, a dataset file of the workspace, or Browse…; null = dismissed. */
async function askData(): Promise<{ data?: string } | null> {
  const files = await vscode.workspace.findFiles('**/*.{csv,txt}', '{**/node_modules/**,**/.hrm/**}', 200);
  const items: (vscode.QuickPickItem & { file?: string; browse?: boolean })[] = [
    { label: 'Generated puzzles', description: 'fresh seeded puzzles of the preset\'s size (the default)' },
    ...files.map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), file: u.fsPath })),
    { label: '$(folder-opened) Browse…', browse: true, alwaysShow: true },
  ];
  const picked = await pick(items, { title: 'HRM: Train (2/5) — training data', placeHolder: 'generated, or a CSV / one-per-line file with answers', ignoreFocusOut: true });
  if (!picked) return null;
  if (picked.file) return { data: picked.file };
  if (!picked.browse) return {};
  const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Train on this dataset', filters: { Datasets: ['csv', 'txt'] } });
  return chosen?.[0] ? { data: chosen[0].fsPath } : null;
}

const TRAIN_KEYS = new Set(['preset', 'steps', 'seed', 'mixing', 'mixingResample', 'batch', 'backend', 'processes', 'data']);
const TRAIN_BACKENDS: readonly string[] = [...BACKENDS, TORCH_BACKEND];

class ConfigFileRefused extends Error {}

/** A config file's text: only a regular file of at most MAX_JSON_BYTES is read (not a FIFO, a device or a huge file). */
async function readConfigText(file: vscode.Uri, where: string): Promise<string> {
  if (file.scheme === 'file') {
    return readBoundedText(file.fsPath, MAX_JSON_BYTES).catch((e: unknown) => {
      throw new ConfigFileRefused(`${where}: ${e instanceof FileReadRefused ? e.detail : message(e)}`);
    });
  }
  const st = await vscode.workspace.fs.stat(file);
  if (!(st.type & vscode.FileType.File)) throw new ConfigFileRefused(`${where}: not a regular file: not read`);
  if (st.size > MAX_JSON_BYTES) throw new ConfigFileRefused(`${where}: ${st.size} bytes, more than the ${MAX_JSON_BYTES} bytes read: not read`);
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
}

/**
 * A training config file: a JSON object with the TrainArgs fields (preset, steps, seed, mixing, mixingResample, batch,
 * backend, processes, data — data relative to the file). Every problem is reported with the file and the field.
 */
export async function readTrainConfig(file: vscode.Uri): Promise<TrainArgs> {
  const where = vscode.workspace.asRelativePath(file);
  let json: unknown;
  try {
    json = JSON.parse(await readConfigText(file, where));
  } catch (e) {
    throw e instanceof ConfigFileRefused ? new Error(e.message) : new Error(`${where}: not valid JSON (${message(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${where}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !TRAIN_KEYS.has(k));
  if (unknown.length) throw new Error(`${where}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${[...TRAIN_KEYS].join(', ')})`);
  const int = (k: string, lo: number): number | undefined => {
    if (o[k] === undefined) return undefined;
    if (typeof o[k] !== 'number' || !Number.isInteger(o[k]) || (o[k] as number) < lo) throw new Error(`${where}: field "${k}" must be an integer >= ${lo}`);
    return o[k] as number;
  };
  if (o.preset !== undefined && (typeof o.preset !== 'string' || !TRAIN_PRESETS.some((p) => p.name === o.preset))) {
    throw new Error(`${where}: field "preset" must be one of ${TRAIN_PRESETS.map((p) => p.name).join(', ')}`);
  }
  for (const k of ['mixing', 'mixingResample']) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new Error(`${where}: field "${k}" must be true or false`);
  if (o.backend !== undefined && !TRAIN_BACKENDS.includes(o.backend as string)) throw new Error(`${where}: field "backend" must be one of ${TRAIN_BACKENDS.join(', ')}`);
  const processes = int('processes', 1);
  if (processes !== undefined && o.backend !== TORCH_BACKEND) throw new Error(`${where}: field "processes" needs "backend": "torch"`);
  if (o.data !== undefined && (typeof o.data !== 'string' || !o.data)) throw new Error(`${where}: field "data" must be a file path`);
  return {
    preset: o.preset as string | undefined, steps: int('steps', 1), seed: int('seed', 0), batch: int('batch', 1), mixing: o.mixing as boolean | undefined,
    mixingResample: o.mixingResample as boolean | undefined,
    backend: o.backend as TrainArgs['backend'], ...(processes !== undefined ? { processes } : {}),
    data: typeof o.data === 'string' ? path.resolve(path.dirname(file.fsPath), o.data) : undefined,
  };
}

/** The prompts shown by the last "HRM: Train" or "HRM: Resume Training" (title and item labels, in order), for the in-host tests. */
export interface TrainPrompt { title: string; items: string[] }
let prompts: TrainPrompt[] = [];

export function lastTrainPrompts(): readonly TrainPrompt[] {
  return prompts;
}

/** Starts a fresh list of recorded prompts (each Train or Resume Training that asks). */
export function startPrompts(): void {
  prompts = [];
}

function shown(title: string, items: readonly { label: string }[] = []): void {
  prompts.push({ title, items: items.map((i) => i.label) });
}

/** The prompts' quick pick, recorded. */
export async function pick<T extends vscode.QuickPickItem>(items: T[] | Promise<T[]>, options: vscode.QuickPickOptions & { title: string }): Promise<T | undefined> {
  const list = Promise.resolve(items).then((l) => { shown(options.title, l); return l; });
  return vscode.window.showQuickPick(list, options);
}

/** The prompts' input box, recorded. */
export function input(options: vscode.InputBoxOptions & { title: string }): Thenable<string | undefined> {
  shown(options.title);
  return vscode.window.showInputBox(options);
}

/**
 * Preset (or a config file), data, mixing, steps and backend from the user; undefined when a prompt is dismissed (Escape).
 * `torch` is the engine's search for a Python with PyTorch, begun when the prompts open; the backend step waits for it
 * (busy) and offers PyTorch when it found one, then asks for the processes.
 * The prompts stay open when the focus moves (to a webview, say): a five-step wizard should not vanish on a click.
 */
async function askSettings(torch: Promise<TorchOffer | undefined>): Promise<TrainArgs | undefined> {
  startPrompts();
  const preset = await pick(
    [...TRAIN_PRESETS.map((p) => ({ label: p.name, description: p.description, detail: `${p.defaultSteps.toLocaleString('en-US')} steps by default`, config: false })),
      { label: '$(json) From a config file…', description: 'a JSON file: { "preset", "steps", "seed", "mixing", "mixingResample", "batch", "backend", "processes", "data" }', detail: undefined, config: true }],
    { title: 'HRM: Train (1/5) — preset', placeHolder: 'model size and puzzle size', ignoreFocusOut: true },
  );
  if (!preset) return undefined;
  if (preset.config) {
    const file = (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Train with this config', filters: { 'Training config': ['json'] } }))?.[0];
    if (!file) return undefined;
    try {
      return await readTrainConfig(file);
    } catch (e) {
      void vscode.window.showErrorMessage(`HRM: Train: ${message(e)}`);
      return undefined;
    }
  }
  const data = await askData();
  if (data === null) return undefined;
  const mixing = await pick([
    { label: 'Off', on: false, resample: false },
    { label: 'On', on: true, resample: false, description: 'data mixing: half the draws replaced by their easier hint twin, one twin per puzzle (the paper)' },
    { label: 'On, twins redrawn per draw', on: true, resample: true, description: 'data mixing with a fresh hint twin at every draw' }],
    { title: 'HRM: Train (3/5) — data mixing', ignoreFocusOut: true });
  if (!mixing) return undefined;
  const choice = TRAIN_PRESETS.find((p) => p.name === preset.label);
  const defaultSteps = choice?.defaultSteps ?? 1000;
  const steps = await input({
    title: 'HRM: Train (4/5) — steps', value: String(defaultSteps), prompt: 'optimizer steps', ignoreFocusOut: true,
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'a whole number ≥ 1'),
  });
  if (steps === undefined) return undefined;
  const current = readSettings().backend;
  const torchFirst = vscode.workspace.getConfiguration('hrmLens').get<string>('backend') === TORCH_BACKEND;
  const backend = await pick(torch.then((offer) => trainBackendItems(BACKENDS, current, offer, torchFirst)),
    { title: 'HRM: Train (5/5) — backend (used if this is the engine\'s first TF.js request; else Restart Engine first)', ignoreFocusOut: true });
  if (!backend) return undefined;
  const chosen = { preset: preset.label, ...data, mixing: mixing.on, ...(mixing.resample ? { mixingResample: true } : {}), steps: Number(steps.trim()) };
  if (backend.choice.kind === 'tfjs') return { ...chosen, backend: backend.choice.backend };
  const processes = await askProcesses('HRM: Train (5/5) — PyTorch processes', choice?.batch ?? 64);
  if (processes === undefined) return undefined;
  return { ...chosen, backend: TORCH_BACKEND, processes };
}

/** The PyTorch processes step (default 1), recorded: a divisor of the batch of `batch` slots; undefined when dismissed. */
export async function askProcesses(title: string, batch: number): Promise<number | undefined> {
  const processes = await input({
    title, value: '1', ignoreFocusOut: true,
    prompt: `torchrun processes on this machine (DistributedDataParallel; each owns batch / processes of the ${batch} slots)`,
    validateInput: (v) => processesProblem(v, batch),
  });
  return processes === undefined ? undefined : Number(processes.trim());
}

/** The engine's search for a Python with PyTorch (hrmLens.pythonPath, else its own); undefined when none. */
export function torchOffer(engine: EngineClient): Promise<TorchOffer | undefined> {
  const python = readSettings().pythonPath;
  return engine.request('torch.info', python ? { python } : {})
    .then((i: TorchInfo) => (i.available ? i : undefined), () => undefined);
}

export function registerTrain(engine: EngineClient, status: TrainingStatusBar, dashboards: TrainingDashboards): vscode.Disposable {
  let current: string | undefined;
  const stop = async (): Promise<boolean> => {
    if (!current) return false;
    dashboards.stopping(current);
    await engine.request('train.stop', { out: current });
    return true;
  };
  const train = vscode.commands.registerCommand('hrmLens.train', async (args?: TrainArgs): Promise<TrainResult | undefined> => {
    if (!vscode.workspace.isTrusted) return refuse(UNTRUSTED_TRAINING);
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) return refuse('HRM: Train needs an open folder: runs are written to <folder>/.hrm/runs.');
    if (current) {
      void vscode.window.showInformationMessage(`HRM Lens is already training into ${vscode.workspace.asRelativePath(current)}.`);
      return undefined;
    }
    const settings = args ?? (await askSettings(torchOffer(engine)));
    if (!settings) return undefined;
    const resume = settings.resume !== undefined;
    const spec = resume ? await readRunSpec(settings.resume as string) : undefined;
    if (resume && !spec) {
      void vscode.window.showWarningMessage(`HRM: ${settings.resume} is not a training run (no run.json).`);
      return undefined;
    }
    const preset = spec?.preset ?? settings.preset ?? 'tiny-4x4';
    const seed = settings.seed ?? 0;
    const runs = runsFolderUri() ?? vscode.Uri.joinPath(folder.uri, '.hrm', 'runs');
    const out = resume ? path.resolve(settings.resume as string) : vscode.Uri.joinPath(runs, runFolderName(preset, seed)).fsPath;
    const s = readSettings();
    const asked = settings.backend;
    const onTorch = asked === TORCH_BACKEND;
    // With PyTorch, TF.js only evaluates the final checkpoint: on the setting's TF.js backend.
    const backend: BackendName = asked === undefined || asked === TORCH_BACKEND ? s.backend : asked;
    const torch = onTorch ? { torch: { ...(s.pythonPath ? { python: s.pythonPath } : {}), ...(settings.processes !== undefined ? { processes: settings.processes } : {}) } } : {};
    current = out;
    void setContextKey(TRAINING_RUNNING, true);
    status.start(resume ? `${preset} (resumed)` : preset);
    dashboards.started(out, { preset, totalSteps: settings.steps ?? spec?.steps, backend: onTorch ? TORCH_BACKEND : backend });
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `HRM: ${resume ? 'resuming' : 'training'} ${preset}`, cancellable: true },
        async (progress, token) => {
          const sub = token.onCancellationRequested(() => { void stop().catch(() => undefined); progress.report({ message: 'stopping after a checkpoint…' }); });
          let reported = 0;
          try {
            return await engine.request('train', resume
              ? { preset, steps: settings.steps, out, resume: true, backend, ...torch }
              : { preset, steps: settings.steps, seed, mixing: settings.mixing, mixingResample: settings.mixingResample, batch: settings.batch, data: settings.data, out, backend, ...torch }, {
              onProgress: (e) => {
                dashboards.event(out, e);
                // The Runs view also watches the runs folder; this refresh does not depend on the file watcher.
                if (e.kind === 'checkpoint') void vscode.commands.executeCommand('hrmLens.runs.refresh');
                if (e.kind !== 'step') return;
                status.update(e);
                const pct = (100 * e.step) / e.totalSteps;
                progress.report({ increment: pct - reported, message: `step ${e.step}/${e.totalSteps} · loss ${e.loss.toFixed(3)} · ${e.stepsPerSecond.toFixed(1)} steps/s` });
                reported = pct;
              },
            });
          } finally {
            sub.dispose();
          }
        },
      );
      const rel = vscode.workspace.asRelativePath(result.checkpoint);
      const held = result.heldOut ? `; held-out exact ${(result.heldOut.exact * 100).toFixed(1)}%` : '';
      dashboards.finished(out, result);
      void vscode.window.showInformationMessage(result.cancelled ? `HRM: training stopped at step ${result.step}; checkpoint ${rel}` : `HRM: training finished (${result.step} steps${held}); checkpoint ${rel}`);
      return result;
    } catch (e) {
      dashboards.finished(out, { error: message(e), cancelled: isCancelled(e) });
      // A run folder another training writes is refused by the engine with the lock's message (who, where, since when).
      if (!isCancelled(e)) void vscode.window.showErrorMessage(`HRM: ${resume ? 'Resume Training' : 'Train'} failed: ${message(e)}`);
      return undefined;
    } finally {
      current = undefined;
      void setContextKey(TRAINING_RUNNING, false);
      status.hide();
    }
  });
  const stopCommand = vscode.commands.registerCommand('hrmLens.stopTraining', async (): Promise<boolean> => {
    try {
      const stopping = await stop();
      if (!stopping) void vscode.window.showInformationMessage('HRM Lens is not training.');
      return stopping;
    } catch (e) {
      void vscode.window.showErrorMessage(`HRM: Stop Training failed: ${message(e)}`);
      return false;
    }
  });
  return vscode.Disposable.from(train, stopCommand);
}
