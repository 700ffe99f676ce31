/**
 * The engine's real handler registry behind its Dispatcher, in-process, as the unit tests drive it: every message the
 * engine sends is kept structured-cloned (as over IPC) in `sent`, every log line in `logs`. `call` sends a request and
 * polls for its progress events and its reply (result or error); `ok` and `refusal` wait for a reply of the expected
 * kind and fail the test otherwise. Each `engineUnderTest()` is a fresh dispatcher with its own ids.
 */
import assert from 'node:assert/strict';
import type { EngineToHost, MethodName, ParamsOf, ProgressOf, ResultOf, WireError } from '../../../engine/protocol';
import { Dispatcher } from '../../../engine/rpc/dispatcher';
import { handlers } from '../../../engine/rpc/handlers';

export type Reply<M extends MethodName> = { result: ResultOf<M> } | { error: WireError };

export interface CallOptions {
  /** How long to wait for the reply (or for `until`'s progress) before failing; default: engineUnderTest's. */
  timeoutMs?: number;
  /** Cancel the request once this many progress events have come (unless it has answered already). */
  cancelAfter?: number;
}

export interface EngineCall<M extends MethodName> {
  id: number;
  /** The progress events of this request so far, in order. */
  events(): ProgressOf<M>[];
  /** Settles with the result or the error; rejects when neither comes within the time limit. */
  reply: Promise<Reply<M>>;
  /** The result, or an assertion failure naming the error. */
  result(): Promise<ResultOf<M>>;
  /** The error, or an assertion failure when the request succeeds. */
  error(): Promise<WireError>;
  /** Resolves once the progress events so far satisfy `enough`; rejects when the request answers first, or on time. */
  until(enough: (events: ProgressOf<M>[]) => boolean): Promise<void>;
}

export interface EngineUnderTest {
  sent: EngineToHost[];
  logs: string[];
  dispatcher: Dispatcher;
  call<M extends MethodName>(method: M, params: ParamsOf<M>, opts?: CallOptions): EngineCall<M>;
  /** `call(…).result()`. */
  ok<M extends MethodName>(method: M, params: ParamsOf<M>, opts?: CallOptions): Promise<ResultOf<M>>;
  /** `call(…).error()`. */
  refusal<M extends MethodName>(method: M, params: ParamsOf<M>, opts?: CallOptions): Promise<WireError>;
  cancel(id: number): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh dispatcher; `timeoutMs` is the default limit of its calls (none: the test's own timeout applies). */
export function engineUnderTest(defaults: { timeoutMs?: number } = {}): EngineUnderTest {
  const sent: EngineToHost[] = [];
  const logs: string[] = [];
  const dispatcher = new Dispatcher(handlers, (m) => { sent.push(structuredClone(m)); }, (_level, message) => { logs.push(message); });
  let nextId = 1;
  const cancel = (id: number) => dispatcher.handle({ kind: 'cancel', id });
  const answer = (id: number) => sent.find((s) => 'id' in s && s.id === id && (s.kind === 'result' || s.kind === 'error'));

  function call<M extends MethodName>(method: M, params: ParamsOf<M>, opts: CallOptions = {}): EngineCall<M> {
    const id = nextId++;
    const timeoutMs = opts.timeoutMs ?? defaults.timeoutMs ?? Infinity;
    dispatcher.handle({ kind: 'request', id, method, params });
    const events = () => sent.flatMap((m) => (m.kind === 'progress' && m.id === id ? [m.event as ProgressOf<M>] : []));
    const reply = (async (): Promise<Reply<M>> => {
      let cancelled = false;
      for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(10)) {
        const m = answer(id);
        if (m?.kind === 'result') return { result: m.result as ResultOf<M> };
        if (m?.kind === 'error') return { error: m.error };
        if (opts.cancelAfter !== undefined && !cancelled && events().length >= opts.cancelAfter) {
          cancelled = true;
          cancel(id);
        }
      }
      throw new Error(`no reply to ${method} within ${timeoutMs} ms`);
    })();
    reply.catch(() => {}); // a reply that a failed test never awaits must not end the process when it times out
    const until = async (enough: (events: ProgressOf<M>[]) => boolean): Promise<void> => {
      for (const t0 = Date.now(); !enough(events()); await sleep(10)) {
        if (answer(id)) throw new Error(`${method} answered before the awaited progress: ${JSON.stringify(answer(id)).slice(0, 300)}`);
        if (Date.now() - t0 >= timeoutMs) throw new Error(`the awaited progress of ${method} did not come within ${timeoutMs} ms`);
      }
    };
    const result = async (): Promise<ResultOf<M>> => {
      const r = await reply;
      if ('error' in r) assert.fail(`${method}: ${r.error.code}: ${r.error.message}`);
      return r.result;
    };
    const error = async (): Promise<WireError> => {
      const r = await reply;
      if ('result' in r) assert.fail(`${method} ${JSON.stringify(params)} succeeded`);
      return r.error;
    };
    return { id, events, reply, result, error, until };
  }

  return {
    sent, logs, dispatcher, call, cancel,
    ok: (method, params, opts) => call(method, params, opts).result(),
    refusal: (method, params, opts) => call(method, params, opts).error(),
  };
}
