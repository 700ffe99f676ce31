/**
 * `hrm-lens data …`: generate, check, solve, subsample and split puzzle files.
 *
 *   data generate --size 9 --count 1000 --seed 1 [--min-clues N] [--max-clues N] [--min-rating R] --out f.csv
 *   data check <path> [--skip-invalid] [--unique] [--json] [--split train|test] [--format csv|lines|npy-folder]
 *              (also counts rows repeating an earlier puzzle, with the first few and the lines they repeat)
 *   data solve <path> [--out g.csv] [--json]
 *   data subsample <path> --count 1000 --seed 1 --out g.csv [--skip-invalid]
 *   data split <path> --test 0.1 --seed 1 --out-dir d [--skip-invalid]
 *
 * <path>: a CSV, a one-puzzle-per-line file or a reference `.npy` folder (format detected). Bad input ends the
 * command with exit code 1 and the DataError message (file, line, field); `check --skip-invalid` instead counts bad
 * rows and exits with 2 when there were any. Long runs draw a progress line on stderr (TTY, or --progress).
 * Written files are byte-identical for the same arguments and input (no timestamps).
 */
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type GridSize, geometry, gridToString, isGridSize } from '../sudoku/geometry';
import { PuzzleGenerator } from '../sudoku/generator';
import { rating as solverRating, solve } from '../sudoku/solver';
import {
  CsvWriter, DatasetStats, DuplicateCounter, type DuplicateExample, type DuplicatesJSON, type DatasetFormat,
  type DatasetReader, type DatasetRecord, type OpenDatasetOptions,
  openDataset, recordSize, ReservoirSampler, hashSplit, type ValidationReportJSON,
} from '../sudoku/dataset/index';
import { quoted } from '../util/errors';
import { Progress } from './progress';

// ---------- argument parsers ----------

function intArg(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${quoted(v)}`);
    return n;
  };
}

function sizeArg(v: string): GridSize {
  const n = Number(v);
  if (!isGridSize(n)) throw new InvalidArgumentError(`size must be 4, 6 or 9, got ${quoted(v)}`);
  return n;
}

function fractionArg(v: string): number {
  const x = Number(v);
  if (!/^\s*(0|1|0?\.\d+|1\.0*)\s*$/.test(v) || !(x >= 0 && x <= 1)) throw new InvalidArgumentError(`test fraction must be a number in [0, 1], got ${quoted(v)}`);
  return x;
}

function formatArg(v: string): DatasetFormat {
  if (v === 'csv' || v === 'lines' || v === 'npy-folder') return v;
  throw new InvalidArgumentError(`format must be csv, lines or npy-folder, got ${quoted(v)}`);
}

// ---------- output helpers ----------

/** Buffered stdout with backpressure (solve can print millions of lines). */
class Out {
  private buf: string[] = [];
  private size = 0;
  async line(s: string): Promise<void> {
    this.buf.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= 1 << 16) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    this.buf = [];
    this.size = 0;
    if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', () => resolve()));
  }
}

const num = (n: number) => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(2);

/** Iterate a reader with a progress line. */
async function* withProgress(reader: DatasetReader, label: string, force: boolean | undefined): AsyncGenerator<DatasetRecord> {
  const p = new Progress({ label, force });
  let k = 0;
  for await (const r of reader) {
    k++;
    if ((k & 0x3ff) === 0) p.update(k, reader.progress());
    yield r;
  }
  p.update(k, 1);
  p.done();
}

// ---------- generate ----------

interface GenerateOpts { size: GridSize; count: number; seed: number; minClues?: number; maxClues?: number; minRating?: number; out: string; progress?: boolean }

async function generateCommand(o: GenerateOpts): Promise<void> {
  const t0 = performance.now();
  const gen = new PuzzleGenerator({ n: o.size, seed: o.seed, minClues: o.minClues, maxClues: o.maxClues, minRating: o.minRating });
  const w = await CsvWriter.create(o.out);
  const stats = new DatasetStats();
  const p = new Progress({ label: 'generate', unit: 'puzzles', total: o.count, force: o.progress });
  try {
    for (let i = 0; i < o.count; i++) {
      const g = gen.next();
      const rec: DatasetRecord = { puzzle: g.puzzle, solution: g.solution, rating: g.rating, source: `hrm-lens:seed=${o.seed}`, line: i + 2 };
      await w.write(rec);
      stats.add(rec);
      p.update(i + 1);
    }
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.close();
  p.done();
  const c = stats.clueStats().get(o.size);
  const clues = c ? `, clues ${c.min}-${c.max} (mean ${c.mean.toFixed(1)})` : '';
  const rmean = stats.toJSON().ratingMean;
  process.stdout.write(`wrote ${num(o.count)} ${o.size}×${o.size} puzzles to ${o.out}${clues}${rmean !== null ? `, rating mean ${rmean}` : ''} in ${seconds(t0)} s\n`);
}

// ---------- check ----------

interface ReadOpts { skipInvalid?: boolean; unique?: boolean; split?: string; format?: DatasetFormat; progress?: boolean; json?: boolean }

function openOpts(o: ReadOpts, validate = true): OpenDatasetOptions {
  return { validate, checkUnique: o.unique === true, skipInvalid: o.skipInvalid === true, split: o.split, format: o.format };
}

export interface CheckSummary extends ValidationReportJSON {
  format: DatasetFormat;
  checkedUnique: boolean;
  stats: ReturnType<DatasetStats['toJSON']>;
  /** Rows (among the valid ones) whose puzzle appeared on an earlier row. */
  duplicates: DuplicatesJSON;
  seconds: number;
}

/** "line 7", or for `.npy` folders (rows numbered per split) "test row 7". */
function rowName(line: number, split: string | undefined): string {
  return split !== undefined ? `${split} row ${line}` : `line ${line}`;
}

function duplicateText(e: DuplicateExample): string {
  return `${rowName(e.line, e.source)} repeats ${rowName(e.firstLine, e.firstSource)}`;
}

function checkText(s: CheckSummary): string {
  const lines = [`${s.file} (${s.format})`];
  lines.push(`  rows: ${num(s.rows)}   valid: ${num(s.valid)}   invalid: ${num(s.invalid)}`);
  const sizes = Object.entries(s.bySize).map(([n, c]) => `${n}×${n}: ${num(c ?? 0)}`).join('   ');
  lines.push(`  grid sizes: ${sizes || '(none)'}`);
  if (s.uniqueChecked === 0 && s.rows > 0) {
    lines.push('  unique solution: not checked (answers were verified; --unique counts solutions)');
  } else {
    const partial = s.uniqueChecked < s.rows && !s.checkedUnique ? ' (rows without an answer; --unique counts all)' : '';
    lines.push(`  unique solution: ${num(s.unique)} of ${num(s.uniqueChecked)} checked${partial}`);
  }
  if (s.solvedMissing > 0) lines.push(`  solved rows without an answer: ${num(s.solvedMissing)}`);
  const d = s.duplicates;
  if (d.duplicates === 0) lines.push(`  duplicate puzzles: none (${num(d.distinct)} distinct)`);
  else {
    lines.push(`  duplicate puzzles: ${num(d.duplicates)} rows repeat an earlier puzzle (${num(d.distinct)} distinct)`);
    for (const e of d.examples) lines.push(`    ${duplicateText(e)}`);
    if (d.duplicates > d.examples.length) lines.push('    …');
  }
  for (const [n, c] of Object.entries(s.stats.clues)) {
    if (c) lines.push(`  clues (${n}×${n}): min ${c.min}   mean ${c.mean.toFixed(2)}   max ${c.max}`);
  }
  if (s.stats.ratings.length > 0) {
    lines.push(`  rating histogram${s.stats.ratingMean !== null ? ` (mean ${s.stats.ratingMean})` : ''}:`);
    const top = Math.max(...s.stats.ratings.map((b) => b.count));
    for (const b of s.stats.ratings) {
      lines.push(`    ${b.label.padEnd(11)} ${num(b.count).padStart(11)}  ${'#'.repeat(Math.max(b.count > 0 ? 1 : 0, Math.round((b.count / top) * 40)))}`);
    }
  }
  if (s.issues.length > 0) {
    lines.push('  invalid rows by reason:');
    for (const i of s.issues) {
      lines.push(`    ${i.kind}: ${num(i.count)}`);
      for (const e of i.examples) lines.push(`      ${e.message}`);
    }
  }
  lines.push(`  time: ${s.seconds.toFixed(2)} s`);
  return lines.join('\n') + '\n';
}

async function checkCommand(path: string, o: ReadOpts): Promise<void> {
  const t0 = performance.now();
  const reader = await openDataset(path, openOpts(o));
  const stats = new DatasetStats();
  const dups = new DuplicateCounter();
  const tagged = reader.format === 'npy-folder';
  for await (const r of withProgress(reader, 'check', o.progress)) {
    stats.add(r);
    dups.add(r.puzzle, r.line, tagged ? r.source : undefined);
  }
  const summary: CheckSummary = {
    ...reader.report.toJSON(), format: reader.format, checkedUnique: o.unique === true, stats: stats.toJSON(), duplicates: dups.toJSON(),
    seconds: (performance.now() - t0) / 1000,
  };
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : checkText(summary));
  if (summary.invalid > 0) process.exitCode = 2;
}

// ---------- solve ----------

interface SolveOpts { out?: string; json?: boolean; split?: string; format?: DatasetFormat; progress?: boolean }

async function solveCommand(path: string, o: SolveOpts): Promise<void> {
  const t0 = performance.now();
  const reader = await openDataset(path, { validate: false, split: o.split, format: o.format });
  const w = o.out ? await CsvWriter.create(o.out, { extraColumns: ['solutions', 'backtracks', 'guesses'] }) : undefined;
  const out = new Out();
  const counts = { puzzles: 0, unique: 0, multiple: 0, none: 0, ratingSum: 0, ratingMax: 0 };
  try {
    for await (const r of withProgress(reader, 'solve', o.progress)) {
      const geo = geometry(recordSize(r));
      const full = solve(r.puzzle, geo, { limit: 2 });
      const rating = full.solutions > 0 ? solverRating(r.puzzle, geo) : full.backtracks;
      counts.puzzles++;
      if (full.solutions === 0) counts.none++;
      else if (full.solutions === 1) counts.unique++;
      else counts.multiple++;
      counts.ratingSum += rating;
      counts.ratingMax = Math.max(counts.ratingMax, rating);
      const solved: DatasetRecord = { puzzle: r.puzzle, rating, line: r.line };
      if (full.solution) solved.solution = full.solution;
      if (r.source !== undefined) solved.source = r.source;
      const solutions = full.solutions > 1 ? '2+' : String(full.solutions);
      if (w) {
        await w.write(solved, [solutions, full.backtracks, full.guesses]);
      } else if (o.json) {
        await out.line(JSON.stringify({
          line: r.line, puzzle: gridToString(r.puzzle), solution: full.solution ? gridToString(full.solution) : null,
          solutions: full.solutions, rating, backtracks: full.backtracks, guesses: full.guesses,
        }));
      } else {
        const answer = full.solution ? gridToString(full.solution) : '(no solution)';
        await out.line(`line ${r.line}: ${answer}  solutions ${solutions}  rating ${rating}  backtracks ${full.backtracks}  guesses ${full.guesses}`);
      }
    }
  } catch (err) {
    await w?.abort();
    throw err;
  }
  await w?.close();
  const summary = {
    file: path, out: o.out ?? null, puzzles: counts.puzzles, unique: counts.unique, multiple: counts.multiple, noSolution: counts.none,
    ratingMean: counts.puzzles ? Math.round((counts.ratingSum / counts.puzzles) * 100) / 100 : null, ratingMax: counts.ratingMax,
    seconds: Number(seconds(t0)),
  };
  if (o.json) await out.line(JSON.stringify({ summary }));
  else {
    await out.line(`solved ${num(summary.puzzles)} puzzles: ${num(summary.unique)} unique, ${num(summary.multiple)} with several solutions, `
      + `${num(summary.noSolution)} with none; rating mean ${summary.ratingMean ?? '-'}, max ${summary.ratingMax}`
      + `${o.out ? `; wrote ${o.out}` : ''} (${summary.seconds} s)`);
  }
  await out.flush();
}

// ---------- subsample / split ----------

interface SubsampleOpts extends ReadOpts { count: number; seed: number; out: string }

async function subsampleCommand(path: string, o: SubsampleOpts): Promise<void> {
  const t0 = performance.now();
  const reader = await openDataset(path, openOpts(o));
  const s = new ReservoirSampler<DatasetRecord>(o.count, o.seed);
  for await (const r of withProgress(reader, 'subsample', o.progress)) s.add(r);
  const w = await CsvWriter.create(o.out);
  try {
    for (const r of s.result()) await w.write(r);
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.close();
  const skipped = reader.report.invalid > 0 ? ` (${num(reader.report.invalid)} invalid rows skipped)` : '';
  process.stdout.write(`wrote ${num(w.rows)} of ${num(s.seen)} puzzles to ${o.out}${skipped} in ${seconds(t0)} s\n`);
}

interface SplitOpts extends ReadOpts { test: number; seed: number; outDir: string }

async function splitCommand(path: string, o: SplitOpts): Promise<void> {
  const t0 = performance.now();
  const reader = await openDataset(path, openOpts(o));
  const train = await CsvWriter.create(join(o.outDir, 'train.csv'));
  const test = await CsvWriter.create(join(o.outDir, 'test.csv'));
  try {
    for await (const r of withProgress(reader, 'split', o.progress)) {
      await (hashSplit(r.puzzle, { test: o.test, seed: o.seed }) === 'test' ? test : train).write(r);
    }
  } catch (err) {
    await train.abort();
    await test.abort();
    throw err;
  }
  await train.close();
  await test.close();
  process.stdout.write(`wrote ${num(train.rows)} train and ${num(test.rows)} test puzzles to ${o.outDir} in ${seconds(t0)} s\n`);
}

// ---------- registration ----------

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Sudoku datasets: generate, check, solve, subsample, split');

  data.command('generate')
    .description('write seeded unique-solution puzzles as Sudoku-Extreme CSV (source,question,answer,rating)')
    .requiredOption('--size <n>', 'grid size: 4, 6 or 9', sizeArg)
    .requiredOption('--count <k>', 'number of puzzles', intArg('count', 0))
    .requiredOption('--seed <s>', 'random seed (same arguments → byte-identical file)', intArg('seed', -(2 ** 31)))
    .option('--min-clues <n>', 'never remove clues below this count', intArg('min-clues', 0))
    .option('--max-clues <n>', 'reject puzzles with more clues', intArg('max-clues', 0))
    .option('--min-rating <r>', 'reject puzzles rated below this (solver backtracks)', intArg('min-rating', 0))
    .requiredOption('--out <file>', 'output CSV')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action((o: GenerateOpts) => generateCommand(o));

  data.command('check')
    .description('validate a dataset and print counts by size, unique solutions, clue stats and a rating histogram (exit 2 when --skip-invalid skipped rows)')
    .argument('<path>', 'CSV, one-puzzle-per-line file, or reference .npy folder')
    .option('--skip-invalid', 'count bad rows (by reason, with their first locations) instead of stopping at the first')
    .option('--unique', 'count solutions of every puzzle (slower); rows without an answer are always solved')
    .option('--json', 'print the summary as JSON')
    .option('--split <name>', 'reference folder: only this split (train or test)')
    .option('--format <f>', 'csv, lines or npy-folder (default: detected)', formatArg)
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action((path: string, o: ReadOpts) => checkCommand(path, o));

  data.command('solve')
    .description('solve every puzzle: solution, solution count (1 or 2+), rating, backtracks and guesses of the search')
    .argument('<path>', 'CSV, one-puzzle-per-line file, or reference .npy folder')
    .option('--out <file>', 'write CSV: source,question,answer,rating,solutions,backtracks,guesses')
    .option('--json', 'print one JSON object per puzzle, then {"summary": …}')
    .option('--split <name>', 'reference folder: only this split (train or test)')
    .option('--format <f>', 'csv, lines or npy-folder (default: detected)', formatArg)
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action((path: string, o: SolveOpts) => solveCommand(path, o));

  data.command('subsample')
    .description('seeded uniform sample of --count puzzles (reservoir sampling, one pass), written as CSV in file order')
    .argument('<path>', 'CSV, one-puzzle-per-line file, or reference .npy folder')
    .requiredOption('--count <k>', 'sample size', intArg('count', 0))
    .requiredOption('--seed <s>', 'random seed', intArg('seed', -(2 ** 31)))
    .requiredOption('--out <file>', 'output CSV')
    .option('--skip-invalid', 'skip bad rows instead of stopping')
    .option('--split <name>', 'reference folder: only this split (train or test)')
    .option('--format <f>', 'csv, lines or npy-folder (default: detected)', formatArg)
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action((path: string, o: SubsampleOpts) => subsampleCommand(path, o));

  data.command('split')
    .description('seeded streaming train/test split by puzzle hash: writes <out-dir>/train.csv and test.csv')
    .argument('<path>', 'CSV, one-puzzle-per-line file, or reference .npy folder')
    .requiredOption('--test <fraction>', 'share held out for test, e.g. 0.1', fractionArg)
    .requiredOption('--seed <s>', 'random seed', intArg('seed', -(2 ** 31)))
    .requiredOption('--out-dir <dir>', 'output folder')
    .option('--skip-invalid', 'skip bad rows instead of stopping')
    .option('--split <name>', 'reference folder: only this split (train or test)')
    .option('--format <f>', 'csv, lines or npy-folder (default: detected)', formatArg)
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action((path: string, o: SplitOpts) => splitCommand(path, o));
}
