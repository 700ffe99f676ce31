/**
 * `hrm-lens probe --checkpoint F [--compare G] [--data D] [--masks cell,row,box,random:3] [--count N] [--segments S]
 * [--json]`: the easy-puzzle probe (docs/analyses.md §Easy-puzzle fixed-point probe): blank a cell, a row, a box or k
 * random cells of solved grids (generated, or the first N of a dataset file: its answers, or solved) and report final accuracy, stability rate and corruptions, for one checkpoint or two side by side.
 * The action is in probe-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { ProbeFlags } from './probe-run';

export function registerProbeCommands(program: Command): void {
  addTorchOptions(program.command('probe')
    .description('easy-puzzle probe: blank a cell / row / box / k cells of solved grids; accuracy, stability, corruptions')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .option('--compare <file>', 'a second checkpoint run on the same puzzles (e.g. trained with --mixing)')
    .option('--masks <list>', 'comma-separated: cell, row, box, random:k', 'cell,row,box,random:3')
    .option('--data <file>', 'solved grids from a dataset (CSV, one-per-line or reference .npy folder): the answers, or the solver\'s solutions; default: generated')
    .option('--count <n>', 'solved grids, each with every mask (with --data: its first N rows)', '100')
    .option('--segments <n>', 'segments (default: the model\'s haltMaxSteps)')
    .option('--seed <n>', 'seed for the grids and the blanked cells', '0')
    .option('--batch <n>', 'puzzles per forward batch', '64')
    .option('--json', 'print the report as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (flags: ProbeFlags) => (await import('./probe-run')).runProbeCommand(flags));
}
