/**
 * TraceMetrics for many puzzles: captureTraces in batches (halting off), metrics computed batch by batch and the
 * traces (with their latents) dropped, so memory is one batch of traces plus the small per-puzzle metrics.
 */
import type { HrmModel } from '../model';
import { type TraceInput, captureTraceSteps } from './capture-trace';
import { computeTraceMetrics, type TraceMetrics } from './segment-metrics';
import type { PuzzleTrace } from './trace';
import { runSteps, type Steps, throwIfAborted } from '../util/steps';

export { abortError } from '../util/steps';

export interface BatchMetricsOptions {
  /** Segments S (default: the model's haltMaxSteps). */
  segments?: number;
  /** Puzzles per forward batch (default 64). */
  batch?: number;
  /** Capture latents for the z_H / z_L residuals (default true; needed by the modes' drift). */
  latents?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Every batch's traces (inputs start, start + 1, …) before they are dropped: a latents export writes them. */
  onTraces?: (traces: readonly PuzzleTrace[], start: number) => void;
  signal?: AbortSignal;
}

export function batchTraceMetrics(model: HrmModel, inputs: readonly TraceInput[], opts: BatchMetricsOptions = {}): TraceMetrics[] {
  return runSteps(batchTraceMetricsSteps(model, inputs, opts));
}

/** batchTraceMetrics as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* batchTraceMetricsSteps(model: HrmModel, inputs: readonly TraceInput[], opts: BatchMetricsOptions = {}): Steps<TraceMetrics[]> {
  const S = opts.segments ?? model.config.haltMaxSteps;
  const B = opts.batch ?? 64;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`batch must be an integer >= 1, got ${B}`);
  const out: TraceMetrics[] = [];
  for (let start = 0; start < inputs.length; start += B) {
    throwIfAborted(opts.signal, 'run');
    const traces = yield* captureTraceSteps(model, inputs.slice(start, start + B), { segments: S, latents: opts.latents ?? true });
    opts.onTraces?.(traces, start);
    for (const t of traces) out.push(computeTraceMetrics(t));
    opts.onProgress?.(Math.min(inputs.length, start + B), inputs.length);
    yield;
  }
  return out;
}
