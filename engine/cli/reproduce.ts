/**
 * `hrm-lens reproduce --baseline RUN[,RUN…] --mixing RUN[,RUN…] [--data FILE] [--puzzles N] [--seeds a,b,c]
 * [--relabelings N] [--checkpoints N] [--segments N] [--landscape-sample N] [--out DIR] [--json] [--quiet]`: the
 * paper's experiments (facts (a), (b), (c), the guess-scaling table and the agreement with the paper) on a baseline
 * and a data-mixing arm of training runs, written to one report folder (engine/paper/reproduce.ts).
 * The action is in reproduce-run.ts.
 */
import type { Command } from 'commander';
import type { ReproduceFlags } from './reproduce-run';
import { DEFAULT_HELD_OUT_SEED, REPRODUCE_DEFAULTS } from '../paper/options';

export function registerReproduceCommands(program: Command): void {
  program.command('reproduce')
    .description('the paper\'s experiments on a baseline and a data-mixing run: report.json, report.md and figures in one folder')
    .requiredOption('--baseline <runs>', 'run folder(s) of the baseline arm, comma-separated (several = training seeds)')
    .requiredOption('--mixing <runs>', 'run folder(s) of the data-mixing arm, comma-separated')
    .option('--data <file>', 'held-out puzzles (CSV, one-per-line or reference .npy folder): its first --puzzles rows; default: generated as the first baseline run\'s training data')
    .option('--puzzles <n>', `held-out puzzles (default ${REPRODUCE_DEFAULTS.puzzles})`)
    .option('--seeds <list>', `seeds: held-out generator[,probe masks[,landscape sample and random relabelings]] (default ${DEFAULT_HELD_OUT_SEED},${REPRODUCE_DEFAULTS.probeSeed},${REPRODUCE_DEFAULTS.sampleSeed})`)
    .option('--relabelings <n>', `relabelings per puzzle, the identity included (default ${REPRODUCE_DEFAULTS.relabelings})`)
    .option('--checkpoints <n>', `checkpoints of the bootstrap ensemble: the last N of a run (default ${REPRODUCE_DEFAULTS.checkpoints})`)
    .option('--segments <n>', 'segments (default: the first baseline run\'s evaluation segments)')
    .option('--landscape-sample <n>', `failing puzzles whose landscape is computed, per arm; 0 = none (default ${REPRODUCE_DEFAULTS.landscapeSample})`)
    .option('--out <dir>', 'report folder (default .hrm/reports/paper-<time>)')
    .option('--json', 'print the report (report.json) on stdout')
    .option('--quiet', 'no progress on stderr')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (flags: ReproduceFlags) => (await import('./reproduce-run')).runReproduceCommand(flags));
}
