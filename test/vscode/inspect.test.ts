/**
 * "HRM: Inspect Puzzle" inside a real VS Code: with the shipped default model, a 4×4 puzzle comes back segment by
 * segment from the engine process and opens as a document.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

suite('HRM: Inspect Puzzle', () => {
  test('inspects a 4×4 puzzle with the shipped model and opens the result', async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(ext);
    await ext.activate();
    const summary = await vscode.commands.executeCommand<{ segments: { grid: string }[]; solution: string; mode: { mode: string } } | undefined>(
      'hrmLens.inspectPuzzle', { puzzle: '.1.....3..32....' });
    assert.ok(summary, 'the command returned a summary');
    assert.equal(summary.segments.length, 4);
    assert.equal(summary.solution, '3124421314322341');
    for (const s of summary.segments) assert.match(s.grid, /^[1-4.]{16}$/);
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc && doc.getText().includes('puzzle inspection') && doc.getText().includes('| segment |'), 'the result document is open');
  });
});
