/** Subsampling, splits, augmentation stream and hint-twin mixing: determinism and consistency. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { countBlanks, geometry, givensMatch, gridToString, isValidSolution, type GridSize } from '../../engine/sudoku/geometry';
import { hasUniqueSolution } from '../../engine/sudoku/solver';
import { applyTransform, invertTransform, isValidTransform } from '../../engine/sudoku/symmetry';
import {
  augmentAt, augmentStream, type DatasetRecord, hashSplit, hintTwinAt, reservoirSample, splitDataset, splitStream,
  withHintTwins,
} from '../../engine/sudoku/dataset/index';
import { DataError } from '../../engine/util/errors';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of it) out.push(r);
  return out;
}

async function* counter(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function records(n: GridSize, count: number, seed: number): DatasetRecord[] {
  return generatePuzzles({ n, seed }, count).map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, rating: g.rating, source: 's', line: i + 2 }));
}

test('reservoirSample: deterministic per seed, in stream order, uniform enough', async () => {
  const a = await reservoirSample(counter(10_000), 100, 1);
  const b = await reservoirSample(counter(10_000), 100, 1);
  const c = await reservoirSample(counter(10_000), 100, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 100);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.deepEqual(await reservoirSample([1, 2, 3], 10, 1), [1, 2, 3]);
  assert.deepEqual(await reservoirSample([1, 2, 3], 0, 1), []);
  // Each item of a 20-item stream is picked with probability 5/20: count over many seeds.
  const hits = new Array(20).fill(0);
  for (let s = 0; s < 2000; s++) for (const x of await reservoirSample(Array.from({ length: 20 }, (_, i) => i), 5, s)) hits[x]++;
  for (const h of hits) assert.ok(h > 400 && h < 600, `hits ${hits.join(',')}`);
});

test('splitDataset: exact, seeded, order-preserving; hashSplit: per puzzle, ≈ fraction', async () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const s1 = splitDataset(items, { test: 0.1, seed: 7 });
  assert.equal(s1.test.length, 100);
  assert.equal(s1.train.length, 900);
  assert.deepEqual(splitDataset(items, { test: 0.1, seed: 7 }), s1);
  assert.notDeepEqual(splitDataset(items, { test: 0.1, seed: 8 }).test, s1.test);
  assert.deepEqual([...s1.train, ...s1.test].sort((a, b) => a - b), items);
  assert.deepEqual(s1.test, [...s1.test].sort((a, b) => a - b));
  assert.throws(() => splitDataset(items, { test: 1.5, seed: 1 }), RangeError);

  const recs = records(4, 400, 3);
  const tagged = await collect(splitStream(recs, { test: 0.25, seed: 5 }));
  const nTest = tagged.filter((t) => t.split === 'test').length;
  assert.ok(nTest > 60 && nTest < 140, `test share ${nTest}/400`);
  for (const t of tagged) assert.equal(hashSplit(Int8Array.from(t.record.puzzle), { test: 0.25, seed: 5 }), t.split);
  const again = await collect(splitStream([...recs].reverse(), { test: 0.25, seed: 5 }));
  assert.deepEqual(again.map((t) => t.split).reverse(), tagged.map((t) => t.split));
  assert.equal(hashSplit(recs[0].puzzle, { test: 0, seed: 1 }), 'train');
  assert.equal(hashSplit(recs[0].puzzle, { test: 1, seed: 1 }), 'test');
});

test('augmentStream: puzzle and solution transformed together; epoch k reproducible; epochs differ', async () => {
  for (const n of [4, 6, 9] as const) {
    const recs = records(n, n === 9 ? 10 : 30, 4);
    const geo = geometry(n);
    const e0 = await collect(augmentStream(recs, { seed: 1, epoch: 0 }));
    const e0b = await collect(augmentStream(recs, { seed: 1, epoch: 0 }));
    const e1 = await collect(augmentStream(recs, { seed: 1, epoch: 1 }));
    assert.deepEqual(e0.map((r) => gridToString(r.puzzle)), e0b.map((r) => gridToString(r.puzzle)));
    assert.notDeepEqual(e0.map((r) => gridToString(r.puzzle)), e1.map((r) => gridToString(r.puzzle)));
    e0.forEach((a, i) => {
      assert.ok(isValidTransform(a.transform, geo));
      assert.ok(isValidSolution(a.solution, geo), `n=${n} #${i}`);
      assert.ok(givensMatch(a.puzzle, a.solution), `n=${n} #${i}`);
      assert.equal(countBlanks(a.puzzle), countBlanks(recs[i].puzzle));
      assert.deepEqual(applyTransform(a.puzzle, invertTransform(a.transform)), recs[i].puzzle);
      assert.equal(a.line, recs[i].line);
      assert.equal(a.rating, recs[i].rating);
      // Random access gives the same record as the stream.
      assert.deepEqual(augmentAt(recs[i], i, { seed: 1, epoch: 1 }).puzzle, e1[i].puzzle);
    });
    assert.ok(e0.every((a, i) => hasUniqueSolution(a.puzzle, geo) === hasUniqueSolution(recs[i].puzzle, geo)));
  }
  await assert.rejects(collect(augmentStream([{ puzzle: new Int8Array(16), line: 7 }], { seed: 1, epoch: 0, label: 'mem' })),
    (e: unknown) => e instanceof DataError && e.message === 'mem, line 7, field "answer": augmentation needs the puzzle\'s solution');
});

test('withHintTwins: record then its easier twin (same solution, 1..n-1 blanks revealed), seeded', async () => {
  const recs = records(9, 10, 6);
  const mixed = await collect(withHintTwins(recs, { seed: 3 }));
  assert.equal(mixed.length, 20);
  const geo = geometry(9);
  for (let i = 0; i < 10; i++) {
    const [orig, twin] = [mixed[2 * i], mixed[2 * i + 1]];
    assert.equal(orig.twin, false);
    assert.equal(twin.twin, true);
    assert.deepEqual(orig.puzzle, recs[i].puzzle);
    assert.deepEqual(twin.solution, recs[i].solution);
    assert.ok(givensMatch(recs[i].puzzle, twin.puzzle) && givensMatch(twin.puzzle, recs[i].solution!));
    const blanks = countBlanks(twin.puzzle);
    assert.ok(blanks >= 1 && blanks < countBlanks(recs[i].puzzle));
    assert.ok(hasUniqueSolution(twin.puzzle, geo));
    assert.equal(twin.line, recs[i].line);
  }
  const again = await collect(withHintTwins(recs, { seed: 3 }));
  assert.deepEqual(again.map((r) => gridToString(r.puzzle)), mixed.map((r) => gridToString(r.puzzle)));
  const other = await collect(withHintTwins(recs, { seed: 4 }));
  assert.notDeepEqual(other.map((r) => gridToString(r.puzzle)), mixed.map((r) => gridToString(r.puzzle)));
  // One blank: no twin possible, the record comes alone.
  const full = recs[0].solution!;
  const oneBlank = Int8Array.from(full);
  oneBlank[0] = 0;
  assert.equal(hintTwinAt({ puzzle: oneBlank, solution: full, line: 1 }, 0, { seed: 1 }), undefined);
  assert.equal((await collect(withHintTwins([{ puzzle: oneBlank, solution: full, line: 1 }], { seed: 1 }))).length, 1);
});
