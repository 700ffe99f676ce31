/**
 * The data-parallel helper thread of the trainer (data-parallel.ts): its own TF.js with the wasm backend on one
 * thread, its own copy of the model. Per message: `weights` overwrites the copy (TF.js layout, as the trainer holds
 * them); `job` runs one micro-batch with runMicroBatch — the same function the trainer's thread runs — and answers on
 * the reply port, then raises the shared flag the trainer waits on. Bundled as dist/micro-batch-worker.js.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf';
import { selectBackend } from '../backend';
import { type HrmModel, configFromJson, createModel, disposeCarry } from '../model';
import type { JsonObject } from './checkpoint';
import { runMicroBatch } from './micro-batch';
import type { HelperReply, HelperRequest } from './data-parallel-protocol';

interface Setup {
  config: JsonObject;
  reply: MessagePort;
  flag: SharedArrayBuffer;
}

const setup = workerData as Setup;
const flag = new Int32Array(setup.flag);
let model: HrmModel | undefined;

const ready = (async () => {
  await selectBackend({ backend: 'wasm', threads: 1 });
  model = createModel(configFromJson(setup.config), 0);
})();

function answer(reply: HelperReply): void {
  setup.reply.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** Why the helper cannot run jobs (start-up or weights failed); every job is then answered with it. */
let failure: string | undefined;
const describe = (err: unknown): string => (err instanceof Error ? err.stack ?? err.message : String(err));

function handle(msg: HelperRequest): void {
  if (failure !== undefined) {
    if (msg.kind === 'job') answer({ ok: false, error: failure });
    return;
  }
  const m = model as HrmModel;
  if (msg.kind === 'weights') {
    try {
      for (const [name, data] of msg.weights) {
        const v = m.weight(name);
        tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
      }
    } catch (err) {
      failure = `weights: ${describe(err)}`;
    }
    return;
  }
  try {
    runJob(m, msg);
  } catch (err) {
    answer({ ok: false, error: describe(err) });
  }
}

function runJob(m: HrmModel, msg: Extract<HelperRequest, { kind: 'job' }>): void {
  const shape: [number, number, number] = [msg.isLast.length, m.dims.totalLen, m.config.hidden];
  const carry = { zH: tf.tensor3d(msg.zH, shape), zL: tf.tensor3d(msg.zL, shape) };
  try {
    const r = runMicroBatch(m, {
      carry, tokens: msg.tokens, labels: msg.labels, isLast: msg.isLast, lossType: msg.lossType, globalBatch: msg.globalBatch,
    });
    const grads: [string, Float32Array][] = [];
    for (const [name, g] of r.grads) { grads.push([name, g.dataSync() as Float32Array]); g.dispose(); }
    const zH = r.carry.zH.dataSync() as Float32Array;
    const zL = r.carry.zL.dataSync() as Float32Array;
    disposeCarry(r.carry);
    answer({
      ok: true, grads, loss: r.loss, lm: r.lm, qHalt: r.qHalt, qContinue: r.qContinue,
      qHaltValues: r.qHaltValues, qContinueValues: r.qContinueValues, pred: r.pred, zH, zL,
    });
  } finally {
    disposeCarry(carry);
  }
}

const started = ready.catch((err: unknown) => { failure = `start-up: ${describe(err)}`; });
parentPort?.on('message', (msg: HelperRequest) => { void started.then(() => handle(msg)); });
