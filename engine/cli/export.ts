/**
 * `hrm-lens export --format hrm-official RUN [--checkpoint FILE] [--out DIR] [--dtype fp32|bf16|reference]
 * [--compiled] [--json]`: write a run's checkpoint (its newest unless named) as the reference PyTorch code saves and
 * loads it: a torch.save state dict with the reference's key names (`model.inner.…`) and an all_config.yaml beside it
 * (engine/interop/export-official.ts). Needs neither Python nor a TF.js backend. The action is in export-run.ts.
 */
import type { Command } from 'commander';
import type { ExportFlags } from './export-run';

export function registerExportCommands(program: Command): void {
  program.command('export')
    .description("write a run's checkpoint for other software: hrm-official = the reference PyTorch code's torch.save state dict + all_config.yaml")
    .argument('<run>', 'the run folder')
    .requiredOption('--format <name>', 'hrm-official (sapientinc/HRM hrm_act_v1, or TRM for a TRM run)')
    .option('--checkpoint <file>', "the checkpoint to export (default: the run's newest step-N.safetensors)")
    .option('--out <dir>', 'folder to write step_<N> and all_config.yaml into (default: <run>-hrm-official)')
    .option('--dtype <type>', 'fp32 (exact) | bf16 | reference (fp32 weights, bf16 H_init/L_init, as the reference\'s own checkpoints)', 'fp32')
    .option('--compiled', "keys under _orig_mod.model.inner. (a torch.compile'd loss head's state dict, what the reference's evaluate.py loads with compilation on)")
    .option('--json', 'print the result as JSON')
    .action(async (run: string, flags: ExportFlags) => (await import('./export-run')).runExport(run, flags));
}
