/**
 * Checkpoint hovers inside a real VS Code, on fixture files (no engine needed): a `.safetensors` path with an
 * .eval.json beside it shows exact/cell accuracy per evaluation set in JSON, YAML, Markdown and TypeScript; one with
 * no evaluation offers the "Evaluate" command link; a path to no file shows no HRM hover.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

async function hoverAt(language: string, content: string, needle: string): Promise<string> {
  const doc = await vscode.workspace.openTextDocument({ language, content });
  const offset = content.indexOf(needle);
  assert.ok(offset >= 0);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, doc.positionAt(offset + 3));
  return hoverText(hovers);
}

suite('HRM checkpoint hovers', () => {
  let api: HrmLensApi;
  const rel = 'hover-fixture/model.safetensors';
  const bare = 'hover-fixture/bare.safetensors';

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<HrmLensApi>('hrm-lens.hrm-lens');
    assert.ok(ext);
    api = await ext.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const dir = path.join(folder.uri.fsPath, 'hover-fixture');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.safetensors'), 'not really weights');
    writeFileSync(path.join(dir, 'bare.safetensors'), 'not really weights');
    const fig = (exact: number, cell: number) => ({ step: 1200, puzzles: 500, segments: 4, exact, cell, haltedAtLast: 0.5, perSegment: [], time: '2026-11-28T12:00:00.000Z' });
    writeFileSync(path.join(dir, 'model.eval.json'), JSON.stringify({ ...fig(0.8321, 0.9634), sets: { 'hard.csv': fig(0.412, 0.877) } }));
  });

  test('JSON, YAML, Markdown and TypeScript: exact and cell accuracy per set', async () => {
    const docs: [string, string][] = [
      ['json', `{ "checkpoint": "${rel}" }`],
      ['yaml', `model:\n  checkpoint: ./${rel}\n`],
      ['markdown', `See [the model](${rel}).`],
      ['typescript', `const checkpoint = '${rel}';\n`],
    ];
    for (const [language, content] of docs) {
      const text = await hoverAt(language, content, 'model.safetensors');
      for (const s of ['HRM checkpoint', '83.2%', '96.3%', 'hard.csv', '41.2%', '87.7%', 'step 1200']) assert.ok(text.includes(s), `${language}: "${s}" not in ${text}`);
    }
  });

  test('the decoration badge of the fixture', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const d = await api.decorations.provideFileDecoration(vscode.Uri.joinPath(folder.uri, rel), new vscode.CancellationTokenSource().token);
    assert.equal(d?.badge, '83');
    assert.equal(await api.decorations.provideFileDecoration(vscode.Uri.joinPath(folder.uri, bare), new vscode.CancellationTokenSource().token), undefined);
  });

  test('no evaluation: a command link to Evaluate Checkpoint', async () => {
    const text = await hoverAt('markdown', `weights: ${bare}\n`, 'bare.safetensors');
    assert.ok(text.includes('Not evaluated'), text);
    assert.ok(text.includes('command:hrmLens.evaluateCheckpoint?'), text);
  });

  test('a path to no file: no HRM hover', async () => {
    const text = await hoverAt('json', '{ "checkpoint": "nowhere/missing.safetensors" }', 'missing.safetensors');
    assert.ok(!text.includes('HRM checkpoint'), text);
  });
});
