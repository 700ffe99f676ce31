/** The ensemble report's short checkpoint labels (webview/checkpoint-labels.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointLabels, fitTail } from '../../webview/checkpoint-labels';

test('checkpointLabels: the last parts when they tell the checkpoints apart, else the whole names', () => {
  assert.deepEqual(checkpointLabels(['run-a/step-000010', 'run-a/step-000020', 'models/tiny-4x4.safetensors']), ['step-000010', 'step-000020', 'tiny-4x4']);
  assert.deepEqual(checkpointLabels(['run-a/step-000010', 'run-b/step-000010']), ['run-a/step-000010', 'run-b/step-000010']);
  assert.deepEqual(checkpointLabels([]), []);
});

test('fitTail: a label that fits is kept; a longer one keeps its tail behind an ellipsis', () => {
  assert.equal(fitTail('step-000040', 11), 'step-000040');
  assert.equal(fitTail('run-a/step-000040', 11), '…tep-000040');
  assert.equal(fitTail('run-a/step-000040', 11).length, 11);
  assert.equal(fitTail('abcdef', 0.5), '…f');
});
