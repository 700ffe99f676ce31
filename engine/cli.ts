/**
 * `hrm-lens` command line: the engine's functions without VS Code.
 * Each subcommand group lives in engine/cli/<group>.ts and registers itself here.
 */
import path from 'node:path';
import { Command } from 'commander';
import { registerDataCommands } from './cli/data';
import { registerTrainCommands } from './cli/train';
import { registerInspectCommands } from './cli/inspect';
import { registerImportCommands } from './cli/import';
import { registerExportCommands } from './cli/export';
import { registerProbeCommands } from './cli/probe';
import { registerClassifyCommands } from './cli/classify';
import { registerLandscapeCommands } from './cli/landscape';
import { registerEnsembleCommands } from './cli/ensemble';
import { registerReproduceCommands } from './cli/reproduce';
import { registerPatchCommands } from './cli/patch';
import { registerKickCommands } from './cli/kick';
import { registerSpectrumCommands } from './cli/spectrum';
import { registerSweepCommands } from './cli/sweep';
import { registerLensCommands } from './cli/lens';
import { refuseTorchBackend } from './cli/torch-options';
import { boundedMessage } from './util/errors';
import { VERSION } from './version';

const program = new Command();
program
  .name('hrm-lens')
  .description('Train, inspect and evaluate Hierarchical Reasoning Models on Sudoku (HRM Lens engine CLI)')
  .version(VERSION)
  .showHelpAfterError()
  // Optional backend packages load from the installation only, or from directories named here (engine/backend.ts).
  .option('--backend-path <dirs>', `directories holding the optional backend packages (@tensorflow/tfjs-node, -node-gpu, webgpu), separated by "${path.delimiter}"; also env HRM_LENS_BACKEND_PATH. Without it only the installation's packages are used, never the current directory's`)
  .hook('preAction', (cmd, action) => {
    const dirs = (cmd.opts() as { backendPath?: string }).backendPath;
    if (dirs !== undefined) process.env.HRM_LENS_BACKEND_PATH = dirs;
    refuseTorchBackend(action);
  });

registerDataCommands(program);
registerTrainCommands(program);
registerInspectCommands(program);
registerImportCommands(program);
registerExportCommands(program);
registerProbeCommands(program);
registerClassifyCommands(program);
registerLandscapeCommands(program);
registerEnsembleCommands(program);
registerReproduceCommands(program);
registerPatchCommands(program);
registerKickCommands(program);
registerSpectrumCommands(program);
registerSweepCommands(program);
registerLensCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`hrm-lens: ${boundedMessage(err)}\n`);
  process.exit(1);
});
