/**
 * The frames between the engine and the PyTorch worker: a round trip keeps message and tensors bit for bit (also
 * when split into arbitrary chunks); hostile frames (bad magic, oversized header, unparsable header, tensors that do
 * not cover the payload, a stream ending inside a frame) are FrameErrors naming the stream, before any allocation of
 * the announced size; and the worker itself answers a hostile frame with a clear error and stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DataError } from '../../engine/util/errors';
import { FrameDecoder, FrameError, MAX_HEADER_BYTES, encodeFrame } from '../../engine/torch/framing';
import { defaultPackageDir } from '../../engine/torch/worker-client';
import { torchPython } from './helpers/torch-python';

function prefix(magic: string, header: number, payload: number): Buffer {
  const b = Buffer.alloc(12);
  b.write(magic, 0, 'latin1');
  b.writeUInt32LE(header, 4);
  b.writeUInt32LE(payload, 8);
  return b;
}

function rawFrame(header: unknown, payload = Buffer.alloc(0)): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  return Buffer.concat([prefix('HRMF', h.length, payload.length), h, payload]);
}

test('round trip: message and f32 / i32 tensors, whole and in 1-byte and 7-byte chunks', () => {
  const f32 = Float32Array.from([1.5, -0, Number.NaN, 3.4e38, -1e-45]);
  const i32 = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 7, 8]);
  const bytes = encodeFrame({ id: 3, op: 'run', nested: { a: [1, 'x'] } }, [
    { name: 'a', dtype: 'f32', shape: [5], data: f32 }, { name: 'b', dtype: 'i32', shape: [2, 3], data: i32 },
    { name: 'empty', dtype: 'f32', shape: [0, 4], data: new Float32Array(0) },
  ]);
  for (const step of [bytes.length, 1, 7]) {
    const dec = new FrameDecoder();
    const frames = [];
    for (let at = 0; at < bytes.length; at += step) frames.push(...dec.push(bytes.subarray(at, at + step)));
    dec.end();
    assert.equal(frames.length, 1);
    const [f] = frames;
    assert.deepEqual(f.message, { id: 3, op: 'run', nested: { a: [1, 'x'] } });
    assert.deepEqual([...f.tensors.keys()], ['a', 'b', 'empty']);
    assert.deepEqual(new Uint8Array((f.tensors.get('a')?.data as Float32Array).buffer), new Uint8Array(f32.buffer));
    assert.deepEqual(f.tensors.get('b')?.data, i32);
    assert.deepEqual(f.tensors.get('b')?.shape, [2, 3]);
    assert.equal(f.tensors.get('empty')?.data.length, 0);
  }
  // Two frames in one chunk.
  const two = Buffer.concat([encodeFrame({ id: 1 }), encodeFrame({ id: 2 })]);
  assert.deepEqual(new FrameDecoder().push(two).map((f) => f.message.id), [1, 2]);
});

test('encode refuses data that does not fit its shape, and the reserved "tensors" key', () => {
  assert.throws(() => encodeFrame({}, [{ name: 'x', dtype: 'f32', shape: [3], data: new Float32Array(2) }]), FrameError);
  assert.throws(() => encodeFrame({}, [{ name: 'x', dtype: 'i32', shape: [2], data: new Float32Array(2) as unknown as Int32Array }]), FrameError);
  assert.throws(() => encodeFrame({ tensors: [] }), /reserved/);
});

test('hostile frames: clear FrameErrors (DataErrors naming the stream and the part), the decoder stays failed', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['bad magic', Buffer.concat([prefix('XXXX', 2, 0), Buffer.from('{}')]), /magic "XXXX"/],
    ['oversized header', prefix('HRMF', MAX_HEADER_BYTES + 1, 0), /header length \d+ is outside/],
    ['4 GiB header', prefix('HRMF', 0xffffffff, 0), /header length 4294967295 is outside/],
    ['empty header', prefix('HRMF', 0, 0), /header length 0 is outside/],
    ['header not JSON', Buffer.concat([prefix('HRMF', 3, 0), Buffer.from('{x}')]), /not UTF-8 JSON/],
    ['header not an object', rawFrame([1, 2]), /not a JSON object/],
    ['tensor bigger than the payload', rawFrame({ tensors: [{ name: 'w', dtype: 'f32', shape: [1e6, 1e6] }] }, Buffer.alloc(8)), /needs more than the 8-byte payload/],
    ['payload not covered', rawFrame({ tensors: [{ name: 'w', dtype: 'f32', shape: [1] }] }, Buffer.alloc(8)), /cover 4 bytes of a 8-byte payload/],
    ['bad dtype', rawFrame({ tensors: [{ name: 'w', dtype: 'f64', shape: [1] }] }, Buffer.alloc(8)), /dtype must be f32 or i32/],
    ['negative dimension', rawFrame({ tensors: [{ name: 'w', dtype: 'f32', shape: [-1] }] }, Buffer.alloc(0)), /non-negative integers/],
  ];
  for (const [what, bytes, re] of cases) {
    const dec = new FrameDecoder({ stream: 'test stream' });
    const err = (() => { try { dec.push(bytes); return undefined; } catch (e) { return e; } })();
    assert.ok(err instanceof FrameError && err instanceof DataError, `${what}: a FrameError`);
    assert.match(err.message, re, what);
    assert.match(err.message, /^test stream, field "/, what);
    assert.throws(() => dec.push(encodeFrame({ id: 1 })), FrameError, `${what}: stays failed`);
  }
  const limited = new FrameDecoder({ maxPayloadBytes: 1024 });
  assert.throws(() => limited.push(prefix('HRMF', 2, 1025)), /payload length 1025 exceeds the limit of 1024/);
});

test('a stream that ends inside a frame is a truncated-frame error; a clean end is not', () => {
  const whole = encodeFrame({ id: 1 }, [{ name: 'x', dtype: 'f32', shape: [4], data: new Float32Array(4) }]);
  for (const cut of [5, 12, whole.length - 1]) {
    const dec = new FrameDecoder({ stream: 'worker' });
    assert.deepEqual(dec.push(whole.subarray(0, cut)), []);
    assert.throws(() => dec.end(), /truncated frame: the stream ended after \d+ of/);
  }
  const dec = new FrameDecoder();
  dec.push(whole);
  dec.end();
});

function runWorkerWith(input: Buffer): Promise<{ code: number | null; frames: ReturnType<FrameDecoder['push']> }> {
  const child = spawn(torchPython(), ['-m', 'hrm_lens_torch.worker', '--device', 'cpu'], { cwd: defaultPackageDir(), stdio: ['pipe', 'pipe', 'pipe'] });
  const dec = new FrameDecoder();
  const frames: ReturnType<FrameDecoder['push']> = [];
  child.stdout.on('data', (c: Buffer) => frames.push(...dec.push(c)));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, frames })));
}

test('the worker answers hostile frames with a clear error and stops (exit 2)', async () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.concat([prefix('HRMF', MAX_HEADER_BYTES + 1, 0)]), /header length \d+ is outside/],
    [encodeFrame({ id: 1, op: 'run' }).subarray(0, 15), /truncated frame/],
    [rawFrame({ id: 1, tensors: [{ name: 'w', dtype: 'f32', shape: [1] }] }, Buffer.alloc(8)), /cover 4 bytes of a 8-byte payload/],
  ];
  for (const [bytes, re] of cases) {
    const { code, frames } = await runWorkerWith(bytes);
    assert.equal(frames[0]?.message.kind, 'hello');
    const last = frames[frames.length - 1].message;
    assert.equal(last.kind, 'error');
    assert.equal(last.error, 'FrameError');
    assert.match(String(last.message), re);
    assert.equal(code, 2);
  }
});
