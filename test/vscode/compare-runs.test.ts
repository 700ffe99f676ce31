/**
 * "HRM: Compare Runs" inside a real VS Code: two runs selected in the Runs tree (the command gets the clicked node and
 * the selection, as the context menu passes them) open one panel whose webview asks for the runs (ready handshake
 * under the strict CSP) and gets their settings rows and curves; a growing metrics.jsonl is followed; comparing again
 * reuses the panel. The context menu offers it only on a multi-selection of runs.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { COMPARE_VIEW_TYPE } from '../../extension/panels/compare-panel';
import type { RunsNode } from '../../extension/views/runs-tree';
import { screenshotInThemes, sleep, useExtension } from './host';

interface Manifest { contributes: { menus: Record<string, { command: string; when?: string }[]>; commands: { command: string; title: string }[] }; activationEvents: string[] }

/** A run folder as the trainer writes it: run.json, `steps` lines of metrics.jsonl, one evaluated checkpoint or none. */
function writeRun(dir: string, seed: number, mixing: boolean, steps: number, heldOutExact?: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify({
    format: 'hrm-lens-run',
    spec: {
      preset: 'hard-6x6', seed, mixing, ...(mixing ? { mixingMode: 'fixed' } : {}), augment: false,
      model: { gridSize: 6, hidden: 64, heads: 4, H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2, haltMaxSteps: 16, variant: 'hrm' },
      train: { batch: 64, steps: 500, lr: 0.001 }, data: { kind: 'generated' }, backend: { name: 'wasm' },
    },
    numParams: 70786, created: new Date(Date.now() - 1000 * seed).toISOString(),
  }));
  writeFileSync(path.join(dir, 'metrics.jsonl'), metricsLines(1, steps, mixing ? 0.8 : 1));
  if (heldOutExact !== undefined) {
    writeFileSync(path.join(dir, `step-${String(steps).padStart(6, '0')}.safetensors`), 'not read by the comparison');
    writeFileSync(path.join(dir, `step-${String(steps).padStart(6, '0')}.eval.json`), JSON.stringify({ step: steps, puzzles: 500, segments: 16, exact: heldOutExact, cell: 0.9 }));
  }
}

function metricsLines(from: number, to: number, scale: number): string {
  let out = '';
  for (let step = from; step <= to; step++) {
    const t = step / 40;
    out += `${JSON.stringify({
      step, lr: 0.001, loss: scale * (1.2 * Math.exp(-t) + 0.2 + 0.05 * Math.sin(step)), halted: 8, exactAccuracy: Math.min(1, t / (2 * scale)),
      batchCellAccuracy: Math.min(1, 0.4 + t / (3 * scale)), meanSteps: 3, stepMs: 100,
      segmentExact: Array.from({ length: 16 }, (_, s) => (s < 4 ? Math.min(1, (t * (s + 1)) / (8 * scale)) : null)),
    })}\n`;
  }
  return out;
}

const compareTabs = (): vscode.Tab[] =>
  vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(COMPARE_VIEW_TYPE));

suite('HRM compare runs', () => {
  const api = useExtension();
  let runs: string;
  const made: string[] = [];

  suiteSetup(() => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    runs = path.join(folder.uri.fsPath, '.hrm', 'runs');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const p of made) rmSync(p, { recursive: true, force: true });
  });

  test('the manifest: a palette command, in the Runs view\'s context menu only for a multi-selection of runs', () => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(ext);
    const m = ext.packageJSON as Manifest;
    assert.ok(m.contributes.commands.some((c) => c.command === 'hrmLens.compareRuns' && c.title === 'Compare Runs'));
    const menu = m.contributes.menus['view/item/context'].filter((e) => e.command === 'hrmLens.compareRuns');
    assert.deepEqual(menu.map((e) => e.when), ['view == hrmLens.runs && viewItem == hrmRun && listMultiSelection']);
    assert.ok(!(m.contributes.menus.commandPalette ?? []).some((e) => e.command === 'hrmLens.compareRuns'), 'not hidden from the palette');
    assert.ok(m.activationEvents.includes(`onWebviewPanel:${COMPARE_VIEW_TYPE}`), 'restored after a reload');
  });

  test('two runs selected in the Runs tree: one panel gets their settings rows and curves; a growing log is followed', async function () {
    this.timeout(120_000);
    const a = path.join(runs, 'compare-baseline-s1');
    const b = path.join(runs, 'compare-mixing-s1');
    made.push(a, b);
    writeRun(a, 1, false, 300, 0.25);
    writeRun(b, 1, true, 200);
    api().runs.refresh();
    const nodes = ((await api().runs.getChildren()) ?? []).filter((n): n is RunsNode & { kind: 'run' } => n.kind === 'run' && [a, b].includes(n.run.dir));
    assert.equal(nodes.length, 2, 'both runs are in the Runs tree');
    const [na, nb] = [a, b].map((d) => nodes.find((n) => n.run.dir === d) as RunsNode);

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // As the context menu calls it on a multi-selection: the clicked node, then every selected node.
    const shown = await vscode.commands.executeCommand<string[] | undefined>('hrmLens.compareRuns', nb, [na, nb]);
    assert.deepEqual(shown, [a, b]);
    const posted = () => api().compare.shown;
    for (let i = 0; i < 1200 && posted()?.runs.length !== 2; i++) await sleep(50); // up to 60 s: a first webview on a busy machine
    const data = posted();
    assert.ok(data, 'the webview asked for the runs (script ran under the CSP) and got them');
    assert.deepEqual(data.runs.map((r) => r.dir), [a, b]);
    const cell = (i: number, key: string) => data.runs[i].cells[data.columns.findIndex((c) => c.key === key)];
    assert.deepEqual([cell(0, 'seed'), cell(1, 'seed')], [1, 1]);
    assert.deepEqual([cell(0, 'mixing'), cell(1, 'mixing')], ['off', 'on (fixed)']);
    assert.deepEqual([cell(0, 'preset'), cell(1, 'preset')], ['hard-6x6', 'hard-6x6']);
    assert.deepEqual([cell(0, 'params'), cell(1, 'lr')], [70786, 0.001]);
    assert.deepEqual([cell(0, 'heldOutExact'), cell(1, 'heldOutExact')], [0.25, null]);
    assert.deepEqual(data.runs.map((r) => r.points.length), [300, 200], 'the curves of both runs, one point per logged step');
    assert.deepEqual(data.runs.map((r) => r.heldOut.length), [1, 0]);
    assert.equal(compareTabs().length, 1, 'one compare panel');

    // The page: a strict CSP, the bundle's script with this load's nonce and nothing inline without it.
    const html = api().compare.html ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(html)?.[1];
    assert.ok(nonce, 'a script nonce in the CSP');
    assert.match(html, /default-src 'none'/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0].includes(`nonce="${nonce}"`) && /src="[^"]*compare\.js"/.test(scripts[0]), scripts[0]);
    assert.ok((html.match(/<style[^>]*>/g) ?? []).every((s) => s.includes(`nonce="${nonce}"`)));

    // A run still training: its log grows and the panel gets the run again with the new steps.
    const before = api().compare.posted.run ?? 0;
    appendFileSync(path.join(b, 'metrics.jsonl'), metricsLines(201, 260, 0.8));
    for (let i = 0; i < 600 && (posted()?.runs[1].points.length ?? 0) < 260; i++) await sleep(50);
    assert.equal(posted()?.runs[1].points.length, 260, 'the grown log was read again');
    assert.ok((api().compare.posted.run ?? 0) > before, 'as one run, not all of them');

    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await sleep(500);
    await screenshotInThemes('compare');

    // Compared again (another order): the same panel shows the new selection.
    const again = await vscode.commands.executeCommand<string[] | undefined>('hrmLens.compareRuns', { runs: [b, a, b] });
    assert.deepEqual(again, [b, a]);
    for (let i = 0; i < 600 && posted()?.runs[0].dir !== b; i++) await sleep(50);
    assert.deepEqual(posted()?.runs.map((r) => r.dir), [b, a]);
    assert.equal(compareTabs().length, 1, 'still one compare panel');
  });

  test('a comparison restored after a reload reads only run folders of the workspace or the runs folder', async function () {
    this.timeout(30_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const outside = mkdtempSync(path.join(tmpdir(), 'hrm-compare-outside-'));
    made.push(outside);
    writeRun(outside, 5, false, 10);
    const inside = path.join(runs, 'compare-restored-s2');
    made.push(inside);
    writeRun(inside, 2, false, 10);
    const restore = async (dirs: string[]): Promise<{ closed: boolean; runs: readonly string[] }> => {
      const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'HRM: Compare Runs', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, { enableScripts: true });
      let closed = false;
      panel.onDidDispose(() => { closed = true; });
      await api().compare.serializer().deserializeWebviewPanel(panel, { runs: dirs });
      const shown = [...api().compare.runs];
      // Read before disposing: dispose() fires onDidDispose at once.
      const result = { closed, runs: shown };
      if (!closed) panel.dispose();
      return result;
    };
    assert.equal((await restore([outside])).closed, true, 'outside the workspace: closed');
    assert.equal((await restore(['relative/run'])).closed, true, 'a relative path: closed');
    const mixed = await restore([outside, inside]);
    assert.equal(mixed.closed, false, 'one run of the workspace: opened');
    assert.deepEqual(mixed.runs, [inside], 'with that run only');
  });
});
