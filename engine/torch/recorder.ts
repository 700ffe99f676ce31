/**
 * The trace recorder on the PyTorch worker: the same PuzzleTrace per puzzle as engine/analysis/capture-trace.ts
 * (logits, qHalt, qContinue and, with latents, zH, zL and hStates per segment; halting off, as the reference
 * evaluates), so the analyses read it unchanged. One worker request per batch; the worker streams the segments.
 */
import type { CaptureTraceOptions, TraceInput } from '../analysis/capture-trace';
import type { PuzzleTrace, SegmentCapture } from '../analysis/trace';
import type { BatchMetricsOptions } from '../analysis/batch-metrics';
import { computeTraceMetrics, type TraceMetrics } from '../analysis/segment-metrics';
import { type GridSize, gridToTokens } from '../sudoku/geometry';
import { throwIfAborted } from '../util/steps';
import type { TorchModel } from './torch-model';

/** Traces for a batch of puzzles (one worker run for the whole batch). */
export async function captureTracesTorch(model: TorchModel, inputs: readonly TraceInput[], opts: CaptureTraceOptions): Promise<PuzzleTrace[]> {
  const S = opts.segments;
  const latents = opts.latents ?? true;
  const { cells, vocab, totalLen } = model.dims;
  const D = model.config.hidden;
  const H = model.config.H_cycles;
  const state = totalLen * D;
  const traces: PuzzleTrace[] = inputs.map((input) => ({
    n: model.config.gridSize as GridSize, puzzle: input.puzzle, solution: input.solution, segments: [],
    checkpoint: opts.checkpoint, id: input.id,
  }));
  if (inputs.length === 0) return traces;
  await model.run(inputs.map((p) => gridToTokens(p.puzzle)), { segments: S, latents }, (s) => {
    traces.forEach((trace, b) => {
      const seg: SegmentCapture = {
        logits: s.logits.slice(b * cells * vocab, (b + 1) * cells * vocab), qHalt: s.q[b * 2], qContinue: s.q[b * 2 + 1],
      };
      if (latents && s.zH && s.zL && s.hStates) {
        seg.zH = s.zH.slice(b * state, (b + 1) * state);
        seg.zL = s.zL.slice(b * state, (b + 1) * state);
        const hs = s.hStates;
        const zH = s.zH;
        // The worker sends the H-updates before the last; the last one is the segment's z_H.
        seg.hStates = Array.from({ length: H }, (_, j) => (j < H - 1
          ? hs.slice((b * (H - 1) + j) * state, (b * (H - 1) + j + 1) * state)
          : zH.slice(b * state, (b + 1) * state)));
      }
      trace.segments.push(seg);
    });
  });
  return traces;
}

/** The options of the TF.js batched run (engine/analysis/batch-metrics.ts), the same on the worker. */
export type TorchBatchOptions = BatchMetricsOptions;

/** engine/analysis/batch-metrics.ts batchTraceMetrics on the worker: batch by batch, the traces dropped after. */
export async function batchTraceMetricsTorch(model: TorchModel, inputs: readonly TraceInput[], opts: TorchBatchOptions = {}): Promise<TraceMetrics[]> {
  const S = opts.segments ?? model.config.haltMaxSteps;
  const B = opts.batch ?? 64;
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`batch must be an integer >= 1, got ${B}`);
  const out: TraceMetrics[] = [];
  for (let start = 0; start < inputs.length; start += B) {
    throwIfAborted(opts.signal, 'run');
    const traces = await captureTracesTorch(model, inputs.slice(start, start + B), { segments: S, latents: opts.latents ?? true });
    opts.onTraces?.(traces, start);
    for (const t of traces) out.push(computeTraceMetrics(t));
    opts.onProgress?.(Math.min(inputs.length, start + B), inputs.length);
  }
  return out;
}
