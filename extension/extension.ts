/**
 * HRM Lens extension entry point. VS Code glue only: every number shown comes from the engine process.
 * Activation is cheap: nothing starts until a command needs the engine (extension/engine/engine-client.ts).
 */
import * as vscode from 'vscode';
import type { EngineTestApi } from './engine/engine-client';
import { registerEngine } from './engine/engine-commands';
import { registerInspectPuzzle } from './commands/inspect-puzzle';
import { registerEvaluateCheckpoint } from './commands/evaluate-checkpoint';
import { registerResultDocuments } from './commands/result-document';
import { registerTrain } from './commands/train';
import { registerResumeTraining } from './commands/resume-training';
import { registerImportCheckpoint } from './commands/import-checkpoint';
import { registerAnalysisReports } from './commands/analysis-reports';
import { registerPuzzleCodeLens } from './commands/puzzle-codelens';
import { registerInspectorPanels, type InspectorPanels } from './panels/inspector-panel';
import { registerTrainingDashboards, type TrainingDashboards } from './panels/training-dashboard';
import { registerEnsemblePanel, type EnsemblePanel } from './panels/ensemble-panel';
import { TrainingStatusBar } from './status-bar';
import { registerRunsView } from './views/runs-view';
import type { RunsNode, RunsRefreshCause } from './views/runs-tree';
import { registerTrajectoriesView } from './views/trajectories-view';
import { TrajectoryStore } from './views/trajectory-store';
import { registerCheckpointHover } from './hover/checkpoint-hover';
import { registerCheckpointDecorations } from './hover/checkpoint-decorations';
import { readSettings, type HrmLensSettings } from './settings';

/** activate()'s return value: a small API for the in-host tests. */
export interface HrmLensApi {
  /** The engine client, plus stop() so that a suite can leave the engine stopped for the next one. */
  engine: EngineTestApi & { stop(): Promise<void> };
  /** The Runs tree's data provider (views/runs-tree.ts). */
  runs: vscode.TreeDataProvider<RunsNode> & { refresh(): void; readonly onDidChangeTreeData: vscode.Event<RunsNode | undefined>; readonly lastRefreshCause: RunsRefreshCause | undefined };
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
}

export function activate(context: vscode.ExtensionContext): HrmLensApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('HRM Lens', { log: true });
  context.subscriptions.push(log);
  const engine = registerEngine(context, log);
  const docs = registerResultDocuments(context);
  const trajectories = new TrajectoryStore(context.workspaceState);
  context.subscriptions.push(trajectories);
  const panels = registerInspectorPanels(context, engine);
  const trainingStatus = new TrainingStatusBar();
  const dashboards = registerTrainingDashboards(context);
  const ensemble = registerEnsemblePanel(context);
  context.subscriptions.push(
    trainingStatus,
    registerInspectPuzzle(context, engine, docs, panels, trajectories),
    registerTrain(engine, trainingStatus, dashboards),
    registerEvaluateCheckpoint(context, engine),
    registerResumeTraining(),
    registerImportCheckpoint(engine),
    registerAnalysisReports(context, engine, docs, ensemble),
    registerPuzzleCodeLens(),
  );
  const decorations = registerCheckpointDecorations();
  const runsView = registerRunsView(() => decorations.provider.refresh());
  context.subscriptions.push(runsView, registerTrajectoriesView(trajectories), registerCheckpointHover(), decorations.disposable);
  context.subscriptions.push(
    vscode.commands.registerCommand('hrmLens.showInfo', async () => {
      const version = String(context.extension.packageJSON.version ?? '?');
      await vscode.window.showInformationMessage(`HRM Lens ${version}: the engine starts on first use.`);
    }),
  );
  const activationMs = performance.now() - t0;
  log.info(`HRM Lens activated in ${activationMs.toFixed(1)} ms (engine not started)`);
  return {
    engine: { ...engine.testApi(), stop: () => engine.stop() },
    runs: runsView.provider, decorations: decorations.provider, settings: readSettings, activationMs, panels, trajectories, dashboards, ensemble,
  };
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code (the engine client ends its process).
}
