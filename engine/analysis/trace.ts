/**
 * Trace types: what the recorder (the TF.js HRM in engine/model/) captures for one puzzle, segment by segment, and
 * what the pure-TypeScript analysis in engine/analysis/ and engine/ensemble/ reads. No TF.js here.
 *
 * Conventions:
 *  - Segments are 1-based in names, UI and every scalar summary (`firstExact = 3` means "segment 3"); arrays are
 *    0-based (`segments[2]` is segment 3).
 *  - `logits` are row-major [cell][vocab] over the n·n puzzle cells only (the prefix / puzzle-embedding rows are
 *    already dropped), vocab = n + 2: token 0 = PAD, 1 = blank, digit d = token d + 1 (engine/sudoku/geometry.ts).
 *  - `zH` / `zL` / `hStates` are whole carries flattened row-major [seq][hidden] (seq includes the prefix rows).
 */
import type { Grid, GridSize } from '../sudoku/geometry';

/** One segment of one puzzle. */
export interface SegmentCapture {
  /** [cells * vocab], vocab = n + 2 (tokens: 0 PAD, 1 blank, digit + 1). */
  logits: Float32Array;
  /** Raw Q-head logits (halt, continue). */
  qHalt: number;
  qContinue: number;
  /** Carry z_H at segment end, flattened [seq * hidden] (seq includes the prefix rows). */
  zH?: Float32Array;
  /** Carry z_L at segment end, flattened like zH. */
  zL?: Float32Array;
  /** z_H after every H-update inside the segment (H_cycles of them), flattened; the last one equals zH. */
  hStates?: Float32Array[];
  /** Whether the ACT wrapper halted the sequence at this segment (evaluation never halts early). */
  halted?: boolean;
}

/** Everything recorded for one puzzle. */
export interface PuzzleTrace {
  n: GridSize;
  /** The input grid, digits 0..n (0 = blank). */
  puzzle: Grid;
  /** The solution when known; label-dependent metrics are skipped without it. */
  solution?: Grid;
  segments: SegmentCapture[];
  /** Checkpoint name or path the trace was recorded with. */
  checkpoint?: string;
  /** Optional puzzle identifier (dataset line, id) for reports. */
  id?: string;
  /** Optional difficulty rating (e.g. solver backtracks) for rating-band views. */
  rating?: number;
}
