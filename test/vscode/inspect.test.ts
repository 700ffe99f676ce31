/**
 * "HRM: Inspect Puzzle" inside a real VS Code: with the shipped default model, a 4×4 puzzle comes back segment by
 * segment from the engine process; it opens in the inspector panel (whose script runs under the strict CSP, asks for
 * the trace and reports its first render), or as a Markdown document with `view: 'document'`.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';
import { INSPECTOR_VIEW_TYPE } from '../../extension/panels/inspector-panel';
import { trajectoriesHtml } from '../../extension/views/trajectories-view';
import { screenshotInThemes, sleep } from './host';

interface SummaryLike { segments: { grid: string }[]; solution: string; mode: { mode: string }; perturbations: { name: string }[]; stripPending?: boolean }
const metric = (name: string, value: number) => console.log(`HRM_LENS_METRIC ${name}=${value.toFixed(1)}`);

suite('HRM: Inspect Puzzle', () => {
  let api: HrmLensApi;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<HrmLensApi>('hrm-lens.hrm-lens');
    assert.ok(ext);
    api = await ext.activate();
  });

  test('inspects a 4×4 puzzle with the shipped model and opens the result document', async function () {
    this.timeout(120_000);
    // The document opens with the trace, before the digit relabelings are computed, and is updated when they are.
    const opened: string[] = [];
    const sub = vscode.workspace.onDidOpenTextDocument((d) => { if (d.uri.scheme === 'hrm-lens') opened.push(d.getText()); });
    const summary = await vscode.commands.executeCommand<SummaryLike | undefined>('hrmLens.inspectPuzzle', { puzzle: '.1.....3..32....', view: 'document' });
    sub.dispose();
    assert.ok(summary, 'the command returned a summary');
    assert.equal(summary.segments.length, 4);
    assert.equal(summary.solution, '3124421314322341');
    for (const s of summary.segments) assert.match(s.grid, /^[1-4.]{16}$/);
    assert.equal(opened.length, 1, 'one result document opened');
    assert.match(opened[0], /## Digit relabelings[^]*Computing…/, 'it opened before the relabelings were there');
    const doc = vscode.window.activeTextEditor?.document;
    assert.ok(doc && doc.getText().includes('puzzle inspection') && doc.getText().includes('| segment |'), 'the result document is open');
    for (let i = 0; i < 50 && !doc.getText().includes('| relabeling |'); i++) await sleep(100);
    const text = doc.getText();
    assert.ok(!text.includes('Computing…'), 'the relabelings replaced "Computing…"');
    const relabelings = text.slice(text.indexOf('## Digit relabelings'));
    assert.equal((relabelings.match(/^\| [^|]+ \| `[1-4.]{16}` \|/gm) ?? []).length, summary.perturbations.length, `one row per relabeling:\n${text}`);
    assert.match(text, /^Vote \(/m);
  });

  test('opens the inspector panel, whose webview renders the trace', async function () {
    this.timeout(120_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const before = api.panels.renderTimes.length;
    const summary = await vscode.commands.executeCommand<SummaryLike | undefined>('hrmLens.inspectPuzzle', { puzzle: '..4.3.....1..2..' });
    assert.ok(summary);
    // The panel opens with the trace; the strip follows, and the command resolves with the whole summary.
    assert.equal(summary.perturbations.length, 4);
    assert.equal(summary.stripPending, undefined);
    for (let i = 0; i < 300 && api.panels.renderTimes.length === before; i++) await sleep(100);
    assert.ok(api.panels.renderTimes.length > before, 'the webview did not report a render (script blocked, or no ready handshake)');
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
    assert.ok(tabs.some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(INSPECTOR_VIEW_TYPE)),
      `no inspector tab among ${tabs.map((t) => t.label).join(', ')}`);
    metric('inspectorRenderMs', api.panels.renderTimes.at(-1) ?? NaN);
    assert.equal(await api.panels.computeLandscapeInLastPanel(21), true, 'the engine computed the landscape for the panel');
    await sleep(500);
    // Pictures of the panel in the dark and the light theme (taken by the runner; see run-in-code-server.mjs).
    await screenshotInThemes('inspector');
  });

  test('the Trajectories view lists the inspected puzzles with their class (strict CSP, nonce on the script)', async function () {
    this.timeout(30_000);
    const entries = api.trajectories.entries();
    const e = entries.find((x) => x.puzzle === '..4.3.....1..2..');
    assert.ok(e, `inspected puzzle not listed (${entries.length} entries)`);
    assert.equal(typeof e.mode, 'string');
    assert.equal(e.wrong.length, 4);
    const html = trajectoriesHtml('vscode-webview://x', entries, 'n0nce');
    assert.match(html, /script-src 'nonce-n0nce'/);
    assert.match(html, /default-src 'none'/);
    assert.ok(html.includes(e.mode.replace(/-/g, ' ')));
    assert.equal((html.match(/<script/g) ?? []).length, (html.match(/<script nonce="n0nce">/g) ?? []).length);
    await vscode.commands.executeCommand('workbench.view.extension.hrmLens');
    await sleep(2000);
    console.log('HRM_LENS_SCREENSHOT trajectories-view');
    await sleep(1500);
  });
});
