/**
 * The logit lens inside a segment (docs/analyses.md §Interventions): every update of every segment read through the
 * output head. z_H after each H-update is the head's own input (at the end of a segment it is the segment's output);
 * z_L after each L-update is read through the same head as if it were z_H, an off-distribution read that shows what
 * the low level already holds. The states are the captures `seg.{k}.h.{j}.zH` and `seg.{k}.h.{j}.l.{i}.zL`
 * (engine/model/capture.ts), taken from the segment's own update (segmentStateUpdate), from the initial state.
 *
 * Per read: the decoded grid (argmax over the digit tokens, lowest digit on ties, as the interventions decode:
 * engine/intervene/trajectory.ts), wrong cells against the solution (the one given, else the solver's when unique;
 * null without one), conflict energy E, and the confidence: the mean, over the puzzle's blank cells (every cell when
 * it has none), of the argmax digit's probability under a softmax over the digit tokens.
 *
 * The jump: among the z_H reads of segments 2 onwards, the one where the wrong cells fell the most from the z_H read
 * before it (for H-cycle 1, the previous segment's output), earliest on ties; without a solution, the fall of E
 * instead. Null when nothing falls. The reads of segment 1 start from the initial state, not from an answer, so they
 * are only the reference of the next read, as segment 1 is for the critical segment of the trace metrics
 * (engine/analysis/segment-metrics.ts): with one H-cycle per segment the jump is in the critical segment.
 *
 * Written as a step generator (one `yield` per segment); an aborted signal stops it (AbortError); every tensor is
 * freed on every path.
 */
import { tf } from '../tf';
import { type CaptureRequest, type HrmModel, disposeCarry, segmentStateUpdate } from '../model';
import { type Grid, type GridSize, geometry, gridToString, gridToTokens } from '../sudoku/geometry';
import { conflictEnergy, wrongCells } from '../sudoku/energy';
import { runSteps, runStepsAsync, type Steps, throwIfAborted } from '../util/steps';
import type { LensResult, LensStep } from './intervene-protocol';
import { hrmMap } from './recurrent-map';
import { uniqueSolution } from './outcome';

export interface LensOptions {
  /** Segments to run (default: the model's haltMaxSteps). */
  segments?: number;
  /** The puzzle's solution (default: the solver's when unique). */
  solution?: Grid;
  /** What the report's first line names (e.g. the checkpoint file). */
  label?: string;
  /** Segments done of the total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const STATE_NAME = /^seg\.(\d+)\.h\.(\d+)(?:\.l\.(\d+))?\.(zH|zL)$/;

/**
 * Digits (1..n) and the argmax digit's probability per cell, from logits [cells][n + 2] over the digit tokens only.
 */
export function decodeDigitLogits(logits: ArrayLike<number>, n: GridSize): { digits: Grid; probability: Float64Array } {
  const vocab = n + 2;
  const cells = n * n;
  if (logits.length !== cells * vocab) throw new RangeError(`lens: expected ${cells}×${vocab} logits, got ${logits.length}`);
  const digits = new Int8Array(cells);
  const probability = new Float64Array(cells);
  for (let c = 0; c < cells; c++) {
    const base = c * vocab + 2;
    let best = 0;
    for (let d = 1; d < n; d++) if (logits[base + d] > logits[base + best]) best = d;
    let sum = 0;
    for (let d = 0; d < n; d++) sum += Math.exp(logits[base + d] - logits[base + best]);
    digits[c] = best + 1;
    probability[c] = 1 / sum;
  }
  return { digits, probability };
}

/** The lens of `puzzle` (synchronously). */
export function computeLens(model: HrmModel, puzzle: Grid, opts: LensOptions = {}): LensResult {
  return runSteps(lensSteps(model, puzzle, opts));
}

/** computeLens with the event loop turning between segments; an aborted signal stops it (AbortError). */
export function computeLensAsync(model: HrmModel, puzzle: Grid, opts: LensOptions = {}): Promise<LensResult> {
  return runStepsAsync(lensSteps(model, puzzle, opts), opts.signal, 'lens');
}

/** The index in `steps` of the jump (see the file comment), or null. */
export function lensJump(steps: readonly LensStep[]): number | null {
  let jump: number | null = null;
  let best = 0;
  let prev: LensStep | undefined;
  steps.forEach((s, i) => {
    if (s.state !== 'zH') return;
    if (prev && s.segment >= 2) {
      const fall = s.wrongCells !== null && prev.wrongCells !== null ? prev.wrongCells - s.wrongCells : prev.energy - s.energy;
      if (fall > best) { best = fall; jump = i; }
    }
    prev = s;
  });
  return jump;
}

/** computeLens as a step generator. */
export function* lensSteps(model: HrmModel, puzzle: Grid, opts: LensOptions = {}): Steps<LensResult> {
  const t0 = performance.now();
  const S = opts.segments ?? model.config.haltMaxSteps;
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`lens: segments must be an integer >= 1, got ${S}`);
  const n = model.config.gridSize as GridSize;
  const geo = geometry(n);
  const { cells } = model.dims;
  if (puzzle.length !== cells) throw new RangeError(`lens: puzzle has ${puzzle.length} cells, the model's grid ${cells}`);
  const solution = opts.solution ?? uniqueSolution(puzzle, n);
  const blanks: number[] = [];
  puzzle.forEach((d, c) => { if (d === 0) blanks.push(c); });
  const over = blanks.length ? blanks : Array.from({ length: cells }, (_, c) => c);
  const map = hrmMap(model);
  const steps: LensStep[] = [];
  const capture: CaptureRequest = {
    wants: (name) => STATE_NAME.test(name),
    record: (name, value) => {
      const m = STATE_NAME.exec(name);
      if (!m) return;
      const logits = map.readout(value as tf.Tensor3D);
      const data = logits.dataSync();
      logits.dispose();
      const { digits, probability } = decodeDigitLogits(data, n);
      let conf = 0;
      for (const c of over) conf += probability[c];
      steps.push({
        segment: Number(m[1]), h: Number(m[2]), l: m[3] === undefined ? null : Number(m[3]), state: m[4] as 'zH' | 'zL',
        grid: gridToString(digits), wrongCells: solution ? wrongCells(digits, solution).total : null,
        energy: conflictEnergy(digits, geo), confidence: conf / over.length,
      });
    },
  };
  throwIfAborted(opts.signal, 'lens');
  const x = tf.tidy(() => map.embed(tf.tensor2d(gridToTokens(puzzle), [1, cells], 'int32')));
  let carry = map.initial(1);
  try {
    for (let k = 1; k <= S; k++) {
      throwIfAborted(opts.signal, 'lens');
      const next = segmentStateUpdate(model, carry, x, { capture, segmentIndex: k });
      disposeCarry(carry);
      carry = next;
      opts.onProgress?.(k, S);
      yield;
    }
  } finally {
    disposeCarry(carry);
    x.dispose();
  }
  const result: LensResult = { segments: S, steps, jump: lensJump(steps), seconds: (performance.now() - t0) / 1000, text: '' };
  result.text = formatLens(result, puzzle, solution, opts.label);
  return result;
}

/** The report as `hrm-lens lens` prints it: one line per update, the jump marked '>'. */
export function formatLens(r: LensResult, puzzle: Grid, solution: Grid | undefined, label?: string): string {
  const lines = [
    `${label ? `${label}: ` : ''}logit lens over ${r.segments} segments (${r.steps.length} updates read through the output head), ${r.seconds.toFixed(2)} s`,
    `puzzle   ${gridToString(puzzle)}`,
    `solution ${solution ? gridToString(solution) : '(not unique)'}`,
    '',
    '   seg   h   l  state  wrong    E   conf  grid',
  ];
  r.steps.forEach((s, i) => {
    lines.push(`${i === r.jump ? '>' : ' '}${String(s.segment).padStart(5)} ${String(s.h).padStart(3)} ${(s.l === null ? '-' : String(s.l)).padStart(3)}  ${s.state.padEnd(5)}`
      + ` ${(s.wrongCells === null ? '–' : String(s.wrongCells)).padStart(5)} ${String(s.energy).padStart(4)} ${s.confidence.toFixed(3).padStart(6)}  ${s.grid}`);
  });
  lines.push('');
  if (r.jump === null) lines.push('jump: none (the wrong cells never fall between z_H reads after segment 1)');
  else {
    const s = r.steps[r.jump];
    const prev = r.steps.slice(0, r.jump).reverse().find((p) => p.state === 'zH');
    const what = s.wrongCells !== null && prev?.wrongCells !== null && prev ? `wrong cells ${prev.wrongCells} → ${s.wrongCells}` : `E ${prev?.energy} → ${s.energy}`;
    lines.push(`jump: segment ${s.segment}, H-update ${s.h} (${what})`);
  }
  return `${lines.join('\n')}\n`;
}
