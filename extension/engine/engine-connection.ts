/**
 * One engine process, from fork to exit, with no VS Code in it (so plain-Node unit tests drive the real thing):
 * forks the engine with `serialization: 'advanced'`, waits for its 'ready' (launch timeout), correlates requests
 * and replies by id, streams progress events, turns an AbortSignal into a 'cancel', collects stdout/stderr lines
 * (and keeps the last stderr lines for error messages), and when the process ends — by stop() or by a crash —
 * rejects every request still in flight with an EngineError that names the exit code or signal.
 *
 * EngineClient (engine-client.ts) puts VS Code around it: lazy start, restart, log channel, notifications.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  EngineError,
  PROTOCOL_VERSION,
  isEngineToHost,
  type EngineErrorCode,
  type EngineToHost,
  type HostToEngine,
  type LogLevel,
  type MethodName,
  type ParamsOf,
  type ProgressOf,
  type ResultOf,
} from '../../engine/protocol';

export interface EngineConnectionOptions {
  /** The engine's entry module (dist/engine.js; or engine/server.ts with execArgv ['--import', 'tsx']). */
  modulePath: string;
  /** Node flags of the engine process. Default [] (not the parent's: no inherited --inspect). */
  execArgv?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Fork -> 'ready' limit. Default 20 000 ms. */
  launchTimeoutMs?: number;
  /** After a cancel, how long to wait for the engine to confirm before rejecting anyway. Default 2 000 ms. */
  cancelGraceMs?: number;
  /** How many stderr lines to keep for error messages. Default 20. */
  stderrTailLines?: number;
  /** Every line the engine writes on stdout or stderr. */
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Log messages of the engine (kind 'log'), and the connection's own warnings. */
  onLog?: (level: LogLevel, message: string) => void;
  /** Once, when the process has ended (after its output has been read). */
  onExit?: (info: ExitInfo) => void;
}

export interface RequestOptions<M extends MethodName> {
  /** Aborting sends 'cancel'; the request then rejects with an EngineError of code 'Cancelled'. */
  signal?: AbortSignal;
  /** Each progress event of this request, in order. */
  onProgress?: (event: ProgressOf<M>) => void;
}

export interface ExitInfo {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Ended by stop() (or a failed launch that this side ended), not on its own. */
  expected: boolean;
  /** Ended before it reported 'ready'. */
  beforeReady: boolean;
  /** Methods that were in flight when it ended. */
  inFlight: string[];
  /** The last lines it wrote on stderr. */
  stderrTail: string[];
  /** Why it could not be started, when it could not. */
  error?: Error;
}

interface Pending {
  id: number;
  method: string;
  resolve: (value: never) => void;
  reject: (err: EngineError) => void;
  onProgress: ((event: never) => void) | undefined;
  cancelled: boolean;
  cancelTimer: NodeJS.Timeout | undefined;
  cleanup: () => void;
}

/** "exited with code 1" / "was killed by signal SIGKILL". */
export function describeExit(info: Pick<ExitInfo, 'code' | 'signal' | 'error'>): string {
  if (info.error) return `could not be started (${info.error.message})`;
  if (info.signal) return `was killed by signal ${info.signal}`;
  return `exited with code ${info.code ?? '?'}`;
}

function stderrSummary(lines: string[], max = 8): string {
  if (lines.length === 0) return 'It wrote nothing on stderr.';
  const shown = lines.slice(-max);
  return `Last lines on stderr:\n  ${shown.join('\n  ')}`;
}

export class EngineConnection {
  /** Resolves when the engine has said 'ready'; rejects (code LaunchFailed or EngineStopped) if it never does. */
  readonly ready: Promise<void>;
  /** Resolves once the process has ended. */
  readonly exited: Promise<ExitInfo>;
  /** Milliseconds from fork() to 'ready', once ready. */
  readyMs: number | undefined;

  private readonly child: ChildProcess;
  private readonly options: EngineConnectionOptions;
  private readonly pending = new Map<number, Pending>();
  private readonly stderrTail: string[] = [];
  private readonly startedAt = performance.now();
  private nextId = 1;
  private isReady = false;
  private stopping = false;
  private exitInfo: ExitInfo | undefined;
  private settleReady!: { resolve: () => void; reject: (e: EngineError) => void };
  private resolveExited!: (info: ExitInfo) => void;
  private launchTimer: NodeJS.Timeout | undefined;

  /** Forks the engine now. Throws only if fork() itself throws. */
  constructor(options: EngineConnectionOptions) {
    this.options = options;
    this.ready = new Promise<void>((resolve, reject) => { this.settleReady = { resolve, reject }; });
    this.ready.catch(() => { /* reported to whoever awaits it */ });
    this.exited = new Promise((resolve) => { this.resolveExited = resolve; });

    this.child = fork(options.modulePath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: options.execArgv ?? [],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const streamsClosed = Promise.all((['stdout', 'stderr'] as const).map((name) => this.readLines(name)));

    this.child.on('message', (msg: unknown) => this.onMessage(msg));
    this.child.on('error', (err) => {
      if (this.child.pid === undefined) this.finish(null, null, err); // spawn failed: no 'exit' follows
      else options.onLog?.('warn', `engine connection: ${err.message}`);
    });
    this.child.on('exit', (code, signal) => {
      // Read what it wrote last before reporting (the streams close just after 'exit'; cap the wait).
      const cap = new Promise((r) => setTimeout(r, 300).unref());
      void Promise.race([streamsClosed, cap]).then(() => this.finish(code, signal));
    });
    const launchTimeoutMs = options.launchTimeoutMs ?? 20_000;
    this.launchTimer = setTimeout(() => {
      this.failLaunch(`the HRM Lens engine did not report ready within ${launchTimeoutMs} ms. ${stderrSummary(this.stderrTail)}`);
    }, launchTimeoutMs);
    this.launchTimer.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Started (or starting) and not stopped or ended (a dead process counts as ended before 'exit' is reported). */
  get alive(): boolean {
    return !this.exitInfo && !this.stopping && this.child.connected;
  }

  /** Requests in flight. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Send a request; resolves with its result, rejects with an EngineError. */
  async request<M extends MethodName>(method: M, params: ParamsOf<M>, options: RequestOptions<M> = {}): Promise<ResultOf<M>> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new EngineError(`${method} was cancelled before it was sent`, 'Cancelled');
    if (!this.isReady) await this.readyOrAbort(method, signal);
    if (signal?.aborted) throw new EngineError(`${method} was cancelled before it was sent`, 'Cancelled');
    if (!this.alive) throw this.endedError(method);
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const id = this.nextId++;
      const onAbort = () => this.cancel(entry);
      const entry: Pending = {
        id, method, resolve: resolve as (value: never) => void, reject,
        onProgress: onProgress as ((event: never) => void) | undefined,
        cancelled: false,
        cancelTimer: undefined,
        cleanup: () => { signal?.removeEventListener('abort', onAbort); clearTimeout(entry.cancelTimer); },
      };
      this.pending.set(id, entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.post({ kind: 'request', id, method, params } as HostToEngine, (err, unsendable) => {
        this.settle(entry, new EngineError(`${method} could not be sent to the engine: ${err.message}`,
          unsendable ? 'InvalidParams' : 'EngineExited'));
      });
    });
  }

  /** End the process: SIGTERM, then SIGKILL after `graceMs`. Requests in flight reject with code EngineStopped. */
  stop(graceMs = 2_000): Promise<ExitInfo> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    if (!this.stopping) {
      this.stopping = true;
      this.rejectAll((p) => new EngineError(`${p.method} was stopped: the HRM Lens engine was shut down`, 'EngineStopped'));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      timer.unref();
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }

  // ------------------------------------------------------------------------------------------------ internals

  /** `ready`, or a Cancelled rejection as soon as `signal` aborts (a slow launch does not delay a cancel). */
  private readyOrAbort(method: string, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.ready;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new EngineError(`${method} was cancelled before it was sent`, 'Cancelled'));
      signal.addEventListener('abort', onAbort, { once: true });
      void this.ready.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private cancel(entry: Pending): void {
    if (entry.cancelled || !this.pending.has(entry.id)) return;
    entry.cancelled = true;
    this.post({ kind: 'cancel', id: entry.id }, () => { /* the process is gone: the exit rejects the request */ });
    // The handler should confirm at once; if it is stuck in a long synchronous step, reject without waiting.
    const grace = this.options.cancelGraceMs ?? 2_000;
    entry.cancelTimer = setTimeout(() => {
      this.settle(entry, new EngineError(`${entry.method} was cancelled (the engine did not confirm within ${grace} ms)`, 'Cancelled'));
    }, grace);
    entry.cancelTimer.unref();
  }

  /** Send to the engine; `onError(err, unsendable)`: unsendable = the message itself cannot be serialized. */
  private post(msg: HostToEngine, onError: (err: Error, unsendable: boolean) => void): void {
    if (!this.child.connected) {
      onError(new Error('the IPC channel is closed'), false);
      return;
    }
    try {
      this.child.send(msg, (err: Error | null) => { if (err) onError(err, false); });
    } catch (e) {
      // Thrown synchronously by the serializer (a function, a symbol, a class with private state in the params).
      onError(e instanceof Error ? e : new Error(String(e)), true);
    }
  }

  private settle(entry: Pending, outcome: EngineError | { result: unknown }): void {
    if (this.pending.get(entry.id) !== entry) return;
    this.pending.delete(entry.id);
    entry.cleanup();
    if (outcome instanceof EngineError) entry.reject(outcome);
    else entry.resolve(outcome.result as never);
  }

  private rejectAll(makeError: (p: Pending) => EngineError): void {
    for (const p of [...this.pending.values()]) this.settle(p, makeError(p));
  }

  private onMessage(raw: unknown): void {
    if (!isEngineToHost(raw)) {
      this.options.onLog?.('warn', `engine connection: ignored a malformed message from the engine: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const msg: EngineToHost = raw;
    switch (msg.kind) {
      case 'ready':
        if (msg.version !== PROTOCOL_VERSION) {
          this.failLaunch(`the engine at ${this.options.modulePath} speaks protocol version ${msg.version}, this extension ${PROTOCOL_VERSION}: rebuild it (npm run build)`);
          return;
        }
        clearTimeout(this.launchTimer);
        this.isReady = true;
        this.readyMs = performance.now() - this.startedAt;
        this.settleReady.resolve();
        return;
      case 'log':
        this.options.onLog?.(msg.level, msg.message);
        return;
      case 'progress': {
        const entry = this.pending.get(msg.id);
        if (!entry || entry.cancelled || !entry.onProgress) return;
        try {
          entry.onProgress(msg.event as never);
        } catch (e) {
          this.options.onLog?.('warn', `engine connection: a progress listener of ${entry.method} threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        }
        return;
      }
      case 'result':
      case 'error': {
        const entry = this.pending.get(msg.id);
        if (!entry) return; // answered already (e.g. a cancel that was not confirmed in time)
        if (entry.cancelled) {
          const confirmed = msg.kind === 'error' && msg.error.code === 'Cancelled';
          this.settle(entry, new EngineError(confirmed ? msg.error.message : `${entry.method} was cancelled`, 'Cancelled',
            msg.kind === 'error' ? msg.error.detail : undefined));
        } else if (msg.kind === 'error') {
          this.settle(entry, EngineError.from(msg.error));
        } else {
          this.settle(entry, { result: msg.result });
        }
        return;
      }
    }
  }

  private failLaunch(message: string): void {
    if (this.isReady || this.exitInfo) return;
    clearTimeout(this.launchTimer);
    this.stopping = true;
    this.settleReady.reject(new EngineError(message, 'LaunchFailed', this.stderrTail.join('\n')));
    this.child.kill('SIGKILL');
  }

  private readLines(name: 'stdout' | 'stderr'): Promise<void> {
    const stream = this.child[name];
    if (!stream) return Promise.resolve();
    const keep = this.options.stderrTailLines ?? 20;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (name === 'stderr') {
        this.stderrTail.push(line);
        if (this.stderrTail.length > keep) this.stderrTail.shift();
      }
      this.options.onOutput?.(name, line);
    });
    return new Promise((resolve) => lines.once('close', () => resolve()));
  }

  private endedError(method: string): EngineError {
    const info = this.exitInfo;
    if (!info || info.expected) return new EngineError(`${method} was not sent: the HRM Lens engine was shut down`, 'EngineStopped');
    return new EngineError(`${method} was not sent: the HRM Lens engine ${describeExit(info)}`, 'EngineExited', info.stderrTail.join('\n'));
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, error?: Error): void {
    if (this.exitInfo) return;
    clearTimeout(this.launchTimer);
    const info: ExitInfo = {
      pid: this.child.pid,
      code,
      signal,
      expected: this.stopping,
      beforeReady: !this.isReady,
      inFlight: [...this.pending.values()].map((p) => p.method),
      stderrTail: [...this.stderrTail],
      ...(error ? { error } : {}),
    };
    this.exitInfo = info;
    const who = `The HRM Lens engine${info.pid ? ` (pid ${info.pid})` : ''}`;
    const what = describeExit(info);
    const tail = stderrSummary(info.stderrTail);
    const detail = info.stderrTail.join('\n');
    if (info.beforeReady) {
      const code: EngineErrorCode = info.expected ? 'EngineStopped' : 'LaunchFailed';
      this.settleReady.reject(new EngineError(`${who} ${what} before it was ready (${this.options.modulePath}). ${tail}`, code, detail));
    }
    this.rejectAll((p) => (info.expected
      ? new EngineError(`${p.method} was stopped: the HRM Lens engine was shut down`, 'EngineStopped', detail)
      : new EngineError(`${who} ${what} while running ${p.method}. ${tail}`, 'EngineExited', detail)));
    this.options.onExit?.(info);
    this.resolveExited(info);
  }
}
