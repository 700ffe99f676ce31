/**
 * The context key hrmLens.selectionIsPuzzle (context-keys.ts): true while the active editor's selection — or, with
 * nothing selected, the cursor's line — holds a puzzle as "HRM: Inspect Puzzle" reads it (the same reader,
 * puzzle-text.ts), so that the editor's context menu offers the command only there. Updated on selection and editor
 * changes; text longer than MAX_PUZZLE_TEXT is not read.
 */
import * as vscode from 'vscode';
import { SELECTION_IS_PUZZLE, setContextKey } from '../context-keys';
import { selectionText } from './inspect-puzzle';
import { puzzleFromText } from './puzzle-text';

function update(editor: vscode.TextEditor | undefined): void {
  const text = editor ? selectionText(editor) : undefined;
  void setContextKey(SELECTION_IS_PUZZLE, text !== undefined && puzzleFromText(text) !== undefined);
}

export function registerSelectionContext(): vscode.Disposable {
  update(vscode.window.activeTextEditor);
  return vscode.Disposable.from(
    vscode.window.onDidChangeTextEditorSelection((e) => { if (e.textEditor === vscode.window.activeTextEditor) update(e.textEditor); }),
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.workspace.onDidChangeTextDocument((e) => { if (e.document === vscode.window.activeTextEditor?.document) update(vscode.window.activeTextEditor); }),
  );
}
