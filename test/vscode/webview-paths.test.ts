/**
 * Paths from webviews inside a real VS Code: a restored inspector whose saved state names a checkpoint outside the
 * workspace (or a link in the workspace that leads there), or a forged puzzle or segment count, gets no landscape, the
 * engine is not asked; the shipped model still works. A training dashboard restored for a folder outside the workspace closes; its "inspect
 * checkpoint" message is refused for a file outside its own run. A run.json that is a FIFO does not stall the Runs
 * tree. Hostile files are made in temp folders here.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { InspectSummary } from '../../engine/analysis/inspect';
import { toInspectorTrace } from '../../extension/panels/inspector-panel';
import { TRAINING_VIEW_TYPE } from '../../extension/panels/training-dashboard';
import type { InspectorState } from '../../webview/protocol';
import { useExtension } from './host';

suite('HRM webview paths', () => {
  const api = useExtension();
  let outside: string;
  let ws: string;
  let shipped: string;
  let summary: InspectSummary;
  const made: string[] = [];

  suiteSetup(async function () {
    this.timeout(120_000);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    ws = folder.uri.fsPath;
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(ext);
    shipped = path.join(ext.extensionPath, 'models', 'tiny-4x4.safetensors');
    outside = mkdtempSync(path.join(tmpdir(), 'hrm-outside-'));
    made.push(outside);
    copyFileSync(shipped, path.join(outside, 'copied.safetensors'));
    const s = await vscode.commands.executeCommand<InspectSummary | undefined>('hrmLens.inspectPuzzle', { puzzle: '.1.....3..32....', view: 'document' });
    assert.ok(s, 'inspect returned no summary');
    summary = s;
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  suiteTeardown(() => {
    for (const p of made) rmSync(p, { recursive: true, force: true });
  });

  const stateWith = (checkpoint: string): InspectorState => ({ trace: { ...toInspectorTrace(summary), checkpoint }, segment: 0, showSolution: false });

  test('a restored inspector naming a checkpoint outside the workspace gets no landscape', async function () {
    this.timeout(60_000);
    const r = await api().panels.landscapeOfRestoredState(stateWith(path.join(outside, 'copied.safetensors')), 21);
    assert.equal(r.ok, false);
    const err = r.posted.find((m) => m.kind === 'landscape-error');
    assert.ok(err && err.kind === 'landscape-error', JSON.stringify(r.posted));
    assert.match(err.message, /refused: .*copied\.safetensors.* is outside the workspace, the runs folder and the shipped models/);
    assert.ok(!r.posted.some((m) => m.kind === 'landscape' || m.kind === 'landscape-progress'), 'the engine was not asked');
  });

  test('a link in the workspace that leads to that checkpoint is refused too; relative paths and non-checkpoints as well', async function () {
    this.timeout(60_000);
    const dir = path.join(ws, 'webview-paths-fixture');
    mkdirSync(dir, { recursive: true });
    made.push(dir);
    symlinkSync(path.join(outside, 'copied.safetensors'), path.join(dir, 'linked.safetensors'));
    for (const checkpoint of [path.join(dir, 'linked.safetensors'), 'models/tiny-4x4.safetensors', path.join(outside, '..', path.basename(outside), 'copied.safetensors'), '/etc/passwd']) {
      const r = await api().panels.landscapeOfRestoredState(stateWith(checkpoint), 21);
      assert.equal(r.ok, false, checkpoint);
      assert.ok(r.posted.some((m) => m.kind === 'landscape-error' && /refused/.test(m.message)), `${checkpoint}: ${JSON.stringify(r.posted)}`);
    }
  });

  test('a restored trace of the shipped model with a forged puzzle or segment count is refused', async function () {
    this.timeout(60_000);
    const base = toInspectorTrace(summary);
    const forged: InspectorState[] = [
      { trace: { ...base, checkpoint: shipped, segments: Array.from({ length: 1000 }, () => base.segments[0]) }, segment: 0, showSolution: false },
      { trace: { ...base, checkpoint: shipped, puzzle: 'x'.repeat(10_000) }, segment: 0, showSolution: false },
    ];
    for (const state of forged) {
      const r = await api().panels.landscapeOfRestoredState(state, 21);
      assert.equal(r.ok, false);
      assert.ok(r.posted.some((m) => m.kind === 'landscape-error' && /refused: the saved (trace|puzzle)/.test(m.message)), JSON.stringify(r.posted));
    }
  });

  test('a restored inspector of the shipped model computes its landscape', async function () {
    this.timeout(120_000);
    const r = await api().panels.landscapeOfRestoredState(stateWith(shipped), 21);
    assert.equal(r.ok, true, JSON.stringify(r.posted.filter((m) => m.kind === 'landscape-error')));
    assert.ok(r.posted.some((m) => m.kind === 'landscape'));
  });

  test('a training dashboard restored for a folder outside the workspace closes; one of a workspace run opens', async function () {
    this.timeout(30_000);
    const restore = async (run: string): Promise<boolean> => {
      const panel = vscode.window.createWebviewPanel(TRAINING_VIEW_TYPE, 'HRM Training: restored', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, { enableScripts: true });
      let disposed = false;
      panel.onDidDispose(() => { disposed = true; });
      await api().dashboards.serializer().deserializeWebviewPanel(panel, { run });
      const closed = disposed;
      if (!disposed) panel.dispose();
      return closed;
    };
    assert.equal(await restore(outside), true, 'outside the workspace: closed');
    assert.equal(await restore('relative/run'), true, 'a relative path: closed');
    const run = path.join(ws, '.hrm', 'runs', 'webview-paths-run');
    mkdirSync(run, { recursive: true });
    made.push(run);
    writeFileSync(path.join(run, 'run.json'), JSON.stringify({ format: 'hrm-lens-run', spec: { preset: 'tiny-4x4', seed: 1, mixing: false, train: { steps: 10, batch: 8 } } }));
    assert.equal(await restore(run), false, 'a run of the workspace: opened');
  });

  test('"inspect checkpoint" from a dashboard: refused for a file outside its own run folder', async function () {
    this.timeout(30_000);
    const run = path.join(ws, '.hrm', 'runs', 'webview-paths-run2');
    mkdirSync(run, { recursive: true });
    made.push(run);
    writeFileSync(path.join(run, 'run.json'), JSON.stringify({ format: 'hrm-lens-run', spec: { preset: 'tiny-4x4', seed: 2, mixing: false, train: { steps: 10, batch: 8 } } }));
    const panel = api().dashboards.show(run, true);
    try {
      for (const file of [path.join(outside, 'copied.safetensors'), shipped, path.join(ws, '.hrm', 'runs', 'webview-paths-run', 'x.safetensors'), 42]) {
        const answer = await api().dashboards.receive(run, { kind: 'inspect-checkpoint', file: file as string });
        assert.equal(typeof answer, 'string', `${String(file)}: refused with a reason, not inspected`);
      }
      assert.match(String(await api().dashboards.receive(run, { kind: 'inspect-checkpoint', file: shipped })), /outside this dashboard's run folder/);
    } finally {
      panel.dispose();
    }
  });

  test('a run.json that is a FIFO does not stall the Runs tree', async function () {
    if (process.platform === 'win32') this.skip();
    this.timeout(30_000);
    const run = path.join(ws, '.hrm', 'runs', 'webview-paths-fifo');
    mkdirSync(run, { recursive: true });
    made.push(run);
    execFileSync('mkfifo', [path.join(run, 'run.json')]);
    writeFileSync(path.join(run, 'step-000001.safetensors'), 'not really weights');
    const nodes = (await api().runs.getChildren()) ?? [];
    const node = nodes.find((n) => n.kind === 'run' && n.run.dir === run);
    assert.ok(node && node.kind === 'run', 'the run is listed by its checkpoint');
    assert.equal(node.run.spec, undefined, 'its run.json was not read');
  });
});
