/**
 * The PyTorch backend inside a real VS Code: with hrmLens.backend = torch and hrmLens.pythonPath set in the user
 * settings (the disposable profile the runner creates), "HRM: Inspect Puzzle" on the shipped 4×4 model gives the
 * grids, class and digit relabelings TF.js gives, and the probe, the ensemble report and the inspector's landscape run
 * there too, all computed by the worker that setting names (a user pythonPath that is not there makes them fail);
 * hrmLens.pythonPath in the workspace's .vscode/settings.json is ignored.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { findTorchPythonSync } from '../../engine/torch/python-discovery';
import { sleep, useExtension } from './host';

interface SummaryLike { checkpoint: string; segments: { grid: string }[]; mode: { mode: string }; perturbations: { name: string; answer: string }[] }
interface ProbeLike { rows: unknown[] }
interface EnsembleLike { summary: unknown }

const PUZZLE = '..4.3.....1..2..';

suite('HRM PyTorch backend', () => {
  const api = useExtension();
  let shipped: string;
  let python: string;
  let wsSettings = '';
  let wsSettingsBefore: string | undefined;
  const user = () => vscode.workspace.getConfiguration('hrmLens');
  const inspect = () => vscode.commands.executeCommand<SummaryLike | undefined>('hrmLens.inspectPuzzle', { puzzle: PUZZLE, checkpoint: shipped, view: 'document' });
  const figures = (s: SummaryLike) => ({ grids: s.segments.map((x) => x.grid), mode: s.mode.mode, strip: s.perturbations.map((p) => [p.name, p.answer]) });

  suiteSetup(() => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ext && folder);
    assert.equal(vscode.workspace.isTrusted, true);
    shipped = path.join(ext.extensionPath, 'models', 'tiny-4x4.safetensors');
    python = findTorchPythonSync();
    wsSettings = path.join(folder.uri.fsPath, '.vscode', 'settings.json');
    wsSettingsBefore = existsSync(wsSettings) ? readFileSync(wsSettings, 'utf8') : undefined;
  });

  suiteTeardown(async () => {
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    if (wsSettings && wsSettingsBefore === undefined) rmSync(wsSettings, { force: true });
    else if (wsSettings && wsSettingsBefore !== undefined) writeFileSync(wsSettings, wsSettingsBefore);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('hrmLens.pythonPath is machine-scoped; torch is offered by hrmLens.backend, described', () => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    const props = (ext?.packageJSON as { contributes: { configuration: { properties: Record<string, { scope?: string; enum?: string[]; enumDescriptions?: string[] }> } } })
      .contributes.configuration.properties;
    assert.equal(props['hrmLens.pythonPath'].scope, 'machine');
    const backend = props['hrmLens.backend'];
    assert.equal(backend.enum?.at(-1), 'torch');
    assert.match(backend.enumDescriptions?.at(-1) ?? '', /PyTorch/);
  });

  test('with backend torch and the user\'s pythonPath, Inspect Puzzle gives the grids TF.js gives', async function () {
    this.timeout(600_000);
    const tfjs = await inspect();
    assert.ok(tfjs, 'inspected on TF.js');
    await user().update('backend', 'torch', vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    const s = api().settings();
    assert.equal(s.torch, true);
    assert.equal(s.pythonPath, python);
    assert.equal(s.backend, 'auto', 'the TF.js backend (training, evaluation) stays auto');
    const torch = await inspect();
    assert.ok(torch, 'inspected on the PyTorch worker');
    assert.equal(path.resolve(torch.checkpoint), path.resolve(shipped));
    assert.deepEqual(figures(torch), figures(tfjs));
    assert.equal(torch.perturbations.length, 4);
  });

  test('the probe, the ensemble report and the inspector\'s landscape run on the worker too, with TF.js\'s figures', async function () {
    this.timeout(600_000);
    const probeArgs = { checkpoints: [shipped], masks: ['cell', 'row'], count: 6, segments: 3 };
    const ensembleArgs = { sources: [shipped], generate: 6, segments: 3, view: 'document' };
    const onWorker = {
      probe: await vscode.commands.executeCommand<ProbeLike | undefined>('hrmLens.runProbe', probeArgs),
      ensemble: await vscode.commands.executeCommand<EnsembleLike | undefined>('hrmLens.ensembleReport', ensembleArgs),
    };
    await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: PUZZLE, checkpoint: shipped });
    assert.equal(await api().panels.computeLandscapeInLastPanel(9), true, 'the landscape was computed on the worker');
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    try {
      const probe = await vscode.commands.executeCommand<ProbeLike | undefined>('hrmLens.runProbe', probeArgs);
      const ensemble = await vscode.commands.executeCommand<EnsembleLike | undefined>('hrmLens.ensembleReport', ensembleArgs);
      assert.ok(onWorker.probe && onWorker.ensemble && probe && ensemble);
      assert.deepEqual(onWorker.probe.rows, probe.rows);
      assert.deepEqual(onWorker.ensemble.summary, ensemble.summary);
    } finally {
      await user().update('backend', 'torch', vscode.ConfigurationTarget.Global);
    }
  });

  test('the worker is the one the user setting names: a pythonPath that is not there makes Inspect, the probe and the landscape fail', async function () {
    this.timeout(300_000);
    await user().update('pythonPath', path.join(path.dirname(shipped), 'no-such-python'), vscode.ConfigurationTarget.Global);
    try {
      assert.equal(await inspect(), undefined, 'the inspection ran although the named interpreter does not exist');
      assert.equal(await vscode.commands.executeCommand('hrmLens.runProbe', { checkpoints: [shipped], masks: ['cell'], count: 2 }), undefined, 'the probe ran');
      assert.equal(await api().panels.computeLandscapeInLastPanel(5), false, 'the landscape was computed');
    } finally {
      await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    }
  });

  test('a workspace hrmLens.pythonPath (.vscode/settings.json) is ignored', async function () {
    this.timeout(600_000);
    const before = await inspect();
    assert.ok(before);
    mkdirSync(path.dirname(wsSettings), { recursive: true });
    const current = existsSync(wsSettings) ? (JSON.parse(readFileSync(wsSettings, 'utf8')) as Record<string, unknown>) : {};
    // hrmLens.segments (resource scope) shows when VS Code has read the file.
    writeFileSync(wsSettings, JSON.stringify({ ...current, 'hrmLens.pythonPath': '/nonexistent/python', 'hrmLens.segments': 3 }, null, 2));
    for (let i = 0; i < 200 && api().settings().segments !== 3; i++) await sleep(50);
    assert.equal(api().settings().segments, 3, 'the workspace settings file was read');
    assert.equal(api().settings().pythonPath, python, 'the user value applies');
    assert.equal(user().inspect('pythonPath')?.globalValue, python);
    const after = await inspect();
    assert.ok(after, 'the inspection did not use the workspace\'s interpreter');
    assert.deepEqual(figures(after), figures(before));
  });
});
