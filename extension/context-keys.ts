/**
 * The context keys HRM Lens sets for the `when` clauses of package.json (menus, the command palette):
 *   hrmLens.trainingRunning     HRM: Train runs in this window (Stop Training is offered only then)
 *   hrmLens.selectionIsPuzzle   the editor's selection (or, with none, the cursor's line) holds a puzzle
 *                               (Inspect Puzzle in the editor's context menu)
 *   hrmLens.checkpointFiles     the paths (`Uri.path`) of the known HRM Lens checkpoints: the Explorer offers
 *                               Inspect / Evaluate on those files only (`resourcePath in hrmLens.checkpointFiles`)
 * A key is sent to VS Code only when its value changes; the values last sent are kept for the in-host tests.
 */
import * as vscode from 'vscode';

export const TRAINING_RUNNING = 'hrmLens.trainingRunning';
export const SELECTION_IS_PUZZLE = 'hrmLens.selectionIsPuzzle';
export const CHECKPOINT_FILES = 'hrmLens.checkpointFiles';

export type ContextKeyName = typeof TRAINING_RUNNING | typeof SELECTION_IS_PUZZLE | typeof CHECKPOINT_FILES;

const sent = new Map<ContextKeyName, string>();
const values = new Map<ContextKeyName, unknown>();

/** Sets a context key (nothing is sent when the value is the one last sent). */
export async function setContextKey(key: ContextKeyName, value: boolean | readonly string[]): Promise<void> {
  const text = JSON.stringify(value);
  if (sent.get(key) === text) return;
  sent.set(key, text);
  values.set(key, value);
  await vscode.commands.executeCommand('setContext', key, value);
}

/** The values last set, by key. */
export function contextKeyValues(): Readonly<Partial<Record<ContextKeyName, unknown>>> {
  return Object.fromEntries(values);
}
