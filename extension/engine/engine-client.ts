/**
 * EngineClient: the extension's handle on the engine process (engine/server.ts, bundled to dist/engine.js).
 *
 *   const result = await client.request('ping', {});                                     // typed by EngineMethods
 *   await client.request('selfTest.progress', { count: 5 }, { token, onProgress: (e) => … });
 *
 * - Lazy: nothing is forked until the first request (never at activation); later requests reuse the process.
 * - Cancellation: a CancellationToken sends 'cancel'; the request rejects with EngineError code 'Cancelled'
 *   (test with `isCancelled(err)` from engine/protocol).
 * - Crashes (exit, signal, kill -9): requests in flight reject with a message naming the exit code or signal and
 *   the last stderr lines; the user gets an error with "Restart Engine" and "Show Log"; the NEXT request starts a
 *   fresh process. No automatic restart loop.
 * - Output: engine log messages and every stdout/stderr line go to the "HRM Lens" LogOutputChannel.
 * - restart() stops and starts at once; dispose() ends the process (SIGTERM, then SIGKILL after a grace period).
 * The process mechanics live in engine-connection.ts (no VS Code there, so they are unit-tested in plain Node).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { EngineError, type LogLevel, type MethodName, type ParamsOf, type ProgressOf, type ResultOf } from '../../engine/protocol';
import { EngineConnection, describeExit, type ExitInfo } from './engine-connection';
import { boundedMessage } from '../../engine/util/errors';

export type EngineState = 'stopped' | 'starting' | 'ready' | 'crashed';

export interface EngineRequestOptions<M extends MethodName> {
  token?: vscode.CancellationToken;
  onProgress?: (event: ProgressOf<M>) => void;
}

export interface EngineClientOptions {
  /** The extension's folder; the engine is `<extensionPath>/dist/engine.js` unless `modulePath` says otherwise. */
  extensionPath: string;
  log: vscode.LogOutputChannel;
  modulePath?: string;
  execArgv?: string[];
  /** Default 20 000 ms. */
  launchTimeoutMs?: number;
  /** SIGTERM -> SIGKILL delay of dispose()/restart(). Default 2 000 ms. */
  stopGraceMs?: number;
  /** Tell the user when the engine dies (default true). */
  notifyOnCrash?: boolean;
  /** Extra environment of each new engine process (read when it is forked, e.g. from settings). */
  env?: () => Record<string, string>;
}

/** What activate() exposes for in-host tests. */
export interface EngineTestApi {
  pid(): number | undefined;
  state(): EngineState;
  request: EngineClient['request'];
}

const ENGINE_LOG = '[engine]';

export class EngineClient implements vscode.Disposable {
  private conn: EngineConnection | undefined;
  private current: EngineState = 'stopped';
  private disposed = false;
  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  /** Fires on every state change: stopped -> starting -> ready, -> crashed, -> stopped. */
  readonly onDidChangeState = this.stateEmitter.event;
  private readonly modulePath: string;

  constructor(private readonly options: EngineClientOptions) {
    this.modulePath = options.modulePath ?? path.join(options.extensionPath, 'dist', 'engine.js');
  }

  get state(): EngineState {
    return this.current;
  }

  /** The engine's pid while a process is starting or running. */
  get pid(): number | undefined {
    return this.conn?.alive ? this.conn.pid : undefined;
  }

  /** Milliseconds the current engine took from fork to 'ready' (undefined until ready). */
  get startupMs(): number | undefined {
    return this.conn?.readyMs;
  }

  /** Run `method` in the engine (starting it if needed). Rejects with an EngineError. */
  async request<M extends MethodName>(method: M, params: ParamsOf<M>, options: EngineRequestOptions<M> = {}): Promise<ResultOf<M>> {
    if (this.disposed) throw new EngineError(`${method} was not sent: the HRM Lens engine client is disposed`, 'Disposed');
    const { token, onProgress } = options;
    if (token?.isCancellationRequested) throw new EngineError(`${method} was cancelled before it was sent`, 'Cancelled');
    const conn = this.connection();
    const controller = new AbortController();
    const subscription = token?.onCancellationRequested(() => controller.abort());
    try {
      return await conn.request(method, params, { signal: controller.signal, ...(onProgress ? { onProgress } : {}) });
    } finally {
      subscription?.dispose();
    }
  }

  /** Stop the engine (if any) and start a fresh one; resolves when it is ready. */
  async restart(): Promise<void> {
    await this.stop();
    if (this.disposed) return;
    await this.connection().ready;
  }

  /** End the engine process; the next request starts a new one. */
  async stop(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    this.options.log.info(`${ENGINE_LOG} stopping (pid ${conn.pid})`);
    await conn.stop(this.options.stopGraceMs ?? 2_000);
  }

  /** End the engine process (SIGTERM, then SIGKILL after the grace period); later requests reject. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.stop();
    this.stateEmitter.dispose();
  }

  /** Test API for activate()'s return value. */
  testApi(): EngineTestApi {
    return { pid: () => this.pid, state: () => this.state, request: (method, params, options) => this.request(method, params, options) };
  }

  // ------------------------------------------------------------------------------------------------ internals

  private setState(state: EngineState): void {
    if (state === this.current) return;
    this.current = state;
    if (!this.disposed) this.stateEmitter.fire(state);
  }

  /** The live connection, forking one if there is none. */
  private connection(): EngineConnection {
    if (this.conn?.alive) return this.conn;
    const { log } = this.options;
    if (!existsSync(this.modulePath)) {
      this.setState('crashed');
      throw new EngineError(`the HRM Lens engine is missing: ${this.modulePath} does not exist (run \`npm run build\`)`, 'LaunchFailed');
    }
    log.info(`${ENGINE_LOG} starting ${this.modulePath}`);
    let conn: EngineConnection;
    try {
      conn = new EngineConnection({
        modulePath: this.modulePath,
        execArgv: this.options.execArgv ?? [],
        cwd: this.options.extensionPath,
        ...(this.options.env ? { env: { ...process.env, ...this.options.env() } } : {}),
        launchTimeoutMs: this.options.launchTimeoutMs ?? 20_000,
        onOutput: (stream, line) => (stream === 'stderr' ? log.warn(`${ENGINE_LOG} ${line}`) : log.info(`${ENGINE_LOG} ${line}`)),
        onLog: (level, message) => this.logAt(level, `${ENGINE_LOG} ${message}`),
        onExit: (info) => this.onExit(conn, info),
      });
    } catch (e) {
      this.setState('crashed');
      throw new EngineError(`the HRM Lens engine could not be started: ${e instanceof Error ? e.message : String(e)}`, 'LaunchFailed');
    }
    this.conn = conn;
    this.setState('starting');
    conn.ready.then(
      () => {
        if (this.conn !== conn) return;
        log.info(`${ENGINE_LOG} ready: pid ${conn.pid}, ${conn.readyMs?.toFixed(0)} ms after fork`);
        this.setState('ready');
      },
      (err: unknown) => {
        if (this.conn !== conn || (err instanceof EngineError && err.code === 'EngineStopped')) return;
        log.error(`${ENGINE_LOG} ${err instanceof Error ? err.message : String(err)}`);
        this.setState('crashed');
      },
    );
    return conn;
  }

  private onExit(conn: EngineConnection, info: ExitInfo): void {
    // Not current: already replaced (a restart, or a request that came after it died but before its exit was read).
    const current = this.conn === conn;
    if (current) this.conn = undefined;
    const { log } = this.options;
    if (info.expected) {
      log.info(`${ENGINE_LOG} pid ${info.pid} ${describeExit(info)}`);
      if (current && this.current !== 'crashed') this.setState('stopped'); // (a failed launch stays 'crashed')
      return;
    }
    const running = info.inFlight.length ? ` while running ${info.inFlight.join(', ')}` : '';
    log.error(`${ENGINE_LOG} pid ${info.pid} ${describeExit(info)}${running}`);
    if (current) this.setState('crashed');
    // A failed launch is reported by the request that started it; a crash after 'ready' is news to the user.
    if (!info.beforeReady && !this.disposed && this.options.notifyOnCrash !== false) void this.notifyCrash(info, running);
  }

  private async notifyCrash(info: ExitInfo, running: string): Promise<void> {
    const restart = 'Restart Engine';
    const showLog = 'Show Log';
    const choice = await vscode.window.showErrorMessage(
      `The HRM Lens engine (pid ${info.pid ?? '?'}) ${describeExit(info)}${running}. The next request starts a new one.`, restart, showLog);
    if (choice === restart) {
      await this.restart().catch((e: unknown) => vscode.window.showErrorMessage(`HRM Lens engine: ${boundedMessage(e)}`));
    } else if (choice === showLog) {
      this.options.log.show(true);
    }
  }

  private logAt(level: LogLevel, message: string): void {
    const { log } = this.options;
    if (level === 'trace') log.trace(message);
    else if (level === 'debug') log.debug(message);
    else if (level === 'info') log.info(message);
    else if (level === 'warn') log.warn(message);
    else log.error(message);
  }
}
