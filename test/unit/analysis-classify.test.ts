// Mode classification over a set with the shipped tiny-4x4 model: counts add up, τ pooled by Otsu or given, the
// per-puzzle evidence matches modes.ts on the same metrics, batch-size independence, no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../engine/tf';
import { useShippedModel } from './helpers/shipped-model';
import { generatePuzzles } from '../../engine/sudoku/generator';
import { classifyPuzzles } from '../../engine/analysis/classify';
import { batchTraceMetrics } from '../../engine/analysis/batch-metrics';
import { REASONING_MODES, classifyModes } from '../../engine/analysis/modes';

const shipped = useShippedModel();

test('classifyPuzzles: counts, τ, evidence equal to modes.ts, batch-size independent, no leaked tensors', () => {
  const puzzles = generatePuzzles({ n: 4, seed: 21 }, 30).map((p, i) => ({ puzzle: p.puzzle, solution: p.solution, id: `p${i}` }));
  const before = tf.memory().numTensors;
  const r = classifyPuzzles(shipped(), puzzles, { segments: 8, batch: 7 });
  const r2 = classifyPuzzles(shipped(), puzzles, { segments: 8, batch: 64 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.puzzles, 30);
  assert.equal(r.segments, 8);
  assert.equal(REASONING_MODES.reduce((s, m) => s + r.counts[m], 0), 30);
  assert.deepEqual(r.entries.map((e) => e.mode), r2.entries.map((e) => e.mode));
  const metrics = batchTraceMetrics(shipped(), puzzles, { segments: 8 });
  const ref = classifyModes(metrics);
  assert.equal(r.tauSource, ref.tauSource);
  assert.ok(Object.is(r.tau, ref.tau) || Math.abs(r.tau - ref.tau) < 1e-12);
  assert.deepEqual(r.entries.map((e) => e.mode), ref.results.map((x) => x.mode));
  for (const m of REASONING_MODES) if (r.counts[m] > 0) assert.equal(r.entries.find((e) => e.id === r.examples[m])?.mode, m);
  assert.ok(r.finalAccuracy > 0.5, `final accuracy ${r.finalAccuracy}`);
  const given = classifyPuzzles(shipped(), puzzles, { segments: 8, tau: 1e-9 });
  assert.equal(given.tauSource, 'given');
  assert.equal(given.counts['non-trivial-failure'], 0); // nothing drifts less than 1e-9
});
