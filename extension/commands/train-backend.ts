/**
 * The backend step of "HRM: Train" (no vscode here, so the unit tests read it): when the engine's `torch.info` found a
 * Python with PyTorch, the TF.js backends ("TF.js (wasm)", …) are offered beside "PyTorch (<python>, torch <version>,
 * cuda|cpu)", then the number of processes; without one, the TF.js backends exactly as before. "HRM: Resume Training"
 * asks the same step (when PyTorch was found) with the run's own backend first when that is PyTorch.
 */
import type { BackendName } from '../../engine/protocol';
import { TORCH_BACKEND } from '../../engine/rpc/backend-names';
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

const SETTING = 'the hrmLens.backend setting';
const RUN_BACKEND = 'this run\'s backend';

const joined = (...parts: (string | undefined)[]): string | undefined => parts.filter((p) => p).join(' · ') || undefined;

/**
 * The items in order: the TF.js backends (the setting's first) and, with `torch`, the PyTorch item before them
 * (`torchFirst`) or after; `note` gives each item's " · …" remark (which is the setting, which the run's backend).
 */
function orderedItems(backends: readonly BackendName[], current: BackendName, torch: TorchOffer | undefined, torchFirst: boolean,
  note: (choice: TrainBackendChoice) => string | undefined): TrainBackendItem[] {
  const tfjs = [...backends].sort((a, b) => Number(b === current) - Number(a === current)).map((b): TrainBackendItem => {
    const choice: TrainBackendChoice = { kind: 'tfjs', backend: b };
    return torch
      ? { label: `TF.js (${b})`, description: joined('in the engine process', note(choice)), choice }
      : { label: b, description: note(choice), choice };
  });
  if (!torch) return tfjs;
  const choice: TrainBackendChoice = { kind: 'torch' };
  const item: TrainBackendItem = {
    label: torchLabel(torch), choice,
    description: joined(`under torchrun${torch.cudaDevices > 0 ? `, ${torch.cudaDevices} CUDA device${torch.cudaDevices === 1 ? '' : 's'}` : ''}`, note(choice)),
  };
  return torchFirst ? [item, ...tfjs] : [...tfjs, item];
}

/**
 * The backend step's items. Without `torch`, the TF.js backends labelled by name, the setting's first (the flow
 * without PyTorch). With it, "TF.js (<name>)" for each and the PyTorch item, which comes first when hrmLens.backend
 * is torch, else last.
 */
export function trainBackendItems(backends: readonly BackendName[], current: BackendName, torch?: TorchOffer, torchFirst = false): TrainBackendItem[] {
  const onTorch = torch !== undefined && torchFirst;
  return orderedItems(backends, current, torch, torchFirst,
    (c) => ((c.kind === 'torch' ? onTorch : !onTorch && c.backend === current) ? SETTING : undefined));
}

/**
 * The backend step of "HRM: Resume Training" (asked only when PyTorch was found): the Train step's items, PyTorch
 * first when the run was trained with it (`runBackend`, run.json's spec.backend.name, is torch), else the setting's
 * TF.js backend first; the setting's TF.js backend and the run's own backend say so.
 */
export function resumeBackendItems(backends: readonly BackendName[], current: BackendName, torch: TorchOffer, runBackend: string | undefined): TrainBackendItem[] {
  const own = (c: TrainBackendChoice): boolean => (c.kind === 'torch' ? runBackend === TORCH_BACKEND : c.backend === runBackend);
  return orderedItems(backends, current, torch, runBackend === TORCH_BACKEND,
    (c) => joined(c.kind === 'tfjs' && c.backend === current ? SETTING : undefined, own(c) ? RUN_BACKEND : undefined));
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
