/**
 * Launching the torch trainer (python/hrm_lens_torch/train.py) under torchrun, `<python> -m torch.distributed.run`:
 *
 *   one node:  <python> -m torch.distributed.run --nnodes 1 --node_rank 0 --nproc_per_node N
 *                --master_addr 127.0.0.1 --master_port <a free port> -m hrm_lens_torch.train --job <feed>/job.json
 *   M nodes:   <python> -m torch.distributed.run --nnodes M --node_rank R --nproc_per_node N --rdzv_backend c10d
 *                --rdzv_endpoint HOST:PORT --rdzv_id ID -m hrm_lens_torch.train --job <feed>/job.json
 *
 * (torchrun's underscore spellings: PyTorch 1.x knows only those, 2.x both). Where the interpreter's torchrun cannot
 * start (PyTorch 1.x on Python 3.11+: its stream-setting lookup fails, checkTorchPython probes it), `-m
 * torch.distributed.run` is replaced by `-m hrm_lens_torch.torchrun`, the same launcher with that lookup fixed.
 * It runs in the folder holding the package
 * (the installation's python/), with the package folder first on PYTHONPATH, in a process group of its own (a Ctrl-C
 * in the terminal reaches hrm-lens alone, which asks the trainer to stop through the feed). Each node's local rank 0
 * prints its events on stdout as "@hrm-lens-train " + JSON; every other line is the trainer's or torchrun's log.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { TorchUnavailableError, defaultPackageDir } from './worker-client';

export const TRAIN_EVENT_PREFIX = '@hrm-lens-train ';

export interface TorchrunOptions {
  python: string;
  /** Processes on this node. */
  nprocPerNode: number;
  /** Nodes (default 1). */
  nnodes?: number;
  /** This node's rank (0 … nnodes − 1). */
  nodeRank?: number;
  /** host:port of the rendezvous (needed with several nodes). */
  rdzvEndpoint?: string;
  /** Rendezvous id, the same on every node (default "hrm-lens"). */
  rdzvId?: string;
  /** Port of the single-node rendezvous (default: a free one). */
  masterPort?: number;
  /** The job file. */
  job: string;
  /** Run torchrun through hrm_lens_torch.torchrun (TorchPythonInfo.torchrunNeedsFix). */
  torchrunFix?: boolean;
}

/** The interpreter's arguments that run the trainer under torchrun (the python executable first is not included). */
export function torchrunArgs(o: TorchrunOptions): string[] {
  const nnodes = o.nnodes ?? 1;
  const args = ['-m', o.torchrunFix ? 'hrm_lens_torch.torchrun' : 'torch.distributed.run', '--nnodes', String(nnodes), '--node_rank', String(o.nodeRank ?? 0), '--nproc_per_node', String(o.nprocPerNode)];
  if (nnodes > 1 || o.rdzvEndpoint !== undefined) {
    if (!o.rdzvEndpoint) throw new RangeError('--nnodes above 1 needs --rdzv-endpoint HOST:PORT (the same on every node)');
    args.push('--rdzv_backend', 'c10d', '--rdzv_endpoint', o.rdzvEndpoint, '--rdzv_id', o.rdzvId ?? 'hrm-lens');
  } else {
    args.push('--master_addr', '127.0.0.1', '--master_port', String(o.masterPort ?? 29500));
  }
  args.push('-m', 'hrm_lens_torch.train', '--job', o.job);
  return args;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface TorchPythonInfo {
  python: string;
  torch: string;
  cuda: boolean;
  /** CUDA devices it sees. */
  cudaDevices: number;
  /** Its torchrun cannot start as it is (see the file comment). */
  torchrunNeedsFix: boolean;
}

/** Python's answer to the check, or how it failed to give one. */
interface CheckOutcome { stdout: string; stderr: string; status: number | null; errno?: string; error?: Error }

function runCheck(python: string, code: string): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    execFile(python, ['-c', code], { encoding: 'utf8', timeout: 180_000, windowsHide: true, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e && typeof e.code === 'string') resolve({ stdout: '', stderr: '', status: null, errno: e.code, error: e });
      else if (e && typeof e.code !== 'number' && (e as { killed?: boolean }).killed) resolve({ stdout, stderr, status: null, error: new Error('no answer within 180 s') });
      else resolve({ stdout, stderr, status: e ? (typeof e.code === 'number' ? e.code : null) : 0 });
    });
  });
}

/**
 * Checks that `python` runs and has PyTorch with torch.distributed; a TorchUnavailableError naming the interpreter
 * otherwise (a missing interpreter, no torch, a torch without torch.distributed). Asynchronous: the first `import
 * torch` can take a minute on a busy machine, and the engine process answers other requests meanwhile.
 */
export async function checkTorchPython(python: string): Promise<TorchPythonInfo> {
  const code = 'import json, sys\ntry:\n import torch, torch.distributed as d, numpy\nexcept Exception as e:\n print(json.dumps({"error": str(e), "python": sys.version.split()[0]})); sys.exit(0)\n'
    + 'fix = False\ntry:\n from torch.distributed.elastic.multiprocessing.api import Std\n fix = Std.from_str("0") is None\nexcept Exception:\n pass\n'
    + 'print(json.dumps({"torch": torch.__version__, "dist": d.is_available(), "cuda": torch.cuda.is_available(), "devices": torch.cuda.device_count() if torch.cuda.is_available() else 0, "fix": fix}))\n';
  const r = await runCheck(python, code);
  const what = `Python interpreter "${python}"`;
  const hint = 'set the Python path (--python, env HRM_LENS_PYTHON or hrmLens.pythonPath) to one that has PyTorch';
  if (r.error) {
    throw new TorchUnavailableError(r.errno === 'ENOENT' || r.errno === 'EACCES'
      ? `${what} was not found or cannot be run (${r.errno}); ${hint}`
      : `${what} could not be started: ${r.error.message}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let info: { error?: string; python?: string; torch?: string; dist?: boolean; cuda?: boolean; devices?: number; fix?: boolean };
  try {
    info = JSON.parse(line) as typeof info;
  } catch {
    throw new TorchUnavailableError(`${what} exited with code ${String(r.status)} without answering: ${r.stderr.trim().slice(-600)}`);
  }
  if (info.error !== undefined) throw new TorchUnavailableError(`${what} (Python ${String(info.python)}) cannot import torch: ${info.error}. Install PyTorch for it, or ${hint}`);
  if (!info.dist) throw new TorchUnavailableError(`${what}: PyTorch ${String(info.torch)} was built without torch.distributed, which training needs`);
  return { python, torch: String(info.torch), cuda: info.cuda === true, cudaDevices: Number(info.devices ?? 0), torchrunNeedsFix: info.fix === true };
}

/** One event of the trainer (python/hrm_lens_torch/train.py). */
export type TrainEvent =
  | { event: 'hello'; torch: string; python: string; device: string; distBackend: string | null; worldSize: number; rank: number; step: number }
  | { event: 'step'; record: { step: number; [key: string]: unknown }; drawCounter: number }
  | { event: 'checkpoint'; file: string; step: number; final: boolean }
  | { event: 'done'; step: number; stopped: boolean; checkpoint: string | null }
  | { event: 'error'; rank: number; message: string };

export interface LaunchHandlers {
  onEvent(e: TrainEvent): void;
  /** A line of the trainer's or torchrun's own output (stderr, and stdout lines that are not events). */
  onLog?(line: string): void;
}

export interface LaunchedTraining {
  child: ChildProcess;
  /** The whole command line (python first). */
  command: string[];
  /** Resolves when torchrun has exited: its exit code (null when killed) and signal, and the tail of its output. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; tail: string }>;
  /** Signal torchrun's whole process group. */
  kill(signal: NodeJS.Signals): void;
}

const TAIL = 4000;

/** Starts torchrun with the trainer; events and log lines go to `handlers` as they arrive. */
export function launchTraining(o: TorchrunOptions & { threads?: number; packageDir?: string }, handlers: LaunchHandlers): LaunchedTraining {
  const pkg = o.packageDir ?? defaultPackageDir();
  const args = torchrunArgs(o);
  const env: NodeJS.ProcessEnv = {
    ...process.env, PYTHONPATH: [pkg, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1',
  };
  if (o.threads !== undefined) env.OMP_NUM_THREADS = String(o.threads);
  const child = spawn(o.python, args, { cwd: pkg, env, stdio: ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32', windowsHide: true });
  let tail = '';
  const keep = (s: string): void => { tail = (tail + s).slice(-TAIL); };
  const lines = (stream: NodeJS.ReadableStream, events: boolean): void => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (events && line.startsWith(TRAIN_EVENT_PREFIX)) {
          let e: TrainEvent;
          try {
            e = JSON.parse(line.slice(TRAIN_EVENT_PREFIX.length)) as TrainEvent;
          } catch {
            keep(`${line}\n`);
            handlers.onLog?.(line);
            continue;
          }
          handlers.onEvent(e);
        } else if (line.trim()) {
          keep(`${line}\n`);
          handlers.onLog?.(line);
        }
      }
    });
  };
  lines(child.stdout as NodeJS.ReadableStream, true);
  lines(child.stderr as NodeJS.ReadableStream, false);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; tail: string }>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(new TorchUnavailableError(`Python interpreter "${o.python}" could not run torchrun: ${err.message}`)));
    child.on('close', (code, signal) => resolve({ code, signal, tail }));
  });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch { /* gone already */ }
  };
  return { child, command: [o.python, ...args], exited, kill };
}
