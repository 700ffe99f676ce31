/**
 * The shipped models on the wasm backend for a test file: `useShippedModel()` (models/tiny-4x4.safetensors) or
 * `useShippedModels('tiny-4x4', 'hard-6x6')` at the top level loads it before the file's tests and disposes it after them; call
 * the returned getter in a test.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { selectBackend } from '../../../engine/backend';
import type { HrmModel } from '../../../engine/model';
import { loadModel } from '../../../engine/train/load-model';

export const SHIPPED_CHECKPOINT = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-4x4.safetensors');

/** The file of a shipped model by name (e.g. 'hard-6x6'): models/<name>.safetensors. */
export const shippedFile = (name: string): string => path.join(path.dirname(SHIPPED_CHECKPOINT), `${name}.safetensors`);

export function useShippedModel(): () => HrmModel {
  return useShippedModels('tiny-4x4')[0];
}

/**
 * Several shipped models by name (e.g. 'tiny-4x4', 'hard-6x6'), loaded in one hook after the backend is selected
 * once; one getter per name, in order.
 */
export function useShippedModels(...names: string[]): (() => HrmModel)[] {
  const models = new Map<string, HrmModel>();
  before(async () => {
    await selectBackend({ backend: 'wasm' });
    for (const name of names) models.set(name, (await loadModel(path.join(path.dirname(SHIPPED_CHECKPOINT), `${name}.safetensors`))).model);
  });
  after(() => { for (const m of models.values()) m.dispose(); });
  return names.map((name) => () => {
    const model = models.get(name);
    assert.ok(model, `the shipped model ${name} was not loaded`);
    return model;
  });
}
