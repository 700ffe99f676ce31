/** `hrm-lens data …`: generate, check and solve puzzle files. */
import type { Command } from 'commander';

export function registerDataCommands(program: Command): void {
  program.command('data').description('Sudoku datasets: generate, check, solve');
}
