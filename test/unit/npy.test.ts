/** .npy reader/writer: round trips for every dtype, numpy byte compatibility, v2/v3 headers, streaming rows, errors. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeNpy, encodeNpyHeader, NpyFileReader, parseNpy, readNpy, toNumbers, writeNpy } from '../../engine/interop/npy';
import { DataError } from '../../engine/util/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-npy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Written by numpy 2.4 (np.save / np.lib.format.write_array).
const NUMPY_U8_2x3 = 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQIDBAU=';
const NUMPY_I4_3x2_V2 = 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAADAAAABAAAAAUAAAA=';
const NUMPY_I4_3x2_V3 = 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAQAAAAIAAAADAAAABAAAAAUAAAA=';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function headerWith(dict: string): Uint8Array {
  const text = dict.padEnd(117, ' ') + '\n';
  const out = new Uint8Array(128);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, 118, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

function expectDataError(fn: () => unknown, field: string, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
    assert.equal(err.location.field, field);
    assert.equal(err.location.file, 'x.npy');
    assert.match(err.message, /^x\.npy, field "/);
    assert.match(err.reason, re);
    return true;
  });
}

test('npy: encode matches numpy byte for byte; header is 64-byte aligned', () => {
  const bytes = encodeNpy({ shape: [2, 3], data: Uint8Array.of(0, 1, 2, 3, 4, 5) });
  assert.deepEqual(bytes, b64(NUMPY_U8_2x3));
  for (const shape of [[], [3], [2, 3], [0, 81], [1000, 81]]) assert.equal(encodeNpyHeader('int32', shape).length % 64, 0);
});

test('npy: round trip for uint8, int32, int64, float32 and every shape kind', () => {
  const cases = [
    { shape: [4, 81], data: Uint8Array.from({ length: 324 }, (_, i) => i % 11) },
    { shape: [5], data: Int32Array.of(-2147483648, -1, 0, 1, 2147483647) },
    { shape: [2, 2], data: BigInt64Array.of(-(2n ** 62n), -1n, 0n, 2n ** 40n) },
    { shape: [3], data: Float32Array.of(0.5, -1.25, 3e38) },
    { shape: [], data: Int32Array.of(7) },
    { shape: [0, 81], data: new Uint8Array(0) },
  ];
  for (const c of cases) {
    const back = parseNpy(encodeNpy(c));
    assert.deepEqual(back.shape, c.shape);
    assert.deepEqual(back.data, c.data);
  }
  assert.deepEqual([...toNumbers(BigInt64Array.of(3n, -4n))], [3, -4]);
});

test('npy: reads numpy v1, v2 and v3 files', () => {
  assert.deepEqual([...parseNpy(b64(NUMPY_U8_2x3)).data], [0, 1, 2, 3, 4, 5]);
  for (const s of [NUMPY_I4_3x2_V2, NUMPY_I4_3x2_V3]) {
    const a = parseNpy(b64(s));
    assert.equal(a.dtype, 'int32');
    assert.deepEqual(a.shape, [3, 2]);
    assert.deepEqual([...a.data], [0, 1, 2, 3, 4, 5]);
  }
});

test('npy: file read/write is atomic and streams rows in chunks', async () => {
  const file = path.join(dir, 'rows.npy');
  const data = Int32Array.from({ length: 10 * 3 }, (_, i) => i * 7 - 50);
  await writeNpy(file, { shape: [10, 3], data });
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  assert.deepEqual((await readNpy(file)).data, data);
  const r = await NpyFileReader.open(file);
  assert.equal(r.rowCount, 10);
  assert.equal(r.rowSize, 3);
  const got: number[] = [];
  const starts: number[] = [];
  for await (const chunk of r.rows(4)) {
    starts.push(chunk.start);
    got.push(...toNumbers(chunk.data));
  }
  await r.close();
  assert.deepEqual(starts, [0, 4, 8]);
  assert.deepEqual(got, [...data]);
});

test('npy: clear DataErrors naming file and field', async () => {
  expectDataError(() => parseNpy(new Uint8Array(20), 'x.npy'), 'magic', /not a \.npy file/);
  const v9 = b64(NUMPY_U8_2x3);
  v9[6] = 9;
  expectDataError(() => parseNpy(v9, 'x.npy'), 'version', /unsupported \.npy format version 9/);
  const data6 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0);
  const withData = (dict: string, extra: Uint8Array = data6) => {
    const h = headerWith(dict);
    const out = new Uint8Array(h.length + extra.length);
    out.set(h);
    out.set(extra, h.length);
    return out;
  };
  expectDataError(() => parseNpy(withData("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }"), 'x.npy'), 'descr', /big-endian/);
  expectDataError(() => parseNpy(withData("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"), 'x.npy'), 'descr', /unsupported dtype '<f8'/);
  expectDataError(() => parseNpy(withData("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }"), 'x.npy'), 'fortran_order', /Fortran-order/);
  expectDataError(() => parseNpy(withData("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"), 'x.npy'), 'data', /truncated/);
  expectDataError(() => parseNpy(withData("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }"), 'x.npy'), 'data', /unexpected bytes/);
  expectDataError(() => parseNpy(withData("{'descr': '<i4', 'fortran_order': False, 'shape': (a,), }"), 'x.npy'), 'shape', /bad dimension/);
  expectDataError(() => parseNpy(withData("{'fortran_order': False, 'shape': (2,), }"), 'x.npy'), 'header', /no 'descr'/);
  // The streaming reader checks the size too.
  const file = path.join(dir, 'short.npy');
  writeFileSync(file, withData("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 81), }", new Uint8Array(100)));
  await assert.rejects(NpyFileReader.open(file), (err: unknown) => err instanceof DataError && err.location.field === 'data' && /truncated/.test(err.reason));
});
