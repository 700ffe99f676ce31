/**
 * `torch.info`: the interpreter that would train with PyTorch (the one named, else python-discovery.ts's search), its
 * torch version and CUDA devices (train-launch.ts checkTorchPython: torch, torch.distributed and numpy import), or why
 * there is none. A successful answer is kept per interpreter for the process's lifetime; a failed one is asked again.
 */
import { findTorchPython } from './python-discovery';
import { checkTorchPython } from './train-launch';
import type { TorchInfo } from './torch-protocol';
import { boundedMessage } from '../util/errors';

const known = new Map<string, TorchInfo & { available: true }>();

export async function torchInfo(python: string | undefined): Promise<TorchInfo> {
  let found: string;
  try {
    found = await findTorchPython(python);
  } catch (e) {
    return { available: false, python: null, reason: boundedMessage(e) };
  }
  const hit = known.get(found);
  if (hit) return hit;
  try {
    const info = await checkTorchPython(found);
    const answer: TorchInfo & { available: true } = { available: true, python: found, torch: info.torch, cuda: info.cudaDevices > 0, cudaDevices: info.cudaDevices };
    known.set(found, answer);
    return answer;
  } catch (e) {
    return { available: false, python: found, reason: boundedMessage(e) };
  }
}
