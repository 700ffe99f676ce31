/** Messages between the trainer (data-parallel.ts) and its helper thread (micro-batch-worker.ts). */
import type { LossType } from './losses';

/** New weights (TF.js layout, by reference name), or one micro-batch to run. */
export type HelperRequest =
  | { kind: 'weights'; weights: [string, Float32Array][] }
  | {
    kind: 'job'; zH: Float32Array; zL: Float32Array; tokens: Int32Array; labels: Int32Array; isLast: Float32Array;
    lossType: LossType; globalBatch: number;
  };

/** A micro-batch's result (MicroBatchResult as plain arrays), or why it failed. */
export type HelperReply =
  | {
    ok: true; grads: [string, Float32Array][]; loss: number; lm: number; qHalt: number; qContinue: number;
    qHaltValues: Float32Array; qContinueValues: Float32Array; pred: Int32Array; zH: Float32Array; zL: Float32Array;
  }
  | { ok: false; error: string };
