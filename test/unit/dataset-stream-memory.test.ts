/**
 * Bounded memory: stream a 300,000-row Sudoku-Extreme-shaped CSV (~55 MB, written quickly by repeating a few valid
 * rows) with validation and check that the live heap (measured after forced GCs along the way) stays far below
 * the file size. bench/dataset-bench.ts does the full 3.8M rows.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { gridToString } from '../../engine/sudoku/geometry';
import { readCsv } from '../../engine/sudoku/dataset/index';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-ds-mem-'));
after(() => rmSync(dir, { recursive: true, force: true }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 300_000;

/** Writes the file; returns the givens it holds in all (to check that every row was read whole). */
function writeBigCsv(file: string): number {
  const gen = generatePuzzles({ n: 9, seed: 77 }, 10);
  const rows = gen.map((g, i) => `puzzles${i}_synthetic,${gridToString(g.puzzle)},${gridToString(g.solution)},${g.rating}\n`);
  const block = Array.from({ length: 1000 }, (_, i) => rows[i % rows.length]).join('');
  const fd = openSync(file, 'w');
  writeSync(fd, 'source,question,answer,rating\n');
  for (let i = 0; i < ROWS / 1000; i++) writeSync(fd, block);
  closeSync(fd);
  const givens = (g: ArrayLike<number>) => Array.from(g).filter((v) => v !== 0).length;
  return Array.from({ length: 1000 }, (_, i) => givens(gen[i % gen.length].puzzle)).reduce((a, b) => a + b, 0) * (ROWS / 1000);
}

test(`csv reader streams ${ROWS.toLocaleString('en')} validated rows with bounded heap`, async (t) => {
  const file = path.join(dir, 'big.csv');
  const givensWritten = writeBigCsv(file);
  const size = statSync(file).size;
  assert.ok(size > 50e6, `file is ${size} bytes`);
  gc();
  const base = process.memoryUsage().heapUsed;
  const growth: number[] = [];
  let n = 0;
  let clues = 0;
  const reader = readCsv(file);
  for await (const r of reader) {
    n++;
    for (let c = 0; c < r.puzzle.length; c++) if (r.puzzle[c] !== 0) clues++;
    if (n % 75_000 === 0) {
      gc();
      growth.push(process.memoryUsage().heapUsed - base);
    }
  }
  const mb = (x: number) => (x / 1e6).toFixed(2);
  const maxGrowth = Math.max(...growth);
  t.diagnostic(`file ${(size / 1e6).toFixed(0)} MB; live-heap growth at each quarter: ${growth.map(mb).join(', ')} MB`);
  assert.equal(n, ROWS);
  assert.equal(reader.report.valid, ROWS);
  assert.equal(clues, givensWritten, 'every row was read with all its givens');
  // The working set (stream buffer, one 1 MiB chunk and its lines, the current grid slab) is a few MB, constant:
  // far below the file size, and not growing from the first quarter to the last.
  assert.equal(growth.length, 4);
  assert.ok(maxGrowth < 20e6, `live heap grew by ${mb(maxGrowth)} MB while streaming a ${(size / 1e6).toFixed(0)} MB file`);
  assert.ok(growth[3] - growth[0] < 3e6, `live heap kept growing: ${growth.map(mb).join(', ')} MB`);
});
