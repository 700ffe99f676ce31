/**
 * `hrm-lens sweep CHECKPOINT (--data FILE [--count N] | PUZZLE…) [--h-cycles 1,2,3] [--l-cycles …] [--segments …]
 * [--json]`: the checkpoint run with other H-cycle, L-cycle and segment counts — exact / cell accuracy and the four
 * reasoning modes per setting (docs/analyses.md §Interventions). The action is in sweep-run.ts.
 */
import type { Command } from 'commander';
import type { SweepFlags } from './sweep-run';

export function registerSweepCommands(program: Command): void {
  program.command('sweep')
    .description('compute sweep: accuracy and reasoning modes with other H-cycle, L-cycle and segment counts than trained')
    .argument('<checkpoint>', 'a .safetensors checkpoint')
    .argument('[puzzles...]', "puzzles (16/36/81 characters, '.' or '0' blanks), each optionally followed by ,ANSWER; or --data")
    .option('--data <file>', 'puzzles from a dataset file (CSV, one-per-line or reference .npy folder)')
    .option('--count <n>', 'with --data: the first N puzzles', '100')
    .option('--h-cycles <list>', 'H-cycle counts, e.g. 1,2,3 (default: trained, −1, +1, ×2)')
    .option('--l-cycles <list>', 'L-cycle counts (default: trained, −1, +1, ×2)')
    .option('--segments <list>', 'segment counts (default: trained S, ⌈S/4⌉, ⌈S/2⌉, 2S)')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (checkpoint: string, puzzles: string[], flags: SweepFlags) => (await import('./sweep-run')).runSweep(checkpoint, puzzles, flags));
}
