/**
 * `hrm-lens inspect --checkpoint F --puzzle P [--segments S] [--json] [--save-latents FILE]`: one puzzle's trace, segment by segment.
 * The action lives in inspect-run.ts (imported on demand: it loads TF.js).
 */
import type { Command } from 'commander';
import { addTorchOptions } from './torch-options';
import type { InspectFlags } from './inspect-run';

export function registerInspectCommands(program: Command): void {
  addTorchOptions(program.command('inspect')
    .description('run one puzzle segment by segment and summarise its trace')
    .requiredOption('--checkpoint <file>', 'a .safetensors checkpoint')
    .requiredOption('--puzzle <grid>', "16/36/81 characters, '.' or '0' for blanks")
    .option('--segments <n>', 'segments (default: the model\'s haltMaxSteps)')
    .option('--json', 'print the trace summary as JSON')
    .option('--save-latents <file>', 'save z_H, z_L, logits and Q per segment: FILE.safetensors, FILE.npy (FILE.<tensor>.npy + FILE.json) or a folder of .npy')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu | torch (the PyTorch worker)', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads (torch: CPU threads)'))
    .action(async (flags: InspectFlags) => (await import('./inspect-run')).runInspect(flags));
}
