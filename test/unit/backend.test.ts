import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { BackendUnavailableError, currentBackend, defaultWasmDir, selectBackend } from '../../engine/backend';

delete process.env.HRM_LENS_BACKEND;
delete process.env.HRM_LENS_WEBGPU;
delete process.env.HRM_LENS_THREADS;

test('backend: auto picks wasm when no native TensorFlow package is installed', async () => {
  const logs: string[] = [];
  const info = await selectBackend({ log: (m) => logs.push(m) });
  assert.equal(info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.gpu, false);
  assert.equal(info.threads, 1);
  assert.equal(info.version, '4.22.0');
  assert.match(info.detail, /tfjs-node-gpu not installed/);
  assert.match(info.detail, /webgpu not enabled/);
  assert.ok(logs.some((l) => /backend: wasm/.test(l)));
  assert.deepEqual(currentBackend(), info);
  assert.ok(defaultWasmDir()?.endsWith('/'));
  assert.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2]), 1).dataSync()), [2, 3]);
});

test('backend: explicitly requested tensorflow / webgpu throw a clear error', async () => {
  await assert.rejects(selectBackend({ backend: 'tensorflow' }), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.match(e.message, /backend "tensorflow" was requested but is unavailable/);
    assert.match(e.message, /@tensorflow\/tfjs-node not installed/);
    return true;
  });
  await assert.rejects(selectBackend({ backend: 'webgpu' }), /backend "webgpu" was requested but is unavailable: webgpu \(Dawn for Node\) not installed/);
  await assert.rejects(selectBackend({ backend: 'wasm', wasmDir: '/nonexistent' }), /no tfjs-backend-wasm-simd\.wasm/);
  assert.equal(tf.getBackend(), 'wasm'); // a failed explicit request leaves the current backend alone
});

test('backend: cpu works; env override applies to auto; bad names are rejected', async () => {
  const cpu = await selectBackend({ backend: 'cpu' });
  assert.equal(cpu.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()), [11]);
  process.env.HRM_LENS_BACKEND = 'wasm';
  try {
    assert.equal((await selectBackend({ backend: 'auto' })).name, 'wasm');
    assert.equal((await selectBackend({ backend: 'cpu' })).name, 'cpu'); // an explicit option wins over the env
    process.env.HRM_LENS_BACKEND = 'gpu';
    await assert.rejects(selectBackend(), /HRM_LENS_BACKEND: unknown backend "gpu"/);
  } finally {
    delete process.env.HRM_LENS_BACKEND;
  }
  // Asking for threads once wasm is up: the thread count stays and the detail says so.
  const again = await selectBackend({ backend: 'wasm', threads: 2 });
  assert.equal(again.threads, 1);
  assert.match(again.detail, /already initialised/);
});

test('backend: threaded wasm (threads: 2) starts in a fresh process, computes correctly and lets the process exit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-lens-backend-test-'));
  const script = path.join(dir, 'threads.ts');
  const engine = path.resolve(__dirname, '../../engine');
  writeFileSync(script, `
import { tf } from ${JSON.stringify(path.join(engine, 'tf'))};
import { selectBackend } from ${JSON.stringify(path.join(engine, 'backend'))};
selectBackend({ backend: 'wasm', threads: 2 }).then((info) => {
  const a = tf.tensor2d(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3), [64, 64]);
  const s = tf.sum(tf.matMul(a, a)).dataSync()[0];
  const ref = tf.sum(tf.matMul(tf.transpose(tf.transpose(a)), a)).dataSync()[0];
  console.log(JSON.stringify({ info, ok: s === ref }));
});
`);
  try {
    const res = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000, cwd: path.resolve(engine, '..') });
    assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stderr}`);
    const line = res.stdout.trim().split('\n').pop() as string;
    const { info, ok } = JSON.parse(line) as { info: { name: string; threads: number; detail: string }; ok: boolean };
    assert.equal(info.name, 'wasm');
    assert.ok(ok);
    // 2 threads where the shim works; otherwise a single thread with the reason in the detail.
    assert.ok(info.threads === 2 || /fell back to 1 thread/.test(info.detail), info.detail);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
