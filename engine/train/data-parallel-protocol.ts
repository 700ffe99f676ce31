/** Messages between this thread (data-parallel.ts) and the data-parallel helper thread (micro-batch-worker.ts). */
import type { JsonObject } from './checkpoint';
import type { LossType } from './losses';

/** A model to hold (config as configToJson writes it; weights in TF.js layout by reference name), or a job. */
export type HelperRequest =
  | { kind: 'model'; config: JsonObject; weights: [string, Float32Array][] }
  | {
    kind: 'micro-batch'; zH: Float32Array; zL: Float32Array; tokens: Int32Array; labels: Int32Array; isLast: Float32Array;
    lossType: LossType; globalBatch: number; actContinue?: boolean;
  }
  | { kind: 'segment'; zH: Float32Array; zL: Float32Array; tokens: Int32Array; batch: number };

/** A micro-batch's result (MicroBatchResult as plain arrays). */
export interface MicroBatchReply {
  ok: true; kind: 'micro-batch'; grads: [string, Float32Array][]; loss: number; lm: number; qHalt: number; qContinue: number;
  qHaltValues: Float32Array; qContinueValues: Float32Array; pred: Int32Array; zH: Float32Array; zL: Float32Array;
}

/** A segment's outputs (SegmentOutput as plain arrays). */
export interface SegmentReply {
  ok: true; kind: 'segment'; zH: Float32Array; zL: Float32Array; logits: Float32Array; qHalt: Float32Array; qContinue: Float32Array;
}

export type HelperReply = MicroBatchReply | SegmentReply | { ok: false; error: string };
