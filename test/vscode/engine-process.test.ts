/**
 * In-host tests of the engine process: run inside code-server's extension host against the extension's own
 * EngineClient (through activate()'s test API) — lazy start, requests, cancellation by token, kill -9 and recovery,
 * the restart command — and a second EngineClient made here for dispose(). Reports the figures
 * engineFirstRequestMs, engineStartupMs and enginePingMs (see metric() in activation.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { isCancelled } from '../../engine/protocol';
import { EngineClient, type EngineTestApi } from '../../extension/engine/engine-client';
import type { HrmLensApi } from '../../extension/extension';

const EXTENSION_ID = 'hrm-lens.hrm-lens';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function metric(name: string, value: number): void {
  console.log(`HRM_LENS_METRIC ${name}=${value}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** An EngineError from another bundle: check by shape, not by class. */
function engineError(e: unknown): { message: string; code?: string } {
  assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
  return e as Error & { code?: string };
}

suite('HRM Lens engine process', () => {
  let ext: vscode.Extension<HrmLensApi>;
  let engine: EngineTestApi;

  suiteSetup(async () => {
    const found = vscode.extensions.getExtension<HrmLensApi>(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is not loaded`);
    ext = found;
    const api = await ext.activate();
    assert.ok(api?.engine, 'activate() returns no engine test API');
    engine = api.engine;
  });

  test('activation does not start the engine', () => {
    assert.equal(engine.pid(), undefined);
    assert.equal(engine.state(), 'stopped');
  });

  test('the first request starts the engine (dist/engine.js); ping answers from it', async () => {
    const t0 = performance.now();
    const pong = await engine.request('ping', {});
    const firstMs = performance.now() - t0;
    const pid = engine.pid();
    assert.ok(pid, 'no pid after a request');
    assert.equal(pong.pid, pid);
    assert.equal(engine.state(), 'ready');
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '), /dist\/engine\.js/);
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await engine.request('ping', {});
      times.push(performance.now() - t);
    }
    const median = times.sort((a, b) => a - b)[15];
    console.log(`engine: first request (fork + ready + ping) ${firstMs.toFixed(0)} ms, ping round trip median ${median.toFixed(2)} ms`);
    metric('engineFirstRequestMs', Number(firstMs.toFixed(0)));
    metric('enginePingMs', Number(median.toFixed(2)));
    assert.equal(engine.pid(), pid, 'requests reuse the process');
  });

  test('progress events stream in order; a CancellationToken cancels', async () => {
    const events: number[] = [];
    const done = await engine.request('selfTest.progress', { count: 5, delayMs: 2 }, { onProgress: (e) => events.push(e.index) });
    assert.equal(done.emitted, 5);
    assert.deepEqual(events, [0, 1, 2, 3, 4]);

    const source = new vscode.CancellationTokenSource();
    const seen: number[] = [];
    const pending = engine.request('selfTest.progress', { count: 1_000, delayMs: 10 }, {
      token: source.token,
      onProgress: (e) => { seen.push(e.index); if (e.index === 1) source.cancel(); },
    });
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(isCancelled(e), `expected a cancellation, got ${String(e)}`);
      assert.match(engineError(e).message, /cancelled after 2 of 1000 events/);
      return true;
    });
    source.dispose();
    assert.equal(engine.state(), 'ready');
  });

  test('kill -9 during a request: it rejects with a clear message; the next request starts a new engine', async () => {
    const pid = engine.pid();
    assert.ok(pid);
    let events = 0;
    const pending = engine.request('selfTest.progress', { count: 10_000, delayMs: 10 }, { onProgress: () => { events++; } });
    await waitFor('progress events', () => events >= 2);
    process.kill(pid, 'SIGKILL');
    await assert.rejects(pending, (e: unknown) => {
      const err = engineError(e);
      assert.equal(err.code, 'EngineExited');
      assert.match(err.message, new RegExp(`engine \\(pid ${pid}\\) was killed by signal SIGKILL while running selfTest\\.progress`));
      return true;
    });
    assert.equal(engine.state(), 'crashed');
    assert.equal(engine.pid(), undefined);
    assert.equal(isRunning(pid), false);

    const pong = await engine.request('ping', {});
    assert.notEqual(pong.pid, pid);
    assert.equal(engine.pid(), pong.pid);
    assert.equal(engine.state(), 'ready');
    // Close the crash notification, so that it does not linger over later tests.
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  test('"HRM: Restart Engine" replaces the process', async () => {
    const before = engine.pid();
    assert.ok(before);
    await vscode.commands.executeCommand('hrmLens.restartEngine');
    const after = engine.pid();
    assert.ok(after && after !== before, `expected a new pid, got ${after} (was ${before})`);
    assert.equal(engine.state(), 'ready');
    await waitFor('the old engine to end', () => !isRunning(before));
    assert.equal((await engine.request('ping', {})).pid, after);
  });

  test('dispose() ends the process, and later requests are refused', async () => {
    const log = vscode.window.createOutputChannel('HRM Lens (engine test)', { log: true });
    const client = new EngineClient({ extensionPath: ext.extensionPath, log, notifyOnCrash: false });
    const states: string[] = [];
    const sub = client.onDidChangeState((s) => states.push(s));
    try {
      assert.equal(client.pid, undefined);
      const [a, b] = await Promise.all([client.request('ping', {}), client.request('ping', {})]);
      assert.equal(a.pid, b.pid, 'two first requests at once share one engine');
      const pid = client.pid;
      assert.equal(pid, a.pid);
      assert.ok(pid && isRunning(pid));
      metric('engineStartupMs', Number(client.startupMs?.toFixed(0)));
      const running = client.request('selfTest.progress', { count: 10_000, delayMs: 10 });
      await sleep(30);
      await client.dispose();
      assert.equal(isRunning(pid), false, 'the engine process is still running after dispose()');
      await assert.rejects(running, (e: unknown) => engineError(e).code === 'EngineStopped');
      await assert.rejects(client.request('ping', {}), (e: unknown) => engineError(e).code === 'Disposed');
      assert.deepEqual(states, ['starting', 'ready']); // no events after dispose
    } finally {
      sub.dispose();
      log.dispose();
    }
  });
});
