/**
 * The values and checks of the `torch` parameter (engine/torch/torch-protocol.ts holds its types): the devices and
 * dtypes the worker accepts, and the check the engine's dispatcher runs on every request that carries it.
 */
import type { TorchDevice, TorchDtype } from './torch-protocol';

export const TORCH_DEVICES: readonly TorchDevice[] = ['auto', 'cuda', 'mps', 'cpu'];
export const TORCH_DTYPES: readonly TorchDtype[] = ['fp32', 'bf16'];

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
