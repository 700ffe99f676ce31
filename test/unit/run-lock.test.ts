/**
 * The run-folder lock (engine/train/run-lock.ts) with real processes and real files: a second `hrm-lens train` of a
 * folder that a first one is writing (as `--out` or `--resume`) is refused with the lock's message while the first
 * logs every step once; a stale lock of a dead process is taken over with a notice; a lock from another host is
 * refused (and taken with --force-unlock); the lock is gone after a normal end, an error, a SIGTERM and an exit;
 * processes taking over one stale lock at once leave one winner; the engine's `train` request (HRM: Train and
 * Resume Training in VS Code) is refused with the same message.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { RUN_LOCK_FILE, RunLockedError, acquireRunLock, readRunLock } from '../../engine/train/run-lock';
import type { WireError } from '../../engine/protocol';
import { engineUnderTest } from './helpers/engine-dispatch';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-run-lock-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const train = ['--preset', 'tiny-4x4', '--batch', '8', '--eval-puzzles', '4', '--seed', '3', '--backend', 'wasm', '--quiet'];
const HANG_MS = 180_000;

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

function cli(args: string[]): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), 'train', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c) => { stderr += c; });
  const done = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
  return { child, done };
}

/** Poll until `ok()` (a hang shows as a failure after HANG_MS, not as a stuck test run). */
async function until(what: string, ok: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !ok(); await sleep(20)) if (Date.now() - t0 > HANG_MS) assert.fail(`timed out waiting for ${what}`);
}

function loggedSteps(dir: string): number[] {
  const file = path.join(dir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { step: number }).step);
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid && r.status === 0);
  return r.pid;
}

function writeLock(dir: string, fields: { pid: number; host: string }): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, RUN_LOCK_FILE), JSON.stringify({ ...fields, started: '2020-01-02T03:04:05.000Z', command: 'hrm-lens train (earlier)', token: 'earlier' }));
}

const lockMessage = (dir: string, pid: number, host = hostname()) =>
  new RegExp(`run folder ${reEscape(dir)} is being written by pid ${pid} on host ${reEscape(host)} since \\S+ \\(lock file ${reEscape(path.join(dir, RUN_LOCK_FILE))}`);
function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('hrm-lens train: one writer per run folder', () => {
  const dir = path.join(tmp, 'shared');

  test('a second training of the folder (--out or --resume) is refused; the first logs every step once', { timeout: 4 * HANG_MS }, async () => {
    const first = cli([...train, '--steps', '100000', '--checkpoint-every', '5', '--keep-last', '2', '--out', dir]);
    try {
      await until('the first checkpoint', () => existsSync(path.join(dir, 'step-000005.safetensors')));
      const held = readRunLock(dir);
      assert.ok(held, 'no lock while training');
      assert.equal(held.pid, first.child.pid);
      assert.equal(held.host, hostname());
      assert.match(held.command, /hrm-lens train .*--out/);

      const again = await cli([...train, '--steps', '4', '--out', dir]).done;
      assert.notEqual(again.code, 0, 'a second --out of the same folder must fail');
      assert.match(again.stderr, lockMessage(dir, first.child.pid ?? -1));

      const resumed = await cli(['--resume', dir, '--steps', '3', '--backend', 'wasm', '--quiet']).done;
      assert.notEqual(resumed.code, 0, 'a --resume of a folder being written must fail');
      assert.match(resumed.stderr, lockMessage(dir, first.child.pid ?? -1));
      assert.equal(first.child.exitCode, null, 'the first training still runs');
    } finally {
      first.child.kill('SIGINT'); // stops after a checkpoint
    }
    const end = await first.done;
    assert.equal(end.code, 0, end.stderr);
    const steps = loggedSteps(dir);
    assert.ok(steps.length >= 5);
    assert.deepEqual(steps, steps.map((_, i) => i + 1), 'metrics.jsonl holds each step once, in order');
    assert.ok(existsSync(path.join(dir, `step-${String(steps.length).padStart(6, '0')}.safetensors`)), 'the last step has its checkpoint');
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false, 'the lock is gone after the run');
  });

  test('--out on a finished run is still refused as before, and leaves no lock', { timeout: HANG_MS }, async () => {
    const before = loggedSteps(dir);
    assert.ok(before.length > 0, 'needs the run of the previous test');
    const r = await cli([...train, '--steps', '4', '--out', dir]).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds checkpoints: resume it instead/);
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false, 'the lock is gone after the error');
    assert.deepEqual(loggedSteps(dir), before);
  });

  test('a stale lock of a dead process is taken over with a notice', { timeout: HANG_MS }, async () => {
    const stale = path.join(tmp, 'stale');
    const pid = deadPid();
    writeLock(stale, { pid, host: hostname() });
    const r = await cli([...train, '--steps', '3', '--out', stale]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`took over a stale lock of pid ${pid} on host ${reEscape(hostname())}`));
    assert.deepEqual(loggedSteps(stale), [1, 2, 3]);
    assert.equal(existsSync(path.join(stale, RUN_LOCK_FILE)), false);
  });

  test('a lock from another host is refused; --force-unlock takes it', { timeout: 2 * HANG_MS }, async () => {
    const other = path.join(tmp, 'other-host');
    writeLock(other, { pid: process.pid, host: 'elsewhere.invalid' });
    const r = await cli([...train, '--steps', '2', '--out', other]).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, lockMessage(other, process.pid, 'elsewhere.invalid'));
    assert.match(r.stderr, /--force-unlock/);
    assert.deepEqual(loggedSteps(other), []);
    assert.equal(readRunLock(other)?.host, 'elsewhere.invalid', 'a refused writer leaves the lock alone');

    const forced = await cli([...train, '--steps', '2', '--out', other, '--force-unlock']).done;
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /took over the lock of pid \d+ on host elsewhere\.invalid/);
    assert.deepEqual(loggedSteps(other), [1, 2]);
    assert.equal(existsSync(path.join(other, RUN_LOCK_FILE)), false);
  });
});

describe('the run-folder lock', () => {
  test('one holder per folder in a process; released, the folder can be locked again', async () => {
    const dir = path.join(tmp, 'in-process');
    mkdirSync(dir);
    const lock = await acquireRunLock(dir, { command: 'test holder' });
    const onDisk = JSON.parse(readFileSync(path.join(dir, RUN_LOCK_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal(onDisk.pid, process.pid);
    assert.equal(onDisk.host, hostname());
    assert.equal(onDisk.command, 'test holder');
    assert.ok(!Number.isNaN(Date.parse(String(onDisk.started))));
    await assert.rejects(acquireRunLock(dir), (e: unknown) => e instanceof RunLockedError && lockMessage(dir, process.pid).test(e.message));
    lock.release();
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false);
    (await acquireRunLock(dir)).release();
  });

  test('a lock of our own pid that this process does not hold is stale (an earlier process with the same pid)', async () => {
    const dir = path.join(tmp, 'own-pid');
    writeLock(dir, { pid: process.pid, host: hostname() });
    const notices: string[] = [];
    const lock = await acquireRunLock(dir, { onNotice: (m) => notices.push(m) });
    assert.equal(notices.length, 1);
    assert.match(notices[0], new RegExp(`took over a stale lock of pid ${process.pid}`));
    lock.release();
  });

  test('a lock taken over by force is not removed by the release of the holder it was taken from', async () => {
    const dir = path.join(tmp, 'forced');
    mkdirSync(dir);
    const first = await acquireRunLock(dir);
    const second = await acquireRunLock(dir, { forceUnlock: true });
    first.release();
    assert.equal(readRunLock(dir)?.token, second.info.token);
    second.release();
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  });

  test('an unreadable or oversized lock file is refused, not taken over', async () => {
    for (const [name, content] of [['garbage', 'not json'], ['huge', `{"pid":1,"host":"x","pad":"${'x'.repeat(100_000)}"}`]] as const) {
      const dir = path.join(tmp, `unreadable-${name}`);
      mkdirSync(dir);
      writeFileSync(path.join(dir, RUN_LOCK_FILE), content);
      await assert.rejects(acquireRunLock(dir), /has a lock file that cannot be read/);
      assert.equal(readFileSync(path.join(dir, RUN_LOCK_FILE), 'utf8'), content);
      (await acquireRunLock(dir, { forceUnlock: true })).release();
    }
  });

  function holder(dir: string, mode: string, go?: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'unit', 'helpers', 'run-lock-holder.ts'), dir, mode, ...(go ? [go] : [])],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (c) => { out += c; });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
    return { child, exit, lines: () => out.split('\n').filter(Boolean) };
  }

  test('processes taking over one stale lock at once: exactly one wins, the others are refused', { timeout: HANG_MS }, async () => {
    const dir = path.join(tmp, 'race');
    const pid = deadPid();
    writeLock(dir, { pid, host: hostname() });
    const go = path.join(tmp, 'race-go');
    const racers = Array.from({ length: 4 }, () => holder(dir, 'race', go));
    try {
      await until('the racers to start', () => racers.every((r) => r.lines()[0] === 'ready'));
      writeFileSync(go, '');
      await until('every racer to answer', () => racers.every((r) => r.lines().length >= 2));
      const answers = racers.map((r) => JSON.parse(r.lines()[1]) as { ok: boolean; notices?: string[]; message?: string });
      const winners = racers.filter((_, i) => answers[i].ok);
      assert.equal(winners.length, 1, JSON.stringify(answers));
      const winnerPid = winners[0].child.pid ?? -1;
      assert.equal(readRunLock(dir)?.pid, winnerPid);
      for (const a of answers) {
        if (a.ok) assert.match((a.notices ?? []).join('\n'), new RegExp(`took over a stale lock of pid ${pid}`));
        else assert.match(a.message ?? '', lockMessage(dir, winnerPid));
      }
    } finally {
      for (const r of racers) r.child.stdin?.end();
    }
    await Promise.all(racers.map((r) => r.exit));
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false, 'the winner released the lock');
    assert.equal(existsSync(path.join(dir, `${RUN_LOCK_FILE}.takeover`)), false, 'no take-over mutex left');
  });

  test('the lock is released when its process is stopped by SIGTERM or exits', { timeout: HANG_MS }, async () => {
    const dir = path.join(tmp, 'signal');
    mkdirSync(dir);
    const held = holder(dir, 'hold');
    await until('the lock', () => held.lines()[0] === 'locked');
    assert.equal(readRunLock(dir)?.pid, held.child.pid);
    held.child.kill('SIGTERM');
    assert.deepEqual(await held.exit, { code: null, signal: 'SIGTERM' }, 'still dies of the signal');
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false);

    const exited = holder(dir, 'exit');
    assert.deepEqual(await exited.exit, { code: 3, signal: null });
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  });
});

describe('the engine\'s train request', () => {
  const { call, logs } = engineUnderTest({ timeoutMs: HANG_MS });
  async function trainRequest(out: string): Promise<{ error?: WireError; ok?: boolean }> {
    const reply = await call('train', { preset: 'tiny-4x4', steps: 2, batch: 8, out, backend: 'wasm' }).reply;
    return 'error' in reply ? { error: reply.error } : { ok: true };
  }

  test('is refused with the lock\'s message while another process writes the folder; takes over a stale lock', { timeout: 2 * HANG_MS }, async () => {
    const dir = path.join(tmp, 'engine');
    const live = process.ppid;
    writeLock(dir, { pid: live, host: hostname() });
    const refused = await trainRequest(dir);
    assert.ok(refused.error, 'the request should fail');
    assert.match(refused.error.message, lockMessage(dir, live));
    assert.deepEqual(loggedSteps(dir), []);
    assert.equal(readRunLock(dir)?.pid, live);

    const pid = deadPid();
    writeLock(dir, { pid, host: hostname() });
    const r = await trainRequest(dir);
    assert.ok(r.ok, JSON.stringify(r.error));
    assert.ok(logs.some((m) => m.includes(`took over a stale lock of pid ${pid}`)), logs.join('\n'));
    assert.deepEqual(loggedSteps(dir), [1, 2]);
    assert.equal(existsSync(path.join(dir, RUN_LOCK_FILE)), false);
  });
});
