/**
 * The data of HRM: Compare Runs, read from real run folders written here: one trained for a few steps by the real
 * Trainer on wasm (its run.json, metrics.jsonl, checkpoint and .eval.json as the engine writes them), one whose log
 * ends in a torn line and whose checkpoint was also evaluated on a named set, one without any evaluation, and one
 * whose log is longer than the bound (bucket means). Also the table as CSV, the bucketing itself, and the watch that
 * follows a growing log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { makeConfig } from '../../engine/model';
import { Trainer } from '../../engine/train/trainer';
import { getPreset } from '../../engine/train/presets';
import { MAX_COMPARE_POINTS, MAX_COMPARE_RUNS, comparisonCsv, readComparison, uniqueRunDirs } from '../../extension/panels/compare-runs-data';
import { MetricsWatch, runStamp } from '../../extension/panels/metrics-watch';
import { readMetricsHistory } from '../../extension/panels/training-history';
import { reducePoints } from '../../webview/training-series';
import type { CompareRun, TrainPoint } from '../../webview/protocol';

/** A run.json as the trainer writes it (the fields the table reads, and a few it does not). */
function runJson(preset: string, seed: number, mixing: boolean, extra: { augment?: boolean; lr?: number; hidden?: number } = {}): string {
  return JSON.stringify({
    format: 'hrm-lens-run',
    spec: {
      preset, seed, mixing, ...(mixing ? { mixingMode: 'fixed' } : {}), augment: extra.augment ?? false,
      model: { gridSize: 6, hidden: extra.hidden ?? 64, heads: 4, H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2, haltMaxSteps: 4, variant: 'hrm' },
      train: { batch: 64, steps: 50000, lr: extra.lr ?? 0.001, warmup: 200 },
      data: { kind: 'generated' }, backend: { name: 'wasm', detail: 'test' },
    },
    numParams: 70786, created: `2020-01-0${seed}T00:00:00.000Z`,
  }, null, 2);
}

/** One metrics.jsonl line as logMetrics writes it. */
function metricsLine(step: number, segments = 4): string {
  return JSON.stringify({
    step, lr: 0.001, loss: 2 / step, lmLoss: 2 / step, qHaltLoss: 0, qContinueLoss: 0, halted: 8, exactAccuracy: step / 1000, cellAccuracy: 0.5,
    meanSteps: 2, batchCellAccuracy: Math.min(1, 0.4 + step / 1000), segmentExact: Array.from({ length: segments }, (_, s) => (s === 0 ? step / 1000 : null)), stepMs: 100,
  });
}

function writeEval(dir: string, step: number, figures: { exact: number; cell: number }, sets?: Record<string, { exact: number; cell: number }>): void {
  const stem = path.join(dir, `step-${String(step).padStart(6, '0')}`);
  writeFileSync(`${stem}.safetensors`, 'weights are not read by the comparison');
  const named = sets && Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, { ...v, step, puzzles: 20, segments: 4 }]));
  writeFileSync(`${stem}.eval.json`, JSON.stringify({ step, puzzles: 50, segments: 4, ...figures, ...(named ? { sets: named } : {}) }));
}

const col = (columns: { key: string }[], key: string): number => {
  const i = columns.findIndex((c) => c.key === key);
  assert.ok(i >= 0, `no column ${key}`);
  return i;
};

test('readComparison: real run folders → one row of settings and held-out figures per run, and the curves of each', { timeout: 180_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const root = mkdtempSync(path.join(tmpdir(), 'hrm-compare-'));
  try {
    // 1. A real run: the trainer's own run.json, metrics.jsonl, checkpoint and .eval.json.
    const real = path.join(root, 'tiny-4x4-s3');
    const preset = getPreset('tiny-4x4');
    const model = makeConfig({ ...preset.model, hidden: 16, heads: 2, interMultiple: 16 });
    const trainer = await Trainer.create(real, {
      preset: 'tiny-4x4', model, train: { ...preset.train, batch: 8, steps: 6, evalPuzzles: 16 }, seed: 3, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
    });
    let heldOut: { exact: number; cell: number };
    try {
      for (let i = 0; i < 6; i++) trainer.logMetrics(trainer.trainStep());
      const e = trainer.evaluateHeldOut();
      heldOut = { exact: e.exact, cell: e.cell };
      await trainer.saveCheckpoint(e);
    } finally {
      await trainer.close();
    }
    const realRunJson = JSON.parse(readFileSync(path.join(real, 'run.json'), 'utf8')) as { numParams: number };

    // 2. A mixing run whose log ends in a torn line; its checkpoint evaluated on the held-out set and a named file.
    const torn = path.join(root, 'hard-6x6-mixing');
    mkdirSync(torn);
    writeFileSync(path.join(torn, 'run.json'), runJson('hard-6x6', 2, true, { augment: true, lr: 0.0007 }));
    writeFileSync(path.join(torn, 'metrics.jsonl'), `${[1, 2, 3, 4, 5].map((s) => metricsLine(s)).join('\n')}\n{"step": 6, "lo`);
    writeEval(torn, 4, { exact: 0.25, cell: 0.75 }, { 'hard.txt': { exact: 0.125, cell: 0.5 } });

    // 3. A baseline run never evaluated (no checkpoint, no .eval.json).
    const noEval = path.join(root, 'hard-6x6-baseline');
    mkdirSync(noEval);
    writeFileSync(path.join(noEval, 'run.json'), runJson('hard-6x6', 1, false));
    writeFileSync(path.join(noEval, 'metrics.jsonl'), `${[1, 2, 3].map((s) => metricsLine(s)).join('\n')}\n`);

    const { columns, runs } = await readComparison([real, torn, noEval, path.join(torn, '..', 'hard-6x6-mixing')]);
    assert.deepEqual(runs.map((r) => r.name), ['tiny-4x4-s3', 'hard-6x6-mixing', 'hard-6x6-baseline'], 'the order given, each run once');
    const cell = (r: CompareRun, key: string) => r.cells[col(columns, key)];
    assert.ok(runs.every((r) => r.cells.length === columns.length), 'one cell per column');
    const [a, b, c] = runs;

    // The real run: its settings as the trainer recorded them, its held-out figures from its .eval.json.
    assert.equal(cell(a, 'preset'), 'tiny-4x4');
    assert.equal(cell(a, 'seed'), 3);
    assert.equal(cell(a, 'mixing'), 'off');
    assert.equal(cell(a, 'augment'), false);
    assert.equal(cell(a, 'data'), 'generated');
    assert.equal(cell(a, 'grid'), '4×4');
    assert.equal(cell(a, 'batch'), 8);
    assert.equal(cell(a, 'steps'), 6);
    assert.equal(cell(a, 'step'), 6);
    assert.equal(cell(a, 'lr'), preset.train.lr);
    assert.equal(cell(a, 'params'), realRunJson.numParams);
    assert.match(String(cell(a, 'model')), /^hrm D16 · 2 heads · H\d+\/L\d+ blocks · \d+×\d+ cycles$/);
    assert.equal(cell(a, 'segments'), model.haltMaxSteps);
    assert.equal(cell(a, 'heldOutExact'), heldOut.exact);
    assert.equal(cell(a, 'heldOutCell'), heldOut.cell);
    assert.equal(cell(a, 'heldOutStep'), 6);
    assert.deepEqual(a.heldOut.map((h) => [h.step, h.exact, h.puzzles]), [[6, heldOut.exact, 16]]);
    // The curves are the dashboard's reading of metrics.jsonl, point for point.
    assert.deepEqual(a.points, (await readMetricsHistory(real)).points);
    assert.equal(a.points.length, 6);
    assert.equal(a.segments, model.haltMaxSteps);
    assert.equal(a.note, '');

    // The torn log: five steps, the torn line skipped and said.
    assert.deepEqual(b.points.map((p) => p.step), [1, 2, 3, 4, 5]);
    assert.equal(b.loggedSteps, 5);
    assert.match(b.note, /1 unreadable line of metrics\.jsonl skipped/);
    assert.equal(cell(b, 'mixing'), 'on (fixed)');
    assert.equal(cell(b, 'augment'), true);
    assert.equal(cell(b, 'lr'), 0.0007);
    assert.equal(cell(b, 'grid'), '6×6');
    assert.equal(cell(b, 'step'), 5);
    assert.equal(cell(b, 'steps'), 50000);
    assert.equal(cell(b, 'heldOutExact'), 0.25);
    assert.equal(cell(b, 'bestExact'), 0.25);
    assert.equal(cell(b, 'set:hard.txt'), 0.125, 'a set named by Evaluate has a column of its own');
    assert.equal(columns[col(columns, 'set:hard.txt')].kind, 'percent');

    // No evaluation: empty held-out cells, no held-out points; the other runs' named set is empty for it.
    assert.deepEqual(c.heldOut, []);
    for (const key of ['heldOutExact', 'heldOutCell', 'heldOutStep', 'bestExact', 'set:hard.txt']) assert.equal(cell(c, key), null, key);
    assert.equal(c.points.length, 3);
    assert.equal(cell(c, 'seed'), 1);
    assert.equal(cell(c, 'mixing'), 'off');

    // A folder that is gone reads as an empty row that says so.
    const gone = await readComparison([path.join(root, 'not-there')]);
    assert.equal(gone.runs[0].points.length, 0);
    assert.match(gone.runs[0].note, /not a folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a log longer than the bound arrives as MAX_COMPARE_POINTS bucket means, in step order, and says so', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hrm-compare-long-'));
  try {
    const long = path.join(root, 'long');
    mkdirSync(long);
    writeFileSync(path.join(long, 'run.json'), runJson('hard-6x6', 4, false));
    const n = MAX_COMPARE_POINTS + 1000;
    writeFileSync(path.join(long, 'metrics.jsonl'), `${Array.from({ length: n }, (_, i) => metricsLine(i + 1)).join('\n')}\n`);
    const { runs } = await readComparison([long]);
    const r = runs[0];
    assert.equal(r.loggedSteps, n);
    assert.equal(r.points.length, MAX_COMPARE_POINTS);
    assert.match(r.note, new RegExp(`${n} steps drawn as ${MAX_COMPARE_POINTS} bucket means`));
    for (let i = 1; i < r.points.length; i++) assert.ok(r.points[i].step > r.points[i - 1].step, 'steps increase');
    assert.equal(r.points[0].step, 1);
    assert.ok(Math.abs(r.points.at(-1)!.step - n) <= 1, 'the last bucket ends at the last step');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('reducePoints: bucket means of every field; a segment\'s mean only over the steps that logged it', () => {
  const pt = (step: number, loss: number, exact: number | null, seg: (number | null)[]): TrainPoint => ({ step, loss, cellAccuracy: step / 4, exactAccuracy: exact, meanSteps: null, segmentExact: seg, stepsPerSecond: 2 });
  const points = [pt(1, 4, null, [0, null]), pt(2, 2, 0.5, [1, null]), pt(3, 1, 1, [0.5, 1]), pt(4, 1, null, [])];
  assert.deepEqual(reducePoints(points, 10), points, 'short enough: unchanged');
  assert.deepEqual(reducePoints(points, 2), [
    { step: 2, loss: 3, cellAccuracy: 0.375, exactAccuracy: 0.5, meanSteps: null, segmentExact: [0.5, null], stepsPerSecond: 2 },
    { step: 4, loss: 1, cellAccuracy: 0.875, exactAccuracy: 1, meanSteps: null, segmentExact: [0.5, 1], stepsPerSecond: 2 },
  ]);
});

test('comparisonCsv: the labels, then one line per run in the order shown (fractions, quoted text, the folder last)', () => {
  const columns = [
    { key: 'run', label: 'run', kind: 'text' as const, title: '' },
    { key: 'seed', label: 'seed', kind: 'int' as const, title: '' },
    { key: 'heldOutExact', label: 'held-out exact', kind: 'percent' as const, title: '' },
    { key: 'augment', label: 'augment', kind: 'flag' as const, title: '' },
  ];
  const runs = [
    { dir: '/r/a', cells: ['a', 1, 0.5, false] },
    { dir: '/r/b,c', cells: ['b "x"', 2, null, true] },
  ];
  const header = 'run,seed,held-out exact (fraction),augment,folder';
  assert.equal(comparisonCsv(columns, runs, [1, 0]), `${header}\n"b ""x""",2,,true,"/r/b,c"\na,1,0.5,false,/r/a\n`);
  for (const bad of [[0, 0], [0], [0, 2], ['1', '0'], undefined, [0.5, 1]]) {
    assert.equal(comparisonCsv(columns, runs, bad), `${header}\na,1,0.5,false,/r/a\n"b ""x""",2,,true,"/r/b,c"\n`, `order ${JSON.stringify(bad)}: the given order`);
  }
});

test('uniqueRunDirs: each folder once by resolved path, at most MAX_COMPARE_RUNS, the rest counted', () => {
  const many = Array.from({ length: MAX_COMPARE_RUNS + 3 }, (_, i) => `/runs/r${i}`);
  const u = uniqueRunDirs(['/runs/r0', '/runs/x/../r0', ...many]);
  assert.equal(u.dirs.length, MAX_COMPARE_RUNS);
  assert.equal(u.dirs[0], path.resolve('/runs/r0'));
  assert.equal(new Set(u.dirs).size, u.dirs.length);
  assert.equal(u.dropped, 3);
});

test('MetricsWatch: a run whose log grows (or whose folder gets a new evaluation) is handed over once per change', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hrm-compare-watch-'));
  const run = path.join(root, 'run');
  mkdirSync(run);
  writeFileSync(path.join(run, 'metrics.jsonl'), `${metricsLine(1)}\n`);
  const changed: string[] = [];
  let active = true;
  const watch = new MetricsWatch({
    dirs: () => [run], active: () => active, stamp: runStamp, intervalMs: 3_600_000,
    changed: async (dir) => { changed.push(dir); watch.seen(dir, await runStamp(dir)); },
  });
  try {
    watch.seen(run, await runStamp(run));
    await watch.check();
    assert.deepEqual(changed, [], 'nothing changed since it was read');
    appendFileSync(path.join(run, 'metrics.jsonl'), `${metricsLine(2)}\n`);
    await watch.check();
    assert.deepEqual(changed, [run], 'the log grew');
    await watch.check();
    assert.equal(changed.length, 1, 'once per change');
    // An .eval.json renamed into the folder (as the engine writes it) changes the folder's time.
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path.join(root, 'tmp.json'), '{}');
    renameSync(path.join(root, 'tmp.json'), path.join(run, 'step-000002.eval.json'));
    await watch.check();
    assert.equal(changed.length, 2, 'the new evaluation');
    appendFileSync(path.join(run, 'metrics.jsonl'), `${metricsLine(3)}\n`);
    active = false;
    await watch.check();
    assert.equal(changed.length, 2, 'not looked at while inactive (the panel hidden)');
    active = true;
    await watch.check();
    assert.equal(changed.length, 3);
  } finally {
    watch.dispose();
    rmSync(root, { recursive: true, force: true });
  }
});
