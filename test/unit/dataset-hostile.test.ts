/**
 * Hostile dataset files, generated here in a temp folder: a line without a break longer than the line bound, CR-only
 * line endings (and '\r' / '\n' pairs split across chunks), duplicate puzzles, a 20 MB CSV header, clashing givens.
 * The real readers and the real `hrm-lens data check` (spawned from the sources) read them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToString } from '../../engine/sudoku/geometry';
import {
  DuplicateCounter, InvalidRowError, readAllRecords, readLines,
} from '../../engine/sudoku/dataset/index';
import { LineSource, MAX_LINE_CHARS } from '../../engine/sudoku/dataset/text-lines';
import { DataError, MAX_ERROR_MESSAGE_CHARS } from '../../engine/util/errors';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-ds-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => path.join(dir, name);

const gen = generatePuzzles({ n: 4, seed: 11 }, 6);
const Q = gen.map((g) => gridToString(g.puzzle));
const A = gen.map((g) => gridToString(g.solution));

interface Run { status: number | null; stdout: string; stderr: string }

function dataCheck(...args: string[]): Promise<Run> {
  return new Promise<Run>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'data', 'check', ...args],
      { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        resolve({ status: code, stdout, stderr });
      });
  });
}

async function lineSourceLines(file: string, chunkBytes?: number, maxLineChars?: number): Promise<{ first: number[]; lines: string[] }> {
  const src = new LineSource(file, { chunkBytes, maxLineChars });
  const first: number[] = [];
  const lines: string[] = [];
  for await (const b of src.batches()) {
    assert.equal(b.firstLine, lines.length + 1, 'line numbers run on from batch to batch');
    first.push(b.firstLine);
    lines.push(...b.lines);
  }
  return { first, lines };
}

function expectTooLong(err: unknown, file: string, line: number): true {
  assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
  assert.equal(err.location.file, file);
  assert.equal(err.location.line, line);
  assert.match(err.reason, new RegExp(`line is too long: .*at most ${MAX_LINE_CHARS}`));
  assert.ok(err.message.length < MAX_ERROR_MESSAGE_CHARS);
  return true;
}

test('line bound: a line without a break past the bound stops the read at once, naming file and line', async () => {
  assert.equal(MAX_LINE_CHARS, 64 * 1024);
  // 70 KB on line 3, no line break after it: every reader refuses it, naming line 3.
  const noBreak = f('no-break.txt');
  writeFileSync(noBreak, `${Q[0]}\n${Q[1]}\n${'7'.repeat(70_000)}`);
  await assert.rejects(readAllRecords(noBreak), (e) => expectTooLong(e, noBreak, 3));
  const noBreakCsv = f('no-break.csv');
  writeFileSync(noBreakCsv, `question,answer\n${Q[0]},${A[0]}\n${'7'.repeat(70_000)}`);
  await assert.rejects(readAllRecords(noBreakCsv), (e) => expectTooLong(e, noBreakCsv, 3));
  // A complete line past the bound (followed by a break and more rows) is refused too.
  const longLine = f('long-line.txt');
  writeFileSync(longLine, `${Q[0]}\n${'7'.repeat(MAX_LINE_CHARS + 1)}\n${Q[1]}\n`);
  await assert.rejects(readAllRecords(longLine), (e) => expectTooLong(e, longLine, 2));

  // 8 MiB without a break: the read stops after the first chunk instead of buffering the whole file.
  const big = f('big-no-break.txt');
  const out = createWriteStream(big);
  const block = 'x'.repeat(1 << 20);
  for (let i = 0; i < 8; i++) out.write(block);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const src = new LineSource(big);
  await assert.rejects(async () => {
    for await (const b of src.batches()) assert.fail(`no batch expected, got ${b.lines.length} lines`);
  }, (e) => {
    expectTooLong(e, big, 1);
    assert.match((e as DataError).reason, /without a line break/);
    return true;
  });
  assert.ok(src.progress() < 0.5, `read ${(src.progress() * 100).toFixed(0)}% of the file before refusing`);

  // The bound is exact: a line of MAX_LINE_CHARS passes, across small chunks too; the bound can be set lower.
  const edge = f('edge.txt');
  writeFileSync(edge, `${'e'.repeat(MAX_LINE_CHARS)}\r\nnext`);
  for (const chunk of [4096, 1 << 20]) {
    const { lines } = await lineSourceLines(edge, chunk);
    assert.deepEqual(lines.map((l) => l.length), [MAX_LINE_CHARS, 4]);
  }
  await assert.rejects(lineSourceLines(edge, 64, 100), (e) => e instanceof DataError && e.location.line === 1 && /at most 100/.test(e.reason));
});

test('line endings: lone CR (old Mac), CRLF and LF split the same, wherever the chunks end', async () => {
  // A CR-only file of puzzles reads as one puzzle per line, with the right line numbers.
  const crOnly = f('cr-only.txt');
  writeFileSync(crOnly, `${Q[0]}\r${Q[1]} ${A[1]}\r\r# comment\r${Q[2]}\r`);
  const { records } = await readAllRecords(crOnly);
  assert.deepEqual(records.map((r) => [r.line, gridToString(r.puzzle)]), [[1, Q[0]], [2, Q[1]], [5, Q[2]]]);
  assert.equal(gridToString(records[1].solution ?? []), A[1]);
  const crCsv = f('cr-only.csv');
  writeFileSync(crCsv, `source,question,answer,rating\rs,${Q[0]},${A[0]},1\rs,${Q[1]},${A[1]},2`);
  const csv = await readAllRecords(crCsv);
  assert.equal(csv.reader.format, 'csv');
  assert.deepEqual(csv.records.map((r) => [r.line, r.rating]), [[2, 1], [3, 2]]);
  // A bad row in a CR-only file is named by its own line, not line 1.
  const crBad = f('cr-bad.txt');
  writeFileSync(crBad, `${Q[0]}\r${Q[1]}\r${Q[2].slice(1)}\r`);
  await assert.rejects(readAllRecords(crBad), (e) => e instanceof InvalidRowError && e.location.line === 3 && e.kind === 'length');

  // Every chunk size, on text mixing all three endings (a '\r' at a chunk's end with its '\n' in the next one).
  const text = 'ab\r\ncd\ref\n\r\n\rgh\r\r\nij\n\nkl\r';
  const mixed = f('mixed.txt');
  writeFileSync(mixed, text);
  const expected = text.split(/\r\n|\r|\n/);
  expected.pop(); // the text ends with a break
  for (let chunk = 1; chunk <= text.length + 1; chunk++) {
    assert.deepEqual((await lineSourceLines(mixed, chunk)).lines, expected, `chunk ${chunk}`);
  }
  // Seeded random texts over a, \r, \n: the same lines as a whole-text split, for chunk sizes 1..9.
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) / 65536;
  for (let k = 0; k < 30; k++) {
    let t = '';
    for (let i = 0; i < 40; i++) t += 'a\r\n'[Math.floor(rand() * 3)];
    writeFileSync(mixed, t);
    const want = t.split(/\r\n|\r|\n/);
    if (want[want.length - 1] === '') want.pop();
    for (let chunk = 1; chunk <= 9; chunk++) assert.deepEqual((await lineSourceLines(mixed, chunk)).lines, want, `${JSON.stringify(t)} chunk ${chunk}`);
  }
});

test('duplicates: counted by puzzle (. and 0 blanks alike) in memory per distinct puzzle; data check lists the first', async () => {
  const c = new DuplicateCounter(3);
  // 20,000 distinct 9×9 grids (the table grows several times: 4,096 slots at first), then 1,000 of them again.
  const grid = (i: number) => Int8Array.from({ length: 81 }, (_, k) => (k < 5 ? Math.floor(i / 10 ** k) % 10 : (k * 7) % 10));
  for (let i = 0; i < 20_000; i++) assert.equal(c.add(grid(i), i + 1), false, `grid ${i}`);
  assert.deepEqual([c.distinct, c.duplicates], [20_000, 0]);
  for (let i = 0; i < 1000; i++) assert.equal(c.add(grid(i * 7), 30_000 + i), true);
  assert.deepEqual([c.distinct, c.duplicates], [20_000, 1000]);
  assert.deepEqual(c.toJSON().examples, [{ line: 30_000, firstLine: 1 }, { line: 30_001, firstLine: 8 }, { line: 30_002, firstLine: 15 }]);
  // Tags tell apart rows numbered per split (.npy folders).
  const t = new DuplicateCounter();
  t.add(grid(1), 5, 'train');
  t.add(grid(1), 2, 'test');
  assert.deepEqual(t.toJSON().examples, [{ line: 2, firstLine: 5, source: 'test', firstSource: 'train' }]);

  const file = f('dups.csv');
  const row = (i: number, q = Q[i]) => `s,${q},${A[i]},1`;
  // Line 5 writes the puzzle of line 3 with '0' blanks: the same puzzle.
  const rows = [row(0), row(1), row(2), row(1, Q[1].replace(/\./g, '0')), row(3), row(0), row(1), row(4), row(5), row(2)];
  assert.notEqual(Q[1], Q[1].replace(/\./g, '0'));
  writeFileSync(file, ['source,question,answer,rating', ...rows].join('\n') + '\n');
  const r = await dataCheck(file, '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { rows: number; valid: number; duplicates: { duplicates: number; distinct: number; examples: { line: number; firstLine: number }[] } };
  assert.equal(summary.valid, 10);
  assert.equal(summary.duplicates.duplicates, 4);
  assert.equal(summary.duplicates.distinct, 6);
  // Lines: header 1, then rows 2..11; the first repeats are at lines 5 (= 3), 7 (= 2), 8 (= 3), 11 (= 4).
  assert.deepEqual(summary.duplicates.examples.map((e) => [e.line, e.firstLine]), [[5, 3], [7, 2], [8, 3], [11, 4]]);
  const text = await dataCheck(file);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /duplicate puzzles: 4 rows repeat an earlier puzzle \(6 distinct\)\n\s+line 5 repeats line 3\n\s+line 7 repeats line 2/);
  const clean = f('no-dups.txt');
  writeFileSync(clean, Q.join('\n'));
  assert.match((await dataCheck(clean)).stdout, /duplicate puzzles: none \(6 distinct\)/);
});

test('bounded errors: a 20 MB CSV header and a long header without a question column give short messages', async () => {
  const huge = f('huge-header.csv');
  const out = createWriteStream(huge);
  const cols = Array.from({ length: 1000 }, (_, i) => `column_${i}`).join(',');
  for (let written = 0; written < 20_000_000; written += cols.length + 1) out.write(`${cols},`);
  out.write(`question\n${Q[0]}\n`);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  await assert.rejects(readAllRecords(huge), (e) => expectTooLong(e, huge, 1));
  const cli = await dataCheck(huge);
  assert.equal(cli.status, 1);
  assert.ok(cli.stderr.length < MAX_ERROR_MESSAGE_CHARS + 100, `stderr is ${cli.stderr.length} characters`);
  assert.match(cli.stderr, /line 1: line is too long/);

  // Under the line bound, a header without a question column is quoted as an excerpt.
  const wide = f('wide-header.csv');
  writeFileSync(wide, `${'h'.repeat(60_000)},answer\n${Q[0]},${A[0]}\n`);
  await assert.rejects(readAllRecords(wide), (e) => {
    assert.ok(e instanceof DataError);
    assert.equal(e.location.field, 'header');
    assert.match(e.reason, /^no 'question' column in the header "h{80}"… \(59927 more characters\)/);
    assert.ok(e.message.length < MAX_ERROR_MESSAGE_CHARS, `message is ${e.message.length} characters`);
    return true;
  });
  const wideCli = await dataCheck(wide);
  assert.equal(wideCli.status, 1);
  assert.ok(wideCli.stderr.length < MAX_ERROR_MESSAGE_CHARS + 100, `stderr is ${wideCli.stderr.length} characters`);

  // A long rating field is quoted as an excerpt too.
  const rating = f('long-rating.csv');
  writeFileSync(rating, `question,answer,rating\n${Q[0]},${A[0]},${'9x'.repeat(20_000)}\n`);
  await assert.rejects(readAllRecords(rating), (e) => e instanceof InvalidRowError && e.kind === 'rating' && e.message.length < 400);
});

test('clashing givens: each row is an error naming the cells; --skip-invalid counts them by reason', async () => {
  const file = f('clash.txt');
  // 4×4: line 2 has two 3s in column 2; line 3 two 4s in box 4.
  writeFileSync(file, `${Q[0]}\n.3...3..........\n..........4....4\n${Q[1]}\n`);
  await assert.rejects(readAllRecords(file), (e) => {
    assert.ok(e instanceof InvalidRowError);
    assert.equal(e.kind, 'clash');
    assert.deepEqual(e.location, { file, line: 2, field: 'puzzle' });
    assert.equal(e.reason, 'givens clash: r1c2 = 3 and r2c2 = 3 (column 2, box 1)');
    return true;
  });
  const reader = readLines(file, { skipInvalid: true });
  for await (const _ of reader) { /* count */ }
  const clash = reader.report.issueSummaries().find((i) => i.kind === 'clash');
  assert.equal(clash?.count, 2);
  assert.deepEqual(clash?.examples.map((e) => [e.line, e.reason]), [
    [2, 'givens clash: r1c2 = 3 and r2c2 = 3 (column 2, box 1)'], [3, 'givens clash: r3c3 = 4 and r4c4 = 4 (box 4)']]);
  // Given with an answer, the clash is named rather than the answer mismatch it causes.
  const csv = f('clash.csv');
  writeFileSync(csv, `question,answer\n${Q[0]},${A[0]}\n${'1'.repeat(2)}${'.'.repeat(14)},${A[0]}\n`);
  await assert.rejects(readAllRecords(csv), (e) => e instanceof InvalidRowError && e.kind === 'clash' && e.location.line === 3 && e.location.field === 'question');
  const r = await dataCheck(file, '--skip-invalid');
  assert.equal(r.status, 2);
  assert.match(r.stdout, /clash: 2\n\s+.*line 2, field "puzzle": givens clash: r1c2 = 3 and r2c2 = 3 \(column 2, box 1\)/);
});
