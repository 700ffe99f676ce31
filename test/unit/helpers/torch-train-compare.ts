/**
 * Comparing what the torch trainer and the engine's trainer wrote for the same run: loss parts of a step (metrics.jsonl)
 * and a checkpoint with its optimizer state (weights, moments, EMA shadow and raw weights, slots).
 */
import assert from 'node:assert/strict';
import { maxAbs, maxAbsDiff, metricsOf, tensorsOf } from './train-cli';

/** Loss parts agree to 1e-5 relative (float32 sums in another order); the same slots halted, the same cells right. */
export function assertLossesMatch(dirA: string, dirB: string, step: number): void {
  const a = metricsOf(dirA).find((r) => r.step === step);
  const b = metricsOf(dirB).find((r) => r.step === step);
  assert.ok(a && b, `step ${step} logged by both`);
  for (const k of ['loss', 'lmLoss', 'qHaltLoss', 'qContinueLoss'] as const) {
    assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * Math.abs(b[k]) + 1e-7, `${k} at step ${step}: torch ${a[k]}, engine ${b[k]}`);
  }
  assert.equal(a.halted, b.halted, 'the same slots halted');
  assert.equal(a.batchCellAccuracy, b.batchCellAccuracy, 'the same cells right');
}

export interface CheckpointTolerance {
  /** Largest |Δ| of a weight (default 1e-4). */
  weights?: number;
  /** Largest |Δ| of an optimizer array relative to its largest |value| (default 1e-4). */
  optimizer?: number;
}

/** The largest weight difference found, for reports. */
export interface CheckpointComparison { worstWeight: number; worstOptimizer: number }

/**
 * Weights within `weights`; optimizer arrays within `optimizer` of their scale (EMA shadow and raw weights included);
 * slots identical (carry within 1e-3); the same step, draw counter and Adam step counts.
 */
export async function assertCheckpointsMatch(torchFile: string, engineFile: string, tol: CheckpointTolerance = {}): Promise<CheckpointComparison> {
  const wTol = tol.weights ?? 1e-4;
  const oTol = tol.optimizer ?? 1e-4;
  const t = await tensorsOf(torchFile);
  const e = await tensorsOf(engineFile);
  assert.deepEqual([...t.tensors.keys()].sort(), [...e.tensors.keys()].sort(), 'the same weight names');
  let worstWeight = 0;
  for (const [name, w] of e.tensors) {
    const d = maxAbsDiff(t.tensors.get(name) as never, w);
    worstWeight = Math.max(worstWeight, d);
    assert.ok(d <= wTol, `weight ${name}: ${d}`);
  }
  assert.equal(JSON.parse(t.metadata.config).hidden, JSON.parse(e.metadata.config).hidden);
  const to = await tensorsOf(torchFile.replace(/\.safetensors$/, '.optim.safetensors'));
  const eo = await tensorsOf(engineFile.replace(/\.safetensors$/, '.optim.safetensors'));
  assert.deepEqual([...to.tensors.keys()].sort(), [...eo.tensors.keys()].sort(), 'the same optimizer arrays');
  let worstOptimizer = 0;
  for (const [name, a] of eo.tensors) {
    const b = to.tensors.get(name) as never;
    assert.equal(to.tensors.get(name)?.dtype, a.dtype, `${name} dtype`);
    if (/^slots\/(tokens|labels|steps|halted)$/.test(name)) assert.equal(maxAbsDiff(b, a), 0, `${name} identical`);
    else if (/^slots\/z[HL]$/.test(name)) assert.ok(maxAbsDiff(b, a) <= 1e-3, `${name}: ${maxAbsDiff(b, a)}`);
    else {
      const d = maxAbsDiff(b, a);
      worstOptimizer = Math.max(worstOptimizer, d / (maxAbs(a) || 1));
      assert.ok(d <= oTol * maxAbs(a) + 1e-9, `${name}: ${d} (scale ${maxAbs(a)})`);
    }
  }
  const ts = JSON.parse(to.metadata.state) as { step: number; slots: { drawCounter: number }; adam: { steps: Record<string, number> } };
  const es = JSON.parse(eo.metadata.state) as typeof ts;
  assert.equal(ts.step, es.step);
  assert.equal(ts.slots.drawCounter, es.slots.drawCounter, 'the same draws taken');
  assert.deepEqual(ts.adam.steps, es.adam.steps);
  return { worstWeight, worstOptimizer };
}
