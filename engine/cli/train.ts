/**
 * `hrm-lens train`, `hrm-lens eval`: training runs and evaluations from the command line.
 *   hrm-lens train --preset tiny-4x4 [--mixing | --mixing-resample] [--augment] [--steps N] [--seed S] [--backend wasm] [--out DIR]
 *   hrm-lens train --resume DIR [--steps N] [--force-unlock] [--fresh-optimizer]
 *   hrm-lens train --backend torch [--dtype fp32|bf16] [--nproc-per-node N] [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT] …: PyTorch
 *     under torchrun (engine/torch/torch-train.ts), the same run folder; either backend resumes the other's runs.
 * Training writes metrics.jsonl and a TensorBoard event file per process in the run folder (--no-tensorboard: none).
 *   hrm-lens eval --checkpoint F [--data D] [--segments S] [--limit N] [--json] [--save NAME]
 * Ctrl-C stops training cleanly after writing a checkpoint. A run folder that another training writes is refused
 * (its lock file, engine/train/run-lock.ts). The actions live in train-run.ts and are imported on demand, so that
 * `hrm-lens data …` starts without loading TF.js.
 */
import type { Command } from 'commander';
import { presetNames } from '../train/presets';
import type { EvalFlags, TrainFlags } from './train-run';

export function registerTrainCommands(program: Command): void {
  program.command('train')
    .description('train an HRM (a new run, or --resume DIR)')
    .option('--preset <name>', `preset: ${presetNames().join(', ')}`, 'tiny-4x4')
    .option('--resume <dir>', 'continue the run in DIR from its newest checkpoint')
    .option('--fresh-optimizer', 'with --resume: continue from the checkpoint\'s weights with a new optimizer state (a run folder that kept only weights, e.g. a shipped model\'s)')
    .option('--steps <n>', 'total optimizer steps')
    .option('--seed <n>', 'random seed (weights, data, exploration)', '0')
    .option('--mixing', 'data mixing: replace half the draws by their hint twin, one twin per training puzzle fixed for the run (docs/model.md §Data mixing with hint twins)')
    .option('--mixing-resample', 'data mixing with a fresh hint twin drawn per draw (implies --mixing)')
    .option('--augment', 'a random Sudoku symmetry per draw')
    .option('--data <file>', 'train on the puzzles of a dataset file (with answers) instead of generated ones')
    .option('--fixed-set <n>', 'train on a fixed set of N generated puzzles (the paper\'s small-sample regime)')
    .option('--augment-copies <n>', 'N fixed symmetry copies of every puzzle of the fixed set or --data file, one member per draw (the paper: 1000)')
    .option('--batch <n>', 'global batch (slots)')
    .option('--micro-batch <n>', 'gradient accumulation micro-batch')
    .option('--lr <x>', 'peak learning rate')
    .option('--act-continue', 'HRM halting with the continue target: halt when q_halt > q_continue (an extra forward pass per step)')
    .option('--no-act-continue', 'HRM halting without the continue target: halt when q_halt > 0, no continue loss (the reference\'s no_ACT_continue)')
    .option('--checkpoint-every <n>', 'steps between checkpoints')
    .option('--keep-last <n>', 'checkpoints kept')
    .option('--eval-puzzles <n>', 'held-out puzzles generated for the final evaluation')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu (env HRM_LENS_BACKEND), or torch: PyTorch under torchrun', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (threaded wasm, falls back to 1); with --backend torch: torch threads per process')
    .option('--python <path>', 'with --backend torch: the Python interpreter that has PyTorch (default: env HRM_LENS_PYTHON, else python3)')
    .option('--device <name>', 'with --backend torch: auto | cuda | cpu (auto: CUDA when there is one; nccl on CUDA, gloo on CPU)', 'auto')
    .option('--dtype <name>', 'with --backend torch: fp32 | bf16 (mixed precision: bfloat16 autocast forward and backward, float32 weights, '
      + 'optimizer state and checkpoints); default fp32, with --resume the run\'s own')
    .option('--nproc-per-node <n>', 'with --backend torch: processes on this node (each owns batch / processes slots)', '1')
    .option('--nnodes <n>', 'with --backend torch: nodes (run the same command on every node)')
    .option('--node-rank <n>', 'with --backend torch: this node\'s rank; rank 0 writes the run folder')
    .option('--rdzv-endpoint <host:port>', 'with --backend torch and several nodes: torchrun\'s rendezvous')
    .option('--rdzv-id <id>', 'with --backend torch and several nodes: the rendezvous id (default hrm-lens)')
    .option('--out <dir>', 'run folder (default .hrm/runs/<preset>-s<seed>-<time>)')
    .option('--no-tensorboard', 'write no TensorBoard event file (events.out.tfevents.*) in the run folder')
    .option('--quiet', 'no progress on stderr')
    .option('--force-unlock', 'take the run folder\'s lock even when another host holds it (only when no training writes the folder any more)')
    .action(async (flags: TrainFlags) => (await import('./train-run')).runTraining(flags));
  program.command('eval')
    .description('evaluate a checkpoint: exact and cell accuracy per segment')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .option('--data <path>', 'puzzles (CSV, one-per-line or reference .npy folder)')
    .option('--segments <n>', 'segments to run (default: the model\'s haltMaxSteps)')
    .option('--limit <n>', 'first N puzzles only')
    .option('--save [name]', 'store the result in the checkpoint\'s .eval.json under NAME (default: the data file name)')
    .option('--json', 'print JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (flags: EvalFlags) => (await import('./train-run')).runEval(flags));
}
