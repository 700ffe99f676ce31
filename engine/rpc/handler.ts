/**
 * What a request handler is: a function of the method's params and a context that carries the request's
 * AbortSignal (fires on a 'cancel' from the host, or when the host goes away), a typed `progress(event)` that
 * streams events to the caller, and a logger. Handlers live with their feature (engine/train, engine/analysis, …)
 * and are registered in engine/rpc/handlers.ts.
 */
import { EngineError, type LogLevel, type MethodName, type ParamsOf, type ProgressOf, type ResultOf } from '../protocol';
import { type IntLimit, type NumLimit, intProblem, numProblem } from '../util/limits';
import { torchParamsProblem } from '../torch/torch-params';

export interface HandlerContext<P> {
  /** The request id (for log lines). */
  readonly id: number;
  /** Aborted when the host cancels this request; `signal.reason` is an EngineError with code 'Cancelled'. */
  readonly signal: AbortSignal;
  /** Stream one event to the caller. Ignored once the request has ended or been cancelled. */
  progress(event: P): void;
  /** A line in the host's "HRM Lens" log. */
  log(level: LogLevel, message: string): void;
}

/**
 * Handles one method. Throw (or reject) to answer with an error: an EngineError keeps its code (use
 * 'InvalidParams' for bad input), anything else becomes 'HandlerError' with its stack in `detail`.
 */
export type Handler<M extends MethodName> = (
  params: ParamsOf<M>,
  ctx: HandlerContext<ProgressOf<M>>,
) => Promise<ResultOf<M>> | ResultOf<M>;

/** One handler per method of EngineMethods: a missing one is a compile error. */
export type HandlerRegistry = { [M in MethodName]: Handler<M> };

/** Wait `ms`, or reject with the signal's reason as soon as it aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason of an aborted signal as an Error (a Cancelled EngineError when the reason is not an Error). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new EngineError('cancelled', 'Cancelled');
}

/** Throw an InvalidParams error unless `torch` is absent or a TorchParams (engine/torch/torch-protocol.ts). */
export function checkTorchParam(torch: unknown): void {
  if (torch === undefined) return;
  const problem = torchParamsProblem(torch);
  if (problem) throw new EngineError(problem, 'InvalidParams');
}

/** Throw an InvalidParams error unless `ok`. */
export function checkParam(ok: boolean, message: string): asserts ok {
  if (!ok) throw new EngineError(message, 'InvalidParams');
}

/**
 * Throw an InvalidParams error unless `value` is an integer within `limit` (engine/util/limits.ts LIMITS); undefined
 * passes unless `required`. The message names the parameter: "segments must be an integer in 1…256, got 0".
 */
export function checkIntParam(value: unknown, name: string, limit: IntLimit, required = false): void {
  if (value === undefined && !required) return;
  const problem = intProblem(name, value, limit);
  if (problem !== undefined) throw new EngineError(problem, 'InvalidParams');
}

/** Like checkIntParam for a number within `limit` (engine/util/limits.ts NUM_LIMITS). */
export function checkNumParam(value: unknown, name: string, limit: NumLimit, required = false): void {
  if (value === undefined && !required) return;
  const problem = numProblem(name, value, limit);
  if (problem !== undefined) throw new EngineError(problem, 'InvalidParams');
}
