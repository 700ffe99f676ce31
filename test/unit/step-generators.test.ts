// The step generators' drivers (engine/util/steps.ts): a step that waits for a promise gets its value back under
// runStepsAsync; a rejected promise ends the run with its error and the generator's cleanup runs; runSteps refuses a
// computation that waits (its cleanup runs too); an aborted signal stops a run between steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, runStepsAsync, type Steps, waitFor } from '../../engine/util/steps';

function* counting(values: readonly Promise<number>[], log: string[]): Steps<number> {
  let sum = 0;
  try {
    for (const v of values) {
      sum += yield* waitFor(v);
      yield;
    }
    return sum;
  } finally {
    log.push('cleanup');
  }
}

test('runStepsAsync hands each awaited value back to the step that waited for it', async () => {
  const log: string[] = [];
  const late = new Promise<number>((resolve) => setTimeout(() => resolve(30), 20));
  assert.equal(await runStepsAsync(counting([Promise.resolve(1), late, Promise.resolve(200)], log), undefined, 'sum'), 231);
  assert.deepEqual(log, ['cleanup']);
});

test('a rejected wait ends the run with its error, after the generator\'s cleanup', async () => {
  const log: string[] = [];
  await assert.rejects(runStepsAsync(counting([Promise.resolve(1), Promise.reject(new Error('worker died'))], log), undefined, 'sum'), /worker died/);
  assert.deepEqual(log, ['cleanup']);
});

test('runSteps refuses a computation that waits; plain steps still run to the end', () => {
  const log: string[] = [];
  assert.throws(() => runSteps(counting([Promise.reject(new Error('never awaited'))], log)), /driven with runStepsAsync/);
  assert.deepEqual(log, ['cleanup']);
  assert.equal(runSteps(counting([], log)), 0);
});

test('an aborted signal stops the run between steps with an AbortError', async () => {
  const log: string[] = [];
  const ac = new AbortController();
  const slow = new Promise<number>((resolve) => setTimeout(() => { ac.abort(); resolve(5); }, 10));
  await assert.rejects(runStepsAsync(counting([slow, Promise.resolve(1)], log), ac.signal, 'sum'), (e: Error) => e.name === 'AbortError' && /sum cancelled/.test(e.message));
  assert.deepEqual(log, ['cleanup']);
});
