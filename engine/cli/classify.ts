/**
 * `hrm-lens classify --checkpoint F [--data D | --generate N] [--segments S] [--trivial-within K] [--last L] [--tau x]
 * [--json]`: the four reasoning modes (docs/analyses.md §Four reasoning modes) over a set of puzzles, τ by Otsu over
 * the set unless given. The action is in classify-run.ts.
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { ClassifyFlags } from './classify-run';

export function registerClassifyCommands(program: Command): void {
  addTorchOptions(program.command('classify')
    .description('classify puzzles into the four reasoning modes (trivial / non-trivial success / failure)')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .option('--data <file>', 'puzzles (CSV, one-per-line or reference .npy folder); default: generated')
    .option('--generate <n>', 'generate N puzzles of the model\'s size (default 200)')
    .option('--limit <n>', 'first N puzzles of --data')
    .option('--seed <n>', 'generator seed', '0')
    .option('--segments <n>', 'segments (default: the model\'s haltMaxSteps)')
    .option('--trivial-within <k>', 'K: success from segment ≤ K on is trivial', '3')
    .option('--last <l>', 'L: the late window is the last L segments', '4')
    .option('--tau <x>', 'τ for "settled" (default: Otsu over the set)')
    .option('--batch <n>', 'puzzles per forward batch', '64')
    .option('--json', 'print the report (with every puzzle\'s class and evidence) as JSON')
    .option('--save-latents <file>', 'save z_H, z_L, logits and Q per puzzle and segment: FILE.safetensors, FILE.npy (FILE.<tensor>.npy + FILE.json) or a folder of .npy')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (flags: ClassifyFlags) => (await import('./classify-run')).runClassify(flags));
}
