/**
 * The HRM activity-bar views inside a real VS Code: the new commands are registered; a short training run appears in
 * the Runs tree (run → checkpoint, with preset/step/mixing and the accuracy from the .eval.json, refreshed by the
 * file watcher); after Evaluate Checkpoint the tooltip lists the new evaluation set; the hover on the checkpoint's
 * path in Markdown and JSON documents shows its accuracy; the Explorer decoration has the badge; Resume Training
 * continues the run; the Trajectories placeholder has a strict CSP with a nonce.
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { sleep, useExtension } from './host';
import type { RunsNode } from '../../extension/views/runs-tree';
import { trajectoriesPlaceholderHtml } from '../../extension/views/trajectories-view';

const NEW_COMMANDS = ['hrmLens.resumeTraining', 'hrmLens.runs.refresh', 'hrmLens.runs.inspect', 'hrmLens.runs.evaluate', 'hrmLens.runs.reveal', 'hrmLens.compareRuns'];

interface TrainResultLike { run: string; checkpoint: string; step: number; cancelled: boolean; heldOut: { exact: number; cell: number } | null }

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const tooltipText = (t: vscode.TreeItem['tooltip']): string => (t === undefined ? '' : typeof t === 'string' ? t : t.value);

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

suite('HRM Runs tree, hover and decorations', () => {
  const host = useExtension();
  let trained: TrainResultLike;



  async function runNode(dir: string): Promise<RunsNode & { kind: 'run' }> {
    const runs = await host().runs.getChildren();
    const node = (runs ?? []).find((n): n is RunsNode & { kind: 'run' } => n.kind === 'run' && n.run.dir === dir);
    assert.ok(node, `run ${dir} is not in the Runs tree (${(runs ?? []).length} runs)`);
    return node;
  }

  async function checkpointNode(dir: string, file: string): Promise<RunsNode & { kind: 'checkpoint' }> {
    const children = await host().runs.getChildren(await runNode(dir));
    const node = (children ?? []).find((n): n is RunsNode & { kind: 'checkpoint' } => n.kind === 'checkpoint' && n.checkpoint.file === file);
    assert.ok(node, `checkpoint ${file} is not under its run`);
    return node;
  }

  test('every new command is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(NEW_COMMANDS.filter((c) => !registered.has(c)), []);
  });

  test('the HRM container opens; the Trajectories placeholder has a strict CSP with a nonce', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.hrmLens');
    const html = trajectoriesPlaceholderHtml('vscode-webview://x', 'abc123');
    assert.match(html, /default-src 'none'/);
    assert.match(html, /style-src 'nonce-abc123'/);
    assert.match(html, /<style nonce="abc123">/);
    assert.doesNotMatch(html, /<script/);
  });

  test('a short training run appears in the Runs tree (refreshed), with its accuracy', async function () {
    this.timeout(180_000);
    let refreshed = 0;
    const sub = host().runs.onDidChangeTreeData(() => { refreshed++; });
    try {
      const r = await vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train', { preset: 'tiny-4x4', steps: 3, batch: 8, seed: 5 });
      assert.ok(r, 'Train returned no result (see the HRM Lens log)');
      assert.equal(r.step, 3);
      assert.ok(r.heldOut, 'a finished run has a held-out evaluation');
      trained = r;
      for (let i = 0; i < 100 && refreshed === 0; i++) await sleep(100);
      assert.ok(refreshed > 0, 'the Runs tree was not refreshed (file watcher or checkpoint event)');
    } finally {
      sub.dispose();
    }
    const run = await runNode(trained.run);
    const runItem = await host().runs.getTreeItem(run);
    assert.equal(runItem.contextValue, 'hrmRun');
    assert.equal(runItem.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    assert.match(String(runItem.description), /tiny-4x4 · step 3\/3 · mixing off/);
    const ckpt = await checkpointNode(trained.run, trained.checkpoint);
    const item = await host().runs.getTreeItem(ckpt);
    assert.equal(item.contextValue, 'hrmCheckpoint');
    assert.equal(item.description, `exact ${pct(trained.heldOut?.exact ?? NaN)}`);
    const tip = tooltipText(item.tooltip);
    assert.ok(tip.includes(pct(trained.heldOut?.exact ?? NaN)) && tip.includes(pct(trained.heldOut?.cell ?? NaN)), tip);
    assert.match(tip, /step 3 of 3/);
    assert.match(tip, /backend \w+/);
    assert.match(tip, /data mixing off/);
  });

  test('after Evaluate Checkpoint the tooltip lists the new set; hover and decoration show the accuracy', async function () {
    this.timeout(120_000);
    assert.ok(trained, 'needs the training test');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const data = path.join(folder.uri.fsPath, 'runs-tree-four.txt');
    writeFileSync(data, '.1.....3..32....\n3.2.4..31.3.2..1\n');
    const e = await vscode.commands.executeCommand<{ exact: number; cell: number; savedTo: string | null } | undefined>(
      'hrmLens.evaluateCheckpoint', { checkpoint: trained.checkpoint, data });
    assert.ok(e?.savedTo, 'Evaluate Checkpoint stored nothing');
    const tip = tooltipText((await host().runs.getTreeItem(await checkpointNode(trained.run, trained.checkpoint))).tooltip);
    assert.ok(tip.includes('runs-tree-four') && tip.includes(pct(e.exact)) && tip.includes(pct(e.cell)), tip);

    // Hover: a relative path in Markdown, an absolute one in JSON.
    const rel = path.relative(folder.uri.fsPath, trained.checkpoint).split(path.sep).join('/');
    const md = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# Notes\n\nThe model: \`${rel}\` (3 steps).\n` });
    const mdHovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', md.uri, new vscode.Position(2, 14));
    const mdText = hoverText(mdHovers);
    assert.ok(mdText.includes('HRM checkpoint') && mdText.includes(pct(trained.heldOut?.exact ?? NaN)) && mdText.includes(pct(e.exact)), mdText);
    const json = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify({ checkpoint: trained.checkpoint }, null, 2) });
    const jsonHovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', json.uri, new vscode.Position(1, 20));
    assert.ok(hoverText(jsonHovers).includes(pct(e.exact)), hoverText(jsonHovers));

    // Explorer decoration: the held-out exact accuracy in whole percent.
    const source = new vscode.CancellationTokenSource();
    const deco = await host().decorations.provideFileDecoration(vscode.Uri.file(trained.checkpoint), source.token);
    assert.ok(deco, 'no decoration for the checkpoint');
    const expected = Math.floor((trained.heldOut?.exact ?? 0) * 100 + 1e-9);
    assert.equal(deco.badge, expected >= 100 ? '✓' : String(expected));
    assert.ok(deco.tooltip?.includes(pct(trained.heldOut?.exact ?? NaN)), deco.tooltip);
    assert.equal(await host().decorations.provideFileDecoration(vscode.Uri.file(trained.checkpoint.replace('.safetensors', '.optim.safetensors')), source.token), undefined);
  });

  test('Resume Training continues the run to more steps; the new checkpoint appears first', async function () {
    this.timeout(180_000);
    assert.ok(trained, 'needs the training test');
    const r = await vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.resumeTraining', { run: trained.run, steps: 5 });
    assert.ok(r, 'Resume Training returned no result (see the HRM Lens log)');
    assert.equal(r.step, 5);
    assert.equal(path.resolve(r.run), path.resolve(trained.run));
    const children = (await host().runs.getChildren(await runNode(trained.run))) ?? [];
    const first = children[0];
    assert.ok(first?.kind === 'checkpoint' && first.checkpoint.step === 5, 'the newest checkpoint is not listed first');
    assert.match(String((await host().runs.getTreeItem(await runNode(trained.run))).description), /tiny-4x4 · step 5 · mixing off/);
  });
});
