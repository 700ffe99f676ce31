/**
 * The training dashboard inside a real VS Code: HRM: Train opens it beside the editor and it receives the run's
 * history and live steps from the engine (messages counted by the host side), the engine logs per-segment exact
 * fractions into metrics.jsonl, and "HRM: Open Training Dashboard" opens it again for a finished run; a run trained
 * by the CLI in another process is followed as its metrics.jsonl grows.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import { readMetricsHistory } from '../../extension/panels/training-history';
import { screenshotInThemes, sleep, useExtension } from './host';

interface TrainResultLike { run: string; checkpoint: string; step: number; cancelled: boolean }

function dashboardTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('hrmLens.training'));
}

suite('HRM training dashboard', () => {
  const api = useExtension();

  test('Train opens the dashboard, which gets the history and live steps; Open Training Dashboard reopens it', async function () {
    this.timeout(240_000);
    const r = await vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train', { preset: 'tiny-4x4', steps: 120, batch: 8, seed: 11 });
    assert.ok(r, 'Train returned no result (see the HRM Lens log)');
    assert.equal(r.step, 120);
    // Earlier suites' trainings opened dashboards of their own runs: this run has exactly one.
    const mine = () => dashboardTabs().filter((t) => t.label === `HRM Training: ${path.basename(r.run)}`);
    assert.equal(mine().length, 1, `one dashboard tab for this run among ${dashboardTabs().map((t) => t.label).join(', ')}`);
    // The final snapshot is posted after the result: wait for it.
    const posted = () => api().dashboards.posted.get(path.resolve(r.run)) ?? {};
    for (let i = 0; i < 100 && (posted().run ?? 0) < 2; i++) await sleep(50);
    const counts = posted();
    assert.ok((counts.run ?? 0) >= 2, `the history on 'ready' and again at the end: ${JSON.stringify(counts)}`);
    assert.ok((counts.points ?? 0) >= 1, `live steps were posted while training: ${JSON.stringify(counts)}`);

    const history = await readMetricsHistory(r.run);
    assert.equal(history.points.length, 120);
    assert.ok(history.points.every((p) => p.segmentExact.length === 4), 'tiny-4x4 has 4 ACT segments: 4 fractions per step');

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.equal(dashboardTabs().length, 0);
    const opened = await vscode.commands.executeCommand<string | undefined>('hrmLens.openTrainingDashboard', { run: r.run });
    assert.equal(opened, path.resolve(r.run));
    for (let i = 0; i < 100 && mine().length === 0; i++) await sleep(50);
    assert.equal(mine().length, 1);
    const before = posted().run ?? 0;
    for (let i = 0; i < 200 && (posted().run ?? 0) === before; i++) await sleep(50);
    assert.ok((posted().run ?? 0) > before, 'the reopened dashboard got the history');
    // Screenshots for the legibility check (the runner saves them under out/shots/).
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await screenshotInThemes('dashboard');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('a run trained by `hrm-lens train` in another process: the open dashboard follows its metrics.jsonl', async function () {
    this.timeout(240_000);
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const out = path.join(folder.uri.fsPath, '.hrm', 'runs', 'cli-run');
    const cli = path.resolve(__dirname, '..', '..', 'cli.js');
    const child = spawn(process.execPath, [cli, 'train', '--preset', 'tiny-4x4', '--steps', '400', '--batch', '8', '--seed', '2', '--out', out, '--quiet', '--backend', 'wasm'],
      { stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    try {
      const posted = () => api().dashboards.posted.get(path.resolve(out))?.run ?? 0;
      // Open it as soon as the run folder exists; then every change of the log is re-sent.
      for (let i = 0; i < 400 && posted() === 0; i++) {
        await vscode.commands.executeCommand('hrmLens.openTrainingDashboard', { run: out });
        await sleep(250);
      }
      const first = posted();
      assert.ok(first >= 1, 'the dashboard got the history');
      for (let i = 0; i < 200 && posted() < first + 2; i++) await sleep(100);
      assert.ok(posted() >= first + 2, `re-sent as the CLI run's log grew (${posted() - first} updates)`);
    } finally {
      child.kill();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
