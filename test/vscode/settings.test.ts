/**
 * Settings and manifest inside a real VS Code: the hrmLens.* settings are contributed and read (defaults, then a
 * workspace value); a changed runs folder changes what the Runs tree lists; settings that could load code are
 * machine-scoped; untrusted workspaces are supported in a limited way; activate() reports how long it took.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';

interface Manifest {
  contributes: { configuration: { properties: Record<string, { scope?: string; default?: unknown }> } };
  capabilities?: { untrustedWorkspaces?: { supported: string | boolean; description?: string } };
}

suite('HRM settings', () => {
  let api: HrmLensApi;
  let manifest: Manifest;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<HrmLensApi>('hrm-lens.hrm-lens');
    assert.ok(ext);
    api = await ext.activate();
    manifest = JSON.parse(readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8')) as Manifest;
  });

  suiteTeardown(async () => {
    const c = vscode.workspace.getConfiguration('hrmLens');
    for (const k of ['segments', 'backend', 'runsFolder', 'capture.attentionMaps']) await c.update(k, undefined, vscode.ConfigurationTarget.Workspace);
  });

  test('activate() timed itself (engine not started)', () => {
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs >= 0, String(api.activationMs));
    console.log(`activate() body: ${api.activationMs.toFixed(1)} ms`);
    console.log(`HRM_LENS_METRIC activateBodyMs=${api.activationMs.toFixed(1)}`);
  });

  test('contributed with defaults, and read', () => {
    const props = manifest.contributes.configuration.properties;
    for (const k of ['backend', 'threads', 'defaultCheckpoint', 'runsFolder', 'segments', 'capture.attentionMaps', 'capture.hiddenStates']) {
      assert.ok(props[`hrmLens.${k}`], `hrmLens.${k} is not contributed`);
    }
    const s = api.settings();
    assert.deepEqual(s, {
      backend: 'auto', threads: 0, defaultCheckpoint: '', runsFolder: '.hrm/runs', segments: 0, capture: { attentionMaps: false, hiddenStates: true },
    });
  });

  test('workspace values are read', async () => {
    const c = vscode.workspace.getConfiguration('hrmLens');
    await c.update('segments', 3, vscode.ConfigurationTarget.Workspace);
    await c.update('backend', 'cpu', vscode.ConfigurationTarget.Workspace);
    await c.update('capture.attentionMaps', true, vscode.ConfigurationTarget.Workspace);
    const s = api.settings();
    assert.equal(s.segments, 3);
    assert.equal(s.backend, 'cpu');
    assert.equal(s.capture.attentionMaps, true);
  });

  test('the Runs tree follows hrmLens.runsFolder', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const run = path.join(folder.uri.fsPath, 'elsewhere-runs', 'tiny-4x4-s9-20260101T000000');
    mkdirSync(run, { recursive: true });
    writeFileSync(path.join(run, 'run.json'), JSON.stringify({ format: 'hrm-lens-run', spec: { preset: 'tiny-4x4', seed: 9, mixing: true, train: { steps: 10, batch: 8 }, backend: { name: 'cpu' } } }));
    await vscode.workspace.getConfiguration('hrmLens').update('runsFolder', 'elsewhere-runs', vscode.ConfigurationTarget.Workspace);
    const runs = (await api.runs.getChildren()) ?? [];
    assert.deepEqual(runs.map((n) => (n.kind === 'run' ? n.run.name : '?')), ['tiny-4x4-s9-20260101T000000']);
    const item = await api.runs.getTreeItem(runs[0]);
    assert.match(String(item.description), /tiny-4x4 · 10 steps, no checkpoint · mixing on/);

  });

  test('a new checkpoint reaches the Runs tree (file watcher; polling while the view is visible as the fallback)', async function () {
    this.timeout(60_000);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    assert.equal(api.settings().runsFolder, 'elsewhere-runs', 'needs the previous test');
    await vscode.commands.executeCommand('hrmLens.runs.focus'); // the view on screen: the polling runs
    const run = path.join(folder.uri.fsPath, 'elsewhere-runs', 'tiny-4x4-s9-20260101T000000');
    let refreshed = 0;
    const sub = api.runs.onDidChangeTreeData(() => { refreshed++; });
    const t0 = Date.now();
    try {
      await new Promise((r) => setTimeout(r, 500));
      refreshed = 0;
      writeFileSync(path.join(run, 'step-000010.safetensors'), 'not really weights');
      for (let i = 0; i < 200 && refreshed === 0; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      sub.dispose();
    }
    const cause = api.runs.lastRefreshCause;
    console.log(`Runs tree refresh after a new checkpoint: ${refreshed > 0 ? `after ${Date.now() - t0 - 500} ms, by the ${cause === 'poll' ? 'polling' : cause}` : 'none within 20 s'}`);
    assert.ok(refreshed > 0, 'the tree refreshed (file event or polling) within 20 s');
    assert.ok(cause === 'watcher' || cause === 'poll', `refreshed by a file event or the polling, not "${cause}"`);
    const again = (await api.runs.getChildren()) ?? [];
    assert.match(String((await api.runs.getTreeItem(again[0])).description), /step 10\/10/, 'the tree reads the new checkpoint');
  });

  test('settings that could load code are machine-scoped; untrusted workspaces: limited', () => {
    const props = manifest.contributes.configuration.properties;
    const codeLoading = Object.keys(props).filter((k) => /(path|module|executable)$/i.test(k) && k !== 'hrmLens.defaultCheckpoint');
    for (const k of codeLoading) assert.equal(props[k].scope, 'machine', `${k} must be machine-scoped`);
    assert.equal(manifest.capabilities?.untrustedWorkspaces?.supported, 'limited');
    assert.ok((manifest.capabilities?.untrustedWorkspaces?.description ?? '').length > 20);
  });
});
