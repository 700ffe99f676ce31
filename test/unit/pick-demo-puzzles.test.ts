/**
 * scripts/pick-demo-puzzles.mjs: on the shipped 6×6 model and 200 generated puzzles it runs the built `hrm-lens
 * classify --json` and writes a puzzle list the dataset reader reads, each puzzle under a comment saying what classify
 * measured, the first match of each kind in dataset order; a kind with no match is a comment and a line on stderr,
 * not a crash; a saved report with every kind gives six distinct puzzles; bad arguments exit 1 with a reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const script = path.join(root, 'scripts', 'pick-demo-puzzles.mjs');
const cli = path.join(root, 'dist', 'cli.js');
const KINDS = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure', 'spurious-fixed-point', 'corruption'];

interface Entry { id: string; puzzle: string; mode: string; firstExact: number | null; settled: boolean; finalWrong: number | null; corruptions: number[] }

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-demo-pick-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const runScript = (args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8' });

/** The list's sections: for each kind, its comment line and the puzzle line under it (when there is one). */
function sections(text: string): Map<string, { comment: string; puzzle: string | undefined }> {
  const lines = text.split('\n');
  const out = new Map<string, { comment: string; puzzle: string | undefined }>();
  lines.forEach((l, i) => {
    const m = /^# ([a-z-]+)[ :(]/.exec(l);
    if (m && KINDS.includes(m[1])) out.set(m[1], { comment: l, puzzle: lines[i + 1] && !lines[i + 1].startsWith('#') && lines[i + 1] !== '' ? lines[i + 1] : undefined });
  });
  return out;
}

const noCli = existsSync(cli) ? false : 'dist/cli.js is absent: run `npm run build` first (the script runs the built hrm-lens classify)';

test('on the shipped 6×6 model and 200 generated puzzles: the first puzzle of each kind, with what classify measured', { skip: noCli, timeout: 900_000 }, () => withDir((dir) => {
  const data = path.join(dir, 'heldout-6x6.csv');
  const gen = spawnSync(process.execPath, [cli, 'data', 'generate', '--size', '6', '--count', '200', '--seed', '424242', '--min-clues', '18', '--out', data], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const out = path.join(dir, 'demo', 'puzzles-6x6.txt');
  const saved = path.join(dir, 'report.json');
  const r = runScript(['--checkpoint', path.join(root, 'models', 'small-6x6.safetensors'), '--data', data, '--out', out, '--save-report', saved, '--backend', 'wasm']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(saved, 'utf8')) as { puzzles: number; entries: Entry[] };
  assert.equal(report.puzzles, 200);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^# Demo puzzles for small-6x6\.safetensors: picked by scripts\/pick-demo-puzzles\.mjs from heldout-6x6\.csv\n/);
  const found = sections(text);
  assert.deepEqual([...found.keys()], KINDS, 'a section per kind, in order');
  const tests: Record<string, (e: Entry) => boolean> = {
    'spurious-fixed-point': (e) => e.mode === 'non-trivial-failure' && e.settled && (e.finalWrong ?? 1) > 0,
    corruption: (e) => e.corruptions.length > 0,
  };
  const picked = new Set<string>();
  for (const kind of KINDS) {
    const s = found.get(kind);
    assert.ok(s);
    const matches = report.entries.filter(tests[kind] ?? ((e) => e.mode === kind));
    if (matches.length === 0) {
      assert.equal(s.comment, `# ${kind}: none among the 200 puzzles ${s.comment.slice(s.comment.indexOf('('))}`);
      assert.equal(s.puzzle, undefined);
      assert.match(r.stderr, new RegExp(`^pick-demo-puzzles: no ${kind} puzzle among 200 puzzles`, 'm'), 'the missing kind is reported');
      continue;
    }
    const first = matches.find((e) => !picked.has(e.puzzle));
    if (!first) {
      assert.match(s.comment, /puzzle above/);
      continue;
    }
    picked.add(first.puzzle);
    assert.equal(s.puzzle, first.puzzle, `${kind}: the first match in dataset order`);
    assert.match(s.puzzle, /^[1-6.]{36}$/);
    const corr = first.corruptions.length ? `at segment${first.corruptions.length > 1 ? 's' : ''} ${first.corruptions.join(', ')}` : 'none';
    assert.ok(s.comment.startsWith(`# ${kind} (${first.id} of heldout-6x6.csv): ${first.mode}; first exact segment ${first.firstExact ?? 'never'}; corruptions ${corr}; final wrong cells ${first.finalWrong}`), s.comment);
  }
  assert.ok(found.get('trivial-success')?.puzzle && found.get('corruption')?.puzzle, 'the small model has trivial successes and corruptions');
  // The list is a dataset the engine reads: every puzzle line, no comment line.
  const check = spawnSync(process.execPath, [cli, 'data', 'check', out], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`rows: ${picked.size}\\s+valid: ${picked.size}\\s+invalid: 0`));
}));

test('a saved report: the first match of each kind not taken by an earlier kind; a kind whose every match was taken points at the puzzle above', () => withDir((dir) => {
  const e = (id: number, mode: string, o: Partial<Entry> = {}): Entry => ({
    id: `line ${id}`, puzzle: `${String(id).padStart(2, '0')}${'.'.repeat(14)}`, mode, firstExact: 1, settled: false, finalWrong: 0, corruptions: [], ...o,
  });
  const entries = [
    e(2, 'non-trivial-failure', { firstExact: null, settled: true, finalWrong: 3 }),
    e(3, 'trivial-success'),
    e(4, 'trivial-success'),
    e(5, 'trivial-failure', { corruptions: [3], finalWrong: 2 }),
    e(6, 'non-trivial-success', { firstExact: 2, corruptions: [3] }),
    e(7, 'non-trivial-failure', { firstExact: 2, settled: true, finalWrong: 1, corruptions: [4] }),
  ];
  const report = path.join(dir, 'report.json');
  writeFileSync(report, JSON.stringify({ checkpoint: 'm.safetensors', source: '/x/data.csv', segments: 8, tau: 0.05, tauSource: 'otsu', entries }));
  const out = path.join(dir, 'list.txt');
  const r = runScript(['--report', report, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no kind is missing');
  const s = sections(readFileSync(out, 'utf8'));
  assert.deepEqual(KINDS.map((k) => s.get(k)?.puzzle?.slice(0, 2)), ['03', '06', '05', '02', '07', undefined], 'first untaken match of each kind');
  assert.match(s.get('corruption')?.comment ?? '', /^# corruption: see the trivial-failure puzzle above \(line 5; every corruption puzzle is listed already\)/);
  assert.match(s.get('non-trivial-failure')?.comment ?? '', /first exact segment never; corruptions none; final wrong cells 3; settled$/);
}));

test('missing kinds are written as comments and reported, with exit status 0; bad arguments exit 1 with a reason', () => withDir((dir) => {
  const report = path.join(dir, 'report.json');
  writeFileSync(report, JSON.stringify({ checkpoint: 'm.safetensors', source: 'd.txt', segments: 4, tau: null, tauSource: 'none', entries: [{ id: 'line 1', puzzle: `1${'.'.repeat(15)}`, mode: 'trivial-success', firstExact: 1, settled: true, finalWrong: 0, corruptions: [] }] }));
  const out = path.join(dir, 'list.txt');
  const r = runScript(['--report', report, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 5, 'one line per missing kind');
  assert.match(r.stderr, /^pick-demo-puzzles: no spurious-fixed-point puzzle among 1 puzzles \(a non-trivial failure settled on a grid with wrong cells\)$/m);
  assert.match(r.stdout, /1 of 6 kinds \(5 missing/);
  assert.match(readFileSync(out, 'utf8'), /^# corruption: none among the 1 puzzles \(exact at some segment and wrong at a later one\)$/m);

  for (const [args, why] of [
    [['--out', out], /--checkpoint FILE and --data FILE are required/],
    [['--report', report], /--out FILE is required/],
    [['--report', report, '--out', out, '--segments', '0'], /--segments must be an integer/],
    [['--report', report, '--out', out, '--bogus', '1'], /unknown argument "--bogus"/],
    [['--report', path.join(dir, 'absent.json'), '--out', out], /absent\.json: not a classify JSON report/],
  ] as [string[], RegExp][]) {
    const bad = runScript(args);
    assert.equal(bad.status, 1, args.join(' '));
    assert.match(bad.stderr, why);
  }
}));
