/**
 * The backend step of "HRM: Train" (no vscode here, so the unit tests read it): when the engine's `torch.info` found a
 * Python with PyTorch, the TF.js backends ("TF.js (wasm)", …) are offered beside "PyTorch (<python>, torch <version>,
 * cuda|cpu)", then the number of processes; without one, the TF.js backends exactly as before.
 */
import type { BackendName } from '../../engine/protocol';
import type { TorchInfo } from '../../engine/torch/torch-protocol';
import { MAX_TRAIN_PROCESSES } from '../../engine/torch/torch-params';

/** What the backend step chose. */
export type TrainBackendChoice = { kind: 'tfjs'; backend: BackendName } | { kind: 'torch' };

export interface TrainBackendItem {
  label: string;
  description?: string;
  choice: TrainBackendChoice;
}

export type TorchOffer = TorchInfo & { available: true };

/** The PyTorch item's label: the interpreter, torch's version and where it would train. */
export function torchLabel(info: TorchOffer): string {
  return `PyTorch (${info.python}, torch ${info.torch}, ${info.cuda ? 'cuda' : 'cpu'})`;
}

/**
 * The backend step's items. Without `torch`, the TF.js backends labelled by name, the setting's first (the flow
 * without PyTorch). With it, "TF.js (<name>)" for each and the PyTorch item, which comes first when hrmLens.backend
 * is torch, else last.
 */
export function trainBackendItems(backends: readonly BackendName[], current: BackendName, torch?: TorchOffer, torchFirst = false): TrainBackendItem[] {
  const setting = 'the hrmLens.backend setting';
  const tfjs = [...backends].sort((a, b) => Number(b === current) - Number(a === current)).map((b): TrainBackendItem => (torch
    ? { label: `TF.js (${b})`, description: `in the engine process${b === current && !torchFirst ? ` · ${setting}` : ''}`, choice: { kind: 'tfjs', backend: b } }
    : { label: b, description: b === current ? setting : undefined, choice: { kind: 'tfjs', backend: b } }));
  if (!torch) return tfjs;
  const item: TrainBackendItem = {
    label: torchLabel(torch), choice: { kind: 'torch' },
    description: `under torchrun${torch.cudaDevices > 0 ? `, ${torch.cudaDevices} CUDA device${torch.cudaDevices === 1 ? '' : 's'}` : ''}${torchFirst ? ` · ${setting}` : ''}`,
  };
  return torchFirst ? [item, ...tfjs] : [...tfjs, item];
}

/** Why `text` is not a process count for a batch of `batch` slots (undefined when it is one). */
export function processesProblem(text: string, batch: number): string | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return 'a whole number ≥ 1';
  const n = Number(t);
  if (n < 1 || n > MAX_TRAIN_PROCESSES) return `a whole number in 1…${MAX_TRAIN_PROCESSES}`;
  if (batch % n !== 0) return `each process owns batch / processes slots: a divisor of the batch (${batch})`;
  return undefined;
}
