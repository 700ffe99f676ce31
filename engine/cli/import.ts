/**
 * `hrm-lens import <file> [--config all_config.yaml] [--out DIR] [--eval-data D] [--json]`: convert a PyTorch
 * checkpoint (torch.save zip from sapientinc/HRM, TRM or the paper's fork; or safetensors in the PyTorch key layout)
 * into a native run folder, and evaluate it when a dataset is given. The action lives in import-run.ts (imported on
 * demand: it loads TF.js).
 */
import type { Command } from 'commander';
import type { ImportFlags } from './import-run';

export function registerImportCommands(program: Command): void {
  program.command('import')
    .description('import a PyTorch HRM/TRM checkpoint (torch.save or safetensors) as a native run; never executes code from the file')
    .argument('<file>', 'the checkpoint (e.g. checkpoints/…/step_26040, or a .safetensors file)')
    .option('--config <yaml>', "the reference all_config.yaml (default: the one beside the checkpoint, if any)")
    .option('--out <dir>', 'run folder to write (default: .hrm/runs/import-<name>)')
    .option('--eval-data <file>', 'evaluate the imported model on this dataset (CSV, one-per-line or reference .npy folder)')
    .option('--segments <n>', 'segments for the evaluation (default: the model\'s haltMaxSteps)')
    .option('--limit <n>', 'evaluate only the first N puzzles')
    .option('--heads <n>', 'attention heads, when neither the checkpoint nor a YAML tells (default: hidden/64)')
    .option('--json', 'print the result as JSON')
    .option('--backend <name>', 'auto | tensorflow | webgpu | wasm | cpu', process.env.HRM_LENS_BACKEND ?? 'auto')
    .option('--threads <n>', 'wasm threads')
    .action(async (file: string, flags: ImportFlags) => (await import('./import-run')).runImport(file, flags));
}
