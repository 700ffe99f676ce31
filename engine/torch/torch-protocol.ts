/**
 * What a caller says about the PyTorch worker, in one place for the CLI, the engine's methods and the extension
 * (light: no process, no TF.js). An analysis request of the engine (inspect, inspect.strip, inspect.latents, probe,
 * ensemble, landscape) that carries `torch` runs its forward passes in the worker; without it, on TF.js.
 */

export type TorchDevice = 'auto' | 'cuda' | 'mps' | 'cpu';
export type TorchDtype = 'fp32' | 'bf16';
export const TORCH_DEVICES: readonly TorchDevice[] = ['auto', 'cuda', 'mps', 'cpu'];
export const TORCH_DTYPES: readonly TorchDtype[] = ['fp32', 'bf16'];

/** The `torch` parameter of an analysis request. */
export interface TorchParams {
  /** The interpreter (default: python-discovery.ts's search: env HRM_LENS_PYTHON, else python3, /usr/bin/python3, python). */
  python?: string;
  /** Default auto: CUDA, else Apple MPS, else CPU. */
  device?: TorchDevice;
  /** Default fp32. */
  dtype?: TorchDtype;
}

/** The longest interpreter path accepted. */
export const MAX_PYTHON_PATH = 4096;

/** Why `v` is not a TorchParams ('' when it is one); messages name the field as `torch.<field>`. */
export function torchParamsProblem(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'torch must be an object { python?, device?, dtype? }';
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'python' && k !== 'device' && k !== 'dtype');
  if (unknown.length) return `torch has unknown fields: ${unknown.join(', ')}`;
  if (o.python !== undefined && (typeof o.python !== 'string' || o.python.length === 0 || o.python.length > MAX_PYTHON_PATH || o.python.includes('\0'))) {
    return `torch.python must be a non-empty path of at most ${MAX_PYTHON_PATH} characters`;
  }
  if (o.device !== undefined && !(TORCH_DEVICES as readonly unknown[]).includes(o.device)) return `torch.device must be one of ${TORCH_DEVICES.join(', ')}`;
  if (o.dtype !== undefined && !(TORCH_DTYPES as readonly unknown[]).includes(o.dtype)) return `torch.dtype must be one of ${TORCH_DTYPES.join(', ')}`;
  return '';
}
