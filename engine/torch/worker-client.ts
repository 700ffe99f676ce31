/**
 * The PyTorch worker as a child process: `<python> -m hrm_lens_torch.worker --device D --dtype T`, run in the
 * folder holding the package (the installation's python/, never the working directory, so nothing planted in a
 * workspace is imported first), frames (framing.ts) over stdin / stdout, stderr kept as a short tail for error reports.
 *
 * - Start: the worker's first frame is a hello. A missing interpreter, a Python without torch, or an unavailable
 *   device is a TorchUnavailableError naming the interpreter.
 * - Requests carry an id; a request may stream intermediate frames (`onFrame`) before its final one. Requests are
 *   answered in order (the worker is sequential).
 * - A worker that dies (killed, crashed) rejects what was pending with a TorchWorkerError (exit code or signal and
 *   the stderr tail); the next request starts a fresh worker (`generation` counts the starts, so callers know to
 *   load their model again).
 * - dispose(): asks the worker to stop, then kills it if it has not exited after a grace period.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Frame, FrameDecoder, type FrameMessage, type FrameTensor, encodeFrame } from './framing';

import type { TorchDevice, TorchDtype } from './torch-protocol';

export { TORCH_DEVICES, TORCH_DTYPES } from './torch-params';
export type { TorchDevice, TorchDtype } from './torch-protocol';

export interface TorchWorkerOptions {
  /** The Python interpreter (default "python3"). */
  python?: string;
  device?: TorchDevice;
  dtype?: TorchDtype;
  /** torch.set_num_threads in the worker (default: torch's own choice). */
  threads?: number;
  /** The folder holding the hrm_lens_torch package (default: the installation's python/). */
  packageDir?: string;
  /** Receives the worker's stderr lines. */
  log?: (line: string) => void;
  /** Extra environment variables for the worker (PYTHONPATH gets the package folder in front). */
  env?: Readonly<Record<string, string>>;
  /** How long the worker may take to say hello (default 180 s: a first `import torch` can be slow). */
  startTimeoutMs?: number;
}

export interface TorchWorkerInfo {
  protocol: number;
  python: string;
  torch: string;
  device: string;
  dtype: TorchDtype;
  pid: number;
}

/** Python or PyTorch cannot be used: the interpreter is missing, has no torch, or the device is not there. */
export class TorchUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchUnavailableError';
  }
}

/** The worker failed a request or died while answering it. */
export class TorchWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TorchWorkerError';
  }
}

const STDERR_TAIL = 2000;
const PROTOCOL = 2;

// This module's file (the bundle when bundled): the package is looked for beside the installation.
const here = typeof __filename === 'string' ? __filename : path.resolve(process.argv[1] ?? process.execPath);

/**
 * The installation's python/ folder for a module at `moduleFile`: a bundle (<root>/dist/*.js: a repository checkout
 * or an installed extension) looks in <root>/python, the source tree (<root>/engine/torch/*.ts) in <root>/python too.
 * Only a folder beside the installation's own package.json counts, so a python/ folder above or outside it is never
 * imported; without one the bundle's <root>/python is named (the worker then fails to start, naming it).
 */
export function packageDirFor(moduleFile: string): string {
  const dir = path.dirname(moduleFile);
  const roots = path.basename(dir) === 'dist' ? [path.dirname(dir)] : [path.resolve(dir, '..', '..'), path.dirname(dir)];
  const ok = (root: string): boolean => existsSync(path.join(root, 'package.json')) && existsSync(path.join(root, 'python', 'hrm_lens_torch', 'worker.py'));
  return path.join(roots.find(ok) ?? roots[0], 'python');
}

/** The installation's python/ folder (packageDirFor this module). */
export function defaultPackageDir(): string {
  return packageDirFor(here);
}

interface Pending {
  op: string;
  onFrame?: (f: Frame) => void;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  info: TorchWorkerInfo;
  exited: Promise<void>;
}

export class TorchWorker {
  readonly python: string;
  private readonly opts: TorchWorkerOptions;
  private running: Running | undefined;
  private starting: Promise<Running> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private gen = 0;
  private disposed = false;
  /** Why the last worker ended, when it ended unasked (reported with the next start). */
  lastExit: string | undefined;
  /** The model the worker holds (its last `load`), set by TorchModel: the worker holds one model at a time. */
  holder: object | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: TorchWorkerOptions = {}) {
    this.opts = opts;
    this.python = opts.python ?? 'python3';
  }

  /** How many workers have been started (a model loaded into an earlier one must be loaded again). */
  get generation(): number {
    return this.gen;
  }

  /** The running worker's process id, or undefined. */
  get pid(): number | undefined {
    return this.running?.info.pid;
  }

  /**
   * Runs `fn` when every earlier `exclusive` call has finished: a model's load and its runs stay together while
   * several callers (the engine's requests) share one worker.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Starts the worker if it is not running (again after a crash); resolves with what it reported. */
  async start(): Promise<TorchWorkerInfo> {
    if (this.disposed) throw new TorchWorkerError('the PyTorch worker has been disposed');
    if (this.running) return this.running.info;
    this.starting ??= this.spawnWorker().finally(() => { this.starting = undefined; });
    return (await this.starting).info;
  }

  private what(): string {
    return `Python interpreter "${this.python}"`;
  }

  private spawnWorker(): Promise<Running> {
    const pkg = this.opts.packageDir ?? defaultPackageDir();
    const args = ['-m', 'hrm_lens_torch.worker', '--device', this.opts.device ?? 'auto', '--dtype', this.opts.dtype ?? 'fp32'];
    if (this.opts.threads !== undefined) args.push('--threads', String(this.opts.threads));
    const base = { ...process.env, ...this.opts.env };
    const env = { ...base, PYTHONPATH: [pkg, base.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1' };
    this.stderrTail = '';
    if (!existsSync(path.join(pkg, 'hrm_lens_torch', 'worker.py'))) {
      // Spawning in a missing folder fails with ENOENT, which would read as a missing interpreter.
      return Promise.reject(new TorchUnavailableError(`the PyTorch worker's package is missing: no ${path.join(pkg, 'hrm_lens_torch', 'worker.py')} (a broken installation)`));
    }
    return new Promise<Running>((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(this.python, args, { cwd: pkg, env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
      } catch (err) {
        reject(new TorchUnavailableError(`${this.what()} could not be started: ${(err as Error).message}`));
        return;
      }
      const decoder = new FrameDecoder({ stream: `PyTorch worker (${this.python})` });
      let hello = false;
      let exitResolve: () => void = () => undefined;
      const exited = new Promise<void>((r) => { exitResolve = r; });
      const timer = setTimeout(() => {
        if (hello) return;
        child.kill('SIGKILL');
        reject(new TorchUnavailableError(`${this.what()}: the PyTorch worker did not start within ${(this.opts.startTimeoutMs ?? 180_000) / 1000} s${this.tail()}`));
      }, this.opts.startTimeoutMs ?? 180_000);
      timer.unref?.();
      const fail = (err: Error): void => {
        if (!hello) { clearTimeout(timer); reject(err); return; }
        this.failAll(err);
        child.kill('SIGKILL');
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        const missing = err.code === 'ENOENT' || err.code === 'EACCES';
        fail(new TorchUnavailableError(missing
          ? `${this.what()} was not found or cannot be run (${err.code}); set the Python path (hrmLens.pythonPath or --python) to an interpreter with PyTorch`
          : `${this.what()} could not be started: ${err.message}`));
      });
      child.stdin.on('error', () => { /* a dead worker: reported by 'exit' */ });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => {
        this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL);
        if (this.opts.log) for (const line of s.split('\n')) if (line.trim()) this.opts.log(line);
      });
      child.stdout.on('data', (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          fail(err as Error);
          return;
        }
        for (const f of frames) {
          if (!hello) {
            hello = true;
            clearTimeout(timer);
            const m = f.message;
            if (m.kind !== 'hello') { reject(new TorchUnavailableError(`${this.what()}: the worker's first frame is not a hello`)); child.kill('SIGKILL'); return; }
            if (typeof m.error === 'string') {
              reject(new TorchUnavailableError(m.error === 'torch-missing'
                ? `${this.what()} (Python ${String(m.python)}) cannot import torch: ${String(m.message)}. Install PyTorch for it, or set the Python path (hrmLens.pythonPath or --python) to one that has it`
                : `${this.what()}: ${String(m.message)}`));
              return;
            }
            if (m.protocol !== PROTOCOL) { reject(new TorchUnavailableError(`${this.what()}: worker protocol ${String(m.protocol)}, expected ${PROTOCOL}`)); child.kill('SIGKILL'); return; }
            const info: TorchWorkerInfo = {
              protocol: PROTOCOL, python: String(m.python), torch: String(m.torch), device: String(m.device),
              dtype: m.dtype === 'bf16' ? 'bf16' : 'fp32', pid: child.pid ?? -1,
            };
            this.running = { child, info, exited };
            this.gen++;
            this.lastExit = undefined;
            resolve(this.running);
            continue;
          }
          this.route(f);
        }
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        try { decoder.end(); } catch (err) { this.stderrTail += `\n${(err as Error).message}`; }
        const how = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`;
        if (!hello) {
          reject(new TorchUnavailableError(`${this.what()}: the PyTorch worker ${how} before it started${this.tail()}`));
        } else {
          if (this.running?.child === child) this.running = undefined;
          const ops = [...this.pending.values()].map((p) => p.op);
          if (!this.disposed) this.lastExit = `the PyTorch worker (${this.python}, pid ${String(child.pid)}) ${how}`;
          if (ops.length) this.failAll(new TorchWorkerError(`the PyTorch worker (${this.python}, pid ${String(child.pid)}) ${how} while answering "${ops[0]}"${this.tail()}; the next request starts a new one`));
        }
        exitResolve();
      });
    });
  }

  private tail(): string {
    const t = this.stderrTail.trim();
    return t ? `; its last output: ${t.slice(-600)}` : '';
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private route(f: Frame): void {
    const id = f.message.id;
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      if (f.message.kind === 'error') this.failAll(new TorchWorkerError(`PyTorch worker: ${String(f.message.message)}`));
      return;
    }
    const kind = f.message.kind;
    if (kind === 'error') {
      this.pending.delete(id as number);
      p.reject(new TorchWorkerError(`PyTorch worker, "${p.op}": ${String(f.message.message)}`));
    } else if (kind === 'segment') {
      try {
        p.onFrame?.(f);
      } catch (err) {
        this.pending.delete(id as number);
        p.reject(err as Error);
      }
    } else {
      this.pending.delete(id as number);
      p.resolve(f);
    }
  }

  /**
   * Sends one request (op + fields + tensors) and resolves with its final frame; intermediate frames go to `onFrame`.
   * Starts the worker first when it is not running.
   */
  async request(op: string, fields: FrameMessage = {}, tensors: readonly FrameTensor[] = [], onFrame?: (f: Frame) => void): Promise<Frame> {
    const { child } = await this.startRunning();
    const id = this.nextId++;
    const bytes = encodeFrame({ ...fields, id, op }, tensors);
    return new Promise<Frame>((resolve, reject) => {
      this.pending.set(id, { op, onFrame, resolve, reject });
      child.stdin.write(bytes);
    });
  }

  private async startRunning(): Promise<Running> {
    await this.start();
    if (!this.running) throw new TorchWorkerError('the PyTorch worker stopped while starting');
    return this.running;
  }

  /** Stops the worker (asks, then kills after `graceMs`); later requests are refused. */
  async dispose(graceMs = 5000): Promise<void> {
    this.disposed = true;
    if (this.starting) await this.starting.catch(() => undefined);
    const r = this.running;
    if (!r) return;
    try {
      r.child.stdin.write(encodeFrame({ id: 0, op: 'shutdown' }));
      r.child.stdin.end();
    } catch { /* already gone */ }
    const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
    await r.exited;
    clearTimeout(timer);
    this.failAll(new TorchWorkerError('the PyTorch worker was disposed'));
    this.running = undefined;
  }
}
