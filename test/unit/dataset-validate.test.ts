/** Validation: every error kind names file, line and field; skip-invalid counts by reason; cheap vs unique checks. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { geometry, gridToString } from '../../engine/sudoku/geometry';
import {
  type DatasetRecord, InvalidRowError, type IssueKind, readAllRecords, readCsv, readLines, readNpyFolder,
  writeReferenceSplit,
} from '../../engine/sudoku/dataset/index';
import { writeNpy } from '../../engine/interop/npy';
import { DataError } from '../../engine/util/errors';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-ds-val-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const gen9 = generatePuzzles({ n: 9, seed: 42 }, 3);
const gen4 = generatePuzzles({ n: 4, seed: 42 }, 1);
const Q = gridToString(gen9[0].puzzle);
const A = gridToString(gen9[0].solution);
const Q2 = gridToString(gen9[1].puzzle);
const A2 = gridToString(gen9[1].solution);

/** A 9×9 answer with two cells of row 1 swapped (each still matching the puzzle only if both were blanks). */
function brokenAnswer(): string {
  const a = A.split('');
  [a[0], a[9]] = [a[9], a[0]]; // column 1 stays a permutation, rows 1 and 2 each get a repeat unless equal
  return a.join('');
}

/** The puzzle with one given changed to another digit that the answer contradicts (and no other given repeats). */
function contradictingQuestion(): { q: string; cell: number } {
  const geo = geometry(9);
  const cell = Q.split('').findIndex((c) => c !== '.');
  const q = Q.split('');
  const digit = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((d) => d !== Number(A[cell]) && ![...geo.peers[cell]].some((p) => q[p] === String(d)));
  assert.ok(digit !== undefined);
  q[cell] = String(digit);
  return { q: q.join(''), cell };
}

/** A puzzle with two equal givens in row 1. */
function conflicting(): string {
  return '11' + '.'.repeat(79);
}

/** Givens that do not clash, yet leave r1c9 no digit (1..8 in row 1, 9 in column 9): no solution. */
function unsolvable(): string {
  return '12345678.' + '.'.repeat(36) + '........9' + '.'.repeat(27);
}

/** Only the first row of the solution: many solutions. */
function underdetermined(): string {
  return A.slice(0, 9) + '.'.repeat(72);
}

function csvFile(name: string, rows: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, ['source,question,answer,rating', ...rows].join('\n') + '\n');
  return file;
}

async function expectRowError(p: () => Promise<unknown>, file: string, line: number, field: string, kind: IssueKind, reason: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidRowError, `expected InvalidRowError, got ${String(err)}`);
    assert.ok(err instanceof DataError);
    assert.equal(err.kind, kind);
    assert.deepEqual(err.location, { file, line, field });
    assert.ok(err.message.startsWith(`${file}, line ${line}, field "${field}": `), err.message);
    assert.match(err.reason, reason);
    return true;
  });
}

const readAll = (file: string, opts = {}) => readAllRecords(file, opts);

test('csv errors: length, character, size mismatch, rating, columns, answer, givens', async () => {
  const cases: [string, string, string, IssueKind, RegExp][] = [
    ['length', `s,${Q.slice(1)},${A},1`, 'question', 'length', /expected 16, 36 or 81 characters.*got 80 characters/],
    ['empty', `s,,${A},1`, 'question', 'length', /got empty/],
    ['char', `s,x${Q.slice(1)},${A},1`, 'question', 'character', /bad character "x" at position 1/],
    ['size', `s,${gridToString(gen4[0].puzzle)},${gridToString(gen4[0].solution)},1`, 'question', 'size-mismatch', /a 4×4 grid \(16 characters\) in a file of 9×9 grids \(first at line 2\)/],
    ['answer-size', `s,${Q2},${A.slice(0, 16)},1`, 'answer', 'size-mismatch', /answer has 16 characters, the question 81/],
    ['answer-char', `s,${Q2},${A2.slice(0, 80)}0,1`, 'answer', 'answer', /answer has a blank at cell 81 \(row 9, column 9\)/],
    ['rating', `s,${Q2},${A2},abc`, 'rating', 'rating', /non-negative number, got "abc"/],
    ['rating-neg', `s,${Q2},${A2},-3`, 'rating', 'rating', /got "-3"/],
    ['columns', `s,${Q2},${A2}`, 'row', 'format', /expected 4 columns, got 3/],
    ['answer', `s,${Q},${brokenAnswer()},1`, 'answer', 'answer', /not a valid solution: digit \d appears twice in (row|box) \d/],
    ['givens', `s,${contradictingQuestion().q},${A},1`, 'answer', 'givens', new RegExp(`givens contradict the answer at cell ${contradictingQuestion().cell + 1} \\(row 1, column ${contradictingQuestion().cell + 1}\\): question has \\d, answer has ${A[contradictingQuestion().cell]}`)],
  ];
  for (const [name, row, field, kind, reason] of cases) {
    const file = csvFile(`${name}.csv`, [`ok,${Q},${A},0`, row]);
    await expectRowError(() => readAll(file), file, 3, field, kind, reason);
  }
});

test('solution counts: rows without an answer are solved (0 or 2+ solutions fail); answers skip the search unless checkUnique', async () => {
  const lines = path.join(dir, 'nosol.txt');
  writeFileSync(lines, `${Q}\n# c\n${conflicting()} // two 1s in row 1\n`);
  await expectRowError(() => readAll(lines), lines, 3, 'puzzle', 'clash', /^givens clash: r1c1 = 1 and r1c2 = 1 \(row 1, box 1\)$/);
  writeFileSync(lines, `${Q}\n${unsolvable()}\n`);
  await expectRowError(() => readAll(lines), lines, 2, 'puzzle', 'no-solution', /puzzle has no solution/);
  writeFileSync(lines, `${Q}\n${underdetermined()}\n`);
  await expectRowError(() => readAll(lines), lines, 2, 'puzzle', 'multiple-solutions', /more than one solution/);

  // With the answer given, an under-determined puzzle passes the cheap check but not --unique.
  const file = csvFile('multi.csv', [`s,${underdetermined()},${A},0`]);
  const { records, reader } = await readAll(file);
  assert.equal(records.length, 1);
  assert.equal(reader.report.uniqueChecked, 0);
  await expectRowError(() => readAll(file, { checkUnique: true }), file, 2, 'question', 'multiple-solutions', /more than one solution/);
  // validate: false parses only: contradicting givens pass.
  const bad = csvFile('novalidate.csv', [`s,${contradictingQuestion().q},${A},0`]);
  assert.equal((await readAll(bad, { validate: false })).records.length, 1);
});

test('format errors: header without question, quoted field across lines, extra tokens in a line file', async () => {
  const noQ = path.join(dir, 'noq.csv');
  writeFileSync(noQ, `source,grid,answer\ns,${Q},${A}\n`);
  await assert.rejects(readAll(noQ), (e: unknown) => e instanceof DataError && e.message.startsWith(`${noQ}, line 1, field "header": no 'question' column`));
  const quote = csvFile('quote.csv', [`"open,${Q},${A},1`, 'x",1,2,3']);
  await assert.rejects(readAll(quote), (e: unknown) => e instanceof DataError && e.message.startsWith(`${quote}, line 2, field "row": cannot parse the quoted CSV line`));
  const extra = path.join(dir, 'extra.txt');
  writeFileSync(extra, `${Q} ${A} 17\n`);
  await expectRowError(() => readAll(extra), extra, 1, 'line', 'format', /got 3 fields/);
  const lsize = path.join(dir, 'lsize.txt');
  writeFileSync(lsize, `${gridToString(gen4[0].puzzle)}\n\n${Q}\n`);
  await expectRowError(() => readAll(lsize), lsize, 3, 'puzzle', 'size-mismatch', /a 9×9 grid .* in a file of 4×4 grids \(first at line 1\)/);
});

test('skipInvalid: counts by reason with the first locations, yields the valid rows', async () => {
  const rows = [`a,${Q},${A},1`];
  for (let i = 0; i < 5; i++) rows.push(`b,${Q.slice(1)},${A},1`); // length ×5, lines 3..7
  rows.push(`c,${contradictingQuestion().q},${A},2`); // givens, line 8
  rows.push(`d,${Q2},${A2},x`); // rating, line 9
  rows.push(`e,${Q2},${A2},4`); // valid, line 10
  rows.push(`"f,${Q2},${A2},4`); // unterminated quote, line 11
  const file = csvFile('skip.csv', rows);
  const reader = readCsv(file, { skipInvalid: true });
  const recs: DatasetRecord[] = [];
  for await (const r of reader) recs.push(r);
  assert.deepEqual(recs.map((r) => r.line), [2, 10]);
  const rep = reader.report.toJSON();
  assert.equal(rep.rows, 10);
  assert.equal(rep.valid, 2);
  assert.equal(rep.invalid, 8);
  assert.deepEqual(rep.issues.map((i) => [i.kind, i.count]), [['length', 5], ['format', 1], ['rating', 1], ['givens', 1]]);
  assert.deepEqual(rep.issues[1].examples.map((e) => [e.line, e.field]), [[11, 'row']]);
  assert.deepEqual(rep.issues[0].examples.map((e) => [e.file, e.line, e.field]), [[file, 3, 'question'], [file, 4, 'question'], [file, 5, 'question']]);
  assert.match(rep.issues[0].examples[0].message, /line 3, field "question": expected 16, 36 or 81/);
  // The lines reader counts the same way.
  const lf = path.join(dir, 'skip.txt');
  writeFileSync(lf, `${Q}\n${conflicting()}\n${underdetermined()}\nnot a puzzle\n${Q2}\n`);
  const lr = readLines(lf, { skipInvalid: true });
  const lrecs: DatasetRecord[] = [];
  for await (const r of lr) lrecs.push(r);
  assert.deepEqual(lrecs.map((r) => r.line), [1, 5]);
  assert.deepEqual(lr.report.issueSummaries().map((i) => i.kind).sort(), ['clash', 'format', 'multiple-solutions']);
  assert.equal(lr.report.uniqueChecked, 3);
  assert.equal(lr.report.unique, 2);
});

test('npy folder errors: dataset.json keys, array shapes, tokens (with skipInvalid)', async () => {
  const recs = generatePuzzles({ n: 4, seed: 9 }, 4).map((g, i) => ({ puzzle: g.puzzle, solution: g.solution, line: i + 1 }));
  const d = path.join(dir, 'npy-bad');
  await writeReferenceSplit(d, recs);
  const metaFile = path.join(d, 'dataset.json');
  writeFileSync(metaFile, JSON.stringify({ seq_len: 80, vocab_size: 6 }));
  await assert.rejects(readAll(d), (e: unknown) => e instanceof DataError && e.message.startsWith(`${metaFile}, field "seq_len": seq_len must be 16, 36 or 81`));
  writeFileSync(metaFile, JSON.stringify({ seq_len: 16, vocab_size: 11 }));
  await assert.rejects(readAll(d), (e: unknown) => e instanceof DataError && /field "vocab_size": vocab_size must be 6/.test(e.message));
  writeFileSync(metaFile, JSON.stringify({ seq_len: 16, vocab_size: 6 }));

  const labelsFile = path.join(d, 'all__labels.npy');
  await writeNpy(labelsFile, { shape: [3, 16], data: new Uint8Array(48).fill(2) });
  await assert.rejects(readAll(d), (e: unknown) => e instanceof DataError && e.message.startsWith(`${labelsFile}, field "shape": expected shape [4, 16]`));

  // Bad tokens: PAD in inputs row 2, blank (1) in labels row 3.
  const inputs = new Uint8Array(64);
  const labels = new Uint8Array(64);
  recs.forEach((r, i) => { for (let c = 0; c < 16; c++) { inputs[i * 16 + c] = r.puzzle[c] + 1; labels[i * 16 + c] = r.solution[c] + 1; } });
  inputs[16 + 4] = 0;
  labels[32 + 15] = 1;
  await writeNpy(path.join(d, 'all__inputs.npy'), { shape: [4, 16], data: inputs });
  await writeNpy(labelsFile, { shape: [4, 16], data: labels });
  await expectRowError(() => readAll(d), d, 2, 'inputs', 'token', /token 0 at cell 5; inputs hold 1 = blank and 2\.\.5 = digits 1\.\.4 \(0 is PAD\)/);
  const reader = readNpyFolder(d, { skipInvalid: true });
  const ok: DatasetRecord[] = [];
  for await (const r of reader) ok.push(r);
  assert.deepEqual(ok.map((r) => r.line), [1, 4]);
  assert.deepEqual(reader.report.issueSummaries().map((i) => [i.kind, i.count, i.examples.map((e) => `${e.line}:${e.field}`)]), [['token', 2, ['2:inputs', '3:labels']]]);

  const parent = path.join(dir, 'npy-parent');
  mkdirSync(path.join(parent, 'train'), { recursive: true });
  writeFileSync(path.join(parent, 'train', 'dataset.json'), JSON.stringify({ seq_len: 81, vocab_size: 11 }));
  await assert.rejects(readAll(parent), (e: unknown) => e instanceof DataError && e.message.startsWith(`${path.join(parent, 'train', 'all__inputs.npy')}: missing`));
});
