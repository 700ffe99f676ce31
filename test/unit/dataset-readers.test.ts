/** Dataset readers on real files: the puzzle fixtures, generated CSVs (several layouts), reference .npy folders. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { geometry, givensMatch, gridToString, isValidSolution, type GridSize } from '../../engine/sudoku/geometry';
import {
  type DatasetRecord, detectFormat, openDataset, readAllRecords, readCsv, readLines, readNpyFolder, writeCsv,
  writeReferenceDataset, writeReferenceSplit, CsvWriter,
} from '../../engine/sudoku/dataset/index';
import { readNpy } from '../../engine/interop/npy';
import { DataError } from '../../engine/util/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-ds-read-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIX = path.join(__dirname, '..', 'fixtures', 'puzzles');

function generated(n: GridSize, count: number, seed: number): DatasetRecord[] {
  return generatePuzzles({ n, seed }, count).map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, rating: g.rating, source: `gen${n}`, line: i + 2 }));
}

async function collect(it: AsyncIterable<DatasetRecord>): Promise<DatasetRecord[]> {
  const out: DatasetRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

function assertSolved(r: DatasetRecord): void {
  assert.ok(r.solution, `line ${r.line}: no solution`);
  const geo = geometry(Math.sqrt(r.puzzle.length) as GridSize);
  assert.ok(isValidSolution(r.solution, geo) && givensMatch(r.puzzle, r.solution), `line ${r.line}`);
}

test('lines reader: the three fixture sets (comments, 0 and . blanks, no final newline); solutions filled in', async () => {
  for (const [name, count] of [['easy_50.txt', 50], ['top95.txt', 95], ['hardest.txt', 11]] as const) {
    const reader = readLines(path.join(FIX, name));
    const recs = await collect(reader);
    assert.equal(recs.length, count, name);
    assert.equal(recs[0].line, 1);
    assert.equal(recs[count - 1].line, count);
    recs.forEach(assertSolved);
    assert.equal(reader.report.valid, count);
    assert.equal(reader.report.unique, count);
    assert.equal(reader.report.solvedMissing, count);
    assert.equal(reader.progress(), 1);
  }
  const first = (await collect(readLines(path.join(FIX, 'hardest.txt'))))[0];
  assert.equal(gridToString(first.puzzle), '85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4.');
});

test('lines reader: solution after whitespace or comma, # comments, blank lines, CRLF', async () => {
  const [a, b] = generated(4, 2, 3);
  const file = path.join(dir, 'mixed.txt');
  writeFileSync(file, `# a comment line\r\n\r\n${gridToString(a.puzzle)} ${gridToString(a.solution!)}   // with solution\r\n`
    + `   \n${gridToString(b.puzzle, '0')},${gridToString(b.solution!)}#x\n${gridToString(b.puzzle)}\n`);
  const recs = await collect(readLines(file));
  assert.deepEqual(recs.map((r) => r.line), [3, 5, 6]);
  assert.deepEqual(recs[0].puzzle, a.puzzle);
  assert.deepEqual(recs[0].solution, a.solution);
  assert.deepEqual(recs[1].solution, b.solution);
  assert.deepEqual(recs[2].solution, b.solution); // solved
});

test('csv: writer output reads back identically for 4×4, 6×6 and 9×9', async () => {
  for (const n of [4, 6, 9] as const) {
    const recs = generated(n, n === 9 ? 20 : 40, n);
    const file = path.join(dir, `gen${n}.csv`);
    assert.equal(await writeCsv(file, recs), recs.length);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.startsWith('source,question,answer,rating\n'));
    assert.match(text.split('\n')[1], new RegExp(`^gen${n},[.1-${n}]{${n * n}},[1-${n}]{${n * n}},\\d+$`));
    const reader = readCsv(file, { checkUnique: true });
    const back = await collect(reader);
    assert.equal(back.length, recs.length);
    back.forEach((r, i) => {
      assert.deepEqual(r.puzzle, recs[i].puzzle);
      assert.deepEqual(r.solution, recs[i].solution);
      assert.equal(r.rating, recs[i].rating);
      assert.equal(r.source, `gen${n}`);
      assert.equal(r.line, i + 2);
    });
    assert.equal(reader.report.unique, recs.length);
    assert.deepEqual(reader.report.toJSON().bySize, { [`${n}`]: recs.length });
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('csv: header aliases and column order (Kaggle quizzes,solutions), headerless, quotes, BOM, CRLF, extra columns', async () => {
  const recs = generated(9, 3, 11);
  const q = (r: DatasetRecord, blank = '.') => gridToString(r.puzzle, blank);
  const s = (r: DatasetRecord) => gridToString(r.solution!);
  const kaggle = path.join(dir, 'kaggle.csv');
  writeFileSync(kaggle, `\uFEFFquizzes,solutions\r\n${recs.map((r) => `${q(r, '0')},${s(r)}`).join('\r\n')}\r\n`);
  const k = await collect(readCsv(kaggle));
  assert.deepEqual(k.map((r) => r.line), [2, 3, 4]);
  assert.deepEqual(k[2].solution, recs[2].solution);

  const reordered = path.join(dir, 'reordered.csv');
  writeFileSync(reordered, `rating,answer,question,source,note\n${recs.map((r) => `${r.rating},${s(r)},${q(r)},"src, with comma","said ""hi"""`).join('\n')}`);
  const ro = await collect(readCsv(reordered));
  assert.equal(ro.length, 3);
  assert.equal(ro[0].source, 'src, with comma');
  assert.equal(ro[1].rating, recs[1].rating);

  const headerless = path.join(dir, 'headerless.csv');
  writeFileSync(headerless, `${q(recs[0])}\n${q(recs[1])},${s(recs[1])}\n`);
  await assert.rejects(collect(readCsv(headerless)), (e: unknown) => e instanceof DataError && e.location.line === 2 && /expected 1 columns, got 2/.test(e.reason));
  writeFileSync(headerless, `${q(recs[0])},${s(recs[0])},5\n${q(recs[1])},${s(recs[1])},\n`);
  const hl = await collect(readCsv(headerless));
  assert.deepEqual(hl.map((r) => [r.line, r.rating]), [[1, 5], [2, undefined]]);
});

test('npy folder: written by the reference-format writer, read as split folder and as parent', async () => {
  const train = generated(9, 12, 21);
  const test6 = generated(9, 5, 22);
  const root = path.join(dir, 'ref');
  const written = await writeReferenceDataset(root, { train, test: test6 });
  assert.deepEqual(written.map((w) => w.rows), [12, 5]);
  const meta = JSON.parse(readFileSync(path.join(root, 'train', 'dataset.json'), 'utf8'));
  assert.equal(meta.seq_len, 81);
  assert.equal(meta.vocab_size, 11);
  const inputs = await readNpy(path.join(root, 'train', 'all__inputs.npy'));
  assert.equal(inputs.dtype, 'uint8');
  assert.deepEqual(inputs.shape, [12, 81]);
  assert.ok([...inputs.data].every((t) => t >= 1 && t <= 10));
  assert.deepEqual([...(await readNpy(path.join(root, 'test', 'all__puzzle_indices.npy'))).data], [0, 1, 2, 3, 4, 5]);

  const all = await collect(readNpyFolder(root, { chunkRows: 5 }));
  assert.equal(all.length, 17);
  assert.deepEqual(all.map((r) => r.source), [...Array(12).fill('train'), ...Array(5).fill('test')]);
  all.forEach((r, i) => {
    const ref = i < 12 ? train[i] : test6[i - 12];
    assert.deepEqual(r.puzzle, ref.puzzle);
    assert.deepEqual(r.solution, ref.solution);
    assert.equal(r.line, (i < 12 ? i : i - 12) + 1);
  });
  assert.equal((await collect(readNpyFolder(root, { split: 'test' }))).length, 5);
  const split = readNpyFolder(path.join(root, 'train'));
  assert.equal((await collect(split)).length, 12);
  assert.equal(split.progress(), 1);
  assert.deepEqual((await split.splits()).map((s) => [s.name, s.n, s.rows]), [['train', 9, 12]]);
  await assert.rejects(collect(readNpyFolder(root, { split: 'valid' })), /no split folder "valid"/);

  const four = path.join(dir, 'ref4');
  await writeReferenceSplit(four, generated(4, 7, 5));
  const r4 = await collect(readNpyFolder(four));
  assert.equal(r4.length, 7);
  r4.forEach(assertSolved);
});

test('openDataset: detects csv, lines and npy folders; refuses a bare .npy file and missing paths', async () => {
  const recs = generated(6, 4, 8);
  const csv = path.join(dir, 'detect.csv');
  await writeCsv(csv, recs);
  const noExt = path.join(dir, 'detect-data');
  writeFileSync(noExt, readFileSync(csv));
  const linesNoExt = path.join(dir, 'detect-lines');
  writeFileSync(linesNoExt, recs.map((r) => gridToString(r.puzzle)).join('\n'));
  const folder = path.join(dir, 'detect-ref');
  await writeReferenceSplit(folder, recs);
  assert.equal(await detectFormat(csv), 'csv');
  assert.equal(await detectFormat(noExt), 'csv');
  assert.equal(await detectFormat(linesNoExt), 'lines');
  assert.equal(await detectFormat(path.join(FIX, 'top95.txt')), 'lines');
  assert.equal(await detectFormat(folder), 'npy-folder');
  for (const p of [csv, noExt, linesNoExt, folder]) {
    const { records } = await readAllRecords(p);
    assert.deepEqual(records.map((r) => gridToString(r.puzzle)), recs.map((r) => gridToString(r.puzzle)), p);
  }
  await assert.rejects(detectFormat(path.join(folder, 'all__inputs.npy')), /single \.npy file is not a dataset/);
  await assert.rejects(openDataset(path.join(dir, 'nope.csv')), (e: unknown) => e instanceof DataError && /no such file/.test(e.message));
  const emptyDir = path.join(dir, 'empty');
  mkdirSync(emptyDir);
  await assert.rejects(readAllRecords(emptyDir), /not a reference HRM dataset folder/);
});

test('csv writer: abort leaves the target untouched; close replaces it atomically', async () => {
  const file = path.join(dir, 'atomic.csv');
  writeFileSync(file, 'old\n');
  const w = await CsvWriter.create(file);
  await w.write(generated(4, 1, 1)[0]);
  await w.abort();
  assert.equal(readFileSync(file, 'utf8'), 'old\n');
  const w2 = await CsvWriter.create(file, { extraColumns: ['note'] });
  await w2.write({ puzzle: new Int8Array(16), line: 1, source: 'a"b' }, ['x,y']);
  await w2.close();
  assert.equal(readFileSync(file, 'utf8'), `source,question,answer,rating,note\n"a""b",${'.'.repeat(16)},,,"x,y"\n`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});
