/**
 * Import, probe and ensemble inside a real VS Code: the commands are registered; HRM: Import Checkpoint with a
 * PyTorch fixture (torch.save zip from test/fixtures/torch) writes a native run that the Runs tree lists; HRM: Run
 * Fixed-Point Probe and HRM: Ensemble Report with arguments return the engine's figures and open the report document;
 * HRM: Ensemble Report without `view: 'document'` opens the ensemble panel and posts it the report's detail.
 * Training config files are checked field by field, and read only when they are regular files of at most 1 MiB.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { screenshotInThemes, sleep, useExtension } from './host';
import type { ImportSummary } from '../../engine/interop/import-protocol';
import type { EnsembleResult, ProbeResult } from '../../engine/analysis/analysis-protocol';

const repo = path.resolve(__dirname, '..', '..', '..');

suite('HRM import, probe and ensemble', () => {
  const host = useExtension();



  test('the import, probe and ensemble commands are registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(['hrmLens.importCheckpoint', 'hrmLens.runProbe', 'hrmLens.ensembleReport'].filter((c) => !registered.has(c)), []);
  });

  test('Import Checkpoint: a torch.save fixture becomes a run listed in the Runs tree', async function () {
    this.timeout(120_000);
    const fixture = path.join(repo, 'test', 'fixtures', 'torch', 'hrm', 'step_100');
    assert.ok(existsSync(fixture), fixture);
    const r = await vscode.commands.executeCommand<ImportSummary | undefined>('hrmLens.importCheckpoint', { file: fixture });
    assert.ok(r, 'Import returned nothing (see the HRM Lens log)');
    assert.equal(r.step, 100);
    assert.equal(r.sourceFormat, 'torch');
    assert.ok(existsSync(r.file));
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder && r.dir.startsWith(folder.uri.fsPath), `${r.dir} is not in the workspace`);
    host().runs.refresh();
    const runs = (await host().runs.getChildren()) ?? [];
    assert.ok(runs.some((n) => n.kind === 'run' && n.run.dir === r.dir), `the imported run ${r.dir} is not in the Runs tree`);
  });

  test('Run Fixed-Point Probe and Ensemble Report with arguments return figures and open the report', async function () {
    this.timeout(180_000);
    const shipped = path.join(repo, 'models', 'tiny-4x4.safetensors');
    const p = await vscode.commands.executeCommand<ProbeResult | undefined>('hrmLens.runProbe', { checkpoints: [shipped], masks: ['cell'], count: 8, segments: 2 });
    assert.ok(p, 'probe returned nothing');
    assert.equal(p.rows.find((x) => x.mask === 'cell')?.puzzles, 8);
    assert.equal(vscode.window.activeTextEditor?.document.uri.scheme, 'hrm-lens');
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /Fixed-point probe/);
    const e = await vscode.commands.executeCommand<EnsembleResult | undefined>('hrmLens.ensembleReport', { sources: [shipped], generate: 6, segments: 2, view: 'document' });
    assert.ok(e, 'ensemble returned nothing');
    assert.equal(e.puzzles, 6);
    assert.equal(e.perturbations, 4);
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /Ensemble report/);
  });

  test('Ensemble Report opens the ensemble panel with the ablation, curves and agreement matrix data', async function () {
    this.timeout(180_000);
    const shipped = path.join(repo, 'models', 'tiny-4x4.safetensors');
    const api = host();
    const before = api.ensemble.postedReports;
    const e = await vscode.commands.executeCommand<EnsembleResult | undefined>('hrmLens.ensembleReport', { sources: [shipped, shipped], generate: 60, segments: 4 });
    assert.ok(e, 'ensemble returned nothing');
    const d = e.detail;
    assert.equal(d.passes.length, 60 * 2 * 4, 'one digit per pass');
    assert.match(d.passes, /^[0-3]+$/);
    assert.equal(d.curves.relabelings.length, 4);
    assert.equal(d.curves.checkpoints.length, 2);
    assert.equal(d.solved.both.length, 60);
    // The same checkpoint twice: the checkpoint ensemble adds nothing to the baseline.
    assert.equal(e.summary.checkpoints.oracle, e.summary.baseline.oracle);
    const tab = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('hrmLens.ensemble'));
    for (let i = 0; i < 100 && (!tab() || api.ensemble.postedReports === before); i++) await sleep(50);
    assert.ok(tab(), 'the ensemble panel is open');
    assert.equal(api.ensemble.postedReports, before + 1, 'the report was posted once the webview was ready');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await screenshotInThemes('ensemble');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});

suite('HRM dataset files', () => {
  test('"Inspect this puzzle" CodeLenses on the puzzle lines of a dataset file run Inspect Puzzle with that puzzle', async () => {
    await vscode.extensions.getExtension('hrm-lens.hrm-lens')?.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const uri = vscode.Uri.joinPath(folder.uri, 'puzzles.txt');
    const doc = await vscode.workspace.openTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const ours = lenses.filter((l) => l.command?.command === 'hrmLens.inspectPuzzle');
    assert.ok(ours.length > 0, 'no Inspect lens');
    const first = ours[0];
    const line = doc.lineAt(first.range.start.line).text.trim();
    assert.deepEqual(first.command?.arguments, [{ puzzle: line }]);
    assert.equal(first.command?.title, 'Inspect this puzzle');
  });
});

suite('HRM training config files', () => {
  test('a config file is read with its fields checked; errors name the file and the field', async () => {
    const { readTrainConfig } = await import('../../extension/commands/train');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const write = async (name: string, text: string) => {
      const uri = vscode.Uri.joinPath(folder.uri, name);
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
      return uri;
    };
    const good = await readTrainConfig(await write('train-good.json', JSON.stringify({ preset: 'tiny-4x4', steps: 5, mixing: true, data: 'puzzles.txt' })));
    assert.equal(good.preset, 'tiny-4x4');
    assert.equal(good.steps, 5);
    assert.equal(good.mixing, true);
    assert.equal(good.data, path.join(folder.uri.fsPath, 'puzzles.txt'));
    await assert.rejects(readTrainConfig(await write('train-bad1.json', '{ "preset": "tiny-4x4", "lr": 1 }')), /train-bad1\.json: unknown field "lr"/);
    await assert.rejects(readTrainConfig(await write('train-bad2.json', '{ "steps": 0 }')), /train-bad2\.json: field "steps" must be an integer >= 1/);
    await assert.rejects(readTrainConfig(await write('train-bad3.json', '{ "preset": ')), /train-bad3\.json: not valid JSON/);
    const resample = await readTrainConfig(await write('train-resample.json', JSON.stringify({ preset: 'tiny-4x4', mixingResample: true })));
    assert.equal(resample.mixingResample, true);
    await assert.rejects(readTrainConfig(await write('train-bad4.json', '{ "mixingResample": "yes" }')), /train-bad4\.json: field "mixingResample" must be true or false/);
  });

  test('a config file that is not a regular file, or larger than 1 MiB, is refused without reading it', async function () {
    this.timeout(20_000);
    const { readTrainConfig } = await import('../../extension/commands/train');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const big = vscode.Uri.joinPath(folder.uri, 'train-big.json');
    await vscode.workspace.fs.writeFile(big, new TextEncoder().encode(JSON.stringify({ preset: 'tiny-4x4', pad: 'x'.repeat(2 * 1024 * 1024) })));
    await assert.rejects(readTrainConfig(big), /train-big\.json: \d+ bytes, more than the 1048576 bytes read: not read/);
    if (process.platform !== 'win32') {
      const fifo = path.join(folder.uri.fsPath, 'train-fifo.json');
      execFileSync('mkfifo', [fifo]);
      try {
        await assert.rejects(readTrainConfig(vscode.Uri.file(fifo)), /train-fifo\.json: a FIFO, not a regular file/);
      } finally {
        rmSync(fifo, { force: true });
      }
    }
  });
});
