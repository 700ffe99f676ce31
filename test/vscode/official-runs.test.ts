/**
 * A reference trainer's run followed live inside a real VS Code: "HRM: Follow Official Run Folder…" on a temp folder
 * with all_config.yaml; `step_N` files (the committed PyTorch fixtures) are written into it one by one during the
 * test, each in two parts like a trainer still writing; each appears in the Runs tree under the followed run, newest
 * first, is evaluated in place once it has settled and shows its exact accuracy. A half-written file shows an error on
 * its node (the extension host and the other nodes carry on) and is evaluated once it is complete. After the engine
 * stops, the cached figures come back without starting it. Nothing is written beside the checkpoints.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { sleep, useExtension } from './host';
import type { RunsNode } from '../../extension/views/runs-tree';

type OfficialRunNode = Extract<RunsNode, { kind: 'officialRun' }>;
type OfficialCheckpointNode = Extract<RunsNode, { kind: 'officialCheckpoint' }>;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const tooltipText = (t: vscode.TreeItem['tooltip']): string => (t === undefined ? '' : typeof t === 'string' ? t : t.value);

suite('HRM official runs followed live', () => {
  const host = useExtension();
  const fixtures = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'torch', 'hrm');
  // Made when the suite runs (not when the file is loaded: a pass that leaves the suite out would leave the folder).
  let dir = '';
  const config = () => vscode.workspace.getConfiguration('hrmLens');

  suiteSetup(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hrm-official-run-'));
    await config().update('officialRunEvalPuzzles', 2, vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    if (dir) await vscode.commands.executeCommand('hrmLens.unfollowOfficialRunFolder', dir);
    for (const key of ['officialRunEvalPuzzles', 'officialRunEvalData', 'officialRunFolders']) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function runNode(): Promise<OfficialRunNode | undefined> {
    const roots = (await host().runs.getChildren()) ?? [];
    return roots.find((n): n is OfficialRunNode => n.kind === 'officialRun' && n.run.dir === dir);
  }

  async function checkpointNodes(): Promise<OfficialCheckpointNode[]> {
    const run = await runNode();
    if (!run) return [];
    return ((await host().runs.getChildren(run)) ?? []).filter((n): n is OfficialCheckpointNode => n.kind === 'officialCheckpoint');
  }

  /** Poll the tree (a look of the follower each time) until `ok` holds for the item of `name`; its descriptions on the way. */
  async function waitForItem(name: string, ok: (item: vscode.TreeItem) => boolean, what: string, timeoutMs = 240_000): Promise<{ item: vscode.TreeItem; node: OfficialCheckpointNode; seen: string[] }> {
    const seen: string[] = [];
    for (const t0 = Date.now(); Date.now() - t0 < timeoutMs; await sleep(200)) {
      await host().officialRuns.rescan();
      const node = (await checkpointNodes()).find((n) => n.checkpoint.name === name);
      if (!node) continue;
      const item = await host().runs.getTreeItem(node);
      const d = String(item.description);
      if (seen.at(-1) !== d) seen.push(d);
      if (ok(item)) return { item, node, seen };
    }
    assert.fail(`${name}: ${what} within ${timeoutMs / 1000} s (descriptions seen: ${seen.join(' → ') || 'none'})`);
  }

  /** Write `bytes` into `file` in two parts, `pauseMs` apart (a trainer still writing). */
  async function writeInParts(file: string, bytes: Uint8Array, pauseMs = 700): Promise<void> {
    const half = Math.floor(bytes.length / 2);
    writeFileSync(file, bytes.subarray(0, half));
    await sleep(pauseMs);
    appendFileSync(file, bytes.subarray(half));
  }

  const isAccuracy = (item: vscode.TreeItem) => /^exact \d+\.\d%$/.test(String(item.description));

  test('Follow Official Run Folder adds the folder; the run shows before its first checkpoint', async function () {
    this.timeout(30_000);
    copyFileSync(path.join(fixtures, 'all_config.yaml'), path.join(dir, 'all_config.yaml'));
    const followed = await vscode.commands.executeCommand<string | undefined>('hrmLens.followOfficialRunFolder', dir);
    assert.equal(followed, dir);
    assert.deepEqual(host().settings().officialRunFolders, [dir]);
    let run: OfficialRunNode | undefined;
    for (let i = 0; i < 100 && !run; i++) { await host().officialRuns.rescan(); run = await runNode(); if (!run) await sleep(100); }
    assert.ok(run, 'the followed folder is not in the Runs tree');
    const item = await host().runs.getTreeItem(run);
    assert.equal(item.contextValue, 'hrmOfficialRun');
    assert.equal(item.description, 'official · no checkpoint yet');
  });

  test('each step_N written during the test appears, newest first, with its accuracy', async function () {
    this.timeout(600_000);
    await writeInParts(path.join(dir, 'step_100'), readFileSync(path.join(fixtures, 'step_100')));
    const first = await waitForItem('step_100', isAccuracy, 'an accuracy');
    console.log(`step_100 in the Runs tree: ${first.seen.join(' → ')}`);
    assert.ok(first.seen.some((d) => /writing|queued|evaluating/.test(d)), `a state before the accuracy (seen: ${first.seen.join(' → ')})`);
    const state = host().officialRuns.stateOf(path.join(dir, 'step_100'));
    assert.ok(state?.kind === 'done', JSON.stringify(state));
    assert.equal(first.item.description, `exact ${pct(state.entry.figures.exact)}`);
    assert.equal(first.item.contextValue, 'hrmOfficialCheckpoint');
    const tip = tooltipText(first.item.tooltip);
    assert.ok(tip.includes(pct(state.entry.figures.cell)) && tip.includes('2 generated 9×9 puzzles'), tip);
    assert.equal(state.entry.figures.puzzles, 2);
    assert.equal(state.entry.step, 100);

    // A second checkpoint (the bf16 save of the same model) arrives: listed first, evaluated in turn.
    await writeInParts(path.join(dir, 'step_200'), readFileSync(path.join(fixtures, 'step_100_bf16')));
    await waitForItem('step_200', isAccuracy, 'an accuracy');
    assert.deepEqual((await checkpointNodes()).map((n) => n.checkpoint.name), ['step_200', 'step_100']);
    const run = await runNode();
    assert.ok(run);
    assert.match(String((await host().runs.getTreeItem(run)).description), /^official · 2 checkpoints · step 200: exact \d+\.\d%$/);
    assert.deepEqual(readdirSync(dir).sort(), ['all_config.yaml', 'step_100', 'step_200'], 'nothing is written beside the checkpoints');
    const cacheDir = host().officialRuns.cacheDir;
    assert.ok(existsSync(cacheDir) && readdirSync(cacheDir).filter((f) => f.endsWith('.json')).length >= 2, `no cache entries in ${cacheDir}`);
  });

  test('a half-written file shows an error on its node and is evaluated once complete; the others carry on', async function () {
    this.timeout(600_000);
    const bytes = readFileSync(path.join(fixtures, 'step_100'));
    const file = path.join(dir, 'step_300');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 3)));
    const bad = await waitForItem('step_300', (i) => String(i.description).startsWith('error:'), 'an error');
    assert.match(tooltipText(bad.item.tooltip), /Not evaluated: .*step\\?_300/, 'the error names the file');
    assert.notEqual(host().engine.state(), 'crashed');
    const others = await checkpointNodes();
    for (const n of others.filter((x) => x.checkpoint.name !== 'step_300')) assert.ok(isAccuracy(await host().runs.getTreeItem(n)), n.checkpoint.name);
    appendFileSync(file, bytes.subarray(Math.floor(bytes.length / 3)));
    const done = await waitForItem('step_300', isAccuracy, 'an accuracy once the file is complete');
    console.log(`step_300 in the Runs tree: ${[...bad.seen, ...done.seen].join(' → ')}`);
  });

  test('Import as HRM Lens Run on a followed checkpoint makes a native run in the Runs tree', async function () {
    this.timeout(120_000);
    const node = (await checkpointNodes()).find((n) => n.checkpoint.name === 'step_200');
    assert.ok(node, 'needs the earlier tests');
    const r = await vscode.commands.executeCommand<{ file: string; dir: string; step: number } | undefined>('hrmLens.runs.importOfficial', node);
    assert.ok(r, 'the import returned nothing (see the HRM Lens log)');
    assert.equal(r.step, 200);
    assert.ok(r.file.endsWith('.safetensors') && existsSync(r.file));
    const roots = (await host().runs.getChildren()) ?? [];
    assert.ok(roots.some((n) => n.kind === 'run' && n.run.dir === r.dir), 'the imported run is in the Runs tree');
    rmSync(r.dir, { recursive: true, force: true });
  });

  test('after the engine stops, the cached accuracies come back without starting it', async function () {
    this.timeout(120_000);
    await host().engine.stop();
    for (let i = 0; i < 100 && host().engine.state() !== 'stopped'; i++) await sleep(20);
    // A settings change drops what the follower knew; it looks again and finds the cache.
    await config().update('officialRunEvalData', '', vscode.ConfigurationTarget.Global);
    for (const name of ['step_100', 'step_200', 'step_300']) {
      const { node } = await waitForItem(name, isAccuracy, 'the cached accuracy', 60_000);
      const s = node.checkpoint.state;
      assert.ok(s.kind === 'done' && s.cached, `${name}: ${JSON.stringify(s).slice(0, 200)}`);
    }
    assert.equal(host().engine.state(), 'stopped', 'the cache is read without the engine');
  });

  test('Stop Following on the run removes it from the settings and the Runs tree; its files stay', async () => {
    const run = await runNode();
    assert.ok(run, 'needs the earlier tests');
    await vscode.commands.executeCommand('hrmLens.unfollowOfficialRunFolder', run);
    assert.deepEqual(host().settings().officialRunFolders, []);
    assert.equal(await runNode(), undefined);
    assert.deepEqual(readdirSync(dir).sort(), ['all_config.yaml', 'step_100', 'step_200', 'step_300']);
  });
});
