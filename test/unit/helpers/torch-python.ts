/**
 * The Python interpreter the PyTorch-worker tests run: the product's own choice (engine/torch/python-discovery.ts:
 * env HRM_LENS_PYTHON when set, else the first of python3, /usr/bin/python3 and python that can `import torch`).
 * Without one the tests fail with a message saying so (CI installs PyTorch; the product itself works without it).
 */
import { after } from 'node:test';
import { findTorchPythonSync } from '../../../engine/torch/python-discovery';
import { TorchWorker, type TorchWorkerOptions } from '../../../engine/torch/worker-client';

export function torchPython(): string {
  try {
    return findTorchPythonSync();
  } catch (e) {
    throw new Error(`these tests need a Python with PyTorch and numpy (install python3-torch, or set HRM_LENS_PYTHON to an interpreter that has it): ${(e as Error).message}`);
  }
}

/** A worker on the CPU with the test interpreter, disposed after the file's tests. */
export function useTorchWorker(opts: TorchWorkerOptions = {}): () => TorchWorker {
  let worker: TorchWorker | undefined;
  after(async () => { await worker?.dispose(); });
  return () => (worker ??= new TorchWorker({ python: torchPython(), device: 'cpu', threads: 1, ...opts }));
}
