/** `hrm-lens data …` end to end: spawns the CLI from the sources (node --import tsx engine/cli.ts). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Progress, formatDuration } from '../../engine/cli/progress';
import { readCsv } from '../../engine/sudoku/dataset/index';
import { geometry } from '../../engine/sudoku/geometry';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-cli-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run { status: number | null; stdout: string; stderr: string }

/** At most two CLI processes at a time (the machine has 2 cores). */
let running = 0;
const waiting: (() => void)[] = [];

/** Run `hrm-lens data <args>`; independent runs go in parallel (Promise.all) to keep the file fast. */
async function cli(...args: string[]): Promise<Run> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise<Run>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'data', ...args], { cwd: root, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
        resolve({ status: code, stdout, stderr });
      });
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await cli(...args);
  assert.equal(r.status, 0, `data ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const f = (name: string) => path.join(dir, name);

test('generate: same arguments → byte-identical CSV for 4×4, 6×6 and 9×9; clue options', async () => {
  const sizes = [['4', '40'], ['6', '40'], ['9', '25']];
  const gen = (size: string, count: string, seed: string, out: string, ...more: string[]) =>
    ok('generate', '--size', size, '--count', count, '--seed', seed, ...more, '--out', f(out));
  // The 9×9 pair also passes the clue options (checked below).
  const extra = (size: string) => (size === '9' ? ['--min-clues', '22', '--max-clues', '30'] : []);
  const outs = await Promise.all(sizes.flatMap(([size, count]) => [
    gen(size, count, '1', `a${size}.csv`, ...extra(size)), gen(size, count, '1', `b${size}.csv`, ...extra(size))]));
  sizes.forEach(([size, count], k) => {
    assert.match(outs[2 * k], new RegExp(`wrote ${count} ${size}×${size} puzzles`));
    const a = readFileSync(f(`a${size}.csv`));
    assert.ok(a.equals(readFileSync(f(`b${size}.csv`))), `size ${size}: files differ`);
    const lines = a.toString('utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'source,question,answer,rating');
    assert.equal(lines.length, Number(count) + 1);
    const cells = Number(size) ** 2;
    assert.match(lines[1], new RegExp(`^hrm-lens:seed=1,[.1-${size}]{${cells}},[1-${size}]{${cells}},\\d+$`));
  });
  for (const line of readFileSync(f('a9.csv'), 'utf8').trimEnd().split('\n').slice(1)) {
    const clues = line.split(',')[1].replace(/\./g, '').length;
    assert.ok(clues >= 22 && clues <= 30, line);
  }
  assert.deepEqual(readdirSync(dir).filter((x) => x.endsWith('.tmp')), []);
});

test('check: N valid unique-solution puzzles (text and JSON)', async () => {
  const [text, j6] = await Promise.all([
    ok('check', f('a9.csv'), '--unique'),
    ok('check', f('a6.csv'), '--unique', '--json'),
  ]);
  assert.match(text, /rows: 25 {3}valid: 25 {3}invalid: 0/);
  assert.match(text, /grid sizes: 9×9: 25/);
  assert.match(text, /unique solution: 25 of 25 checked/);
  assert.match(text, /clues \(9×9\): min \d+ {3}mean [\d.]+ {3}max \d+/);
  assert.match(text, /rating histogram/);
  const j = JSON.parse(j6);
  assert.equal(j.valid, 40);
  assert.equal(j.unique, 40);
  assert.equal(j.uniqueChecked, 40);
  assert.deepEqual(j.bySize, { 6: 40 });
  assert.equal(j.format, 'csv');
});

test('check: bad input exits 1 with the DataError; --skip-invalid counts by reason and exits 2', async () => {
  const good = readFileSync(f('a9.csv'), 'utf8').trimEnd().split('\n');
  const cols = good[2].split(',');
  const q = cols[1].split('');
  const given = q.findIndex((c) => c !== '.');
  // Another digit that the answer contradicts and no other given of its row, column or box holds (no clash).
  const peers = geometry(9).peers[given];
  const digit = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((d) => d !== Number(cols[2][given]) && ![...peers].some((p) => q[p] === String(d)));
  q[given] = String(digit);
  const bad = [...good.slice(0, 2), [cols[0], q.join(''), cols[2], cols[3]].join(','), `x,${cols[1].slice(3)},${cols[2]},1`, ...good.slice(3)];
  writeFileSync(f('bad.csv'), bad.join('\n') + '\n');
  const [r, s, badArg] = await Promise.all([
    cli('check', f('bad.csv')),
    cli('check', f('bad.csv'), '--skip-invalid'),
    cli('split', f('a6.csv'), '--test', '2', '--seed', '1', '--out-dir', f('split2')),
  ]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^hrm-lens: ${f('bad.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, line 3, field "answer": givens contradict the answer at cell ${given + 1}`));
  assert.equal(s.status, 2);
  assert.match(s.stdout, /rows: 26 {3}valid: 24 {3}invalid: 2/);
  assert.match(s.stdout, /givens: 1\n\s+.*line 3, field "answer"/);
  assert.match(s.stdout, /length: 1\n\s+.*line 4, field "question": expected 16, 36 or 81 characters/);
  assert.notEqual(badArg.status, 0);
  assert.match(badArg.stderr, /test fraction must be a number in \[0, 1\]/);
});

test('solve: CSV with solution count, rating, backtracks, guesses; JSON lines; text', async () => {
  writeFileSync(f('two.txt'), `${'.'.repeat(16)}\n${'1'.repeat(2)}${'.'.repeat(14)}\n${readFileSync(f('a4.csv'), 'utf8').split('\n')[1].split(',')[1]}\n`);
  const [out, jsonText, text] = await Promise.all([
    ok('solve', path.join(root, 'test', 'fixtures', 'puzzles', 'hardest.txt'), '--out', f('solved.csv')),
    ok('solve', f('two.txt'), '--json'),
    ok('solve', f('two.txt')),
  ]);
  assert.match(out, /solved 11 puzzles: 11 unique, 0 with several solutions, 0 with none/);
  const lines = readFileSync(f('solved.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'source,question,answer,rating,solutions,backtracks,guesses');
  assert.equal(lines.length, 12);
  assert.match(lines[1], /^,85\.\.\.24\.\.72\.{6}9.*,[1-9]{81},\d+,1,\d+,\d+$/);
  const reread = readCsv(f('solved.csv'), { checkUnique: true }); // extra columns are ignored
  for await (const rec of reread) assert.equal(rec.solution?.length, 81);
  assert.equal(reread.report.unique, 11);

  const json = jsonText.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(json.length, 4);
  assert.deepEqual(json.slice(0, 3).map((j) => j.solutions), [2, 0, 1]);
  assert.equal(json[1].solution, null);
  assert.match(json[2].solution, /^[1-4]{16}$/);
  assert.deepEqual(json[3].summary.puzzles, 3);
  assert.match(text, /^line 1: [1-4]{16} {2}solutions 2\+ {2}rating \d+ {2}backtracks \d+ {2}guesses \d+$/m);
  assert.match(text, /^line 2: \(no solution\)/m);
});

test('subsample and split: seeded and deterministic', async () => {
  const [, , out] = await Promise.all([
    ok('subsample', f('a4.csv'), '--count', '10', '--seed', '5', '--out', f('s1.csv')),
    ok('subsample', f('a4.csv'), '--count', '10', '--seed', '5', '--out', f('s2.csv')),
    ok('split', f('a6.csv'), '--test', '0.25', '--seed', '1', '--out-dir', f('split')),
  ]);
  const s1 = readFileSync(f('s1.csv'), 'utf8');
  assert.equal(s1, readFileSync(f('s2.csv'), 'utf8'));
  assert.equal(s1.trimEnd().split('\n').length, 11);
  const all = new Set(readFileSync(f('a4.csv'), 'utf8').split('\n'));
  for (const l of s1.trimEnd().split('\n')) assert.ok(all.has(l), l);
  const m = /wrote (\d+) train and (\d+) test/.exec(out);
  assert.ok(m && Number(m[1]) + Number(m[2]) === 40, out);
  const train = readFileSync(path.join(f('split'), 'train.csv'), 'utf8').trimEnd().split('\n');
  const test6 = readFileSync(path.join(f('split'), 'test.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(train.length - 1, Number(m[1]));
  assert.equal(test6.length - 1, Number(m[2]));
});

test('progress line: silent off a TTY unless forced; count, rate, percentage, ETA', () => {
  const writes: string[] = [];
  let now = 0;
  const stream = { isTTY: false, write: (t: string) => writes.push(t) };
  const quiet = new Progress({ label: 'check', stream, now: () => now });
  quiet.update(1000, 0.5);
  quiet.done();
  assert.equal(writes.length, 0);
  const tty = { isTTY: true, write: (t: string) => writes.push(t) };
  const p = new Progress({ label: 'check', total: 4000, stream: tty, now: () => now });
  now = 2000;
  p.update(1000);
  assert.equal(writes.length, 1);
  assert.equal(writes[0], '\rcheck: 1,000 rows  500 rows/s  25%  ETA 0:06\x1b[K');
  now = 2050;
  p.update(2000); // throttled (< 100 ms since the last draw)
  assert.equal(writes.length, 1);
  now = 8000;
  p.update(4000);
  p.done();
  assert.equal(writes.at(-1), '\rcheck: 4,000 rows in 8.0 s (500 rows/s)\x1b[K\n');
  const forced: string[] = [];
  const f2 = new Progress({ label: 'gen', unit: 'puzzles', force: true, stream: { write: (t: string) => forced.push(t) }, now: () => now });
  now += 3000;
  f2.update(256, 0.1);
  f2.done();
  assert.match(forced[0], /^gen: 256 puzzles {2}85\.3 puzzles\/s {2}10% {2}ETA 0:27\n$/);
  assert.match(forced[1], /^gen: 256 puzzles in 3\.0 s/);
  assert.equal(formatDuration(3725), '1:02:05');
});
