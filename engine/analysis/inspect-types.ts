/**
 * One inspected puzzle as it travels: from the engine (`inspect`, `inspect.strip` → engine/analysis/inspect.ts
 * InspectSummary) through the extension host to the inspector's webview (webview/protocol.ts InspectorTrace).
 * Types only, and no imports: webview/ imports this file with `import type`.
 */

/** One segment of the trace. */
export interface TraceSegment {
  segment: number;
  /** Decoded grid, one character per cell ('1'–'9'). */
  grid: string;
  exact: boolean;
  /** Cells that differ from the solution (null without a unique solution); of them, givens and blanks. */
  wrong: number | null;
  wrongGivens: number | null;
  wrongBlanks: number | null;
  /** Conflict energy E of the decoded grid. */
  energy: number;
  loss: number | null;
  /** Cells whose digit changed since the previous segment. */
  changed: number;
  /** σ(q_halt), σ(q_continue). */
  qHalt: number;
  qContinue: number;
  residualH: number | null;
}

/** The puzzle under one digit relabeling, its last-segment answer mapped back; exact null without a unique solution. */
export interface PerturbedAnswer {
  name: string;
  answer: string;
  halted: boolean;
  exact: boolean | null;
}

/** The label-free plurality over the halted passes of the strip (all passes when none halted). */
export interface StripVote {
  answer: string | null;
  votes: number;
  pool: 'halted' | 'all';
  poolSize: number;
  exact: boolean | null;
}
