/**
 * Native checkpoints written by tests: real weights of a 4×4 model in the on-disk layout, with metadata and tensors
 * a test may corrupt (NaN / ±Inf values, config fields out of range). A TF.js backend must be selected first.
 */
import { writeFileSync } from 'node:fs';
import { TINY_4X4, configToJson, createModel, exportWeights } from '../../../engine/model';
import { encodeSafetensors } from '../../../engine/interop/safetensors';

export type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

/** The PyTorch-layout weights of a freshly initialised TINY_4X4 model. */
export function tinyWeights(seed = 0): Tensors {
  const model = createModel(TINY_4X4, seed);
  try {
    return exportWeights(model);
  } finally {
    model.dispose();
  }
}

/**
 * Writes `file` as an HRM Lens checkpoint (step 5): TINY_4X4's config with `configPatch` over it (any JSON, valid or
 * not) and `tensors` (default: tinyWeights()).
 */
export function writeNativeCheckpoint(file: string, configPatch: Record<string, unknown> = {}, tensors: Tensors = tinyWeights()): string {
  const config = { ...configToJson(TINY_4X4), ...configPatch };
  writeFileSync(file, encodeSafetensors(tensors, {
    format: 'hrm-lens', format_version: '1', step: '5', config: JSON.stringify(config), meta: '{}',
  }));
  return file;
}

/** A copy of `tensors` with `values` written at the start of tensor `name`. */
export function withValues(tensors: Tensors, name: string, values: number[]): Tensors {
  const out: Tensors = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
  const t = out.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  t.data.set(values, 0);
  return out;
}
