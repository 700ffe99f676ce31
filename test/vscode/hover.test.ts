/**
 * Checkpoint hovers inside a real VS Code, on fixture files (no engine needed): a `.safetensors` path with an
 * .eval.json beside it shows exact/cell accuracy per evaluation set in JSON, YAML, Markdown and TypeScript; one with
 * no evaluation offers the "Evaluate" command link; a path to no file, or to a safetensors file of another kind,
 * shows no HRM hover; a file name built as
 * Markdown (a command link, code, HTML) is shown escaped, and the only command the hover may run is Evaluate.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';
import { checkpointHoverMarkdown } from '../../extension/hover/checkpoint-hover';

/** A header-only safetensors file with this `__metadata__.format` (the hover reads only the header). */
function safetensorsWithFormat(file: string, format: string): void {
  const json = Buffer.from(JSON.stringify({ __metadata__: { format, config: JSON.stringify({ gridSize: 4 }) } }), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json]));
}

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
    safetensorsWithFormat(path.join(dir, 'model.safetensors'), 'hrm-lens');
    safetensorsWithFormat(path.join(dir, 'bare.safetensors'), 'hrm-lens');
    safetensorsWithFormat(path.join(dir, 'foreign.safetensors'), 'pt');
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

  test('a safetensors file of another kind: no HRM hover, no Evaluate link', async () => {
    const text = await hoverAt('json', '{ "weights": "hover-fixture/foreign.safetensors" }', 'foreign.safetensors');
    assert.ok(!text.includes('HRM checkpoint') && !text.includes('hrmLens.evaluateCheckpoint'), text);
  });

  test('a file name built as Markdown is escaped: no injected link, code or HTML; only Evaluate is trusted', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const name = 'a`[x](command:workbench.action.quit)`<img src=x>*b*.safetensors';
    const file = path.join(folder.uri.fsPath, 'hover-fixture', name);
    safetensorsWithFormat(file, 'hrm-lens');
    // Reached through a file:// URL in a document (its percent-escapes decoded to the name above).
    const url = `file://${file.split('/').map((p) => encodeURIComponent(p).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)).join('/')}`;
    const text = await hoverAt('markdown', `weights: ${url}\n`, 'file://');
    assert.ok(text.includes('HRM checkpoint'), text);
    assert.ok(!text.includes('](command:workbench'), `an injected command link: ${text}`);
    assert.ok(!/(^|[^\\])<img/.test(text), text);
    assert.ok(text.includes('a\\`\\[x\\]\\(command\\:workbench.action.quit\\)\\`\\<img src\\=x\\>\\*b\\*.safetensors'), text);
    const md = await checkpointHoverMarkdown(file);
    assert.ok(md);
    assert.deepEqual(md.isTrusted, { enabledCommands: ['hrmLens.evaluateCheckpoint'] });
    assert.equal(md.supportHtml, false);
    // Rendered by VS Code's own Markdown renderer: no link to the injected command, no HTML element from the name.
    const html = await vscode.commands.executeCommand<string>('markdown.api.render', md.value);
    const hrefs = [...html.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(hrefs.length, 1, html);
    assert.match(hrefs[0], /^command:hrmLens\.evaluateCheckpoint\?/, 'the one link is Evaluate (the name only in its encoded arguments)');
    assert.ok(!/<img/.test(html) && !/<code>a<\/code>/.test(html), html);
    assert.ok(html.includes('command:workbench.action.quit'), `the name is shown as text: ${html}`);
  });
});
