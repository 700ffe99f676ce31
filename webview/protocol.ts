/**
 * Every message between the extension host and the webviews (inspector, training dashboard, ensemble report), and
 * their persisted state. Types only. What the engine puts on the wire is declared once, in the engine's types-only
 * files (engine/analysis/inspect-types.ts, engine/analysis/analysis-protocol.ts, engine/ensemble/report-types.ts,
 * engine/intervene/intervene-protocol.ts),
 * and imported here with `import type` (webview/ imports no engine or extension code: eslint.config.mjs); the host
 * maps the engine's results to the shapes below. The inspector:
 *
 *   webview → host  { kind: 'ready', restored? }      once the script runs (the host posts nothing before it)
 *   host → webview  { kind: 'trace', trace }          the inspected puzzle, segment by segment
 *   webview → host  { kind: 'rendered', ms }          after the first full render of a trace (time from arrival to
 *                                                     the first painted frame)
 *   webview → host  { kind: 'compute-landscape' | 'cancel-landscape' }  the error landscape on demand
 *   host → webview  { kind: 'landscape-progress' | 'landscape' | 'landscape-error' }
 *   webview → host  { kind: 'export-png', name, dataUrl }   a chart or canvas, saved through the host's save dialog
 *   webview → host  { kind: 'export-trace', format }        the trace as JSON or CSV (the host formats and saves it)
 *   host → webview  { kind: 'exported', message }           where it was saved (or why not)
 *   webview ↔ host  { kind: 'intervene-…' }                 the Interventions section (InterventionToHost, HostToIntervention)
 */
import type { LandscapeAttractor } from '../engine/analysis/analysis-protocol';
import type { KickResult, LensResult, PatchResult, PatchSource, SpectrumResult, StatePart, SweepResult } from '../engine/intervene/intervene-protocol';
import type { PerturbedAnswer, StripVote, TraceSegment } from '../engine/analysis/inspect-types';
import type { EnsembleConfig, EnsembleDetail, RuleFigures } from '../engine/ensemble/report-types';

export type { LandscapeAttractor, PerturbedAnswer, StripVote, TraceSegment };
export type { KickResult, LensResult, PatchResult, SpectrumResult, StatePart, SweepResult };
export type { EnsembleConfig, EnsembleCurveName, EnsembleCurvePoint, EnsembleDetail, RuleFigures } from '../engine/ensemble/report-types';

/** A segment of the trace as the inspector shows it (the split of `wrong` into givens and blanks left out). */
export type InspectorSegment = Omit<TraceSegment, 'wrongGivens' | 'wrongBlanks'>;

export interface InspectorTrace {
  checkpoint: string;
  puzzle: string;
  solution: string | null;
  segments: InspectorSegment[];
  firstExact: number | null;
  stableFrom: number | null;
  criticalSegment: number | null;
  corruptions: number[];
  /** e.g. 'non-trivial success'. */
  mode: string;
  success: boolean;
  /** Evidence for the class, as label → value text. */
  evidence: [string, string][];
  /** Row-major [segment][cell]: confidence of the decoded digit. */
  confidence: number[];
  /** z_H after every H-update on PC1/PC2: points row-major [update][2]; `perSegment` updates per segment. */
  pca: { points: number[]; perSegment: number; explained: [number, number] } | null;
  /** The puzzle under the cyclic digit shifts, answers mapped back. */
  perturbations: PerturbedAnswer[];
  vote: StripVote;
  /** The strip is still being computed (it comes after the trace: a 'strip' message); absent in older saved states. */
  stripPending?: boolean;
  /** Why the strip is missing (failed or cancelled). */
  stripError?: string;
}

/** The error landscape on the PC1/PC2 plane (plain arrays: it is kept in the saved state). */
export interface InspectorLandscape {
  size: number;
  radius: number;
  /** Row-major [j + r][i + r]: E of the decoded grid. */
  heights: number[];
  /** Destination (i, j) after one segment, [point][2]. */
  flow: number[];
  /** z_H after every H-update relative to the centre, grid units, [update][2]. */
  trajectory: number[];
  explained: number[];
  seconds: number;
  /**
   * Basins (asked with the basins box): per point 0 = the solution's basin, k ≥ 1 = spurious fixed point #k, −1 = still
   * moving after the engine's segment budget; the attractors found. Absent in states saved before basins existed.
   */
  basins?: { labels: number[]; attractors: LandscapeAttractor[]; moving: number } | null;
}

export type HostToInspector =
  | { kind: 'trace'; trace: InspectorTrace }
  | { kind: 'landscape-progress'; done: number; total: number }
  | { kind: 'landscape'; landscape: InspectorLandscape }
  | { kind: 'landscape-error'; message: string }
  /** The perturbation strip of the trace shown (it arrives after the trace), or why there is none. */
  | { kind: 'strip'; perturbations: InspectorTrace['perturbations']; vote: InspectorTrace['vote'] }
  | { kind: 'strip-error'; message: string }
  | { kind: 'exported'; message: string }
  | HostToIntervention;
export type InspectorToHost =
  /**
   * `restored`: the trace the webview already shows from its saved state (after a reload or a tab switch); the host
   * posts no trace when it is the same one, so the segment, the toggles and the landscape stay as they were.
   */
  | { kind: 'ready'; restored?: { checkpoint: string; puzzle: string; segments: number } }
  | { kind: 'rendered'; ms: number }
  | { kind: 'compute-landscape'; size: number; basins?: boolean }
  | { kind: 'cancel-landscape' }
  /** `dataUrl`: data:image/png;base64,…; `name`: a file stem such as 'stability'. */
  | { kind: 'export-png'; name: string; dataUrl: string }
  | { kind: 'export-trace'; format: 'json' | 'csv' }
  | InterventionToHost;

/** Kept across reloads with vscode.setState and given back to the panel serializer. */
export interface InspectorState {
  trace?: InspectorTrace;
  landscape?: InspectorLandscape;
  /**
   * How the landscape is drawn: 'normalized' (arrows on a regular lattice, shortened to one spacing; the default) or
   * 'paper' (E clipped at 40, a fixed random 5% of the arrows at full length). Absent in states saved before it existed.
   */
  landscapeStyle?: LandscapeStyle;
  segment: number;
  showSolution: boolean;
  /** The Interventions section: its settings and results (absent in states saved before it existed). */
  interventions?: InterventionsState;
}

/** The two ways the inspector draws the landscape (its "Normalized arrows" | "Paper style" toggle). */
export type LandscapeStyle = 'normalized' | 'paper';

// ---------------------------------------------------------------------------------------------------------------
// The inspector's Interventions section (webview/inspector-interventions*.ts ↔ extension/panels/inspector-interventions.ts).
// The engine's results (engine/intervene/intervene-protocol.ts) travel as they are; the host fills in the checkpoint
// and the puzzle from the panel's own trace, so the webview names no file.
//
//   webview → host  { kind: 'intervene-run', request }      one intervention on the panel's puzzle and checkpoint
//   webview → host  { kind: 'intervene-cancel' }            stop the one running
//   host → webview  { kind: 'intervene-progress', what, done, total }
//   host → webview  { kind: 'intervene-result', view } | { kind: 'intervene-error', what, message }
//   webview → host  { kind: 'intervene-donor', choice }     pick the patch donor (a trajectory, a relabeling, a latents file)
//   host → webview  { kind: 'intervene-donor', donor, token }  the panel's donor now (null: none); also after 'ready'
//                   (token: the host's opaque key of the panel's donor, kept in the saved state for a reload)
//   webview → host  { kind: 'intervene-dataset' }           pick the compute sweep's dataset file (an open dialog)
//   host → webview  { kind: 'intervene-dataset', name }     the dataset picked (null: none); also after 'ready'
//   webview → host  { kind: 'intervene-export', format, view }   a result as JSON or CSV (the host formats and saves it)
//   webview → host  { kind: 'intervene-rendered', what, summary } a result drawn, with the words the section shows
// ---------------------------------------------------------------------------------------------------------------

export type InterventionKind = 'patch' | 'kick' | 'spectrum' | 'sweep' | 'lens';

/** What the section asks the engine for (the host adds the checkpoint, the puzzle and the trace's segments). */
export type InterventionRequest =
  | { kind: 'patch'; part: StatePart }
  /** `epsilons`: the kick sizes, relative to ‖z‖. */
  | { kind: 'kick'; epsilons: number[] }
  /** `atSegment`: 1-based, the segment selected in the inspector. */
  | { kind: 'spectrum'; atSegment: number }
  /** 'puzzle': the inspected puzzle alone; 'dataset': the dataset file picked for the panel. */
  | { kind: 'sweep'; scope: SweepScope }
  | { kind: 'lens' };

export type SweepScope = 'puzzle' | 'dataset';

/** An engine result as the section keeps and draws it. */
export type InterventionView =
  | { kind: 'patch'; result: PatchResult; donor: PatchDonor }
  | { kind: 'kick'; result: KickResult }
  | { kind: 'spectrum'; result: SpectrumResult }
  | { kind: 'sweep'; result: SweepResult; scope: SweepScope; dataset: string | null }
  | { kind: 'lens'; result: LensResult };

/** The patch donor as the section shows it (its files stay on the host). */
export interface PatchDonor {
  kind: PatchSource['kind'];
  /** e.g. "trajectory ..3.1… · tiny-4x4", "digit shift +1", "latents run.safetensors". */
  label: string;
}

/** How the donor is picked: a trajectory of the Trajectories view (a quick pick), the puzzle under digit shift `shift`, a latents file. */
export type DonorChoice = { kind: 'trajectory' } | { kind: 'relabel'; shift: number } | { kind: 'latents' };

export type InterventionToHost =
  | { kind: 'intervene-run'; request: InterventionRequest }
  | { kind: 'intervene-cancel' }
  | { kind: 'intervene-donor'; choice: DonorChoice }
  | { kind: 'intervene-dataset' }
  | { kind: 'intervene-export'; format: 'json' | 'csv'; view: InterventionView }
  | { kind: 'intervene-rendered'; what: InterventionKind; summary: string };

export type HostToIntervention =
  | { kind: 'intervene-progress'; what: InterventionKind; done: number; total: number }
  | { kind: 'intervene-result'; view: InterventionView }
  | { kind: 'intervene-error'; what: InterventionKind; message: string }
  /**
   * `token`: the opaque key (a random UUID) under which the host keeps the panel's donor across a window reload; the
   * webview keeps it in its saved state (InterventionsState.donorToken) and names nothing else of the donor.
   */
  | { kind: 'intervene-donor'; donor: PatchDonor | null; token: string }
  | { kind: 'intervene-dataset'; name: string | null };

/** The section's settings and last results, kept in the inspector's saved state. */
export interface InterventionsState {
  open: boolean;
  patchPart: StatePart;
  /** log10 of the largest kick ε. */
  epsilonLog: number;
  sweepScope: SweepScope;
  /** The host's key of the panel's donor (the 'intervene-donor' message's token): the restored panel gets its donor back. */
  donorToken?: string;
  patch?: Extract<InterventionView, { kind: 'patch' }>;
  kick?: KickResult;
  /** At most one per segment, by `atSegment`. */
  spectra?: SpectrumResult[];
  sweep?: Extract<InterventionView, { kind: 'sweep' }>;
  lens?: LensResult;
}

// ---------------------------------------------------------------------------------------------------------------
// The training dashboard (extension/panels/training-dashboard.ts ↔ webview/training.main.ts).
//
//   webview → host  { kind: 'ready' }                     once the script runs (the host posts nothing before it)
//   host → webview  { kind: 'run', run, points, checkpoints }   the whole history (metrics.jsonl) and the run's status
//   host → webview  { kind: 'points', points }            new steps while training (batched, a few per second)
//   host → webview  { kind: 'checkpoint', checkpoint }    a checkpoint written
//   host → webview  { kind: 'status', status, message }   training started / stopping / stopped / finished / failed
//   webview → host  { kind: 'stop' | 'resume' }           the Stop and Resume buttons
//   webview → host  { kind: 'inspect-checkpoint', file }  a click on a checkpoint mark
//   webview → host  { kind: 'export-png', name, dataUrl } a chart or the heatmap
// ---------------------------------------------------------------------------------------------------------------

/** One optimizer step, as logged in metrics.jsonl and streamed by the engine's `train`. */
export interface TrainPoint {
  step: number;
  loss: number;
  /** Cell accuracy over the whole batch. */
  cellAccuracy: number;
  /** Over the slots that halted this step; null when none did. */
  exactAccuracy: number | null;
  meanSteps: number | null;
  /** Entry s − 1: exact fraction of the slots at their s-th segment; null where none was (or not logged). */
  segmentExact: (number | null)[];
  /** From the step time (live) or its EMA; null when the log has none. */
  stepsPerSecond: number | null;
}

export interface DashboardCheckpoint {
  step: number;
  file: string;
  /** Held-out exact accuracy from its .eval.json, when evaluated. */
  exact: number | null;
}

/** 'external': metrics.jsonl grows but not from this window's HRM: Train (e.g. `hrm-lens train` in a terminal). */
export type TrainingStatus = 'training' | 'stopping' | 'stopped' | 'finished' | 'failed' | 'idle' | 'external';

export interface DashboardRun {
  dir: string;
  name: string;
  preset: string;
  /** The run's target step count. */
  totalSteps: number;
  /** haltMaxSteps: rows of the step × segment heatmap. */
  segments: number;
  mixing: boolean;
  backend: string | null;
  status: TrainingStatus;
  message: string;
}

export type HostToDashboard =
  | { kind: 'run'; run: DashboardRun; points: TrainPoint[]; checkpoints: DashboardCheckpoint[] }
  | { kind: 'points'; points: TrainPoint[]; backend?: string }
  | { kind: 'checkpoint'; checkpoint: DashboardCheckpoint }
  | { kind: 'status'; status: TrainingStatus; message: string }
  | { kind: 'exported'; message: string };

export type DashboardToHost =
  | { kind: 'ready' }
  | { kind: 'stop' }
  | { kind: 'resume' }
  | { kind: 'inspect-checkpoint'; file: string }
  | { kind: 'export-png'; name: string; dataUrl: string };

/** The dashboard keeps only which run it shows; the host reads the history again after a reload. */
export interface DashboardState {
  run?: string;
  smoothing?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The ensemble report panel (extension/panels/ensemble-panel.ts ↔ webview/ensemble.main.ts).
//
//   webview → host  { kind: 'ready', restored? }        (restored: the report's key when the state already holds it)
//   host → webview  { kind: 'report', report }
//   webview → host  { kind: 'export-png', name, dataUrl } | { kind: 'export-json' }
//   host → webview  { kind: 'exported', message }
// ---------------------------------------------------------------------------------------------------------------

/** The engine's EnsembleResult as the panel draws it: its detail (engine/ensemble/report-types.ts) and figures. */
export interface EnsembleView extends EnsembleDetail {
  /** Identifies the report (sources, data, time) for the reload handshake. */
  key: string;
  title: string;
  puzzles: number;
  checkpoints: number;
  perturbations: number;
  seconds: number;
  summary: Record<EnsembleConfig, RuleFigures>;
}

export type HostToEnsemble = { kind: 'report'; report: EnsembleView } | { kind: 'exported'; message: string };
export type EnsembleToHost =
  | { kind: 'ready'; restored?: string }
  | { kind: 'export-png'; name: string; dataUrl: string }
  | { kind: 'export-json' };

export interface EnsembleState {
  report?: EnsembleView;
  /** Row order of the agreement matrix. */
  sort?: 'input' | 'solved';
  rule?: 'oracle' | 'labelFree';
}

// ---------------------------------------------------------------------------------------------------------------
// Runs side by side (extension/panels/compare-panel.ts ↔ webview/compare.main.ts).
//
//   webview → host  { kind: 'ready' }                         once the script runs (the host posts nothing before it)
//   host → webview  { kind: 'runs', columns, runs }           the runs compared: a new selection, or the columns changed
//   host → webview  { kind: 'run', run }                      one run read again (its metrics.jsonl or folder changed)
//   webview → host  { kind: 'export-csv', order }             the table as CSV, its rows in the order shown
//   webview → host  { kind: 'export-png', name, dataUrl }     a chart
//   host → webview  { kind: 'exported', message }             where it was saved (or why not)
// ---------------------------------------------------------------------------------------------------------------

/** One cell of the runs table. */
export type CompareCell = string | number | boolean | null;

/** How a column's cells are shown and sorted: 'percent' holds fractions 0…1, 'flag' booleans. */
export type CompareColumnKind = 'text' | 'int' | 'number' | 'percent' | 'flag';

export interface CompareColumn {
  key: string;
  label: string;
  kind: CompareColumnKind;
  /** What the column holds, in a sentence (the header's tooltip). */
  title: string;
}

/** The training run's own held-out figures of one evaluated checkpoint (its .eval.json). */
export interface CompareHeldOut {
  step: number;
  exact: number;
  cell: number;
  puzzles: number;
}

export interface CompareRun {
  dir: string;
  name: string;
  /** One cell per column of the last 'runs' message, in its order. */
  cells: CompareCell[];
  /** The metrics.jsonl history in step order; a longer log arrives as bucket means (`loggedSteps` says how long). */
  points: TrainPoint[];
  /** Steps read from metrics.jsonl before any bucketing. */
  loggedSteps: number;
  /** ACT segments of the model (entries of segmentExact). */
  segments: number;
  /** Held-out figures of the evaluated checkpoints, oldest step first. */
  heldOut: CompareHeldOut[];
  /** What was skipped or missing while reading the run ('' when nothing). */
  note: string;
}

export type HostToCompare =
  | { kind: 'runs'; columns: CompareColumn[]; runs: CompareRun[] }
  | { kind: 'run'; run: CompareRun }
  | { kind: 'exported'; message: string };

export type CompareToHost =
  | { kind: 'ready' }
  /** `order`: indices into the runs of the last 'runs' message, in the table's order. */
  | { kind: 'export-csv'; order: number[] }
  | { kind: 'export-png'; name: string; dataUrl: string };

/** The run folders compared and the view's settings; the host reads the runs again after a reload. */
export interface CompareState {
  runs?: string[];
  smoothing?: number;
  logLoss?: boolean;
  /** Run folders hidden from the charts (their legend toggle off). */
  hidden?: string[];
  sort?: { key: string; descending: boolean };
  /** The ACT segment (1-based) of the per-segment exact chart. */
  segment?: number;
}
