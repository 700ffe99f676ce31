/**
 * `hrm-lens` command line: the engine's functions without VS Code.
 * Each subcommand group lives in engine/cli/<group>.ts and registers itself here.
 */
import { Command } from 'commander';
import { registerDataCommands } from './cli/data';
import { registerTrainCommands } from './cli/train';
import { registerInspectCommands } from './cli/inspect';
import { registerImportCommands } from './cli/import';
import { registerProbeCommands } from './cli/probe';
import { registerClassifyCommands } from './cli/classify';
import { registerLandscapeCommands } from './cli/landscape';
import { registerEnsembleCommands } from './cli/ensemble';

const program = new Command();
program
  .name('hrm-lens')
  .description('Train, inspect and evaluate Hierarchical Reasoning Models on Sudoku (HRM Lens engine CLI)')
  .version('0.1.0')
  .showHelpAfterError();

registerDataCommands(program);
registerTrainCommands(program);
registerInspectCommands(program);
registerImportCommands(program);
registerProbeCommands(program);
registerClassifyCommands(program);
registerLandscapeCommands(program);
registerEnsembleCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`hrm-lens: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
