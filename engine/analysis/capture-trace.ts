/**
 * Record a PuzzleTrace: run puzzles through the model for S segments (halting off, as the reference evaluates) with
 * the capture API, and regroup the captured activations per puzzle and segment. Latent states (z_H, z_L and z_H
 * after every H-update) are captured only when asked: they are what the residuals, PCA and landscape need.
 */
import { type HrmModel, runWithCacheSteps } from '../model';
import { type Grid, type GridSize, gridToTokens } from '../sudoku/geometry';
import type { PuzzleTrace, SegmentCapture } from './trace';
import { runSteps, type Steps } from '../util/steps';

export interface CaptureTraceOptions {
  segments: number;
  /** Capture z_H / z_L carries and the z_H after every H-update (default true). */
  latents?: boolean;
  checkpoint?: string;
}

export interface TraceInput {
  puzzle: Grid;
  solution?: Grid;
  id?: string;
}

/** Traces for a batch of puzzles (one forward pass per segment for the whole batch). */
export function captureTraces(model: HrmModel, inputs: readonly TraceInput[], opts: CaptureTraceOptions): PuzzleTrace[] {
  return runSteps(captureTraceSteps(model, inputs, opts));
}

/** captureTraces as a step generator (engine/util/steps.ts): one `yield` after every segment. */
export function* captureTraceSteps(model: HrmModel, inputs: readonly TraceInput[], opts: CaptureTraceOptions): Steps<PuzzleTrace[]> {
  const S = opts.segments;
  const latents = opts.latents ?? true;
  const names = ['seg.*.logits', 'seg.*.q', ...(latents ? ['seg.*.zH', 'seg.*.zL', 'seg.*.h.*.zH'] : [])];
  const cache = yield* runWithCacheSteps(model, inputs.map((p) => gridToTokens(p.puzzle)), { segments: S, halting: 'off', names });
  const { cells, vocab, totalLen } = model.dims;
  const D = model.config.hidden;
  const H = model.config.H_cycles;
  const row = (name: string, b: number, size: number): Float32Array => {
    const t = cache.get(name);
    if (!t) throw new Error(`capture is missing ${name}`);
    return t.data.slice(b * size, (b + 1) * size);
  };
  return inputs.map((input, b) => {
    const segments: SegmentCapture[] = [];
    for (let k = 1; k <= S; k++) {
      const q = row(`seg.${k}.q`, b, 2);
      const seg: SegmentCapture = { logits: row(`seg.${k}.logits`, b, cells * vocab), qHalt: q[0], qContinue: q[1] };
      if (latents) {
        seg.zH = row(`seg.${k}.zH`, b, totalLen * D);
        seg.zL = row(`seg.${k}.zL`, b, totalLen * D);
        seg.hStates = Array.from({ length: H }, (_, j) => row(`seg.${k}.h.${j + 1}.zH`, b, totalLen * D));
      }
      segments.push(seg);
    }
    return {
      n: model.config.gridSize as GridSize, puzzle: input.puzzle, solution: input.solution, segments,
      checkpoint: opts.checkpoint, id: input.id,
    };
  });
}
