/**
 * Refusing a request with a warning that says why (an untrusted workspace, a file that is not an HRM Lens
 * checkpoint, a checkpoint of the wrong grid size, no open folder). The newest refusals are kept for the in-host
 * tests, which cannot read notifications.
 */
import * as vscode from 'vscode';

const KEPT = 20;
const recent: string[] = [];

/** Shows `message` as a warning (not awaited: the command goes on) and returns undefined. */
export function refuse(message: string): undefined {
  recent.push(message);
  if (recent.length > KEPT) recent.shift();
  void vscode.window.showWarningMessage(message);
  return undefined;
}

/** The newest refusals, oldest first. */
export function recentRefusals(): readonly string[] {
  return [...recent];
}
