/**
 * `hrm-lens spectrum CHECKPOINT PUZZLE [--at K] [--count N] [--tolerance X] [--max-iterations N] [--part zH|zL|both]
 * [--seed S] [--json]`: the leading eigenvalues of the one-segment map's Jacobian at the state after segment K
 * (docs/analyses.md §Interventions). The action is in spectrum-run.ts.
 */
import type { Command } from 'commander';
import type { SpectrumFlags } from './spectrum-run';

export function registerSpectrumCommands(program: Command): void {
  program.command('spectrum')
    .description('local stability of the one-segment map: leading Jacobian eigenvalues and spectral radius at the state after segment K')
    .argument('<checkpoint>', 'a .safetensors checkpoint')
    .argument('<puzzle>', "16/36/81 characters, '.' or '0' for blanks")
    .option('--at <k>', 'the state after segment K (default: haltMaxSteps)')
    .option('--count <n>', 'leading eigenvalues wanted', '6')
    .option('--tolerance <x>', 'stop when every wanted eigenvalue\'s relative residual ‖Jv − λv‖/|λ| is below this', '1e-4')
    .option('--max-iterations <n>', 'Krylov dimension cap: products with the Jacobian (one segment forward and backward each)', '60')
    .option('--part <part>', 'zH | zL | both: the map on z_H alone or z_L alone (the other held fixed), or on both', 'both')
    .option('--seed <n>', 'seed of the Krylov start vector', '0')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (checkpoint: string, puzzle: string, flags: SpectrumFlags) => (await import('./spectrum-run')).runSpectrum(checkpoint, puzzle, flags));
}
