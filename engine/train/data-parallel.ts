/**
 * Data parallelism on the wasm backend: one helper thread per process (micro-batch-worker.ts) with its own TF.js and
 * its own copy of a model. While this thread computes one part of a batch with single-threaded kernels, the helper
 * computes the other part on the second core: one exchange per micro-batch or segment instead of one per product (the
 * products of a 2-core step split row-wise spend a third of their time copying and waiting;
 * docs/benchmarks.md §Data parallelism on two cores).
 *
 *  - training (Trainer.trainStep): every second micro-batch of a step runs on the helper (runMicroBatch on both sides);
 *    this thread adds the gradients in the micro-batches' order;
 *  - inference (runSegmentParallel, data-parallel-segment.ts): the second half of a batch's rows.
 *
 * Bits: both sides run the same functions with the same kernels on one thread, and every kernel computes a row (a
 * batch row, a (batch, head) block) the same way for any batch size, so the results are those of this thread alone
 * (tests: test/unit/data-parallel.test.ts). If the helper cannot start, fails or does not answer, its part is computed
 * here (the same bits again) and the helper is not used again in this process.
 *
 * This thread waits synchronously (Atomics.wait on a shared flag, then receiveMessageOnPort): the callers are synchronous.
 * HRM_LENS_DATA_PARALLEL=0 turns it off.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { tf } from '../tf';
import { currentBackend } from '../backend';
import { type Carry, type HrmModel, type SegmentOutput, configToJson } from '../model';
import { gemmThreads } from '../kernels/wasm-gemm';
import type { MicroBatchInput, MicroBatchResult } from './micro-batch';
import type { HelperReply, HelperRequest, MicroBatchReply, SegmentReply } from './data-parallel-protocol';

/** Longest wait for the helper's answer: generous, it only guards against a helper that died mid-job. */
const MIN_WAIT_MS = 120_000;

/** The worker script: dist/micro-batch-worker.js beside a bundle, or the TypeScript source when run by tsx. */
function workerScript(): { file: string; typescript: boolean } | undefined {
  const dir = typeof __dirname === 'string' ? __dirname : undefined;
  if (!dir) return undefined;
  const js = path.join(dir, 'micro-batch-worker.js');
  if (existsSync(js)) return { file: js, typescript: false };
  const ts = path.join(dir, 'micro-batch-worker.ts');
  if (existsSync(ts)) return { file: ts, typescript: true };
  return undefined;
}

/** Whether the helper would be used now: the wasm backend (selected and current) on one TF.js thread, two cores or more. */
export function dataParallelWanted(): boolean {
  const b = currentBackend();
  return process.env.HRM_LENS_DATA_PARALLEL !== '0' && b?.name === 'wasm' && tf.getBackend() === 'wasm' && b.threads === 1 && gemmThreads() >= 2;
}

export class DataParallelHelper {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private broken: string | undefined;
  /** The model the helper holds: `${model.id}@${version}`, or '' when it must be sent again. */
  private holding = '';
  private pending: 'micro-batch' | 'segment' | undefined;

  private constructor(script: { file: string; typescript: boolean }) {
    const channel = new MessageChannel();
    this.port = channel.port1;
    const source = script.typescript
      ? `require(require('node:module').createRequire(${JSON.stringify(script.file)}).resolve('tsx/cjs/api')).register();`
        + `require(${JSON.stringify(script.file)});`
      : script.file;
    this.worker = new Worker(source, {
      eval: script.typescript,
      workerData: { reply: channel.port2, flag: this.flag.buffer },
      transferList: [channel.port2],
      env: { ...process.env, HRM_LENS_GEMM_THREADS: '1', HRM_LENS_THREADS: '1' },
    });
    this.worker.unref(); // never keeps the process alive
    this.worker.on('error', (err) => { this.broken ??= `helper thread failed: ${err.message}`; });
    this.worker.on('exit', (code) => { this.broken ??= `helper thread exited (code ${code})`; });
  }

  /** The process's helper (started on first use), or undefined where it is not wanted, cannot start or has failed. */
  static get(): DataParallelHelper | undefined {
    if (!dataParallelWanted()) return undefined;
    if (shared === undefined) {
      const script = workerScript();
      try {
        shared = script ? new DataParallelHelper(script) : null;
      } catch {
        shared = null;
      }
    }
    return shared && !shared.broken ? shared : undefined;
  }

  /** Why this helper is no longer used, if it is not. */
  get failure(): string | undefined {
    return this.broken;
  }

  /** Why the process's helper stopped, if it did. */
  static failure(): string | undefined {
    return shared?.broken;
  }

  /**
   * Makes the helper hold `model`'s current weights. With a version (the trainer's optimizer-step count) they are sent
   * only when that changed; without one, always (inference: the weights may have been assigned anywhere).
   */
  syncModel(model: HrmModel, version?: number): void {
    const key = version === undefined ? '' : `${model.id}@${version}`;
    if (this.broken || (key !== '' && key === this.holding)) return;
    const weights: [string, Float32Array][] = [];
    for (const [name, v] of model.weights) weights.push([name, v.dataSync() as Float32Array]);
    this.holding = this.post({ kind: 'model', config: configToJson(model.config), weights }) ? key : '';
  }

  /** Starts a micro-batch on the helper; false when the helper is not usable (compute it here instead). */
  beginMicroBatch(input: MicroBatchInput): boolean {
    return this.begin({
      kind: 'micro-batch', zH: input.carry.zH.dataSync() as Float32Array, zL: input.carry.zL.dataSync() as Float32Array,
      tokens: input.tokens, labels: input.labels, isLast: input.isLast, lossType: input.lossType, globalBatch: input.globalBatch,
      actContinue: input.actContinue,
    });
  }

  /** Starts a no-tape segment on the helper; false when the helper is not usable. */
  beginSegment(carry: Carry, tokens: Int32Array, batch: number): boolean {
    return this.begin({ kind: 'segment', zH: carry.zH.dataSync() as Float32Array, zL: carry.zL.dataSync() as Float32Array, tokens, batch });
  }

  /** The micro-batch started by beginMicroBatch; undefined when the helper failed (it is then not used again). */
  finishMicroBatch(model: HrmModel, waitMs: number): MicroBatchResult | undefined {
    const r = this.finish(waitMs, 'micro-batch') as MicroBatchReply | undefined;
    if (!r) return undefined;
    const grads = new Map<string, tf.Tensor>();
    for (const [name, data] of r.grads) grads.set(name, tf.tensor(data, model.weight(name).shape, 'float32'));
    return {
      grads, loss: r.loss, lm: r.lm, qHalt: r.qHalt, qContinue: r.qContinue,
      qHaltValues: r.qHaltValues, qContinueValues: r.qContinueValues, pred: r.pred, carry: carryOf(model, r.zH, r.zL, r.qHaltValues.length),
    };
  }

  /** The segment started by beginSegment; undefined when the helper failed. */
  finishSegment(model: HrmModel, waitMs: number): SegmentOutput | undefined {
    const r = this.finish(waitMs, 'segment') as SegmentReply | undefined;
    if (!r) return undefined;
    const batch = r.qHalt.length;
    return {
      carry: carryOf(model, r.zH, r.zL, batch),
      logits: tf.tensor3d(r.logits, [batch, model.dims.cells, r.logits.length / (batch * model.dims.cells)]),
      qHalt: tf.tensor1d(r.qHalt), qContinue: tf.tensor1d(r.qContinue),
    };
  }

  /** Stops the helper thread (tests; the process's helper otherwise lives as long as the process). */
  async close(): Promise<void> {
    this.broken ??= 'closed';
    this.port.close();
    await this.worker.terminate();
    if (shared === this) shared = undefined;
  }

  private begin(msg: HelperRequest): boolean {
    // A job whose caller threw before collecting it: wait for its answer and drop it, so the next one pairs up.
    if (this.pending) this.finish(MIN_WAIT_MS, this.pending);
    if (this.broken) return false;
    Atomics.store(this.flag, 0, 0);
    if (!this.post(msg)) return false;
    this.pending = msg.kind === 'segment' ? 'segment' : 'micro-batch';
    return true;
  }

  private finish(waitMs: number, kind: 'micro-batch' | 'segment'): HelperReply | undefined {
    if (this.pending !== kind) return undefined;
    this.pending = undefined;
    const deadline = performance.now() + Math.max(MIN_WAIT_MS, waitMs);
    while (Atomics.load(this.flag, 0) === 0) {
      const left = deadline - performance.now();
      if (left <= 0) return this.fail('the helper thread did not answer in time');
      Atomics.wait(this.flag, 0, 0, Math.min(left, 1000));
    }
    const got = receiveMessageOnPort(this.port) as { message: HelperReply } | undefined;
    if (!got) return this.fail('the helper thread raised its flag without an answer');
    const r = got.message;
    if (!r.ok) return this.fail(`helper thread: ${r.error}`);
    return r.kind === kind ? r : this.fail(`the helper thread answered a ${r.kind} for a ${kind}`);
  }

  private fail(why: string): undefined {
    this.broken ??= why;
    void this.worker.terminate();
    return undefined;
  }

  private post(msg: HelperRequest): boolean {
    try {
      this.worker.postMessage(msg);
      return true;
    } catch (err) {
      this.broken ??= `cannot reach the helper thread: ${(err as Error).message}`;
      return false;
    }
  }
}

let shared: DataParallelHelper | null | undefined;

function carryOf(model: HrmModel, zH: Float32Array, zL: Float32Array, batch: number): Carry {
  const shape: [number, number, number] = [batch, model.dims.totalLen, model.config.hidden];
  return { zH: tf.tensor3d(zH, shape), zL: tf.tensor3d(zL, shape) };
}
