/**
 * The HRM commands inside a real VS Code: all registered; Inspect Puzzle with arguments opens the read-only
 * `hrm-lens` result document; Train with arguments writes a checkpoint under the workspace's .hrm/runs (the test
 * workspace is a temporary copy); Evaluate Checkpoint with arguments stores the .eval.json; Stop Training ends a
 * long training with a checkpoint, and with no training running says so and returns false.
 */
import * as assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { useExtension } from './host';

const COMMANDS = ['hrmLens.train', 'hrmLens.stopTraining', 'hrmLens.inspectPuzzle', 'hrmLens.evaluateCheckpoint'];

interface TrainResultLike { run: string; checkpoint: string; step: number; cancelled: boolean }

suite('HRM commands', () => {
  useExtension(); // activates; afterwards leaves the engine stopped for the next suite



  test('every new command is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(COMMANDS.filter((c) => !registered.has(c)), []);
  });

  test('Inspect Puzzle with arguments opens the hrm-lens result document', async function () {
    this.timeout(120_000);
    const summary = await vscode.commands.executeCommand<{ segments: unknown[] } | undefined>('hrmLens.inspectPuzzle', { puzzle: '.1.. ...3 ..32 ....', view: 'document' });
    assert.ok(summary && summary.segments.length > 0);
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc, 'no active editor');
    assert.equal(doc.uri.scheme, 'hrm-lens');
    assert.ok(doc.getText().includes('segment'), 'the document shows the segments');
    assert.ok(doc.getText().includes('critical segment'));
  });

  test('Train with arguments writes a checkpoint under .hrm/runs; Evaluate Checkpoint stores its .eval.json', async function () {
    this.timeout(180_000);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const r = await vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train', { preset: 'tiny-4x4', steps: 3, batch: 8 });
    assert.ok(r, 'Train returned no result (see the HRM Lens log)');
    assert.equal(r.step, 3);
    assert.equal(r.cancelled, false);
    const runs = path.join(folder.uri.fsPath, '.hrm', 'runs');
    assert.ok(r.checkpoint.startsWith(runs + path.sep), `${r.checkpoint} is not under ${runs}`);
    assert.match(path.basename(r.run), /^tiny-4x4-s0-\d{8}T\d{6}$/);
    assert.ok(existsSync(r.checkpoint));

    const data = path.join(folder.uri.fsPath, 'four.txt');
    writeFileSync(data, '.1.....3..32....\n3.2.4..31.3.2..1\n');
    const e = await vscode.commands.executeCommand<{ puzzles: number; savedTo: string | null } | undefined>('hrmLens.evaluateCheckpoint', { checkpoint: r.checkpoint, data });
    assert.ok(e, 'Evaluate Checkpoint returned no result');
    assert.equal(e.puzzles, 2);
    assert.ok(e.savedTo && existsSync(e.savedTo));
  });

  test('Stop Training ends a long training after a checkpoint (cancelled: true)', async function () {
    this.timeout(120_000);
    const running = vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train', { preset: 'tiny-4x4', steps: 100_000, batch: 8, seed: 7 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await vscode.commands.executeCommand<boolean>('hrmLens.stopTraining'), true);
    const r = await running;
    assert.ok(r, 'Train returned no result');
    assert.equal(r.cancelled, true);
    assert.ok(r.step < 100_000);
    assert.ok(existsSync(r.checkpoint));
  });

  test('Stop Training with no training running returns false', async () => {
    assert.equal(await vscode.commands.executeCommand<boolean>('hrmLens.stopTraining'), false);
  });
});
