/**
 * `hrm-lens ensemble (--run DIR [--last K] | --checkpoints A,B,…) [--data D | --generate N] [--perturb shifts|relabel|
 * symmetries|mixed] [--count P] [--json] [--csv DIR]`: the ensemble report (docs/analyses.md §Ensemble report):
 * accuracy of the baseline, +perturbations, +checkpoints and +both under the oracle and the label-free rule, curves,
 * pass matrix, agreement.
 * The action is in ensemble-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { EnsembleFlags } from './ensemble-run';
import { DEFAULT_LAST_CHECKPOINTS } from '../ensemble/defaults';

export function registerEnsembleCommands(program: Command): void {
  addTorchOptions(program.command('ensemble')
    .description('ensemble report: relabelings × checkpoints, oracle and label-free votes, JSON / CSV')
    .option('--run <dir>', 'a run folder: its last --last checkpoints')
    .option('--last <k>', `checkpoints taken from --run (default ${DEFAULT_LAST_CHECKPOINTS}, as the paper)`, String(DEFAULT_LAST_CHECKPOINTS))
    .option('--checkpoints <list>', 'comma-separated checkpoint files (or run folders) instead of --run')
    .option('--data <file>', 'puzzles (CSV, one-per-line or reference .npy folder); default: generated')
    .option('--generate <n>', 'generate N puzzles of the model\'s size (default 200)')
    .option('--limit <n>', 'first N puzzles of --data')
    .option('--seed <n>', 'seed of the generated puzzles and the random perturbations', '0')
    .option('--perturb <kind>', 'shifts (cyclic digit shifts, the paper) | relabel | symmetries | mixed', 'shifts')
    .option('--count <p>', 'perturbations including the identity (default: N for shifts, 9 otherwise)')
    .option('--segments <n>', 'segments (default: the model\'s haltMaxSteps)')
    .option('--max-rows <n>', 'rows per forward batch (all variants of a puzzle stay in one batch)', '256')
    .option('--csv <dir>', 'write summary, curves, passes, solved, jaccard and bands CSVs into DIR')
    .option('--out <file>', 'write the JSON report to this file')
    .option('--json', 'print the JSON report')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (flags: EnsembleFlags) => (await import('./ensemble-run')).runEnsemble(flags));
}
