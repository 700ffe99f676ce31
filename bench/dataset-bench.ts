/**
 * Dataset reading benchmark (`npx tsx bench/dataset-bench.ts [--rows 3800000] [--runs 3]`).
 *
 * Writes a synthetic Sudoku-Extreme-shaped CSV (header source,question,answer,rating; 3.8M rows by default, ~690 MB,
 * built by repeating valid generated 9×9 rows) to os.tmpdir(), then times, each in a fresh child process so that
 * peak RSS is per mode:
 *   - parse:     readCsv(file, { validate: false })  (lengths, characters, sizes, ratings)
 *   - validate:  readCsv(file)                       (+ answer is a valid solution, givens agree)
 *   - unique:    readCsv(file, { checkUnique: true }) on the first 100k rows (+ solver, limit 2)
 *   - csv-parse / readline: the alternatives considered for the reader, on the first 500k rows (see text-lines.ts)
 * Prints a Markdown table and writes bench/results/dataset.json. The temp file is deleted at the end.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { generatePuzzles } from '../engine/sudoku/generator';
import { gridToString } from '../engine/sudoku/geometry';
import { readCsv } from '../engine/sudoku/dataset/index';
import { writeFileAtomic } from '../engine/util/atomic-write';

type Mode = 'parse' | 'validate' | 'unique' | 'csv-parse' | 'readline';

interface ChildResult {
  mode: Mode;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  peakRssMB: number;
  peakHeapMB: number;
}

const SOURCES = ['puzzles0_kaggle', 'puzzles1_unbiased', 'puzzles2_17_clue', 'puzzles3_magictour_top1465', 'puzzles4_forum_hardest_1905', 'puzzles5_forum_hardest_1905_11+', 'puzzles6_forum_hardest_1106', 'puzzles7_serg_benchmark'];

function writeSynthetic(file: string, rows: number): void {
  const gen = generatePuzzles({ n: 9, seed: 2025 }, 64);
  const lines = gen.map((g, i) => `${SOURCES[i % SOURCES.length]},${gridToString(g.puzzle)},${gridToString(g.solution)},${g.rating}\n`);
  const block = Array.from({ length: 1000 }, (_, i) => lines[(i * 7) % lines.length]).join('');
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, 'source,question,answer,rating\n');
    for (let i = 0; i < Math.floor(rows / 1000); i++) writeSync(fd, block);
    const rest = rows % 1000;
    if (rest > 0) writeSync(fd, Array.from({ length: rest }, (_, i) => lines[i % lines.length]).join(''));
  } finally {
    closeSync(fd);
  }
}

async function child(mode: Mode, file: string, limit: number): Promise<void> {
  let peakHeap = 0;
  let n = 0;
  const t0 = performance.now();
  const sample = () => {
    const h = process.memoryUsage().heapUsed;
    if (h > peakHeap) peakHeap = h;
  };
  if (mode === 'csv-parse') {
    const p = createReadStream(file).pipe(parse({ info: true, from_line: 2 }));
    for await (const rec of p as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (rec.record.length === 4) n++;
      if ((n & 0xffff) === 0) sample();
      if (n >= limit) break;
    }
    p.destroy();
  } else if (mode === 'readline') {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let line = 0;
    for await (const l of rl) {
      if (++line === 1) continue;
      if (l.split(',').length === 4) n++;
      if ((n & 0xffff) === 0) sample();
      if (n >= limit) break;
    }
    rl.close();
  } else {
    const reader = readCsv(file, { validate: mode !== 'parse', checkUnique: mode === 'unique' });
    for await (const r of reader) {
      n += r.puzzle.length === 81 ? 1 : 0;
      if ((n & 0xffff) === 0) sample();
      if (n >= limit) break;
    }
  }
  sample();
  const seconds = (performance.now() - t0) / 1000;
  const out: ChildResult = {
    mode, rows: n, seconds, rowsPerSec: n / seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024, peakHeapMB: peakHeap / 1e6,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runChild(mode: Mode, file: string, limit: number): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', mode, file, String(limit)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench child ${mode} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as Mode, process.argv[4], Number(process.argv[5]));
    return;
  }
  const rows = arg('--rows', 3_800_000);
  const runs = arg('--runs', 3);
  const file = path.join(os.tmpdir(), `hrm-lens-bench-${process.pid}.csv`);
  const plan: { mode: Mode; limit: number; runs: number }[] = [
    { mode: 'parse', limit: rows, runs },
    { mode: 'validate', limit: rows, runs },
    { mode: 'unique', limit: Math.min(rows, 100_000), runs: 1 },
    { mode: 'readline', limit: Math.min(rows, 500_000), runs: 1 },
    { mode: 'csv-parse', limit: Math.min(rows, 500_000), runs: 1 },
  ];
  const results: { mode: Mode; runs: ChildResult[] }[] = [];
  const load = os.loadavg()[0];
  let writeSeconds = 0;
  let fileMB = 0;
  try {
    const t0 = performance.now();
    writeSynthetic(file, rows);
    writeSeconds = (performance.now() - t0) / 1000;
    fileMB = statSync(file).size / 1e6;
    process.stderr.write(`wrote ${rows.toLocaleString('en')} rows (${fileMB.toFixed(0)} MB) in ${writeSeconds.toFixed(1)} s\n`);
    for (const p of plan) {
      const rs: ChildResult[] = [];
      for (let k = 0; k < p.runs; k++) {
        const r = runChild(p.mode, file, p.limit);
        process.stderr.write(`${p.mode} run ${k + 1}: ${Math.round(r.rowsPerSec).toLocaleString('en')} rows/s, ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMB.toFixed(0)} MB\n`);
        rs.push(r);
      }
      results.push({ mode: p.mode, runs: rs });
    }
  } finally {
    rmSync(file, { force: true });
  }
  const summary = results.map(({ mode, runs: rs }) => ({
    mode, rows: rs[0].rows, runs: rs.length,
    rowsPerSecMedian: Math.round(median(rs.map((r) => r.rowsPerSec))),
    rowsPerSecAll: rs.map((r) => Math.round(r.rowsPerSec)),
    secondsMedian: Number(median(rs.map((r) => r.seconds)).toFixed(2)),
    peakRssMB: Math.round(Math.max(...rs.map((r) => r.peakRssMB))),
    peakHeapMB: Math.round(Math.max(...rs.map((r) => r.peakHeapMB))),
  }));
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAvg1mAtStart: Number(load.toFixed(2)) };
  const table = [
    `Synthetic Sudoku-Extreme-shaped CSV: ${rows.toLocaleString('en')} rows, ${fileMB.toFixed(0)} MB (written in ${writeSeconds.toFixed(1)} s). `
      + `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAvg1mAtStart} at start.`,
    '',
    '| mode | rows | runs | rows/s (median) | rows/s (all runs) | s (median) | peak RSS MB | peak heapUsed MB (sampled, incl. garbage) |',
    '|---|---:|---:|---:|---|---:|---:|---:|',
    ...summary.map((s) => `| ${s.mode} | ${s.rows.toLocaleString('en')} | ${s.runs} | ${s.rowsPerSecMedian.toLocaleString('en')} | ${s.rowsPerSecAll.map((x) => x.toLocaleString('en')).join(', ')} | ${s.secondsMedian} | ${s.peakRssMB} | ${s.peakHeapMB} |`),
  ].join('\n');
  process.stdout.write(table + '\n');
  const outFile = path.join(__dirname, 'results', 'dataset.json');
  await writeFileAtomic(outFile, JSON.stringify({ bench: 'dataset', rows, fileMB: Number(fileMB.toFixed(1)), writeSeconds: Number(writeSeconds.toFixed(2)), machine, summary, raw: results }, null, 2) + '\n');
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), outFile)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`dataset-bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
