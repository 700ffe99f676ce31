/**
 * A copy-free `Identity` kernel for the wasm backend: the output shares the input's buffer (its reference count goes
 * up), as the cpu backend's Identity and the wasm backend's own Reshape do.
 *
 * tfjs-backend-wasm 4.22's Identity copies the whole tensor. TF.js runs it for every tensor it keeps for a gradient
 * (`saveTensorsForBackwardMode`, customGrad's `save`) and for tf.clone: ~150 copies of up to [1312, 512] floats per
 * h128 b32 training step, ~1 % of the step. No kernel writes into an existing tensor's buffer (outputs are always new
 * buffers; Variable.assign swaps buffers), so sharing is safe; strings keep the original kernel.
 */
import type { tf } from '../tf';
import { overrideWasmKernel } from './override-kernel';

interface WasmBackendLike {
  incRef(dataId: object): void;
}

let installed = false;

/** Replaces the wasm Identity kernel once per process (idempotent). Call after the wasm backend is registered. */
export function installWasmIdentity(): void {
  if (installed) return;
  installed = overrideWasmKernel('Identity', (original) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
