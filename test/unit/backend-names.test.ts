/**
 * The backend names are spelled out once (engine/rpc/backend-names.ts): the hrmLens.backend setting offers exactly
 * those and then torch, in that order, each with its description; engine/backend.ts accepts the TF.js set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_NAMES, SETTING_BACKENDS, TORCH_BACKEND } from '../../engine/rpc/backend-names';

const root = path.resolve(__dirname, '..', '..');

interface Setting { enum?: string[]; enumDescriptions?: string[]; default?: unknown }

function backendSetting(): Setting {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, Setting> } | { properties: Record<string, Setting> }[] } };
  const sections = [pkg.contributes.configuration].flat();
  const found = sections.map((c) => c.properties['hrmLens.backend']).find((s) => s !== undefined);
  assert.ok(found, 'package.json contributes no hrmLens.backend');
  return found;
}

test('package.json hrmLens.backend enum = the engine\'s BACKEND_NAMES then torch (same order), each described; default auto', () => {
  const s = backendSetting();
  assert.deepEqual(s.enum, [...SETTING_BACKENDS]);
  assert.deepEqual(SETTING_BACKENDS, [...BACKEND_NAMES, TORCH_BACKEND]);
  assert.equal(s.enumDescriptions?.length, SETTING_BACKENDS.length, 'one description per backend');
  assert.match(s.enumDescriptions?.at(-1) ?? '', /PyTorch/);
  assert.equal(s.default, 'auto');
});

test('engine/backend.ts accepts exactly the backend names', async () => {
  const { BACKEND_CHOICES } = await import('../../engine/backend');
  assert.deepEqual([...BACKEND_CHOICES].sort(), [...BACKEND_NAMES].sort());
});
