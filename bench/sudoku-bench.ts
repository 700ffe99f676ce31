/**
 * Sudoku engine benchmark: solver throughput on the fixture sets and generator throughput per grid size.
 * Run: `npx tsx bench/sudoku-bench.ts [--quick]`. Prints a Markdown table; writes bench/results/sudoku.json.
 *
 * Solver rows: `solve` with the default limit 2 (finds the solution and proves it unique), timed over whole passes of
 * the set; each run repeats passes until it has taken at least MIN_RUN_MS, so small sets are timed accurately.
 * Generator rows: `PuzzleGenerator.next()` with default options (minimal unique puzzles), each run generating for
 * about GEN_RUN_MS. Every row reports the median, min and max over its runs, after one warm-up run.
 * Timings are wall-clock and sensitive to other load on the machine (the JSON records the load average).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Grid, type GridSize, geometry, parseGrid } from '../engine/sudoku/geometry';
import { rating, solve } from '../engine/sudoku/solver';
import { PuzzleGenerator } from '../engine/sudoku/generator';
import { writeFileAtomic } from '../engine/util/atomic-write';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const MIN_RUN_MS = quick ? 100 : 250;
const GEN_RUNS = quick ? 3 : 5;
const GEN_RUN_MS = quick ? 300 : 1000;

const root = path.resolve(import.meta.dirname, '..');
const fixtures = path.join(root, 'test', 'fixtures', 'puzzles');

interface Row {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  note: string;
}

function readSet(file: string): Grid[] {
  return readFileSync(path.join(fixtures, file), 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').map((l, i) => {
    const r = parseGrid(l.slice(0, 81), 9);
    if ('error' in r) throw new Error(`${file}: puzzle ${i + 1}: ${r.error}`);
    return r.grid;
  });
}

function stats(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1] };
}

function benchSolver(label: string, files: string[]): Row {
  const geo = geometry(9);
  const puzzles = files.flatMap(readSet);
  const pass = () => {
    for (const p of puzzles) if (solve(p, geo).solutions !== 1) throw new Error(`${label}: a puzzle is not unique`);
  };
  const run = () => {
    const t0 = performance.now();
    let passes = 0;
    do { pass(); passes++; } while (performance.now() - t0 < MIN_RUN_MS);
    return (passes * puzzles.length) / ((performance.now() - t0) / 1000);
  };
  run();
  const rates = Array.from({ length: RUNS }, run);
  const t0 = performance.now();
  pass();
  const onePass = performance.now() - t0;
  let backtracks = 0;
  for (const p of puzzles) backtracks += rating(p, geo);
  return {
    name: `solve ${label} (${puzzles.length} puzzles)`, unit: 'puzzles/s', ...stats(rates), runs: RUNS,
    note: `one pass ${onePass.toFixed(1)} ms; mean rating ${(backtracks / puzzles.length).toFixed(1)}`,
  };
}

function benchGenerator(n: GridSize): Row {
  let seed = 1000 * n;
  const run = () => {
    const gen = new PuzzleGenerator({ n, seed: seed++ });
    const t0 = performance.now();
    let count = 0;
    let clues = 0;
    do { clues += gen.next().clues; count++; } while (performance.now() - t0 < GEN_RUN_MS);
    return { rate: count / ((performance.now() - t0) / 60000), clues: clues / count };
  };
  run();
  const results = Array.from({ length: GEN_RUNS }, run);
  const meanClues = results.reduce((a, r) => a + r.clues, 0) / results.length;
  return {
    name: `generate ${n}×${n} (minimal, unique)`, unit: 'puzzles/min', ...stats(results.map((r) => r.rate)), runs: GEN_RUNS,
    note: `mean clues ${meanClues.toFixed(1)}`,
  };
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1);
}

async function main(): Promise<void> {
  const rows: Row[] = [
    benchSolver('easy_50', ['easy_50.txt']),
    benchSolver('hardest', ['hardest.txt']),
    benchSolver('top95', ['top95.txt']),
    benchSolver('hardest+top95', ['hardest.txt', 'top95.txt']),
    benchGenerator(9),
    benchGenerator(6),
    benchGenerator(4),
  ];
  const lines = [
    '| benchmark | unit | median | min | max | runs | note |',
    '|---|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.unit} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.runs} | ${r.note} |`),
  ];
  console.log(lines.join('\n'));
  const out = path.join(root, 'bench', 'results', 'sudoku.json');
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    quick,
    rows,
  };
  await writeFileAtomic(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
