/**
 * The engine stays answerable and never outlives its host: a long request (an ensemble over thousands of puzzles,
 * real TF.js on the shipped 4×4 model) lets `ping` through while it runs and stops on `cancel`; the engine process
 * exits when the process that forked it is killed mid-request; the parent watchdog ends a process whose main thread
 * never yields. In process: the step-driven analyses give the synchronous results, let timers run, and stop on an
 * aborted signal with no tensor left.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isCancelled, type ParamsOf } from '../../engine/protocol';
import { EngineConnection } from '../../extension/engine/engine-connection';
import { SHIPPED_CHECKPOINT, useShippedModel } from './helpers/shipped-model';
import { tf } from '../../engine/tf';
import { inspectPuzzle, inspectPuzzleAsync } from '../../engine/analysis/inspect';
import { cyclicShifts, perturbedPasses, perturbedPassesBatchedAsync } from '../../engine/ensemble/perturb';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { makeProbePuzzles, parseMask, probePuzzlesAsync, probeSolutions } from '../../engine/analysis/probe';

const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-engine-liveness-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An ensemble far longer than any test: 5000 generated puzzles × 4 relabelings × 64 segments (hundreds of batches of
 * 256 rows). Only its first batches ever run here.
 */
const LONG_ENSEMBLE: ParamsOf<'ensemble'> = { sources: [SHIPPED_CHECKPOINT], perturb: 'shifts', generate: 5000, segments: 64, seed: 1 };

/** Whether a process runs (a zombie, dead but not yet reaped by its new parent, counts as ended). */
function running(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilEnded(pid: number, limitMs: number): Promise<boolean> {
  for (const t0 = performance.now(); performance.now() - t0 < limitMs;) {
    if (!running(pid)) return true;
    await sleep(100);
  }
  return !running(pid);
}

/**
 * A stand-in host: forks `module` (through tsx) with its stderr in `log`, optionally sends it `request` once it is
 * ready, and tells its own parent the child's pid once the child reports progress (or says 'watching').
 */
const HOST = path.join(tmp, 'host.cjs');
writeFileSync(HOST, `
const { fork } = require('node:child_process');
const fs = require('node:fs');
const [modulePath, cwd, logFile, requestJson] = process.argv.slice(2);
const log = fs.openSync(logFile, 'w');
const child = fork(modulePath, [], { serialization: 'advanced', stdio: ['ignore', log, log, 'ipc'], execArgv: ['--import', 'tsx'], cwd });
let told = false;
child.on('message', (m) => {
  if (m && m.kind === 'ready' && requestJson) child.send({ kind: 'request', id: 1, ...JSON.parse(requestJson) });
  else if (!told && m && (m.kind === 'progress' || m === 'watching')) { told = true; process.send({ pid: child.pid }); }
});
child.on('exit', () => process.exit(1));
process.on('disconnect', () => { child.kill('SIGKILL'); process.exit(1); });
setInterval(() => {}, 1000);
`);

/** Starts HOST; resolves with the host and the pid of its child once the child is busy. */
function startHost(modulePath: string, logFile: string, request?: object): Promise<{ hostPid: number; childPid: number }> {
  const host = fork(HOST, [modulePath, root, logFile, request ? JSON.stringify(request) : ''], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    host.once('message', (m: { pid: number }) => resolve({ hostPid: host.pid as number, childPid: m.pid }));
    host.once('exit', (code, signal) => reject(new Error(`the stand-in host ended early (${code ?? signal}): ${readFileSync(logFile, 'utf8')}`)));
  });
}

describe('engine liveness: the engine process', () => {
  test('ping is answered while a long ensemble runs; cancel stops it and the engine confirms', { timeout: 240_000 }, async () => {
    // A cancel is rejected only by the engine's own confirmation (which comes once the handler has stopped).
    const engine = new EngineConnection({
      modulePath: path.join(root, 'engine', 'server.ts'), execArgv: ['--import', 'tsx'], cwd: root, launchTimeoutMs: 60_000, cancelGraceMs: 600_000,
    });
    try {
      await engine.ready;
      const controller = new AbortController();
      let events = 0;
      let firstEvent!: () => void;
      const busy = new Promise<void>((resolve) => { firstEvent = resolve; });
      let settled = false;
      const long = engine.request('ensemble', LONG_ENSEMBLE, { signal: controller.signal, onProgress: () => { events++; firstEvent(); } });
      const outcome = long.then(() => 'finished', (e: unknown) => e).finally(() => { settled = true; });
      await busy; // inside the pass loop: a batch of 256 rows has been run
      for (let i = 0; i < 3; i++) {
        const pong = await engine.request('ping', {});
        assert.equal(pong.pid, engine.pid);
        assert.equal(settled, false, 'ping was answered only after the ensemble had ended');
      }
      controller.abort();
      const result = await outcome;
      assert.ok(isCancelled(result), `expected a cancellation, got ${String(result)}`);
      assert.doesNotMatch((result as Error).message, /did not confirm/);
      assert.match((result as Error).message, /ensemble was cancelled/);
      const seen = events;
      assert.equal((await engine.request('ping', {})).pid, engine.pid);
      await sleep(300);
      assert.equal(events, seen, 'no progress after the cancel');
      assert.equal(engine.pendingCount, 0);
    } finally {
      await engine.stop();
    }
  });

  test('the engine exits when the process that forked it is killed in the middle of a long request', { timeout: 240_000 }, async () => {
    const logFile = path.join(tmp, 'engine-orphan.log');
    const { hostPid, childPid } = await startHost(path.join(root, 'engine', 'server.ts'), logFile, { method: 'ensemble', params: LONG_ENSEMBLE });
    try {
      assert.ok(running(childPid));
      process.kill(hostPid, 'SIGKILL');
      const ended = await waitUntilEnded(childPid, 60_000);
      assert.ok(ended, `the engine (pid ${childPid}) outlived its host; its log:\n${readFileSync(logFile, 'utf8')}`);
      assert.match(readFileSync(logFile, 'utf8'), /host disconnected; exiting|host process \d+ is gone; exiting/);
    } finally {
      if (running(childPid)) process.kill(childPid, 'SIGKILL');
    }
  });

  test('the parent watchdog ends a process whose main thread never yields, once its parent is gone (and not before)', { timeout: 120_000 }, async () => {
    const script = path.join(tmp, 'spinner.cjs');
    writeFileSync(script, `
const { startParentWatchdog } = require(${JSON.stringify(path.join(root, 'engine', 'parent-watchdog.ts'))});
startParentWatchdog({ intervalMs: 100, graceMs: 100 });
process.send('watching', () => { for (;;) { /* never yields: no 'disconnect' event can run */ } });
`);
    const logFile = path.join(tmp, 'spinner.log');
    const { hostPid, childPid } = await startHost(script, logFile);
    try {
      await sleep(1000); // ten checks with the parent alive
      assert.ok(running(childPid), `the process ended while its parent lived:\n${readFileSync(logFile, 'utf8')}`);
      process.kill(hostPid, 'SIGKILL');
      const ended = await waitUntilEnded(childPid, 60_000);
      assert.ok(ended, `the spinning process (pid ${childPid}) outlived its parent:\n${readFileSync(logFile, 'utf8')}`);
      assert.match(readFileSync(logFile, 'utf8'), new RegExp(`host process ${hostPid} is gone; exiting`));
    } finally {
      if (running(childPid)) process.kill(childPid, 'SIGKILL');
    }
  });
});

describe('engine liveness: step-driven analyses (in process)', () => {
  const shipped = useShippedModel();
  const puzzle = '.1.....3..32....';

  test('inspect: the asynchronous run gives the synchronous summary; an aborted signal stops it with no tensor left', async () => {
    const model = shipped();
    const sync = inspectPuzzle(model, 'tiny', puzzle, 6);
    const async = await inspectPuzzleAsync(model, 'tiny', puzzle, 6);
    assert.deepEqual(async, sync);
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const run = inspectPuzzleAsync(model, 'tiny', puzzle, 256, { signal: ctl.signal });
    setImmediate(() => ctl.abort());
    await assert.rejects(run, (e: Error) => e.name === 'AbortError');
    assert.equal(tf.memory().numTensors, before);
  });

  test('ensemble passes: timers run while the batches do; same passes as the synchronous run; a cancel frees everything', async () => {
    const model = shipped();
    const grids = generatePuzzles({ n: 4, seed: 3 }, 40).map((g) => g.puzzle);
    const shifts = cyclicShifts(4);
    const sync = perturbedPasses(model, grids, shifts, { segments: 24, maxRows: 32 });
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    let done = false;
    const asyncRun = perturbedPassesBatchedAsync(model, grids, shifts, { segments: 24, maxRows: 32 }).finally(() => { done = true; });
    let ticksWhileRunning = 0;
    while (!done) {
      await new Promise((r) => setTimeout(r, 1));
      if (!done) ticksWhileRunning = ticks;
    }
    clearInterval(timer);
    assert.deepEqual(await asyncRun, sync);
    assert.ok(ticksWhileRunning > 0, 'no timer ran while the passes were computed');
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    let batches = 0;
    const cancelled = perturbedPassesBatchedAsync(model, grids, shifts, {
      segments: 24, maxRows: 32, signal: ctl.signal, onProgress: () => { if (++batches === 2) ctl.abort(); },
    });
    await assert.rejects(cancelled, (e: Error) => e.name === 'AbortError');
    assert.equal(batches, 2);
    assert.equal(tf.memory().numTensors, before);
  });

  test('probe puzzles: the asynchronous generation gives the synchronous puzzles', async () => {
    const masks = ['cell', 'row', 'random:5'].map(parseMask);
    assert.deepEqual(await probePuzzlesAsync(4, 30, masks, 7), makeProbePuzzles(probeSolutions(4, 30, 7), 4, masks, 7));
  });
});
