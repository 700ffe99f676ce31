/**
 * The `hrm-lens` command line in VS Code's integrated terminals, for a user who installed only the .vsix: the
 * extension's `bin/` folder (a launcher script, `hrm-lens` / `hrm-lens.cmd`, that runs the bundled `dist/cli.js`)
 * is prepended to PATH through the extension's environment variable collection, and HRM_LENS_NODE names the runtime
 * that runs it (VS Code's own, as Node.js), so the command works without a Node.js installation. A training started
 * there writes the same run folders as HRM: Train: the Runs view lists it and its training dashboard follows it.
 */
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface CliOnPath {
  /** The folder prepended to PATH. */
  binDir: string;
  /** The launcher in it. */
  launcher: string;
}

/** Puts the CLI on the terminals' PATH; undefined (and nothing changed) when the launcher or the bundle is missing. */
export function putCliOnPath(context: vscode.ExtensionContext): CliOnPath | undefined {
  const env = context.environmentVariableCollection;
  const binDir = path.join(context.extensionPath, 'bin');
  const launcher = path.join(binDir, process.platform === 'win32' ? 'hrm-lens.cmd' : 'hrm-lens');
  if (!existsSync(launcher) || !existsSync(path.join(context.extensionPath, 'dist', 'cli.js'))) {
    env.clear();
    return undefined;
  }
  if (process.platform !== 'win32') {
    try {
      accessSync(launcher, constants.X_OK);
    } catch {
      try { chmodSync(launcher, 0o755); } catch { /* a read-only installation: the terminal says so */ }
    }
  }
  env.description = 'Puts the `hrm-lens` command line of HRM Lens on the PATH.';
  env.prepend('PATH', `${binDir}${path.delimiter}`);
  env.replace('HRM_LENS_NODE', process.execPath);
  return { binDir, launcher };
}
