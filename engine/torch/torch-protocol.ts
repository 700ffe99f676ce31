/**
 * What a caller says about the PyTorch worker, in one place for the CLI, the engine's methods and the extension
 * (types only, so that every side may import it; the checks are in torch-params.ts). An analysis request of the engine (inspect, inspect.strip, inspect.latents, probe,
 * ensemble, landscape) that carries `torch` runs its forward passes in the worker; without it, on TF.js. A `train`
 * request that carries `torch` (TorchTrainParams) trains with PyTorch under torchrun; `torch.info` says whether there
 * is a PyTorch to train with.
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

/** Devices a torch training runs on ('auto': CUDA when every process of the node gets a device of its own, else CPU). */
export type TorchTrainDevice = 'auto' | 'cuda' | 'cpu';

/**
 * The `torch` parameter of a `train` request: the run is trained by PyTorch under torchrun (engine/torch/torch-train.ts,
 * as `hrm-lens train --backend torch` does); the engine keeps the run folder, the data, the metrics and the held-out
 * evaluation.
 */
export interface TorchTrainParams {
  /** The interpreter (default: python-discovery.ts's search). */
  python?: string;
  /** Default auto. */
  device?: TorchTrainDevice;
  /** Processes (torchrun --nproc_per_node; default 1); the batch must be a multiple of it. */
  processes?: number;
}

/** What `torch.info` found: an interpreter with PyTorch (and torch.distributed), or why there is none. */
export type TorchInfo =
  | { available: true; python: string; torch: string; cuda: boolean; cudaDevices: number }
  | { available: false; python: string | null; reason: string };

/** The PyTorch methods of the engine (engine/rpc/torch-handlers.ts). */
export interface TorchMethods {
  /**
   * The interpreter that would train with PyTorch (`python`, else python-discovery.ts's search), its torch version
   * and CUDA devices; `available: false` with the reason when there is none. Successful answers are kept per
   * interpreter for the engine process's lifetime.
   */
  'torch.info': { params: { python?: string }; result: TorchInfo; progress: never };
}
