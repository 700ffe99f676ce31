/**
 * What a caller says about the PyTorch worker, in one place for the CLI, the engine's methods and the extension
 * (types only, so that every side may import it; the checks are in torch-params.ts). An analysis request of the engine (inspect, inspect.strip, inspect.latents, probe,
 * ensemble, landscape) that carries `torch` runs its forward passes in the worker; without it, on TF.js.
 */

export type TorchDevice = 'auto' | 'cuda' | 'mps' | 'cpu';
export type TorchDtype = 'fp32' | 'bf16';

/** The `torch` parameter of an analysis request. */
export interface TorchParams {
  /** The interpreter (default: python-discovery.ts's search: env HRM_LENS_PYTHON, else python3, /usr/bin/python3, python). */
  python?: string;
  /** Default auto: CUDA, else Apple MPS, else CPU. */
  device?: TorchDevice;
  /** Default fp32. */
  dtype?: TorchDtype;
}
