/**
 * Evaluate a checkpoint file on a dataset file, as `hrm-lens eval` and the engine's `evaluate` method do: load the
 * model, read the puzzles (loadEvalPuzzles), run evaluate() chunk by chunk (so that progress can be reported and a
 * cancellation honoured between chunks, and the event loop can run), and optionally store the figures under a name
 * in the checkpoint's .eval.json (merged with what is there).
 */
import * as path from 'node:path';
import { loadModel } from './load-model';
import { loadEvalPuzzles } from './eval-data';
import { type EvalPuzzle, type EvalResult, evaluate, evaluateSteps } from './evaluate';
import { runStepsAsync } from '../util/steps';
import { readEvalResult, writeEvalResult, type JsonObject } from './checkpoint';
import type { EvalFigures, EvaluateResult } from '../protocol';
import { LIMITS, intProblem } from '../util/limits';

export interface EvaluateFileOptions {
  checkpoint: string;
  data: string;
  segments?: number;
  limit?: number;
  /** Store under this name in the .eval.json ('' = the data file's base name); undefined = do not store. */
  save?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Puzzles per evaluate() call (default 256). */
  chunk?: number;
}

/** The JSON figures of an evaluation (the .eval.json shape). */
export function evalFigures(r: EvalResult, step: number): EvalFigures {
  return {
    step, puzzles: r.puzzles, segments: r.segments, exact: r.exact, cell: r.cell, haltedAtLast: r.haltedAtLast,
    perSegment: r.perSegment.map((s) => ({ segment: s.segment, exact: s.exact, cell: s.cell })), time: new Date().toISOString(),
  };
}

/** Several evaluations of disjoint puzzle chunks (same segments) as one. */
export function mergeEvalResults(parts: readonly EvalResult[]): EvalResult {
  const n = parts.reduce((a, p) => a + p.puzzles, 0);
  const S = parts[0]?.segments ?? 0;
  const w = (f: (p: EvalResult) => number) => (n === 0 ? 0 : parts.reduce((a, p) => a + f(p) * p.puzzles, 0) / n);
  const perSegment = Array.from({ length: S }, (_, s) => ({
    segment: s + 1, exact: w((p) => p.perSegment[s].exact), cell: w((p) => p.perSegment[s].cell),
  }));
  const solved = new Uint8Array(n);
  let at = 0;
  for (const p of parts) { solved.set(p.solved, at); at += p.puzzles; }
  return { puzzles: n, segments: S, perSegment, exact: w((p) => p.exact), cell: w((p) => p.cell), haltedAtLast: w((p) => p.haltedAtLast), solved };
}

/** evaluate() in chunks (for progress), the event loop turning between segments (engine/util/steps.ts). */
export async function evaluateInChunks(
  model: Parameters<typeof evaluate>[0], puzzles: readonly EvalPuzzle[], opts: Pick<EvaluateFileOptions, 'onProgress' | 'signal' | 'chunk'> & { segments: number },
): Promise<EvalResult> {
  const size = opts.chunk ?? 256;
  const parts: EvalResult[] = [];
  for (let start = 0; start < puzzles.length; start += size) {
    opts.signal?.throwIfAborted();
    parts.push(await runStepsAsync(evaluateSteps(model, puzzles.slice(start, start + size), { segments: opts.segments, signal: opts.signal }), opts.signal, 'evaluation'));
    opts.onProgress?.(Math.min(puzzles.length, start + size), puzzles.length);
  }
  return mergeEvalResults(parts);
}

export async function evaluateCheckpointFile(o: EvaluateFileOptions): Promise<{ report: EvaluateResult; result: EvalResult }> {
  for (const [name, value, limit] of [['segments', o.segments, LIMITS.segments], ['limit', o.limit, LIMITS.limit]] as const) {
    const problem = value === undefined ? undefined : intProblem(name, value, limit);
    if (problem !== undefined) throw new RangeError(problem);
  }
  const { model, checkpoint } = await loadModel(o.checkpoint);
  try {
    const set = await loadEvalPuzzles(o.data, { limit: o.limit, size: model.config.gridSize });
    const segments = o.segments ?? model.config.haltMaxSteps;
    const t0 = Date.now();
    const result = await evaluateInChunks(model, set.puzzles, { segments, onProgress: o.onProgress, signal: o.signal, chunk: o.chunk });
    const seconds = (Date.now() - t0) / 1000;
    const report: EvaluateResult = { checkpoint: checkpoint.file, data: path.resolve(o.data), ...evalFigures(result, checkpoint.step), seconds, savedTo: null };
    if (o.save !== undefined) {
      const prev = (await readEvalResult(checkpoint.file)) as JsonObject | undefined;
      const { savedTo: _unused, ...stored } = report;
      const sets = { ...((prev?.sets as JsonObject | undefined) ?? {}), [o.save || path.basename(o.data)]: stored as unknown as JsonObject };
      report.savedTo = await writeEvalResult(checkpoint.file, { ...(prev ?? {}), sets });
    }
    return { report, result };
  } finally {
    model.dispose();
  }
}
