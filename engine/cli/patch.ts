/**
 * `hrm-lens patch CHECKPOINT PUZZLE (--from-puzzle P | --from-checkpoint C | --relabel PERM | --from-latents FILE)
 * [--segment K] [--row R] [--part zH|zL|both] [--cells 0,5,…] [--at 1,2,3] [--segments N] [--json]`: activation
 * patching on the latent state of one run (docs/analyses.md §Interventions);
 * `hrm-lens patch CHECKPOINT (--data FILE [--limit N] | --generate N [--seed S]) (--from-checkpoint C | --relabel PERM)
 * [--part …] [--cells …] [--at …] [--segments N] [--json]`: the same over a dataset, summarised per k (rescued,
 * corrupted, ends at the receiver). The action is in patch-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { PatchFlags } from './patch-run';

export function registerPatchCommands(program: Command): void {
  addTorchOptions(program.command('patch')
    .description('patch the latent state of a run with a donor\'s after segment k, for every k: until when does the donor\'s state still decide the answer? (with --data / --generate: over a dataset)')
    .argument('<checkpoint>', 'a .safetensors checkpoint (the receiver)')
    .argument('[puzzle]', "16/36/81 characters, '.' or '0' for blanks (or --data / --generate)")
    .option('--from-puzzle <grid>', 'donor: this puzzle (with --from-checkpoint: on that checkpoint)')
    .option('--from-checkpoint <file>', 'donor: this checkpoint (same state shape; the receiver\'s puzzle unless --from-puzzle)')
    .option('--relabel <perm>', 'donor: the puzzle with its digits relabeled, digit d → perm[d] (e.g. 2341 or 2,3,4,1)')
    .option('--from-latents <file>', 'donor: a state saved by --save-latents (.safetensors, .npy or a folder)')
    .option('--segment <k>', 'with --from-latents: the saved segment (default: the last)')
    .option('--row <r>', 'with --from-latents: the batch row (0-based)', '0')
    .option('--data <file>', 'patch every puzzle of a dataset (CSV, one-per-line or reference .npy folder) instead of one PUZZLE')
    .option('--generate <n>', 'patch N generated puzzles of the model\'s size instead of one PUZZLE')
    .option('--limit <n>', 'with --data: the first N puzzles')
    .option('--seed <n>', 'with --generate: the generator seed (default 0)')
    .option('--part <part>', 'zH | zL | both', 'both')
    .option('--cells <list>', 'cells to patch, 0-based row-major (e.g. 0,5,12); default all positions, the puzzle prefix included')
    .option('--at <list>', 'segments k after which to patch (default 1 … segments − 1)')
    .option('--segments <n>', 'segments of every run (default: haltMaxSteps)')
    .option('--batch <n>', 'rows per forward batch', '128')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (checkpoint: string, puzzle: string | undefined, flags: PatchFlags) => (await import('./patch-run')).runPatch(checkpoint, puzzle, flags));
}
