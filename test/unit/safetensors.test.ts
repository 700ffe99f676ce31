/** safetensors: byte layout, round trips for every dtype, validation errors, and a mutation fuzz. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  bf16ToF32, encodeSafetensors, f16ToF32, f32ToBf16, f32ToF16, parseSafetensors, readSafetensors, writeSafetensors,
} from '../../engine/interop/safetensors';
import { DataError } from '../../engine/util/errors';
import { Rng } from '../../engine/util/rng';

/** Build a file by hand: header object → padded JSON → buffer. */
function rawFile(header: unknown, buffer: Uint8Array, pad = true): Uint8Array {
  let json = header instanceof Uint8Array ? header
    : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8 !== 0) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(buffer, 8 + json.length);
  return out;
}

function sample(): Uint8Array {
  return encodeSafetensors({
    'b.weight': { shape: [2, 3], data: Float32Array.from([1, -2.5, 3, 1e-8, -0, 6]) },
    'a.count': { shape: [3], data: Int32Array.from([-1, 0, 2147483647]) },
    scalar: { shape: [], data: Float32Array.from([42]) },
    empty: { shape: [0, 4], data: new Float32Array(0) },
    bytes: { shape: [2], data: Uint8Array.from([0, 255]) },
  }, { format: 'test', note: 'ünïcode ✓' });
}

test('writer: 8-byte LE length, JSON header padded with spaces to 8 bytes, tensors sorted by name, contiguous', () => {
  const bytes = sample();
  const view = new DataView(bytes.buffer);
  const n = view.getUint32(0, true);
  assert.equal(view.getUint32(4, true), 0);
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const byOffset = [...names].sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0] || a.localeCompare(b));
  assert.deepEqual(names.filter((x) => x !== 'empty'), ['a.count', 'b.weight', 'bytes', 'scalar']);
  assert.deepEqual(byOffset.filter((x) => x !== 'empty'), ['a.count', 'b.weight', 'bytes', 'scalar']);
  assert.equal(bytes.length, 8 + n + 12 + 24 + 2 + 4);
  assert.deepEqual(header['a.count'].data_offsets, [0, 12]);
});

test('round trip: F32 (bit-exact incl. -0), I32, U8, I8, I64, scalars, empty tensors, metadata', () => {
  const file = parseSafetensors(sample(), 'sample');
  assert.deepEqual(file.metadata, { format: 'test', note: 'ünïcode ✓' });
  const w = file.tensors.get('b.weight')!;
  assert.equal(w.dtype, 'F32');
  assert.deepEqual(w.shape, [2, 3]);
  assert.deepEqual(w.data, Float32Array.from([1, -2.5, 3, 1e-8, -0, 6]));
  assert.ok(Object.is(w.data[4], -0));
  assert.deepEqual(file.tensors.get('a.count')!.data, Int32Array.from([-1, 0, 2147483647]));
  assert.deepEqual(file.tensors.get('scalar')!.shape, []);
  assert.deepEqual(file.tensors.get('empty')!.shape, [0, 4]);
  assert.equal(file.tensors.get('empty')!.data.length, 0);
  assert.deepEqual(file.tensors.get('bytes')!.data, Uint8Array.from([0, 255]));

  const more = parseSafetensors(encodeSafetensors(new Map([
    ['i8', { shape: [3], data: Int8Array.from([-128, 0, 127]) }],
    ['i64', { shape: [2, 1], data: BigInt64Array.from([-(2n ** 53n) + 1n, 123n]) }],
    ['big', { shape: [1], data: BigInt64Array.from([2n ** 60n]) }],
  ])));
  assert.deepEqual(more.tensors.get('i8')!.data, Int8Array.from([-128, 0, 127]));
  assert.deepEqual(more.tensors.get('i64')!.data, Float64Array.from([-(2 ** 53) + 1, 123]));
  assert.deepEqual(more.tensors.get('big')!.data, BigInt64Array.from([2n ** 60n]), 'unsafe int64 stays bigint');
  assert.deepEqual(more.metadata, {});
});

test('F16 and BF16: exact for representable values, round-to-nearest-even, specials; read as float32', () => {
  const values = Float32Array.from([0, -0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity, 1 / 3, 70000, 1e-9]);
  const f16 = parseSafetensors(encodeSafetensors({ h: { shape: [values.length], data: values, dtype: 'F16' } })).tensors.get('h')!;
  assert.equal(f16.dtype, 'F16');
  const d = f16.data as Float32Array;
  assert.deepEqual([...d.subarray(0, 10)], [0, -0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity]);
  assert.equal(d[10], f16ToF32(0x3555)); // 1/3 → 0.333251953125
  assert.equal(d[11], Infinity, 'overflow');
  assert.equal(d[12], 0, 'underflow');
  assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00, 'tie rounds to even (down)');
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds to even (up)');
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(Number.NaN))));
  // Every binary16 value survives f16 → f32 → f16.
  for (let h = 0; h < 0x10000; h++) {
    const x = f16ToF32(h);
    if (!Number.isNaN(x)) assert.equal(f32ToF16(x), h, `f16 ${h.toString(16)}`);
  }

  const bvals = Float32Array.from([1, -3.140625, 1e30, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -Infinity]);
  const bf = parseSafetensors(encodeSafetensors({ b: { shape: [2, 3], data: bvals, dtype: 'BF16' } })).tensors.get('b')!;
  assert.equal(bf.dtype, 'BF16');
  const bd = bf.data as Float32Array;
  assert.equal(bd[0], 1);
  assert.equal(bd[1], -3.140625);
  assert.ok(Math.abs(bd[2] - 1e30) / 1e30 < 2 ** -8);
  assert.equal(bd[3], 1, 'tie to even');
  assert.equal(bd[4], 1 + 2 ** -6, 'tie to even (up)');
  assert.equal(bd[5], -Infinity);
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(Number.NaN))));
});

test('reader accepts unaligned offsets, extra fields, gaps, and a path; writer refuses bad input', async () => {
  const buf = new Uint8Array(11);
  new DataView(buf.buffer).setFloat32(3, 2.5, true);
  const f = parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [3, 7], extra: 1 } }, buf, false));
  assert.deepEqual(f.tensors.get('x')!.data, Float32Array.from([2.5]));

  const dir = mkdtempSync(path.join(tmpdir(), 'st-'));
  try {
    const file = path.join(dir, 'a.safetensors');
    await writeSafetensors(file, { y: { shape: [2], data: Float32Array.from([1, 2]) } }, { k: 'v' });
    const r = await readSafetensors(file);
    assert.deepEqual(r.tensors.get('y')!.data, Float32Array.from([1, 2]));
    await assert.rejects(readSafetensors(path.join(dir, 'missing.safetensors')), (e: Error) => e instanceof DataError && /missing\.safetensors.*cannot read/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } }), /3 elements, data has 2/);
  assert.throws(() => encodeSafetensors({ x: { shape: [2], data: new Int32Array(2), dtype: 'F32' } }), /needs Float32Array/);
  assert.throws(() => encodeSafetensors({ __metadata__: { shape: [0], data: new Float32Array(0) } }), /not a valid tensor name/);
});

test('validation: each kind of corruption gives a DataError naming the file and the tensor', () => {
  const f32 = (shape: number[], offsets: number[]): unknown => ({ dtype: 'F32', shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', new Uint8Array(5), /too short/],
    ['len', (() => { const b = sample(); new DataView(b.buffer).setUint32(0, 1e6, true); return b; })(), /larger than the rest of the file/],
    ['len64', (() => { const b = sample(); new DataView(b.buffer).setUint32(4, 1, true); return b; })(), /larger than the rest/],
    ['json', rawFile('{"x": ', new Uint8Array(0)), /invalid JSON header/],
    ['array', rawFile('[1,2]   ', new Uint8Array(0)), /does not start with "\{"/],
    ['utf8', rawFile(new Uint8Array([0x7b, 0xff, 0x7d]), new Uint8Array(0)), /not valid UTF-8/],
    ['dup', rawFile('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', new Uint8Array(2)), /dup.*field "x".*duplicate name "x"/],
    ['dtype', rawFile({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /field "w".*unsupported dtype "F64"/],
    ['shape', rawFile({ w: f32([-1], [0, 4]) }, new Uint8Array(4)), /field "w".*shape must be/],
    ['shape2', rawFile({ w: f32([1.5], [0, 4]) }, new Uint8Array(4)), /field "w".*shape must be/],
    ['offsets', rawFile({ w: f32([1], [0]) }, new Uint8Array(4)), /field "w".*data_offsets must be/],
    ['reversed', rawFile({ w: f32([0], [4, 0]) }, new Uint8Array(4)), /begin is after end/],
    ['past end', rawFile({ w: f32([2], [0, 8]) }, new Uint8Array(4)), /field "w".*run past the end/],
    ['count', rawFile({ w: f32([3], [0, 8]) }, new Uint8Array(12)), /field "w".*needs 12 bytes.*hold 8/],
    ['overflow', rawFile({ w: f32([2 ** 40, 2 ** 40], [0, 8]) }, new Uint8Array(8)), /field "w".*needs/],
    ['overlap', rawFile({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(12)), /field "b".*overlap those of "a"/],
    ['meta', rawFile({ __metadata__: { k: 1 } }, new Uint8Array(0)), /metadata values must be strings/],
    ['entry', rawFile({ w: 5 }, new Uint8Array(0)), /field "w".*must be an object/],
    ['deep', rawFile(`{"a":${'['.repeat(5000)}`, new Uint8Array(0)), /nested deeper/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => parseSafetensors(bytes, `${name}.safetensors`), (e: Error) => {
      assert.ok(e instanceof DataError, `${name}: ${e}`);
      assert.ok(e.message.startsWith(`${name}.safetensors`), `${name}: ${e.message}`);
      assert.match(e.message, re, name);
      return true;
    });
  }
});

// The timeout only catches a hang (the loop takes well under a second).
test('fuzz: 2,000 random mutations of a valid file each parse or throw a DataError (no crash, no hang)', { timeout: 120_000 }, () => {
  const base = sample();
  const rng = new Rng(2024);
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    let b: Uint8Array = base.slice();
    const edits = 1 + rng.int(4);
    for (let e = 0; e < edits; e++) {
      const kind = rng.int(7);
      if (kind === 0) b[rng.int(b.length)] ^= 1 << rng.int(8); // bit flip
      else if (kind === 1) b[rng.int(b.length)] = rng.int(256); // random byte
      else if (kind === 2) b = b.slice(0, rng.int(b.length + 1)); // truncate
      else if (kind === 3) { // insert bytes
        const at = rng.int(b.length + 1);
        const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
      } else if (kind === 4) new DataView(b.buffer, b.byteOffset).setUint32(0, rng.int(2 ** 31) * 2 + rng.int(2), true); // header length
      else if (kind === 5 && b.length > 8) b[8 + rng.int(Math.min(b.length - 8, 200))] = '{}[]",:0123456789-e. '.charCodeAt(rng.int(21)); // JSON syntax
      else if (b.length > 16) { // swap two digits in the header (offsets / shapes)
        const text = new TextDecoder('latin1').decode(b);
        const digits = [...text.matchAll(/\d/g)].map((m) => m.index ?? 0);
        if (digits.length > 0) b[digits[rng.int(digits.length)]] = 0x30 + rng.int(10);
      }
      if (b.length < 8) break;
    }
    try {
      parseSafetensors(b, `mut${i}`);
      parsed++;
    } catch (err) {
      assert.ok(err instanceof DataError, `mutation ${i}: ${(err as Error).stack}`);
      assert.match((err as Error).message, new RegExp(`^mut${i}\\b`));
      rejected++;
    }
  }
  assert.equal(parsed + rejected, 2000);
  assert.ok(parsed > 50 && rejected > 1000, `parsed ${parsed}, rejected ${rejected}`);
});

test('reader on a file path with garbage content and an empty file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'st-'));
  try {
    const g = path.join(dir, 'garbage.safetensors');
    writeFileSync(g, 'hello, this is not a safetensors file at all');
    await assert.rejects(readSafetensors(g), (e: Error) => e instanceof DataError && e.message.includes('garbage.safetensors'));
    const empty = path.join(dir, 'empty.safetensors');
    writeFileSync(empty, '');
    await assert.rejects(readSafetensors(empty), /empty\.safetensors.*too short/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
