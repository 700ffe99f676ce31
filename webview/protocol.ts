/**
 * Every message between the extension host and the inspector webview, and the webview's persisted state. Types only
 * (no imports: webview/ may not import engine/ or extension/ code; the host maps the engine's InspectSummary here).
 *
 *   webview → host  { kind: 'ready' }                 once the script runs (the host posts nothing before it)
 *   host → webview  { kind: 'trace', trace }          the inspected puzzle, segment by segment
 *   webview → host  { kind: 'rendered', ms }          after the first full render of a trace (time from arrival)
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
}

export type HostToInspector =
  | { kind: 'trace'; trace: InspectorTrace }
  | { kind: 'landscape-progress'; done: number; total: number }
  | { kind: 'landscape'; landscape: InspectorLandscape }
  | { kind: 'landscape-error'; message: string };
export type InspectorToHost =
  | { kind: 'ready' }
  | { kind: 'rendered'; ms: number }
  | { kind: 'compute-landscape'; size: number }
  | { kind: 'cancel-landscape' };

/** Kept across reloads with vscode.setState and given back to the panel serializer. */
export interface InspectorState {
  trace?: InspectorTrace;
  landscape?: InspectorLandscape;
  segment: number;
  showSolution: boolean;
}
