/**
 * HRM Lens in Restricted Mode, for real: run by `node test/vscode/run-in-code-server.mjs --untrusted`, which starts
 * code-server with workspace trust enforced and the folder not trusted (the ordinary, trusted pass leaves this suite
 * out: test/vscode/index.ts). Training, importing and workspace checkpoints are refused with a message that says why; the shipped models
 * still inspect; workspace values of restricted settings do not apply; the PyTorch backend is not used.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { useExtension } from './host';

const FOUR = '.1.....3..32....';
const SIX = '..4..5.6.2....5.3.4.......3.6.......';
const NINE = '003020600900305001001806400008102900700000008006708200002609500800203009005010300';

suite('HRM untrusted workspace', () => {
  suiteSetup(() => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite runs in the Restricted Mode pass, where the folder is not trusted');
  });
  const api = useExtension();
  let ws: string;
  let shipped: string;
  let copy: string;

  suiteSetup(() => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(folder && ext);
    ws = folder.uri.fsPath;
    shipped = path.join(ext.extensionPath, 'models', 'tiny-4x4.safetensors');
    copy = path.join(ws, 'checkpoints', 'tiny-copy.safetensors');
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(shipped, copy);
  });

  const lastRefusal = (): string => api().refusals().at(-1) ?? '';

  test('the window is in Restricted Mode', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('Train and Resume Training are refused, and nothing is written', async () => {
    assert.equal(await vscode.commands.executeCommand('hrmLens.train', { preset: 'tiny-4x4', steps: 5 }), undefined);
    assert.match(lastRefusal(), /trains only in a trusted workspace/);
    assert.equal(await vscode.commands.executeCommand('hrmLens.resumeTraining', { run: path.join(ws, '.hrm', 'runs', 'x'), steps: 10 }), undefined);
    assert.match(lastRefusal(), /trains only in a trusted workspace/);
    assert.equal(existsSync(path.join(ws, '.hrm', 'runs')), false, 'no run folder');
  });

  test('Import Checkpoint is refused', async () => {
    assert.equal(await vscode.commands.executeCommand('hrmLens.importCheckpoint', { file: copy }), undefined);
    assert.match(lastRefusal(), /imports checkpoints only in a trusted workspace/);
  });

  test('a workspace checkpoint is refused by Inspect, Evaluate, the probe and the ensemble report', async () => {
    const n = api().refusals().length;
    assert.equal(await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: FOUR, checkpoint: copy }), undefined);
    assert.equal(await vscode.commands.executeCommand('hrmLens.evaluateCheckpoint', { checkpoint: copy, data: path.join(ws, 'puzzles.txt') }), undefined);
    assert.equal(await vscode.commands.executeCommand('hrmLens.runProbe', { checkpoints: [copy] }), undefined);
    assert.equal(await vscode.commands.executeCommand('hrmLens.ensembleReport', { sources: [copy], generate: 4 }), undefined);
    const refusals = api().refusals().slice(n);
    assert.equal(refusals.length, 4);
    for (const r of refusals) assert.match(r, /loads checkpoints from the workspace only when the workspace is trusted/);
  });

  test('a 9×9 puzzle: no model of its size ships and no workspace checkpoint is offered; the refusal says why', async () => {
    assert.equal(await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: NINE }), undefined);
    assert.match(lastRefusal(), /only when the workspace is trusted/);
  });

  test('a 6×6 puzzle: the shipped 6×6 models are offered (they are not workspace files)', async function () {
    this.timeout(120_000);
    const six = (await api().checkpoints.shipped()).filter((m) => m.gridSize === 6).map((m) => m.file);
    assert.ok(six.length >= 1, 'a 6×6 model ships');
    if (six.length === 1) {
      const summary = await vscode.commands.executeCommand<{ checkpoint: string } | undefined>('hrmLens.inspectPuzzle', { puzzle: SIX, view: 'document' });
      assert.ok(summary, 'inspected with the shipped 6×6 model');
      assert.equal(path.resolve(summary.checkpoint), six[0]);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      return;
    }
    const before = api().checkpointChoices();
    const running = vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: SIX, view: 'document' });
    for (let i = 0; i < 200 && api().checkpointChoices() === before; i++) await new Promise((r) => setTimeout(r, 50));
    const choices = api().checkpointChoices();
    assert.ok(choices && choices !== before, 'the checkpoint pick opened');
    await new Promise((r) => setTimeout(r, 300));
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    assert.equal(await running, undefined, 'dismissed');
    assert.deepEqual(choices.files, six, 'only the shipped 6×6 models');
    assert.equal(choices.notice, undefined);
  });

  test('the shipped model still inspects', async function () {
    this.timeout(120_000);
    const summary = await vscode.commands.executeCommand<{ checkpoint: string } | undefined>('hrmLens.inspectPuzzle', { puzzle: FOUR, view: 'document' });
    assert.ok(summary, 'inspected');
    assert.equal(path.resolve(summary.checkpoint), path.resolve(shipped));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the PyTorch backend is not used: hrmLens.pythonPath is ignored and the shipped model inspects on TF.js', async function () {
    this.timeout(120_000);
    const c = vscode.workspace.getConfiguration('hrmLens');
    await c.update('backend', 'torch', vscode.ConfigurationTarget.Global);
    await c.update('pythonPath', path.join(ws, 'no-such-python'), vscode.ConfigurationTarget.Global);
    try {
      assert.equal(api().settings().torch, false);
      assert.equal(api().settings().pythonPath, '');
      const summary = await vscode.commands.executeCommand<{ segments: unknown[] } | undefined>('hrmLens.inspectPuzzle', { puzzle: FOUR, checkpoint: shipped, view: 'document' });
      assert.ok(summary, 'inspected (a worker with the set interpreter would have failed)');
      assert.equal(summary.segments.length, 4);
    } finally {
      await c.update('backend', undefined, vscode.ConfigurationTarget.Global);
      await c.update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('workspace values of restricted settings do not apply', async () => {
    const c = vscode.workspace.getConfiguration('hrmLens');
    await c.update('runsFolder', 'elsewhere', vscode.ConfigurationTarget.Workspace);
    await c.update('defaultCheckpoint', 'checkpoints/tiny-copy.safetensors', vscode.ConfigurationTarget.Workspace);
    try {
      assert.equal(api().settings().runsFolder, '.hrm/runs');
      assert.equal(api().settings().defaultCheckpoint, '');
    } finally {
      await c.update('runsFolder', undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('defaultCheckpoint', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('a workspace hrmLens.officialRunFolders does not apply: no reference run is followed', async () => {
    const c = vscode.workspace.getConfiguration('hrmLens');
    await c.update('officialRunFolders', ['official-run'], vscode.ConfigurationTarget.Workspace);
    await c.update('officialRunEvalData', 'data.csv', vscode.ConfigurationTarget.Workspace);
    try {
      assert.deepEqual(api().settings().officialRunFolders, []);
      assert.equal(api().settings().officialRunEvalData, '');
      await api().officialRuns.rescan();
      assert.deepEqual(api().officialRuns.runs.map((r) => r.dir), []);
    } finally {
      await c.update('officialRunFolders', undefined, vscode.ConfigurationTarget.Workspace);
      await c.update('officialRunEvalData', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
