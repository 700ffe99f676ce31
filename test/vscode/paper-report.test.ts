/**
 * HRM: Paper Report inside a real VS Code: two small runs trained by `hrm-lens train` (one with data mixing), the
 * command with arguments writes the report folder (report.md, report.json, PNG figures) through the engine process
 * and opens the Markdown preview; from the Runs tree, the selected runs are split into the two arms by how they were
 * trained; a selection of one arm only is refused with a message, and nothing is written.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { sleep, useExtension } from './host';
import type { ReproduceResult } from '../../engine/paper/paper-protocol';

const SMALL = { puzzles: 8, relabelings: 2, checkpoints: 2, segments: 3, landscapeSample: 1, landscapeSize: 5 };

suite('HRM paper report', () => {
  useExtension();
  const folder = () => {
    const f = vscode.workspace.workspaceFolders?.[0];
    assert.ok(f);
    return f.uri.fsPath;
  };
  const root = () => path.join(folder(), '.hrm', 'paper-report-test');
  const cli = path.resolve(__dirname, '..', '..', 'cli.js');
  const train = (name: string, mixing: boolean): string => {
    const out = path.join(root(), name);
    if (!existsSync(path.join(out, 'run.json'))) {
      execFileSync(process.execPath, [cli, 'train', '--preset', 'tiny-4x4', '--steps', '20', '--batch', '8', '--checkpoint-every', '10',
        '--eval-puzzles', '8', '--seed', '3', '--out', out, '--quiet', '--backend', 'wasm', ...(mixing ? ['--mixing'] : [])],
      { stdio: 'ignore', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 240_000 });
    }
    return out;
  };

  suiteTeardown(() => rmSync(root(), { recursive: true, force: true }));

  test('the command is registered', async () => {
    assert.ok((await vscode.commands.getCommands(true)).includes('hrmLens.paperReport'));
  });

  test('with arguments: the report folder is written and opens in the Markdown preview', async function () {
    this.timeout(300_000);
    const baseline = train('baseline', false);
    const mixing = train('mixing', true);
    const out = path.join(root(), 'report-args');
    const r = await vscode.commands.executeCommand<ReproduceResult | undefined>('hrmLens.paperReport', { baseline: [baseline], mixing: [mixing], ...SMALL, out });
    assert.ok(r, 'Paper Report returned nothing (see the HRM Lens log)');
    assert.equal(r.dir, out);
    const report = JSON.parse(readFileSync(r.json, 'utf8')) as { format: string; inputs: { runs: { baseline: unknown[]; mixing: unknown[] } } };
    assert.equal(report.format, 'hrm-lens-paper-report');
    assert.equal(report.inputs.runs.baseline.length, 1);
    assert.equal(report.inputs.runs.mixing.length, 1);
    assert.match(readFileSync(r.markdown, 'utf8'), /\| *\+ mixing/);
    const pngs = readdirSync(path.join(out, 'figures')).filter((f) => f.endsWith('.png'));
    assert.ok(pngs.length >= 3, `figures: ${pngs.join(', ')}`);
    for (const f of pngs) assert.deepEqual([...readFileSync(path.join(out, 'figures', f)).subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], f);
    const preview = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType));
    for (let i = 0; i < 100 && !preview(); i++) await sleep(50);
    assert.ok(preview(), 'the Markdown preview of the report is open');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('from the Runs tree: the selection is split by data mixing; one arm alone is refused', async function () {
    this.timeout(300_000);
    const baseline = train('baseline', false);
    const mixing = train('mixing', true);
    const none = await vscode.commands.executeCommand<ReproduceResult | undefined>('hrmLens.paperReport', baseline, [baseline, baseline]);
    assert.equal(none, undefined, 'a selection without a mixing run is refused');
    const r = await vscode.commands.executeCommand<ReproduceResult | undefined>('hrmLens.paperReport', mixing, [mixing, baseline]);
    assert.ok(r, 'Paper Report returned nothing (see the HRM Lens log)');
    const report = JSON.parse(readFileSync(r.json, 'utf8')) as { inputs: { runs: { baseline: { dir: string }[]; mixing: { dir: string }[] } } };
    assert.deepEqual(report.inputs.runs.baseline.map((x) => path.resolve(x.dir)), [path.resolve(baseline)]);
    assert.deepEqual(report.inputs.runs.mixing.map((x) => path.resolve(x.dir)), [path.resolve(mixing)]);
    assert.ok(r.dir.startsWith(path.join(folder(), '.hrm', 'reports')), r.dir);
    rmSync(r.dir, { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
