/**
 * The host <-> engine channel in plain Node: the Dispatcher in-process (fast, exact), then the real engine process
 * (engine/server.ts through tsx, and the esbuild bundle) driven by the extension's EngineConnection — round trip,
 * ordered progress, cancellation, errors, malformed messages, typed arrays, crashes, stop and disconnect.
 * Prints the measured figures (start-to-ready, ping round trip) as "engine-rpc figure: …" lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import {
  EngineError,
  PROTOCOL_VERSION,
  isCancelled,
  wireTensor,
  type EngineToHost,
  type LogLevel,
  type MethodName,
  type ProgressOf,
} from '../../engine/protocol';
import { Dispatcher, type HandlerTable } from '../../engine/rpc/dispatcher';
import { handlers } from '../../engine/rpc/handlers';
import { abortableDelay } from '../../engine/rpc/handler';
import { EngineConnection, type EngineConnectionOptions, type ExitInfo } from '../../extension/engine/engine-connection';

const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-engine-rpc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function figure(name: string, value: string): void {
  console.log(`engine-rpc figure: ${name} = ${value}`);
}

/** A Dispatcher whose replies (structured-cloned, as the IPC channel would) and logs are collected. */
function harness(table: HandlerTable = handlers) {
  const sent: EngineToHost[] = [];
  const logs: { level: LogLevel; message: string }[] = [];
  const dispatcher = new Dispatcher(table, (msg) => { sent.push(structuredClone(msg)); }, (level, message) => { logs.push({ level, message }); });
  const replyTo = async (id: number): Promise<EngineToHost> => {
    for (let i = 0; i < 200; i++) {
      const m = sent.find((s) => 'id' in s && s.id === id && (s.kind === 'result' || s.kind === 'error'));
      if (m) return m;
      await sleep(5);
    }
    throw new Error(`no reply to ${id}`);
  };
  return { sent, logs, dispatcher, replyTo };
}

function errorOf(msg: EngineToHost): { message: string; code?: string; detail?: string } {
  assert.equal(msg.kind, 'error', `expected an error reply, got ${JSON.stringify(msg)}`);
  return (msg as Extract<EngineToHost, { kind: 'error' }>).error;
}

/** The engine from source, through tsx (no build needed). */
function tsxEngine(extra: Partial<EngineConnectionOptions> = {}): EngineConnection {
  return new EngineConnection({
    modulePath: path.join(root, 'engine', 'server.ts'), execArgv: ['--import', 'tsx'], cwd: root, launchTimeoutMs: 30_000, ...extra,
  });
}

/** A stand-in engine (CommonJS source) for the failure cases: it may say ready, misbehave, crash. */
function fakeEngine(name: string, body: string): string {
  const file = path.join(tmp, `${name}.cjs`);
  writeFileSync(file, `const ready = () => process.send({ kind: 'ready', pid: process.pid, version: ${PROTOCOL_VERSION} });\n${body}\n`);
  return file;
}

// ------------------------------------------------------------------------------------------------ dispatcher

describe('engine rpc: dispatcher (in-process)', () => {
  test('ping answers with the pid and an uptime', async () => {
    const h = harness();
    h.dispatcher.handle({ kind: 'request', id: 1, method: 'ping', params: {} });
    const reply = await h.replyTo(1);
    assert.equal(reply.kind, 'result');
    const result = (reply as Extract<EngineToHost, { kind: 'result' }>).result as { pid: number; uptimeMs: number };
    assert.equal(result.pid, process.pid);
    assert.ok(result.uptimeMs >= 0);
  });

  test('an unknown method (also a prototype key) gets MethodNotFound, naming the known ones', async () => {
    const h = harness();
    h.dispatcher.handle({ kind: 'request', id: 1, method: 'train.nope', params: {} });
    h.dispatcher.handle({ kind: 'request', id: 2, method: 'toString', params: {} });
    for (const id of [1, 2]) {
      const err = errorOf(await h.replyTo(id));
      assert.equal(err.code, 'MethodNotFound');
      assert.match(err.message, /unknown method .* knows: .*\bping\b.*\bselfTest\.progress\b/);
    }
  });

  test('malformed messages never throw: an error reply when there is an id, a log line otherwise', async () => {
    const h = harness();
    const junk: unknown[] = ['hello', 42, null, undefined, [1, 2], { kind: 'request' }, { kind: 'request', id: -1, method: 'ping', params: {} },
      { kind: 'cancel' }, { kind: 'bogus' }, { nokind: true }];
    for (const j of junk) assert.doesNotThrow(() => h.dispatcher.handle(j));
    h.dispatcher.handle({ kind: 'request', id: 10, method: 7, params: {} });
    h.dispatcher.handle({ kind: 'request', id: 11, method: 'ping', params: 'x' });
    h.dispatcher.handle({ kind: 'request', id: 12, method: 'ping' });
    h.dispatcher.handle({ kind: 'bogus', id: 13 });
    h.dispatcher.handle({ kind: 'request', id: 14, method: 'selfTest.progress', params: { count: -1 } });
    assert.equal(errorOf(await h.replyTo(10)).code, 'InvalidRequest');
    assert.equal(errorOf(await h.replyTo(11)).code, 'InvalidParams');
    assert.equal(errorOf(await h.replyTo(12)).code, 'InvalidParams');
    assert.equal(errorOf(await h.replyTo(13)).code, 'InvalidRequest');
    const bad = errorOf(await h.replyTo(14));
    assert.equal(bad.code, 'InvalidParams');
    assert.match(bad.message, /count must be an integer/);
    assert.ok(h.logs.length >= junk.length - 1, `expected a log line per id-less message, got ${h.logs.length}`);
    assert.ok(h.logs.every((l) => l.level === 'warn' || l.level === 'debug'));
    h.dispatcher.handle({ kind: 'request', id: 15, method: 'ping', params: {} });
    assert.equal((await h.replyTo(15)).kind, 'result');
  });

  test('a duplicate id while the first runs is refused; a handler that throws answers with its stack', async () => {
    const table: HandlerTable = {
      'selfTest.progress': handlers['selfTest.progress'],
      ping: () => { throw new TypeError('kaputt'); },
    };
    const h = harness(table);
    h.dispatcher.handle({ kind: 'request', id: 1, method: 'selfTest.progress', params: { count: 2, delayMs: 20 } });
    h.dispatcher.handle({ kind: 'request', id: 1, method: 'selfTest.progress', params: { count: 1 } });
    const dup = errorOf(h.sent[0]);
    assert.equal(dup.code, 'InvalidRequest');
    assert.equal((await h.replyTo(1)).kind, 'error'); // the refusal; the first request still runs
    for (let i = 0; i < 200 && !h.sent.some((m) => m.kind === 'result' && m.id === 1); i++) await sleep(5);
    assert.ok(h.sent.some((m) => m.kind === 'result' && m.id === 1), 'the first request should still finish');
    h.dispatcher.handle({ kind: 'request', id: 2, method: 'ping', params: {} });
    const err = errorOf(await h.replyTo(2));
    assert.equal(err.code, 'HandlerError');
    assert.equal(err.message, 'kaputt');
    assert.match(err.detail ?? '', /TypeError: kaputt\n\s+at /);
  });

  test('cancel aborts the handler\'s signal; the reply is Cancelled and later progress is dropped', async () => {
    let sawAbort: unknown;
    const table: HandlerTable = {
      'selfTest.progress': async (_params, ctx) => {
        ctx.progress({ index: 0, total: 2, elapsedMs: 0 });
        try {
          await abortableDelay(5_000, ctx.signal);
        } catch (e) {
          sawAbort = e;
          ctx.progress({ index: 1, total: 2, elapsedMs: 0 }); // too late: dropped
          throw e;
        }
        return { emitted: 1, elapsedMs: 0 };
      },
    };
    const h = harness(table);
    h.dispatcher.handle({ kind: 'request', id: 7, method: 'selfTest.progress', params: { count: 2 } });
    await sleep(10);
    assert.equal(h.dispatcher.pending, 1);
    h.dispatcher.handle({ kind: 'cancel', id: 7 });
    const err = errorOf(await h.replyTo(7));
    assert.ok(sawAbort instanceof EngineError && sawAbort.code === 'Cancelled', 'the handler saw the abort reason');
    assert.equal(err.code, 'Cancelled');
    assert.equal(h.sent.filter((m) => m.kind === 'progress').length, 1);
    assert.equal(h.dispatcher.pending, 0);
    h.dispatcher.handle({ kind: 'cancel', id: 7 }); // late cancel: harmless
  });

  test('a result that cannot be cloned becomes an error reply', async () => {
    const h = harness({ ping: () => ({ pid: 1, uptimeMs: 0, oops: () => 1 }) as never });
    h.dispatcher.handle({ kind: 'request', id: 3, method: 'ping', params: {} });
    const err = errorOf(await h.replyTo(3));
    assert.equal(err.code, 'HandlerError');
    assert.match(err.message, /could not be sent/);
  });
});

// ------------------------------------------------------------------------------------------------ real process

describe('engine rpc: the engine process (engine/server.ts via tsx)', () => {
  let engine: EngineConnection;
  const logs: string[] = [];
  let exitInfo: ExitInfo | undefined;

  before(async () => {
    const t0 = performance.now();
    engine = tsxEngine({ onLog: (level, m) => logs.push(`${level} ${m}`), onExit: (info) => { exitInfo = info; } });
    await engine.ready;
    figure('start-to-ready (tsx, from source)', `${(performance.now() - t0).toFixed(0)} ms`);
  });
  after(async () => {
    await engine.stop();
  });

  test('ping round trip', async () => {
    const first = await engine.request('ping', {});
    assert.equal(first.pid, engine.pid);
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await engine.request('ping', {});
      times.push(performance.now() - t);
    }
    figure('ping round trip (median of 50, warm)', `${median(times).toFixed(3)} ms`);
    assert.ok(median(times) < 50);
  });

  test('progress events arrive in order, all before the result', async () => {
    const events: ProgressOf<'selfTest.progress'>[] = [];
    const result = await engine.request('selfTest.progress', { count: 25, delayMs: 1 }, { onProgress: (e) => events.push(e) });
    assert.equal(result.emitted, 25);
    assert.deepEqual(events.map((e) => e.index), Array.from({ length: 25 }, (_, i) => i));
    assert.ok(events.every((e) => e.total === 25));
  });

  test('cancellation rejects with a cancellation error; the handler stops (no events after), the engine lives on', async () => {
    const controller = new AbortController();
    const events: number[] = [];
    const pending = engine.request('selfTest.progress', { count: 1_000, delayMs: 10 }, {
      signal: controller.signal,
      onProgress: (e) => { events.push(e.index); if (e.index === 2) controller.abort(); },
    });
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(isCancelled(e), `expected a cancellation, got ${String(e)}`);
      // The engine's message: the handler saw the abort after its 3rd event.
      assert.match((e as Error).message, /selfTest\.progress cancelled after 3 of 1000 events/);
      return true;
    });
    const seen = events.length;
    await sleep(60);
    assert.equal(events.length, seen, 'no progress after the cancel');
    assert.equal(engine.pendingCount, 0);
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(engine.request('ping', {}, { signal: pre.signal }), (e: unknown) => isCancelled(e));
    assert.equal((await engine.request('ping', {})).pid, engine.pid);
  });

  test('an unknown method and bad params get clean errors', async () => {
    await assert.rejects(engine.request('no.such.method' as MethodName, {} as never), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.code, 'MethodNotFound');
      assert.match(e.message, /unknown method "no\.such\.method"/);
      return true;
    });
    await assert.rejects(engine.request('selfTest.progress', { count: 1.5 }), (e: unknown) => e instanceof EngineError && e.code === 'InvalidParams');
    await assert.rejects(engine.request('selfTest.progress', { count: 1, echo: [{ f: () => 1 }] as never }),
      (e: unknown) => e instanceof EngineError && e.code === 'InvalidParams' && /could not be sent/.test(e.message));
    assert.ok((await engine.request('ping', {})).pid);
  });

  test('typed arrays cross both ways as typed arrays (no JSON)', async () => {
    const f32 = wireTensor(new Float32Array([0.5, -1.25, 3e-8, 1e30, Number.NaN, 7]), [2, 3]);
    const i8 = wireTensor(Int8Array.from([-128, 0, 9, 127]), [4]);
    const i32 = wireTensor(Int32Array.from([2 ** 31 - 1, -5]), [1, 2]);
    const u8 = wireTensor(new Uint8Array(81).fill(3), [9, 9]);
    const big = wireTensor(new Float32Array(512 * 512).map((_, k) => k % 17), [512, 512]);
    const r = await engine.request('selfTest.progress', { count: 0, echo: [f32, i8, i32, u8, big] });
    assert.deepEqual(r.received?.map((x) => x.type), ['Float32Array', 'Int8Array', 'Int32Array', 'Uint8Array', 'Float32Array']);
    assert.equal(r.received?.[1].sum, 8);
    const [ef, ei8, ei32, eu8, ebig] = r.echo ?? [];
    assert.ok(ef.data instanceof Float32Array && ei8.data instanceof Int8Array && ei32.data instanceof Int32Array && eu8.data instanceof Uint8Array);
    assert.deepEqual(ef.shape, [2, 3]);
    assert.deepEqual([...ef.data], [...f32.data]); // NaN included (deepEqual uses Object.is)
    assert.deepEqual(ei8.data, i8.data);
    assert.deepEqual(ei32.data, i32.data);
    assert.deepEqual(eu8.data, u8.data);
    assert.deepEqual(ebig.data, big.data);
    assert.throws(() => wireTensor(new Float32Array(5), [2, 3]), /does not match/);
  });

  test('malformed messages do not kill the server (raw IPC)', async () => {
    const child = fork(path.join(root, 'engine', 'server.ts'), [], {
      serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: ['--import', 'tsx'], cwd: root,
    });
    try {
      const inbox: EngineToHost[] = [];
      child.on('message', (m: EngineToHost) => inbox.push(m));
      const waitFor = async (pred: (m: EngineToHost) => boolean) => {
        for (let i = 0; i < 600; i++) {
          const m = inbox.find(pred);
          if (m) return m;
          await sleep(25);
        }
        throw new Error('timed out waiting for a message');
      };
      await waitFor((m) => m.kind === 'ready');
      for (const junk of ['junk', 12, [1], { kind: 'request' }, { kind: 'cancel', id: 'x' }, { kind: 'request', id: 1, method: 'ping', params: null },
        { kind: 'request', id: 2, method: { evil: true }, params: {} }, { kind: 'result', id: 3, result: 1 }, new Map([[1, 2]]), new Float32Array(3)]) {
        child.send(junk as never);
      }
      child.send({ kind: 'request', id: 4, method: 'ping', params: {} });
      const pong = await waitFor((m) => m.kind === 'result' && m.id === 4);
      assert.equal(pong.kind, 'result');
      assert.equal(child.exitCode, null, 'the engine is still running');
      const codeOf = (id: number) => (inbox.find((m) => m.kind === 'error' && m.id === id) as Extract<EngineToHost, { kind: 'error' }> | undefined)?.error.code;
      assert.equal(codeOf(1), 'InvalidParams');
      assert.equal(codeOf(2), 'InvalidRequest');
      assert.equal(codeOf(3), 'InvalidRequest');
      assert.ok(inbox.filter((m) => m.kind === 'log' && m.level === 'warn').length >= 5, 'id-less junk is logged');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('the engine exits when its parent disconnects', async () => {
    const child: ChildProcess = fork(path.join(root, 'engine', 'server.ts'), [], {
      serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: ['--import', 'tsx'], cwd: root,
    });
    let stderr = '';
    child.stderr?.on('data', (d) => { stderr += String(d); });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.disconnect();
    const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
    assert.equal(code, 0);
    assert.match(stderr, /host disconnected; exiting/);
  });

  test('stop(): in-flight requests reject with EngineStopped; SIGTERM ends the process', async () => {
    const pending = engine.request('selfTest.progress', { count: 1_000, delayMs: 10 });
    await sleep(50);
    const t = performance.now();
    const stopped = engine.stop(2_000);
    await assert.rejects(pending, (e: unknown) => e instanceof EngineError && e.code === 'EngineStopped');
    const info = await stopped;
    figure('stop (SIGTERM -> exit)', `${(performance.now() - t).toFixed(0)} ms`);
    assert.equal(info.expected, true);
    assert.equal(info.signal, 'SIGTERM');
    assert.equal(exitInfo, info);
    assert.equal(engine.alive, false);
    await assert.rejects(engine.request('ping', {}), (e: unknown) => e instanceof EngineError && e.code === 'EngineStopped');
  });
});

describe('engine rpc: crashes and launch failures', () => {
  test('kill -9 mid-request: it rejects naming the signal and the method', async () => {
    const engine = tsxEngine();
    await engine.ready;
    let events = 0;
    const pending = engine.request('selfTest.progress', { count: 1_000, delayMs: 10 }, { onProgress: () => { events++; } });
    while (events < 2) await sleep(5);
    process.kill(engine.pid as number, 'SIGKILL');
    await assert.rejects(pending, (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.code, 'EngineExited');
      assert.match(e.message, new RegExp(`engine \\(pid ${engine.pid}\\) was killed by signal SIGKILL while running selfTest\\.progress`));
      return true;
    });
    const info = await engine.exited;
    assert.equal(info.expected, false);
    assert.deepEqual(info.inFlight, ['selfTest.progress']);
  });

  test('a crash names the exit code and quotes the last stderr lines', async () => {
    const engine = new EngineConnection({
      modulePath: fakeEngine('crash', `ready(); process.on('message', () => { console.error('loading weights…'); console.error('Error: out of memory'); process.exit(3); });`),
    });
    await engine.ready;
    await assert.rejects(engine.request('ping', {}), (e: unknown) => {
      assert.ok(e instanceof EngineError && e.code === 'EngineExited');
      assert.match(e.message, /exited with code 3 while running ping\. Last lines on stderr:\n {2}loading weights…\n {2}Error: out of memory/);
      assert.match(e.detail ?? '', /out of memory/);
      return true;
    });
  });

  test('an engine that dies before ready, or never says ready, or speaks another version: LaunchFailed', async () => {
    const dies = new EngineConnection({ modulePath: fakeEngine('dies', `console.error('SyntaxError: nope'); process.exit(1);`) });
    await assert.rejects(dies.ready, (e: unknown) => e instanceof EngineError && e.code === 'LaunchFailed'
      && /exited with code 1 before it was ready.*\n {2}SyntaxError: nope/s.test(e.message));
    await assert.rejects(dies.request('ping', {}), (e: unknown) => e instanceof EngineError && e.code === 'LaunchFailed');

    const silent = new EngineConnection({ modulePath: fakeEngine('silent', `console.error('thinking'); setInterval(() => {}, 1000);`), launchTimeoutMs: 400 });
    await assert.rejects(silent.ready, (e: unknown) => e instanceof EngineError && e.code === 'LaunchFailed'
      && /did not report ready within 400 ms.*thinking/s.test(e.message));
    const info = await silent.exited;
    assert.equal(info.signal, 'SIGKILL');

    const stale = new EngineConnection({ modulePath: fakeEngine('stale', `process.send({ kind: 'ready', pid: process.pid, version: 999 }); setInterval(() => {}, 1000);`) });
    await assert.rejects(stale.ready, (e: unknown) => e instanceof EngineError && e.code === 'LaunchFailed' && /protocol version 999/.test(e.message));
  });

  test('a cancel while the engine is still starting rejects at once; the engine still comes up', async () => {
    const slow = new EngineConnection({ modulePath: fakeEngine('slow', `setTimeout(ready, 1500); process.on('message', (m) => process.send({ kind: 'result', id: m.id, result: { pid: process.pid, uptimeMs: 0 } }));`) });
    try {
      const controller = new AbortController();
      let ready = false;
      void slow.ready.then(() => { ready = true; });
      const pending = slow.request('ping', {}, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, (e: unknown) => isCancelled(e) && /cancelled before it was sent/.test((e as Error).message));
      assert.equal(ready, false, 'the cancel waited for the launch');
      assert.equal((await slow.request('ping', {})).pid, slow.pid);
    } finally {
      await slow.stop();
    }
  });

  test('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    // The engine notes each SIGTERM in a file: SIGTERM came first, then SIGKILL after the grace period.
    const notes = path.join(tmp, 'stubborn-sigterm.txt');
    const stubborn = new EngineConnection({ modulePath: fakeEngine('stubborn', `process.on('SIGTERM', () => require('node:fs').appendFileSync(${JSON.stringify(notes)}, 'SIGTERM\\n')); ready(); setInterval(() => {}, 1000);`) });
    await stubborn.ready;
    const info = await stubborn.stop(300);
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(existsSync(notes) ? readFileSync(notes, 'utf8') : '', 'SIGTERM\n', 'SIGTERM was sent (and ignored) before the SIGKILL');
  });

  test('the esbuild bundle of engine/server.ts (as dist/engine.js) starts and answers', async () => {
    const outfile = path.join(tmp, 'engine.js');
    await esbuild.build({ entryPoints: [path.join(root, 'engine', 'server.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'silent' });
    const readyTimes: number[] = [];
    const pings: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const engine = new EngineConnection({ modulePath: outfile });
      await engine.ready;
      readyTimes.push(performance.now() - t0);
      const t1 = performance.now();
      const pong = await engine.request('ping', {});
      pings.push(performance.now() - t1);
      assert.equal(pong.pid, engine.pid, 'the bundle answers ping with its own pid');
      await engine.stop();
    }
    figure('start-to-ready (bundle, median of 3)', `${median(readyTimes).toFixed(0)} ms`);
    figure('first ping after ready (bundle, median of 3)', `${median(pings).toFixed(2)} ms`);
  });
});
