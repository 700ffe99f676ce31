/**
 * Replacing one of tfjs-backend-wasm's kernels by this project's: the new kernel keeps the original's setup and dispose
 * functions and gets the original kernel function to fall back to for the inputs it does not handle. Used by the
 * copy-free Slice and Identity, the own GEMM (BatchMatMul) and the SIMD Transpose.
 */
import { tf } from '../tf';

/**
 * Registers `make(original)` as the wasm kernel `kernelName` in place of the current one; false (nothing changed) when
 * the backend has no such kernel. Call once per process, after the wasm backend is registered.
 */
export function overrideWasmKernel(kernelName: string, make: (original: tf.KernelFunc) => tf.KernelFunc): boolean {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) return false;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName, backendName: 'wasm', setupFunc: original.setupFunc, disposeFunc: original.disposeFunc,
    kernelFunc: make(original.kernelFunc),
  });
  return true;
}
