/**
 * The data-parallel helper thread (data-parallel.ts): its own TF.js with the wasm backend on one thread and its own
 * copy of a model. Per message: `model` (re)builds or overwrites the copy; `micro-batch` runs one micro-batch of a
 * training step with runMicroBatch, `segment` one no-tape segment with runSegment — the functions the other thread
 * runs — and answers on the reply port, then raises the shared flag that thread waits on.
 * Bundled as dist/micro-batch-worker.js.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf';
import { selectBackend } from '../backend';
import { type Carry, type HrmModel, configFromJson, createModel, disposeCarry, runSegment } from '../model';
import { runMicroBatch } from './micro-batch';
import type { HelperReply, HelperRequest } from './data-parallel-protocol';

interface Setup {
  reply: MessagePort;
  flag: SharedArrayBuffer;
}

const setup = workerData as Setup;
const flag = new Int32Array(setup.flag);
let model: HrmModel | undefined;
let modelConfig = '';
/** Why the helper cannot run jobs (start-up or a model failed); every job is then answered with it. */
let failure: string | undefined;
const describe = (err: unknown): string => (err instanceof Error ? err.stack ?? err.message : String(err));

function answer(reply: HelperReply): void {
  setup.reply.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function setModel(msg: Extract<HelperRequest, { kind: 'model' }>): void {
  const key = JSON.stringify(msg.config);
  if (!model || key !== modelConfig) {
    model?.dispose();
    model = createModel(configFromJson(msg.config), 0);
    modelConfig = key;
  }
  for (const [name, data] of msg.weights) {
    const v = model.weight(name);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
  }
}

function carryOf(m: HrmModel, zH: Float32Array, zL: Float32Array, batch: number): Carry {
  const shape: [number, number, number] = [batch, m.dims.totalLen, m.config.hidden];
  return { zH: tf.tensor3d(zH, shape), zL: tf.tensor3d(zL, shape) };
}

function microBatch(m: HrmModel, msg: Extract<HelperRequest, { kind: 'micro-batch' }>): void {
  const carry = carryOf(m, msg.zH, msg.zL, msg.isLast.length);
  try {
    const r = runMicroBatch(m, {
      carry, tokens: msg.tokens, labels: msg.labels, isLast: msg.isLast, lossType: msg.lossType, globalBatch: msg.globalBatch,
      actContinue: msg.actContinue,
    });
    const grads: [string, Float32Array][] = [];
    for (const [name, g] of r.grads) { grads.push([name, g.dataSync() as Float32Array]); g.dispose(); }
    const zH = r.carry.zH.dataSync() as Float32Array;
    const zL = r.carry.zL.dataSync() as Float32Array;
    disposeCarry(r.carry);
    answer({
      ok: true, kind: 'micro-batch', grads, loss: r.loss, lm: r.lm, qHalt: r.qHalt, qContinue: r.qContinue,
      qHaltValues: r.qHaltValues, qContinueValues: r.qContinueValues, pred: r.pred, zH, zL,
    });
  } finally {
    disposeCarry(carry);
  }
}

function segment(m: HrmModel, msg: Extract<HelperRequest, { kind: 'segment' }>): void {
  const carry = carryOf(m, msg.zH, msg.zL, msg.batch);
  const tokens = tf.tensor2d(msg.tokens, [msg.batch, m.dims.cells], 'int32');
  try {
    const out = runSegment(m, carry, tokens);
    const reply: HelperReply = {
      ok: true, kind: 'segment', zH: out.carry.zH.dataSync() as Float32Array, zL: out.carry.zL.dataSync() as Float32Array,
      logits: out.logits.dataSync() as Float32Array, qHalt: out.qHalt.dataSync() as Float32Array, qContinue: out.qContinue.dataSync() as Float32Array,
    };
    disposeCarry(out.carry);
    out.logits.dispose(); out.qHalt.dispose(); out.qContinue.dispose();
    answer(reply);
  } finally {
    disposeCarry(carry);
    tokens.dispose();
  }
}

let startFailure: string | undefined;

function handle(msg: HelperRequest): void {
  if (startFailure !== undefined) {
    if (msg.kind !== 'model') answer({ ok: false, error: startFailure });
    return;
  }
  if (msg.kind === 'model') {
    try {
      setModel(msg);
      failure = undefined;
    } catch (err) {
      failure = `model: ${describe(err)}`;
    }
    return;
  }
  if (failure !== undefined || !model) {
    answer({ ok: false, error: failure ?? 'no model was sent' });
    return;
  }
  try {
    if (msg.kind === 'micro-batch') microBatch(model, msg);
    else segment(model, msg);
  } catch (err) {
    answer({ ok: false, error: describe(err) });
  }
}

const started = selectBackend({ backend: 'wasm', threads: 1 }).then(() => undefined, (err: unknown) => { startFailure = `start-up: ${describe(err)}`; });
parentPort?.on('message', (msg: HelperRequest) => { void started.then(() => handle(msg)); });
