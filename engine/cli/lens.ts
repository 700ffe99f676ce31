/**
 * `hrm-lens lens CHECKPOINT PUZZLE [--segments N] [--json]`: the logit lens inside every segment — z_H after every
 * H-update and z_L after every L-update read through the output head (docs/analyses.md §Interventions). The action is
 * in lens-run.ts.
 */
import type { Command } from 'commander';
import type { LensFlags } from './lens-run';

export function registerLensCommands(program: Command): void {
  program.command('lens')
    .description('logit lens inside the segments: every z_H and z_L update decoded through the output head, and where the wrong cells fall the most')
    .argument('<checkpoint>', 'a .safetensors checkpoint')
    .argument('<puzzle>', "16/36/81 characters, '.' or '0' for blanks")
    .option('--segments <n>', 'segments to run (default: haltMaxSteps)')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (checkpoint: string, puzzle: string, flags: LensFlags) => (await import('./lens-run')).runLens(checkpoint, puzzle, flags));
}
