/**
 * The training dashboard's data: the trainer's per-segment exact fractions (real training steps on wasm), reading a
 * run's metrics.jsonl back (torn lines skipped and counted, a resumed run's repeated steps replaced), and the
 * webview's series maths (smoothing, bucketing, the step × segment matrix).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { makeConfig } from '../../engine/model';
import { Trainer } from '../../engine/train/trainer';
import { getPreset } from '../../engine/train/presets';
import { readMetricsHistory } from '../../extension/panels/training-history';
import { buckets, downsample, segmentMatrix, smooth } from '../../webview/training-series';
import type { TrainPoint } from '../../webview/protocol';

test('segmentExact: one entry per ACT segment; at step 1 every slot is at its first segment', { timeout: 120_000 }, async () => {
  await selectBackend({ backend: 'wasm' });
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-dash-'));
  const preset = getPreset('tiny-4x4');
  const model = makeConfig({ ...preset.model, hidden: 16, heads: 2, interMultiple: 16 });
  const trainer = await Trainer.create(dir, {
    preset: 'tiny-4x4', model, train: { ...preset.train, batch: 8, steps: 12 }, seed: 3, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
  });
  try {
    const S = model.haltMaxSteps;
    const first = trainer.trainStep();
    trainer.logMetrics(first);
    assert.equal(first.segmentExact.length, S);
    assert.equal(typeof first.segmentExact[0], 'number');
    assert.deepEqual(first.segmentExact.slice(1), Array(S - 1).fill(null), 'no slot can be past its first segment at step 1');
    let seenLater = false;
    for (let i = 1; i < 12; i++) {
      const m = trainer.trainStep();
      trainer.logMetrics(m);
      for (const v of m.segmentExact) assert.ok(v === null || (v >= 0 && v <= 1), `fraction out of range: ${v}`);
      if (m.segmentExact.slice(1).some((v) => v !== null)) seenLater = true;
    }
    assert.ok(seenLater, 'after a few steps some slots are at segment ≥ 2');
    await trainer.close();

    const history = await readMetricsHistory(dir);
    assert.equal(history.points.length, 12);
    assert.equal(history.skipped, 0);
    assert.deepEqual(history.points.map((p) => p.step), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.equal(history.points[0].segmentExact.length, S);
    assert.deepEqual(history.points[0].segmentExact.slice(1), Array(S - 1).fill(null));

    // A torn last line (the engine writing) and a resumed run repeating steps 11–12.
    const lines = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const again = JSON.parse(lines[11]) as Record<string, unknown>;
    appendFileSync(path.join(dir, 'metrics.jsonl'), `${JSON.stringify({ ...again, loss: 0.125 })}\n{"step": 13, "lo`);
    const reread = await readMetricsHistory(dir);
    assert.equal(reread.points.length, 12);
    assert.equal(reread.skipped, 1);
    assert.equal(reread.points[11].loss, 0.125, 'the later line of a repeated step wins');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('smooth: debiased EMA, nulls kept and skipped; weight 0 is the identity', () => {
  assert.deepEqual(smooth([1, null, 3], 0), [1, null, 3]);
  const s = smooth([2, null, 2, 2], 0.9);
  assert.equal(s[1], null);
  for (const v of [s[0], s[2], s[3]]) assert.ok(v !== null && Math.abs(v - 2) < 1e-12, 'a constant stays constant after debiasing');
  const r = smooth([0, 10], 0.5);
  assert.ok(r[1] !== null && Math.abs(r[1] - 10 * 0.5 / 0.75) < 1e-12);
});

test('buckets cover 0…n without gaps; downsample averages steps and values', () => {
  for (const [n, max] of [[10, 3], [3, 10], [1000, 400], [1, 1]]) {
    const b = buckets(n, max);
    assert.ok(b.length <= max && b.length <= n);
    assert.equal(b[0][0], 0);
    assert.equal(b.at(-1)?.[1], n);
    for (let i = 1; i < b.length; i++) assert.equal(b[i][0], b[i - 1][1]);
  }
  assert.deepEqual(downsample([1, 2, 3, 4], [1, null, 3, 5], 2), [{ x: 2, y: 1 }, { x: 4, y: 4 }]);
});

test('segmentMatrix: per column and segment, the mean of the logged fractions; null where none', () => {
  const pt = (step: number, segmentExact: (number | null)[]): TrainPoint => ({ step, loss: 1, cellAccuracy: 0, exactAccuracy: null, meanSteps: null, segmentExact, stepsPerSecond: null });
  const m = segmentMatrix([pt(1, [0, null]), pt(2, [1, 0.5]), pt(3, [0.5, null]), pt(4, [])], 2, 2);
  assert.equal(m.columns, 2);
  assert.deepEqual(m.steps, [[1, 2], [3, 4]]);
  assert.deepEqual(m.values, [0.5, 0.5, 0.5, null]);
});
