/**
 * "Inspect this puzzle" above each puzzle line of a dataset file: CSV (the Sudoku-Extreme `source,question,answer,
 * rating` layout — the `question` field, or any field of 16/36/81 puzzle characters) and one-puzzle-per-line text
 * files. Clicking runs `hrmLens.inspectPuzzle` with that puzzle. Only the first MAX_LENSES puzzle lines get a lens
 * (datasets have millions of lines); the command on a selection covers the rest.
 */
import * as vscode from 'vscode';
import { puzzleInLine } from './puzzle-text';

const MAX_LENSES = 200;

export class PuzzleCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (let i = 0; i < doc.lineCount && lenses.length < MAX_LENSES && !token.isCancellationRequested; i++) {
      const puzzle = puzzleInLine(doc.lineAt(i).text);
      if (!puzzle) continue;
      lenses.push(new vscode.CodeLens(doc.lineAt(i).range, { title: 'Inspect this puzzle', command: 'hrmLens.inspectPuzzle', arguments: [{ puzzle }] }));
    }
    return lenses;
  }
}

export function registerPuzzleCodeLens(): vscode.Disposable {
  return vscode.languages.registerCodeLensProvider(
    [{ scheme: 'file', pattern: '**/*.csv' }, { scheme: 'file', pattern: '**/*.txt' }, { language: 'csv' }],
    new PuzzleCodeLensProvider(),
  );
}
