/**
 * The Python package ships and is found: the .vsix (`vsce ls`, which reads .vscodeignore) holds
 * python/hrm_lens_torch/*.py and nothing else of python/ (no caches); the engine finds the package relative to its
 * own location, in a repository checkout (source tree or dist/) and in an installed extension (<ext>/dist/*.js →
 * <ext>/python), never in a python/ folder outside the installation; and the shipped files alone run the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TorchWorker, defaultPackageDir, packageDirFor } from '../../engine/torch/worker-client';
import { TorchModel } from '../../engine/torch/torch-model';
import { torchPython } from './helpers/torch-python';

const root = path.resolve(__dirname, '..', '..');

/** The files `vsce ls` puts in the .vsix. */
function packagedFiles(): string[] {
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  return execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8', timeout: 300_000 })
    .split('\n').map((l) => l.trim()).filter(Boolean);
}

function touch(file: string, text = ''): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

test('the package is found beside the installation: source tree, dist/ bundle, installed extension; never above it', () => {
  assert.equal(defaultPackageDir(), path.join(root, 'python'));
  assert.equal(packageDirFor(path.join(root, 'engine', 'torch', 'worker-client.ts')), path.join(root, 'python'));
  assert.equal(packageDirFor(path.join(root, 'dist', 'engine.js')), path.join(root, 'python'));

  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-package-dir-'));
  // An installed extension under an extensions folder that also holds a planted python/ package.
  const ext = path.join(tmp, 'extensions', 'hrm-lens.hrm-lens-0.2.0');
  touch(path.join(ext, 'package.json'), '{"name":"hrm-lens"}');
  touch(path.join(ext, 'dist', 'engine.js'));
  touch(path.join(tmp, 'extensions', 'python', 'hrm_lens_torch', 'worker.py'), 'raise SystemExit("planted")\n');
  touch(path.join(tmp, 'python', 'hrm_lens_torch', 'worker.py'), 'raise SystemExit("planted")\n');
  // Without its own python/ the bundle names <ext>/python (the worker then fails naming it), not a planted one.
  assert.equal(packageDirFor(path.join(ext, 'dist', 'engine.js')), path.join(ext, 'python'));
  touch(path.join(ext, 'python', 'hrm_lens_torch', 'worker.py'));
  assert.equal(packageDirFor(path.join(ext, 'dist', 'engine.js')), path.join(ext, 'python'));
  assert.equal(packageDirFor(path.join(ext, 'dist', 'cli.js')), path.join(ext, 'python'));
});

test('the .vsix ships python/hrm_lens_torch/*.py and no caches; those files alone run the worker in an installed layout', async () => {
  const files = packagedFiles();
  const python = files.filter((f) => f.startsWith('python/'));
  for (const f of ['__init__.py', 'worker.py', 'framing.py', 'model.py', 'config.py', 'checkpoint.py']) {
    assert.ok(python.includes(`python/hrm_lens_torch/${f}`), `python/hrm_lens_torch/${f} is not in the .vsix (${python.join(', ') || 'no python/ files'})`);
  }
  assert.deepEqual(python.filter((f) => !/^python\/hrm_lens_torch\/[A-Za-z0-9_]+\.py$/.test(f)), [], 'only the package\'s .py files');

  // Lay the shipped files out as an installed extension and run the shipped 4×4 model with them.
  const ext = mkdtempSync(path.join(tmpdir(), 'hrm-installed-'));
  for (const f of [...python, 'package.json']) {
    mkdirSync(path.dirname(path.join(ext, f)), { recursive: true });
    copyFileSync(path.join(root, f), path.join(ext, f));
  }
  const pkg = packageDirFor(path.join(ext, 'dist', 'engine.js'));
  assert.equal(pkg, path.join(ext, 'python'));
  const worker = new TorchWorker({ python: torchPython(), device: 'cpu', threads: 1, packageDir: pkg });
  try {
    const model = await TorchModel.fromCheckpoint(path.join(root, 'models', 'tiny-4x4.safetensors'), worker);
    let segments = 0;
    await model.run([Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 2 : 1))], { segments: 2 }, () => { segments++; });
    assert.equal(segments, 2);
  } finally {
    await worker.dispose();
  }
});
