/**
 * The values and checks of the `torch` parameter (engine/torch/torch-protocol.ts holds its types): the devices and
 * dtypes the worker accepts, the devices and process counts a torch training accepts, and the checks the engine's
 * handlers run on every request that carries one.
 */
import type { TorchDevice, TorchDtype, TorchTrainDevice } from './torch-protocol';

export const TORCH_DEVICES: readonly TorchDevice[] = ['auto', 'cuda', 'mps', 'cpu'];
export const TORCH_TRAIN_DEVICES: readonly TorchTrainDevice[] = ['auto', 'cuda', 'cpu'];
/** The most processes a `train` request may ask for on one node (the CLI's --nproc-per-node takes up to 1024). */
export const MAX_TRAIN_PROCESSES = 1024;
export const TORCH_DTYPES: readonly TorchDtype[] = ['fp32', 'bf16'];

/** The longest interpreter path accepted. */
export const MAX_PYTHON_PATH = 4096;

function pythonProblem(v: unknown): string {
  return v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > MAX_PYTHON_PATH || v.includes('\0'))
    ? `torch.python must be a non-empty path of at most ${MAX_PYTHON_PATH} characters` : '';
}

/** Why `v` is not a TorchTrainParams ('' when it is one); messages name the field as `torch.<field>`. */
export function torchTrainParamsProblem(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'torch must be an object { python?, device?, processes? }';
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'python' && k !== 'device' && k !== 'processes');
  if (unknown.length) return `torch has unknown fields: ${unknown.join(', ')}`;
  const python = pythonProblem(o.python);
  if (python) return python;
  if (o.device !== undefined && !(TORCH_TRAIN_DEVICES as readonly unknown[]).includes(o.device)) return `torch.device must be one of ${TORCH_TRAIN_DEVICES.join(', ')} for training`;
  if (o.processes !== undefined && (typeof o.processes !== 'number' || !Number.isSafeInteger(o.processes) || o.processes < 1 || o.processes > MAX_TRAIN_PROCESSES)) {
    return `torch.processes must be an integer in 1…${MAX_TRAIN_PROCESSES}`;
  }
  return '';
}

/** Why `v` is not a TorchParams ('' when it is one); messages name the field as `torch.<field>`. */
export function torchParamsProblem(v: unknown): string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'torch must be an object { python?, device?, dtype? }';
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'python' && k !== 'device' && k !== 'dtype');
  if (unknown.length) return `torch has unknown fields: ${unknown.join(', ')}`;
  const python = pythonProblem(o.python);
  if (python) return python;
  if (o.device !== undefined && !(TORCH_DEVICES as readonly unknown[]).includes(o.device)) return `torch.device must be one of ${TORCH_DEVICES.join(', ')}`;
  if (o.dtype !== undefined && !(TORCH_DTYPES as readonly unknown[]).includes(o.dtype)) return `torch.dtype must be one of ${TORCH_DTYPES.join(', ')}`;
  return '';
}
