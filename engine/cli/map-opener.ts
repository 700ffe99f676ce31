/**
 * How the interventions' CLI commands (`hrm-lens kick`, `hrm-lens patch`) open their checkpoints: with
 * `--backend torch` on a PyTorch worker started for the command (torch-run.ts; --python, --device, --dtype, --threads),
 * otherwise on TF.js with the flags' backend.
 */
import type { MapOpener } from '../intervene/trajectory';
import { TORCH_BACKEND } from '../rpc/backend-names';
import { Progress } from './progress';
import type { TorchFlags } from './torch-run';
import { backendFromFlags } from './train-run';

type OnProgress = (e: { done: number; total: number }) => void;

/** Runs `run` with the opener the flags ask for (undefined: TF.js, the runs' default); the worker is stopped after. */
async function withMapOpener<T>(flags: TorchFlags, run: (open: MapOpener | undefined) => Promise<T>): Promise<T> {
  if (flags.backend !== TORCH_BACKEND) {
    await backendFromFlags(flags);
    return run(undefined);
  }
  const [{ withTorchWorker }, { openTorchMap }] = await Promise.all([import('./torch-run'), import('../torch/torch-map')]);
  return withTorchWorker(flags, (worker) => run((file) => openTorchMap(file, worker)));
}

/** withMapOpener with a progress line on stderr (row-segments) for the whole run. */
export function withMapOpenerAndProgress<T>(flags: TorchFlags, label: string, run: (open: MapOpener | undefined, onProgress: OnProgress) => Promise<T>): Promise<T> {
  return withMapOpener(flags, async (open) => {
    const progress = new Progress({ label, unit: 'segments' });
    const result = await run(open, (e) => progress.update(e.done, e.done / e.total));
    progress.done();
    return result;
  });
}
