/**
 * HRM Lens extension entry point. VS Code glue only: every number shown comes from the engine process.
 * Activation is cheap: nothing starts until a command needs the engine (extension/engine/engine-client.ts), and the
 * workspace's checkpoints are looked for after activation (views/checkpoint-catalog.ts). activate() returns the API
 * of the in-host tests only when they run (HRM_LENS_TEST=1, or VS Code runs the extension's tests).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineTestApi } from './engine/engine-client';
import { registerEngine } from './engine/engine-commands';
import { registerInspectPuzzle } from './commands/inspect-puzzle';
import { registerEvaluateCheckpoint } from './commands/evaluate-checkpoint';
import { registerResultDocuments } from './commands/result-document';
import { type TrainPrompt, lastTrainPrompts, registerTrain } from './commands/train';
import { registerResumeTraining } from './commands/resume-training';
import { registerImportCheckpoint } from './commands/import-checkpoint';
import { registerAnalysisReports } from './commands/analysis-reports';
import { registerInterventionReports } from './commands/intervention-reports';
import { registerPaperReport } from './commands/paper-report';
import { registerPuzzleCodeLens } from './commands/puzzle-codelens';
import { registerInspectorPanels, type InspectorPanels } from './panels/inspector-panel';
import { registerTrainingDashboards, type TrainingDashboards } from './panels/training-dashboard';
import { registerEnsemblePanel, type EnsemblePanel } from './panels/ensemble-panel';
import { registerCompareRuns, type ComparePanel } from './panels/compare-panel';
import { TrainingStatusBar } from './status-bar';
import { registerRunsView } from './views/runs-view';
import { OfficialRunsFollower } from './views/official-runs';
import type { RunsNode, RunsRefreshCause } from './views/runs-tree';
import { registerTrajectoriesView } from './views/trajectories-view';
import { TrajectoryStore } from './views/trajectory-store';
import { registerCheckpointHover } from './hover/checkpoint-hover';
import { registerCheckpointDecorations } from './hover/checkpoint-decorations';
import { readSettings, type HrmLensSettings } from './settings';
import { CheckpointCatalog } from './views/checkpoint-catalog';
import { registerModelsView, type ModelsNode } from './views/models-view';
import type { ShippedModel } from './views/shipped-models';
import { registerSelectionContext } from './commands/selection-context';
import { lastCheckpointChoices, type CheckpointChoices } from './commands/checkpoints';
import { recentRefusals } from './commands/refusals';
import { contextKeyValues } from './context-keys';
import { putCliOnPath, type CliOnPath } from './cli-on-path';
import { registerHoverExample } from './hover/hover-example';

/** The walkthrough (package.json contributes.walkthroughs), as `workbench.action.openWalkthrough` names it. */
export const WALKTHROUGH = 'hrm-lens.hrm-lens#getting-started';

/** activate()'s return value while the in-host tests run (undefined otherwise). */
export interface HrmLensApi {
  /** The engine client, plus stop() so that a suite can leave the engine stopped for the next one. */
  engine: EngineTestApi & { stop(): Promise<void> };
  /** The Runs tree's data provider (views/runs-tree.ts). */
  runs: vscode.TreeDataProvider<RunsNode> & { refresh(): void; readonly onDidChangeTreeData: vscode.Event<RunsNode | undefined>; readonly lastRefreshCause: RunsRefreshCause | undefined };
  /** The followed reference runs (views/official-runs.ts): their runs and checkpoints' states, and a look now. */
  officialRuns: Pick<OfficialRunsFollower, 'runs' | 'rescan' | 'stateOf' | 'cacheDir' | 'onDidChange'>;
  /** The Explorer decorations of checkpoint files. */
  decorations: vscode.FileDecorationProvider;
  settings(): HrmLensSettings;
  /** Milliseconds activate() took (the engine is not started by activation). */
  activationMs: number;
  /** The inspector panels (render times reported by the webviews). */
  panels: InspectorPanels;
  /** The trajectories listed in the Trajectories view. */
  trajectories: TrajectoryStore;
  /** The training dashboards (messages posted per run, for the in-host test). */
  dashboards: TrainingDashboards;
  /** The ensemble report panel (reports posted, for the in-host test). */
  ensemble: EnsemblePanel;
  /** The runs comparison (HRM: Compare Runs; its last posted runs and page, for the in-host test). */
  compare: ComparePanel;
  /** The context keys last set (context-keys.ts): VS Code offers no way to read them back. */
  contextKeys(): Readonly<Record<string, unknown>>;
  /** The Shipped Models view's data provider (views/models-view.ts). */
  models: vscode.TreeDataProvider<ModelsNode>;
  /** The HRM Lens checkpoints known to the Explorer's menu; rescan() looks again now; shipped(): the shipped models. */
  checkpoints: { files(): readonly string[]; rescan(): Promise<readonly string[]>; shipped(): Promise<readonly ShippedModel[]> };
  /** What the last checkpoint pick offered. */
  checkpointChoices(): CheckpointChoices | undefined;
  /** The newest refusal messages shown (untrusted workspace, not a checkpoint, …). */
  refusals(): readonly string[];
  /** The prompts the last "HRM: Train" or "HRM: Resume Training" showed (titles and item labels). */
  trainPrompts(): readonly TrainPrompt[];
  /** Where the `hrm-lens` launcher was put on the terminals' PATH (undefined when it was not). */
  cli: CliOnPath | undefined;
  /** The terminals' environment changes of the extension: PATH and HRM_LENS_NODE. */
  terminalEnvironment(): Record<string, { value: string; type: string } | undefined>;
}

/** True while the in-host tests run: the runner sets HRM_LENS_TEST=1; VS Code's own test mode counts too. */
export function wantsTestApi(env: NodeJS.ProcessEnv, mode: vscode.ExtensionMode): boolean {
  return env.HRM_LENS_TEST === '1' || mode === vscode.ExtensionMode.Test;
}

export function activate(context: vscode.ExtensionContext): HrmLensApi | undefined {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('HRM Lens', { log: true });
  context.subscriptions.push(log);
  const engine = registerEngine(context, log);
  const docs = registerResultDocuments(context);
  const trajectories = new TrajectoryStore(context.workspaceState);
  context.subscriptions.push(trajectories);
  const panels = registerInspectorPanels(context, engine, trajectories);
  const trainingStatus = new TrainingStatusBar();
  const dashboards = registerTrainingDashboards(context);
  const ensemble = registerEnsemblePanel(context);
  const compare = registerCompareRuns(context);
  const modelsDir = path.join(context.extensionPath, 'models');
  const catalog = new CheckpointCatalog(modelsDir);
  context.subscriptions.push(
    trainingStatus,
    catalog,
    registerInspectPuzzle(engine, docs, panels, trajectories, catalog),
    registerTrain(engine, trainingStatus, dashboards),
    registerEvaluateCheckpoint(engine, catalog),
    registerResumeTraining(engine),
    registerImportCheckpoint(engine),
    registerAnalysisReports(engine, docs, ensemble, catalog),
    registerInterventionReports(engine, docs, catalog),
    registerPaperReport(context, engine),
    registerPuzzleCodeLens(),
    registerSelectionContext(),
    registerHoverExample(catalog),
  );
  const decorations = registerCheckpointDecorations();
  const modelsView = registerModelsView(modelsDir);
  const officialRuns = new OfficialRunsFollower(engine, vscode.Uri.joinPath(context.globalStorageUri, 'official-cache').fsPath);
  const runsView = registerRunsView(() => { decorations.provider.refresh(); modelsView.provider.refresh(); catalog.rescanSoon(); }, officialRuns);
  context.subscriptions.push(officialRuns, runsView, modelsView, registerTrajectoriesView(trajectories), registerCheckpointHover(), decorations.disposable);
  context.subscriptions.push(
    vscode.commands.registerCommand('hrmLens.showInfo', () => {
      const version = String(context.extension.packageJSON.version ?? '?');
      // Not awaited: the message stays until it is dismissed.
      void vscode.window.showInformationMessage(`HRM Lens ${version}: the engine starts on first use.`, 'Get Started')
        .then((choice) => (choice ? vscode.commands.executeCommand('hrmLens.getStarted') : undefined));
      return version;
    }),
    vscode.commands.registerCommand('hrmLens.getStarted', () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH, false)),
  );
  const cli = putCliOnPath(context);
  void catalog.rescan(); // after activation: findFiles and header reads do not hold it up
  const activationMs = performance.now() - t0;
  log.info(`HRM Lens activated in ${activationMs.toFixed(1)} ms (engine not started)`);
  if (!wantsTestApi(process.env, context.extensionMode)) return undefined;
  const envVar = (name: string) => {
    const m = context.environmentVariableCollection.get(name);
    return m ? { value: m.value, type: vscode.EnvironmentVariableMutatorType[m.type] } : undefined;
  };
  return {
    engine: { ...engine.testApi(), stop: () => engine.stop() },
    runs: runsView.provider, officialRuns, decorations: decorations.provider, settings: readSettings, activationMs, panels, trajectories, dashboards, ensemble, compare,
    contextKeys: contextKeyValues,
    models: modelsView.provider,
    checkpoints: { files: () => catalog.files, rescan: () => catalog.rescan(), shipped: () => catalog.shippedModels() },
    checkpointChoices: lastCheckpointChoices,
    refusals: recentRefusals,
    trainPrompts: lastTrainPrompts,
    cli,
    terminalEnvironment: () => ({ PATH: envVar('PATH'), HRM_LENS_NODE: envVar('HRM_LENS_NODE') }),
  };
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code (the engine client ends its process).
}
