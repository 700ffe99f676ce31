/**
 * Ends the engine process when its parent (the extension host) is gone, even while the main thread is busy in a
 * long synchronous computation and cannot see the IPC channel's 'disconnect' event.
 *
 * The watch runs on a worker thread, which has an event loop of its own: every `intervalMs` it checks whether the
 * process was re-parented (`process.ppid` changed: the parent died) or the parent's pid no longer exists
 * (`process.kill(ppid, 0)` fails with ESRCH; platforms that do not re-parent). Once the parent is gone it allows the
 * main thread `graceMs` to exit on its own (its 'disconnect' handler), then writes one line to stderr and kills its
 * own process with SIGKILL: `process.exit()` in a worker ends only the worker, and a worker's `process.stderr` is
 * written by the main thread, so the line goes straight to file descriptor 2. The worker is unref'd: it never keeps
 * the process alive.
 */
import { Worker } from 'node:worker_threads';

export interface ParentWatchdogOptions {
  /** How often the parent is checked (ms; default 1000). */
  intervalMs?: number;
  /** Time the main thread gets to exit by itself once the parent is gone (ms; default 1000). */
  graceMs?: number;
  /** The parent to watch (default: process.ppid now). */
  parentPid?: number;
  /** Where a failure to start or run the watchdog is reported. */
  onError?: (message: string) => void;
}

export interface ParentWatchdog {
  /** Stops watching (the worker ends). */
  stop(): Promise<void>;
}

// Plain CommonJS run by the worker (`eval: true`): no bundling or TypeScript involved.
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { parentPid, intervalMs, graceMs } = workerData;
function parentGone() {
  if (process.ppid !== parentPid) return true;
  try { process.kill(parentPid, 0); return false; } catch (e) { return e && e.code === 'ESRCH'; }
}
const timer = setInterval(() => {
  if (!parentGone()) return;
  clearInterval(timer);
  setTimeout(() => {
    try { writeSync(2, 'hrm-lens engine (pid ' + process.pid + '): the host process ' + parentPid + ' is gone; exiting\\n'); } catch {}
    process.kill(process.pid, 'SIGKILL');
  }, graceMs);
}, intervalMs);
`;

/** Starts the watchdog; undefined when the worker could not start (reported through `onError`). */
export function startParentWatchdog(opts: ParentWatchdogOptions = {}): ParentWatchdog | undefined {
  const parentPid = opts.parentPid ?? process.ppid;
  const intervalMs = Math.max(10, opts.intervalMs ?? 1000);
  const graceMs = Math.max(0, opts.graceMs ?? 1000);
  let worker: Worker;
  try {
    worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { parentPid, intervalMs, graceMs } });
  } catch (e) {
    opts.onError?.(`the parent watchdog did not start: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  worker.on('error', (e: unknown) => opts.onError?.(`the parent watchdog stopped: ${e instanceof Error ? e.message : String(e)}`));
  worker.unref();
  return { stop: async () => { await worker.terminate(); } };
}
