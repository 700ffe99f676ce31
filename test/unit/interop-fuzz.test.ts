/**
 * Mutation fuzzing of the readers (torch zip, its pickle, the pickle VM, safetensors, npy, CSV): a few hundred seeded
 * mutations each; every case must parse or throw a DataError naming the input, within a per-case time limit.
 * The full 10,000-per-reader run is scripts/fuzz-readers.ts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzReader, fuzzReaders } from './helpers/fuzz-readers';

const CASES = 300;
const { readers, cleanup } = fuzzReaders();
after(cleanup);

readers.forEach((reader, k) => {
  test(`fuzz ${reader.name}: ${CASES} mutations parse or fail clearly`, { timeout: 120_000 }, async (t) => {
    const r = await fuzzReader(reader, CASES, 1000 + k, 2000);
    t.diagnostic(`${reader.name}: ${r.parsed} parsed, ${Object.values(r.errors).reduce((a, b) => a + b, 0)} clear errors, `
      + `${r.failures} failures, max ${r.maxCaseMs.toFixed(1)} ms/case, ${r.totalMs.toFixed(0)} ms`);
    assert.equal(r.failures, 0, r.failureExamples.join('\n'));
    assert.equal(r.parsed + Object.values(r.errors).reduce((a, b) => a + b, 0), CASES);
  });
});
