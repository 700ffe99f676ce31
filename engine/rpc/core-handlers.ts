/**
 * Handlers of the built-in methods: `ping` (liveness) and `selfTest.progress` (exercises streaming, cancellation
 * and typed arrays; used by the tests of the channel).
 */
import { EngineError, type WireTensor } from '../protocol';
import { abortableDelay, checkParam, type Handler } from './handler';

const startedAt = performance.now();

export const ping: Handler<'ping'> = () => ({ pid: process.pid, uptimeMs: performance.now() - startedAt });

const TYPED: readonly (new (n: number) => ArrayLike<number>)[] = [Float32Array, Int32Array, Int8Array, Uint8Array];

function describeTensor(t: WireTensor, i: number): { type: string; sum: number } {
  checkParam(typeof t === 'object' && t !== null && Array.isArray(t.shape), `echo[${i}] is not a tensor`);
  checkParam(TYPED.some((C) => t.data instanceof C), `echo[${i}].data is not a typed array (${Object.prototype.toString.call(t.data)})`);
  let sum = 0;
  for (let k = 0; k < t.data.length; k++) sum += t.data[k];
  return { type: t.data.constructor.name, sum };
}

export const selfTestProgress: Handler<'selfTest.progress'> = async (params, ctx) => {
  const { count, delayMs = 10, echo } = params;
  checkParam(Number.isInteger(count) && count >= 0 && count <= 100_000, `count must be an integer in 0..100000, got ${String(count)}`);
  checkParam(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= 60_000, `delayMs must be in 0..60000, got ${String(delayMs)}`);
  checkParam(echo === undefined || Array.isArray(echo), 'echo must be an array of tensors');
  const received = echo?.map(describeTensor);
  const t0 = performance.now();
  let emitted = 0;
  try {
    for (let index = 0; index < count; index++) {
      if (delayMs > 0) await abortableDelay(delayMs, ctx.signal);
      else ctx.signal.throwIfAborted();
      ctx.progress({ index, total: count, elapsedMs: performance.now() - t0 });
      emitted++;
    }
  } catch (e) {
    if (ctx.signal.aborted) throw new EngineError(`selfTest.progress cancelled after ${emitted} of ${count} events`, 'Cancelled');
    throw e;
  }
  return { emitted, elapsedMs: performance.now() - t0, ...(echo ? { echo, received } : {}) };
};
