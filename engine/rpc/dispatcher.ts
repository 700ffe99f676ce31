/**
 * The engine's request dispatcher, free of any process: it takes raw messages from the host (`handle`), runs the
 * registered handler with an AbortSignal and a progress callback, and hands replies to `send`. It never throws:
 * a bad message gets an error reply when it carries a request id, and a log line otherwise.
 * engine/server.ts wires it to the process IPC channel; unit tests drive it directly.
 */
import {
  EngineError,
  type EngineToHost,
  type LogLevel,
  type MethodName,
  type WireError,
} from '../protocol';
import type { Handler, HandlerContext } from './handler';
import { MAX_ERROR_MESSAGE_CHARS, excerpt } from '../util/errors';

/** Longest stack (`detail`) an error reply carries, in characters. */
const MAX_ERROR_DETAIL_CHARS = 8000;

/** Handlers by method name; the real registry (engine/rpc/handlers.ts) is complete, tests may pass fewer. */
export type HandlerTable = { [M in MethodName]?: Handler<M> };

export type Send = (msg: EngineToHost) => void;
export type Log = (level: LogLevel, message: string) => void;

interface InFlight {
  method: string;
  controller: AbortController;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isRequestId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

/** The wire form of whatever a handler threw. */
export function toWireError(err: unknown, cancelled: boolean, method: string): WireError {
  const stack = err instanceof Error ? err.stack : undefined;
  if (cancelled) {
    const message = err instanceof EngineError && err.code === 'Cancelled' ? err.message : `${method} was cancelled`;
    return { message, code: 'Cancelled', ...(stack ? { detail: stack } : {}) };
  }
  if (err instanceof EngineError) return { message: err.message, code: err.code, ...(stack ? { detail: stack } : {}) };
  if (err instanceof Error) return { message: err.message || err.name, code: 'HandlerError', ...(stack ? { detail: stack } : {}) };
  return { message: `${method} failed: ${String(err)}`, code: 'HandlerError' };
}

export class Dispatcher {
  private readonly inFlight = new Map<number, InFlight>();

  constructor(
    private readonly handlers: HandlerTable,
    private readonly send: Send,
    private readonly log: Log,
  ) {}

  /** Requests currently running. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Take one raw message from the host. Never throws. */
  handle(raw: unknown): void {
    try {
      this.route(raw);
    } catch (e) {
      this.log('error', `engine: failed to handle a message: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  /** Abort every running request (the host went away, or the engine is stopping). */
  cancelAll(reason: string): void {
    for (const { controller } of this.inFlight.values()) controller.abort(new EngineError(reason, 'Cancelled'));
  }

  private route(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.log('warn', `engine: ignored a message that is ${describe(raw)}, not a protocol message`);
      return;
    }
    const msg = raw as Record<string, unknown>;
    if (msg.kind === 'request') {
      this.request(msg);
    } else if (msg.kind === 'cancel') {
      if (!isRequestId(msg.id)) {
        this.log('warn', `engine: ignored a cancel without a valid id (${excerpt(String(msg.id))})`);
        return;
      }
      const entry = this.inFlight.get(msg.id);
      if (entry) entry.controller.abort(new EngineError(`${entry.method} was cancelled`, 'Cancelled'));
      else this.log('debug', `engine: cancel for request ${msg.id}, which is not running (already answered?)`);
    } else if (isRequestId(msg.id)) {
      this.reply(msg.id, { message: `unknown message kind ${JSON.stringify(msg.kind)}`, code: 'InvalidRequest' });
    } else {
      this.log('warn', `engine: ignored a message of unknown kind ${excerpt(String(JSON.stringify(msg.kind)))}`);
    }
  }

  private request(msg: Record<string, unknown>): void {
    const { id, method, params } = msg;
    if (!isRequestId(id)) {
      this.log('warn', `engine: ignored a request without a valid id (${excerpt(String(id))}), method ${excerpt(String(method))}`);
      return;
    }
    if (typeof method !== 'string') {
      this.reply(id, { message: `request ${id} has no method name`, code: 'InvalidRequest' });
      return;
    }
    if (this.inFlight.has(id)) {
      this.reply(id, { message: `request id ${id} is already running (ids must be unique)`, code: 'InvalidRequest' });
      return;
    }
    const handler = Object.hasOwn(this.handlers, method) ? this.handlers[method as MethodName] : undefined;
    if (typeof handler !== 'function') {
      const known = Object.keys(this.handlers).sort().join(', ');
      this.reply(id, { message: `unknown method "${method}" (the engine knows: ${known})`, code: 'MethodNotFound' });
      return;
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      this.reply(id, { message: `${method}: params must be an object, got ${describe(params)}`, code: 'InvalidParams' });
      return;
    }
    this.run(id, method, handler as Handler<MethodName>, params);
  }

  private run(id: number, method: string, handler: Handler<MethodName>, params: object): void {
    const controller = new AbortController();
    this.inFlight.set(id, { method, controller });
    let ended = false;
    const ctx: HandlerContext<unknown> = {
      id,
      signal: controller.signal,
      progress: (event) => {
        if (ended || controller.signal.aborted) return;
        try {
          this.send({ kind: 'progress', id, event: event as never });
        } catch (e) {
          this.log('warn', `engine: a progress event of ${method} could not be sent: ${e instanceof Error ? e.message : String(e)}`);
        }
      },
      log: this.log,
    };
    const finish = (outcome: { result: unknown } | { error: unknown }) => {
      ended = true;
      this.inFlight.delete(id);
      const cancelled = controller.signal.aborted;
      if ('result' in outcome && !cancelled) {
        try {
          this.send({ kind: 'result', id, result: outcome.result as never });
        } catch (e) {
          this.reply(id, { message: `the result of ${method} could not be sent: ${e instanceof Error ? e.message : String(e)}`, code: 'HandlerError' });
        }
        return;
      }
      const err = 'error' in outcome ? outcome.error : new EngineError(`${method} was cancelled (it finished anyway)`, 'Cancelled');
      this.reply(id, toWireError(err, cancelled, method));
    };
    // Params are checked to be an object above; their fields are the handler's to validate.
    Promise.resolve()
      .then(() => handler(params as never, ctx as HandlerContext<never>))
      .then((result) => finish({ result }), (error: unknown) => finish({ error }));
  }

  /** Every error reply goes here: its message and detail are bounded, whatever a handler threw or a request held. */
  private reply(id: number, error: WireError): void {
    const bounded: WireError = { ...error, message: excerpt(error.message, MAX_ERROR_MESSAGE_CHARS) };
    if (error.detail !== undefined) bounded.detail = excerpt(error.detail, MAX_ERROR_DETAIL_CHARS);
    try {
      this.send({ kind: 'error', id, error: bounded });
    } catch (e) {
      this.log('error', `engine: the error reply to request ${id} could not be sent: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
