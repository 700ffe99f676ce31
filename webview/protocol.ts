/**
 * Every message between the extension host and the inspector webview, and the webview's persisted state. Types only
 * (no imports: webview/ may not import engine/ or extension/ code; the host maps the engine's InspectSummary here).
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
 */

export interface InspectorSegment {
  segment: number;
  /** Decoded grid, one character per cell ('1'–'9'). */
  grid: string;
  exact: boolean;
  wrong: number | null;
  energy: number;
  loss: number | null;
  changed: number;
  /** σ(q_halt), σ(q_continue). */
  qHalt: number;
  qContinue: number;
  residualH: number | null;
}

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
  /** The puzzle under the cyclic digit shifts, answers mapped back; exact null when the solution is not unique. */
  perturbations: { name: string; answer: string; halted: boolean; exact: boolean | null }[];
  /** Label-free plurality over the halted passes (all when none halted). */
  vote: { answer: string | null; votes: number; pool: 'halted' | 'all'; poolSize: number; exact: boolean | null };
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
  basins?: { labels: number[]; attractors: { label: number; kind: 'solution' | 'spurious'; grid: string; energy: number; points: number }[]; moving: number } | null;
}

export type HostToInspector =
  | { kind: 'trace'; trace: InspectorTrace }
  | { kind: 'landscape-progress'; done: number; total: number }
  | { kind: 'landscape'; landscape: InspectorLandscape }
  | { kind: 'landscape-error'; message: string }
  | { kind: 'exported'; message: string };
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
  | { kind: 'export-trace'; format: 'json' | 'csv' };

/** Kept across reloads with vscode.setState and given back to the panel serializer. */
export interface InspectorState {
  trace?: InspectorTrace;
  landscape?: InspectorLandscape;
  segment: number;
  showSolution: boolean;
}
