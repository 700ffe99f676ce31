/**
 * `hrm-lens kick CHECKPOINT PUZZLE [--eps 0.01,0.1,…] [--directions N] [--pcs N] [--part zH|zL|both] [--segments N]
 * [--run-on N] [--seed S] [--json]`: push the end state of a run and count the kicks that come back to the same
 * answer (docs/analyses.md §Interventions).
 * `hrm-lens kick CHECKPOINT (--data FILE [--limit N] | --generate N) [--compare CHECKPOINT2] …`: the same over a
 * dataset, basin radii of correct and wrong answers, two checkpoints paired (docs/analyses.md §Kicks over a dataset).
 * The action is in kick-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import { KICK_DEFAULTS } from '../intervene/kick-defaults';
import type { KickFlags } from './kick-run';

export function registerKickCommands(program: Command): void {
  addTorchOptions(program.command('kick')
    .description('kick the end state of a run along random and principal directions: which kick sizes come back to the same answer (the basin radius)?')
    .argument('<checkpoint>', 'a .safetensors checkpoint')
    .argument('[puzzle]', "16/36/81 characters, '.' or '0' for blanks (or --data / --generate)")
    .option('--data <file>', 'kick every puzzle of a dataset file (CSV, one-per-line or reference .npy folder)')
    .option('--limit <n>', 'with --data: its first N puzzles')
    .option('--generate <n>', 'kick N generated puzzles of the model\'s size')
    .option('--compare <checkpoint>', 'with --data / --generate: a second checkpoint on the same puzzles, basins paired')
    .option('--eps <list>', 'kick sizes ε relative to ‖z‖', KICK_DEFAULTS.epsilons.join(','))
    .option('--directions <n>', 'random unit directions per ε', String(KICK_DEFAULTS.directions))
    .option('--pcs <n>', 'top principal directions of the run, each pushed both ways', String(KICK_DEFAULTS.pcs))
    .option('--part <part>', 'zH | zL | both', KICK_DEFAULTS.part)
    .option('--segments <n>', 'segments before the kick (default: haltMaxSteps)')
    .option('--run-on <n>', 'segments after the kick (default: as --segments)')
    .option('--seed <n>', 'seed of the random directions (and of --generate\'s puzzles)', String(KICK_DEFAULTS.seed))
    .option('--batch <n>', 'rows per forward batch', '128')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (checkpoint: string, puzzle: string | undefined, flags: KickFlags) => (await import('./kick-run')).runKick(checkpoint, puzzle, flags));
}
