/**
 * The options `--backend torch` adds to an analysis command (light: registering them loads neither TF.js nor the model code).
 * The worker itself is in engine/torch/; the actions are in torch-run.ts.
 *
 * A command runs on the PyTorch worker only if it registered these options; any other command given
 * `--backend torch` (on the command line or by env HRM_LENS_BACKEND) is refused before it runs (refuseTorchBackend).
 */
import type { Command } from 'commander';
import { TORCH_DEVICES, TORCH_DTYPES } from '../torch/torch-params';
import { TORCH_BACKEND } from '../rpc/backend-names';

/** --python, --device, --dtype as parsed by commander. */
export interface TorchCliFlags {
  python?: string;
  device?: string;
  dtype?: string;
}

/** Adds --python, --device and --dtype (used with --backend torch) to a command. */
export function addTorchOptions(cmd: Command): Command {
  return cmd
    .option('--python <path>', 'with --backend torch: the Python interpreter that has PyTorch (default: env HRM_LENS_PYTHON, else the first of python3, /usr/bin/python3, python that can import torch)')
    .option('--device <name>', `with --backend torch: ${TORCH_DEVICES.join(' | ')} (auto: CUDA, else Apple MPS, else CPU)`, 'auto')
    .option('--dtype <name>', `with --backend torch: ${TORCH_DTYPES.join(' | ')}`, 'fp32');
}

/** Whether `cmd` runs on the PyTorch worker (it registered addTorchOptions). */
export function supportsTorch(cmd: Command): boolean {
  return cmd.options.some((o) => o.long === '--python');
}

/** Throws a clear error when `cmd` is given --backend torch but cannot run on the PyTorch worker (no silent fallback). */
export function refuseTorchBackend(cmd: Command): void {
  const backend = (cmd.opts() as { backend?: unknown }).backend;
  if (backend !== TORCH_BACKEND || supportsTorch(cmd)) return;
  const fromEnv = cmd.getOptionValueSource('backend') !== 'cli' && process.env.HRM_LENS_BACKEND === TORCH_BACKEND;
  throw new Error(`${cmd.name()}: --backend torch is not available for this command (the PyTorch worker runs the forward passes of inspect, classify, probe, ensemble, landscape, kick and patch); `
    + `choose auto, wasm, cpu, tensorflow or webgpu${fromEnv ? ' (torch came from env HRM_LENS_BACKEND)' : ''}`);
}
