/**
 * Which interpreter runs the PyTorch worker (engine/torch/python-discovery.ts), one definition for the CLI, the
 * engine process and the tests: a named interpreter is used as given (the argument before env HRM_LENS_PYTHON);
 * otherwise the first candidate that can import torch, each probed once per process, in the package's folder; with
 * none, an error listing every candidate and what it lacked. The candidates here are small shell scripts standing for
 * interpreters (one without torch, one without numpy, one that has both), plus a path that does not exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTorchPython, findTorchPythonSync, namedPython, probePython } from '../../engine/torch/python-discovery';
import { TorchUnavailableError, defaultPackageDir } from '../../engine/torch/worker-client';
import { torchPython } from './helpers/torch-python';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-python-discovery-'));

/** A fake interpreter: logs each call (and its working directory) to `<name>.calls`, then prints / fails as told. */
function fakePython(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\npwd >> "${file}.calls"\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}
const calls = (file: string): string[] => {
  try {
    return readFileSync(`${file}.calls`, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const missing = path.join(dir, 'no-such-python');
const noTorch = fakePython('python-no-torch', 'echo "Traceback (most recent call last):" >&2\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1');
const noNumpy = fakePython('python-no-numpy', 'echo "ModuleNotFoundError: No module named \'numpy\'" >&2\nexit 1');
const good = fakePython('python-with-torch', 'echo 2.3.1');

test('a named interpreter is used as given: the argument, else env HRM_LENS_PYTHON; none named: the search', () => {
  assert.equal(namedPython('/opt/py/bin/python', { HRM_LENS_PYTHON: '/env/python' }), '/opt/py/bin/python');
  assert.equal(namedPython(undefined, { HRM_LENS_PYTHON: '/env/python' }), '/env/python');
  assert.equal(namedPython('', { HRM_LENS_PYTHON: '' }), undefined);
  assert.equal(namedPython(undefined, {}), undefined);
});

test('the search takes the first candidate that can import torch and numpy, probing each once per process, in the package folder', async () => {
  const candidates = [missing, noTorch, noNumpy, good];
  assert.equal(await findTorchPython(undefined, { env: {}, candidates }), good);
  assert.equal(await findTorchPython(undefined, { env: {}, candidates }), good);
  assert.equal(findTorchPythonSync(undefined, { env: {}, candidates }), good, 'the synchronous search agrees (from the same cache)');
  for (const f of [noTorch, noNumpy, good]) assert.equal(calls(f).length, 1, `${path.basename(f)} probed once`);
  assert.equal(realpathSync(calls(good)[0]), realpathSync(defaultPackageDir()), 'the probe runs in the package folder, not the working directory');
  assert.deepEqual(await probePython(good), { python: good, ok: true, torch: '2.3.1' });
  // A named interpreter is not probed: the worker's hello says what it lacks.
  assert.equal(await findTorchPython(noTorch, { env: {}, candidates }), noTorch);
  assert.equal(calls(noTorch).length, 1);
});

test('no candidate can import torch: the error lists each one and what it lacked', async () => {
  const candidates = [missing, noTorch, noNumpy];
  for (const find of [() => findTorchPython(undefined, { env: {}, candidates }), async () => findTorchPythonSync(undefined, { env: {}, candidates })]) {
    await assert.rejects(find(), (e: Error) => {
      assert.ok(e instanceof TorchUnavailableError, e.name);
      assert.match(e.message, /no Python interpreter with PyTorch was found/);
      assert.ok(e.message.includes(`${missing}: not found`), e.message);
      assert.ok(e.message.includes(`${noTorch}: cannot import torch (ModuleNotFoundError: No module named 'torch')`), e.message);
      assert.ok(e.message.includes(`${noNumpy}: cannot import numpy`), e.message);
      assert.match(e.message, /--python PATH, env HRM_LENS_PYTHON, or the setting hrmLens\.pythonPath/);
      return true;
    });
  }
});

test('the default search finds this machine\'s Python with PyTorch (the one the worker tests use)', async () => {
  const python = torchPython();
  assert.equal(await findTorchPython(), python);
  const probe = await probePython(python);
  assert.equal(probe.ok, true, probe.reason);
  assert.match(probe.torch ?? '', /^\d+\.\d+/);
});
