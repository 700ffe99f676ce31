/**
 * Settings and manifest inside a real VS Code: the hrmLens.* settings are contributed and read (defaults, then a
 * workspace value), each with its scope, and none is contributed without being read; a changed runs folder changes what the Runs tree lists; every free-form path setting is
 * machine-scoped or restricted in untrusted workspaces, which are supported in a limited way; activate() reports how long it took; a
 * workspace value of hrmLens.runsFolder that leads outside the workspace folder is ignored.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';
import { runsFolderUri } from '../../extension/settings';

interface Manifest {
  contributes: { configuration: { properties: Record<string, { type?: string; enum?: unknown[]; scope?: string; default?: unknown }> } };
  capabilities?: { untrustedWorkspaces?: { supported: string | boolean; description?: string; restrictedConfigurations?: string[] } };
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
    for (const k of ['segments', 'backend', 'runsFolder', 'threads', 'defaultCheckpoint']) await c.update(k, undefined, vscode.ConfigurationTarget.Workspace);
  });

  test('activate() timed itself (engine not started)', () => {
    assert.ok(Number.isFinite(api.activationMs) && api.activationMs >= 0, String(api.activationMs));
    console.log(`activate() body: ${api.activationMs.toFixed(1)} ms`);
    console.log(`HRM_LENS_METRIC activateBodyMs=${api.activationMs.toFixed(1)}`);
  });

  test('contributed with defaults, and read', () => {
    const props = manifest.contributes.configuration.properties;
    for (const k of ['backend', 'threads', 'defaultCheckpoint', 'runsFolder', 'segments']) {
      assert.ok(props[`hrmLens.${k}`], `hrmLens.${k} is not contributed`);
    }
    const s = api.settings();
    assert.deepEqual(s, {
      backend: 'auto', torch: false, pythonPath: '', threads: 0, defaultCheckpoint: '', runsFolder: '.hrm/runs', segments: 0,
      officialRunFolders: [], officialRunEvalPuzzles: 100, officialRunEvalData: '',
    });
  });

  test('workspace values are read', async () => {
    const c = vscode.workspace.getConfiguration('hrmLens');
    await c.update('segments', 3, vscode.ConfigurationTarget.Workspace);
    await c.update('backend', 'cpu', vscode.ConfigurationTarget.Workspace);
    const s = api.settings();
    assert.equal(s.segments, 3);
    assert.equal(s.backend, 'cpu');
  });

  test('every contributed setting has a scope and is read: a workspace value of each changes what settings() reports', async () => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(ext);
    const props = (ext.packageJSON as Manifest).contributes.configuration.properties;
    const expectedScope: Record<string, string> = {
      'hrmLens.backend': 'machine-overridable', 'hrmLens.threads': 'machine-overridable', 'hrmLens.pythonPath': 'machine',
      'hrmLens.defaultCheckpoint': 'resource', 'hrmLens.runsFolder': 'resource', 'hrmLens.segments': 'resource',
      'hrmLens.officialRunFolders': 'machine-overridable', 'hrmLens.officialRunEvalPuzzles': 'window', 'hrmLens.officialRunEvalData': 'machine-overridable',
    };
    // A value other than the default for each setting, and what settings() reports for it.
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const probes: Record<string, { value: unknown; read: (s: ReturnType<typeof api.settings>) => unknown; expected: unknown }> = {
      'hrmLens.backend': { value: 'wasm', read: (s) => s.backend, expected: 'wasm' },
      'hrmLens.pythonPath': { value: '/opt/python/bin/python3', read: (s) => s.pythonPath, expected: '/opt/python/bin/python3' },
      'hrmLens.threads': { value: 2, read: (s) => s.threads, expected: 2 },
      'hrmLens.defaultCheckpoint': { value: 'models/x.safetensors', read: (s) => s.defaultCheckpoint, expected: path.join(folder.uri.fsPath, 'models', 'x.safetensors') },
      'hrmLens.runsFolder': { value: 'probe-runs', read: (s) => s.runsFolder, expected: 'probe-runs' },
      'hrmLens.segments': { value: 5, read: (s) => s.segments, expected: 5 },
      'hrmLens.officialRunFolders': { value: ['official/run', '/abs/run'], read: (s) => s.officialRunFolders, expected: [path.join(folder.uri.fsPath, 'official', 'run'), '/abs/run'] },
      'hrmLens.officialRunEvalPuzzles': { value: 7, read: (s) => s.officialRunEvalPuzzles, expected: 7 },
      'hrmLens.officialRunEvalData': { value: 'data/test.csv', read: (s) => s.officialRunEvalData, expected: path.join(folder.uri.fsPath, 'data', 'test.csv') },
    };
    const before = { ...api.settings() };
    for (const [key, p] of Object.entries(props)) {
      assert.ok(p.scope, `${key} has no scope`);
      assert.equal(p.scope, expectedScope[key], `${key}: scope`);
      const probe = probes[key];
      assert.ok(probe, `${key} is contributed but nothing here knows how it is read: read it in extension/settings.ts or remove it`);
      const c = vscode.workspace.getConfiguration('hrmLens', folder.uri);
      const name = key.slice('hrmLens.'.length);
      // A machine-scoped setting cannot be set by a workspace: its user value is read.
      const target = p.scope === 'machine' ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
      await c.update(name, probe.value, target);
      try {
        assert.deepEqual(probe.read(api.settings()), probe.expected, `${key}: the ${target === vscode.ConfigurationTarget.Global ? 'user' : 'workspace'} value is read`);
      } finally {
        await c.update(name, undefined, target);
      }
    }
    assert.deepEqual(Object.keys(probes).filter((k) => !props[k]), [], 'settings removed from package.json are not probed here');
    await vscode.workspace.getConfiguration('hrmLens').update('segments', before.segments, vscode.ConfigurationTarget.Workspace);
    await vscode.workspace.getConfiguration('hrmLens').update('backend', before.backend, vscode.ConfigurationTarget.Workspace);
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

  test('every free-form string setting (a path the extension reads) is machine-scoped or restricted when untrusted; untrusted workspaces: limited', () => {
    const props = manifest.contributes.configuration.properties;
    const restricted = manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? [];
    assert.deepEqual(restricted.filter((k) => !props[k]), [], 'restrictedConfigurations names settings that are not contributed');
    const paths = Object.keys(props).filter((k) => props[k].type === 'string' && props[k].enum === undefined);
    for (const k of ['hrmLens.defaultCheckpoint', 'hrmLens.runsFolder']) assert.ok(paths.includes(k), `${k} is a free-form string setting`);
    const open = paths.filter((k) => props[k].scope !== 'machine' && !restricted.includes(k));
    assert.deepEqual(open, [], 'a workspace could set these paths in an untrusted folder');
    assert.equal(manifest.capabilities?.untrustedWorkspaces?.supported, 'limited');
    assert.ok((manifest.capabilities?.untrustedWorkspaces?.description ?? '').length > 20);
  });

  test('a workspace hrmLens.runsFolder outside the workspace folder (/tmp/x, ~/x, ../x) is ignored: runs stay in the workspace', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const props = manifest.contributes.configuration.properties;
    assert.equal(props['hrmLens.runsFolder'].scope, 'resource');
    const c = () => vscode.workspace.getConfiguration('hrmLens', folder.uri);
    for (const value of ['/tmp/x', '~/x', '../x']) {
      await c().update('runsFolder', value, vscode.ConfigurationTarget.Workspace);
      assert.equal(c().get('runsFolder'), value, 'the workspace value is set');
      assert.equal(api.settings().runsFolder, '.hrm/runs', `${value}: ignored, the default applies`);
      assert.equal(runsFolderUri()?.fsPath, path.join(folder.uri.fsPath, '.hrm', 'runs'), `${value}: runs are written and listed in the workspace`);
    }
    // Inside the workspace folder, a workspace value applies.
    await c().update('runsFolder', 'inside/runs', vscode.ConfigurationTarget.Workspace);
    assert.equal(api.settings().runsFolder, 'inside/runs');
    await c().update('runsFolder', undefined, vscode.ConfigurationTarget.Workspace);
  });
});
