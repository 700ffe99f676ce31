// The command line run from the sources (`node --import tsx engine/cli.ts …`) in the repository root, one wasm thread
// for the matrix products; its exit code, stdout and stderr.
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

export interface CliOutput { code: number; stdout: string; stderr: string }

export function runCli(args: readonly string[]): Promise<CliOutput> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], {
      cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, HRM_LENS_THREADS: '1' },
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}
