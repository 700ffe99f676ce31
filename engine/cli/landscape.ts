/**
 * `hrm-lens landscape --checkpoint F --puzzle P [--size 41] [--step s] [--segments S] [--basins] [--json] [--out F]`:
 * the error landscape of one puzzle on its PC1/PC2 plane (docs/analyses.md §Error landscape): heights E, one-segment
 * flow arrows and optional basin labels. The action is in landscape-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { LandscapeFlags } from './landscape-run';

export function registerLandscapeCommands(program: Command): void {
  addTorchOptions(program.command('landscape')
    .description('error landscape on the PC1/PC2 plane of one puzzle: heights E, flow arrows, basins')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .requiredOption('--puzzle <grid>', "16/36/81 characters, '.' or '0' for blanks")
    .option('--size <n>', 'grid points per side (odd)', '41')
    .option('--step <s>', 'grid unit in z_H norm (default √(seq·hidden)/8)')
    .option('--segments <n>', 'segments of the trace; the centre is the last state (default: haltMaxSteps)')
    .option('--flow-segments <n>', 'segments per flow arrow', '1')
    .option('--basins', 'label each grid point by the fixed point it settles on')
    .option('--max-segments <n>', 'basins: segments to iterate at most', '16')
    .option('--patience <n>', 'basins: unchanged decoded grids that count as settled', '3')
    .option('--tolerance <x>', 'basins: also require the relative z_H step below this')
    .option('--batch <n>', 'grid points per forward batch', '128')
    .option('--out <file>', 'write the full landscape as JSON to this file')
    .option('--json', 'print the full landscape as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (flags: LandscapeFlags) => (await import('./landscape-run')).runLandscape(flags));
}
