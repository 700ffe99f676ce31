/**
 * The shipped 4×4 model (models/tiny-4x4.safetensors) on the wasm backend for a test file: `useShippedModel()` at
 * the top level loads it before the file's tests and disposes it after them; call the returned getter in a test.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { selectBackend } from '../../../engine/backend';
import type { HrmModel } from '../../../engine/model';
import { loadModel } from '../../../engine/train/load-model';

export const SHIPPED_CHECKPOINT = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-4x4.safetensors');

export function useShippedModel(): () => HrmModel {
  let model: HrmModel | undefined;
  before(async () => {
    await selectBackend({ backend: 'wasm' });
    model = (await loadModel(SHIPPED_CHECKPOINT)).model;
  });
  after(() => model?.dispose());
  return () => {
    assert.ok(model, 'the shipped model was not loaded');
    return model;
  };
}
