/**
 * Data parallelism for the trainer on the wasm backend: a helper thread (micro-batch-worker.ts) with its own TF.js and
 * its own copy of the model runs every second micro-batch of a step while this thread runs the other, each on one core
 * with single-threaded kernels. One exchange per micro-batch instead of one per product: the products of a 2-core
 * step split row-wise spend a third of their time copying and waiting (bench/README.md).
 *
 * Bits: both threads run runMicroBatch with the same kernels on one thread, and this thread adds the gradients in the
 * micro-batches' order, so a step gives the same bits with or without the helper (test/unit/data-parallel.test.ts).
 * If the helper cannot start, fails or does not answer, its micro-batch is computed here (the same bits again) and the
 * helper is not used again by this trainer.
 *
 * The trainer's thread waits synchronously (Atomics.wait on a shared flag, then receiveMessageOnPort), because a
 * training step is synchronous.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { tf } from '../tf';
import { currentBackend } from '../backend';
import { type Carry, type HrmModel, configToJson } from '../model';
import { gemmThreads } from '../kernels/wasm-gemm';
import type { MicroBatchInput, MicroBatchResult } from './micro-batch';
import type { HelperReply, HelperRequest } from './data-parallel-protocol';

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

/** Whether a helper thread would be used: wasm on one TF.js thread, with at least two cores for the products. */
export function dataParallelWanted(): boolean {
  const b = currentBackend();
  return process.env.HRM_LENS_DATA_PARALLEL !== '0' && b?.name === 'wasm' && b.threads === 1 && gemmThreads() >= 2;
}

export class DataParallelHelper {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private broken: string | undefined;
  private weightsVersion = -1;

  private constructor(private readonly model: HrmModel, script: { file: string; typescript: boolean }) {
    const channel = new MessageChannel();
    this.port = channel.port1;
    const source = script.typescript
      ? `require(require('node:module').createRequire(${JSON.stringify(script.file)}).resolve('tsx/cjs/api')).register();`
        + `require(${JSON.stringify(script.file)});`
      : script.file;
    this.worker = new Worker(source, {
      eval: script.typescript,
      workerData: { config: configToJson(model.config), reply: channel.port2, flag: this.flag.buffer },
      transferList: [channel.port2],
      env: { ...process.env, HRM_LENS_GEMM_THREADS: '1', HRM_LENS_THREADS: '1' },
    });
    this.worker.unref();
    this.worker.on('error', (err) => { this.broken ??= `helper thread failed: ${err.message}`; });
    this.worker.on('exit', (code) => { this.broken ??= `helper thread exited (code ${code})`; });
  }

  /** A helper for this model, or undefined where data parallelism is not wanted or the worker script is missing. */
  static start(model: HrmModel): DataParallelHelper | undefined {
    if (!dataParallelWanted()) return undefined;
    const script = workerScript();
    if (!script) return undefined;
    try {
      return new DataParallelHelper(model, script);
    } catch {
      return undefined;
    }
  }

  /** Why the helper is no longer used, if it is not. */
  get failure(): string | undefined {
    return this.broken;
  }

  /** Sends the model's current weights unless the helper already has this version. */
  syncWeights(version: number): void {
    if (this.broken || version === this.weightsVersion) return;
    const weights: [string, Float32Array][] = [];
    for (const [name, v] of this.model.weights) weights.push([name, v.dataSync() as Float32Array]);
    this.post({ kind: 'weights', weights });
    this.weightsVersion = version;
  }

  /** Starts a micro-batch on the helper; false when the helper is not usable (compute it here instead). */
  begin(input: MicroBatchInput): boolean {
    if (this.broken) return false;
    Atomics.store(this.flag, 0, 0);
    return this.post({
      kind: 'job', zH: input.carry.zH.dataSync() as Float32Array, zL: input.carry.zL.dataSync() as Float32Array,
      tokens: input.tokens, labels: input.labels, isLast: input.isLast, lossType: input.lossType, globalBatch: input.globalBatch,
    });
  }

  /** Waits for the micro-batch started by begin(); undefined when the helper failed (it is then not used again). */
  finish(waitMs: number): MicroBatchResult | undefined {
    const deadline = performance.now() + Math.max(MIN_WAIT_MS, waitMs);
    while (Atomics.load(this.flag, 0) === 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        this.broken = 'helper thread did not answer in time';
        void this.worker.terminate();
        return undefined;
      }
      Atomics.wait(this.flag, 0, 0, Math.min(left, 1000));
    }
    const got = receiveMessageOnPort(this.port) as { message: HelperReply } | undefined;
    if (!got) { this.broken = 'helper thread raised its flag without an answer'; return undefined; }
    const r = got.message;
    if (!r.ok) { this.broken = `helper thread: ${r.error}`; return undefined; }
    const shape: [number, number, number] = [r.qHaltValues.length, this.model.dims.totalLen, this.model.config.hidden];
    const grads = new Map<string, tf.Tensor>();
    for (const [name, data] of r.grads) grads.set(name, tf.tensor(data, this.model.weight(name).shape, 'float32'));
    const carry: Carry = { zH: tf.tensor3d(r.zH, shape), zL: tf.tensor3d(r.zL, shape) };
    return {
      grads, loss: r.loss, lm: r.lm, qHalt: r.qHalt, qContinue: r.qContinue,
      qHaltValues: r.qHaltValues, qContinueValues: r.qContinueValues, pred: r.pred, carry,
    };
  }

  async close(): Promise<void> {
    this.broken ??= 'closed';
    this.port.close();
    await this.worker.terminate();
  }

  private post(msg: HelperRequest): boolean {
    try {
      this.worker.postMessage(msg);
      return true;
    } catch (err) {
      this.broken = `cannot reach the helper thread: ${(err as Error).message}`;
      return false;
    }
  }
}
