/**
 * Hover on checkpoint paths (`*.safetensors`, absolute or relative to the document or the workspace) in JSON, YAML,
 * Markdown and TypeScript files: exact/cell accuracy per evaluation set, step, date, preset, backend and data mixing
 * from the .eval.json beside the checkpoint and its run's run.json (without one, as for a shipped model, the preset
 * from the checkpoint's own metadata). Without an evaluation the hover offers a command link to "HRM: Evaluate
 * Checkpoint" (a MarkdownString trusted for that one command only). A `.safetensors` file that is not an HRM Lens
 * checkpoint (its header says so: views/checkpoint-header.ts) gets no hover.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkpointMarkdownLines } from '../views/checkpoint-text';
import { commandUri, escapeMarkdown } from '../views/markdown-text';
import { isCheckpointFile, readCheckpointInfo } from '../views/run-files';
import { checkpointPathAt, resolveCheckpointPath } from './checkpoint-paths';
import { readCheckpointHeader } from '../views/checkpoint-header';

export const HOVER_LANGUAGES = ['json', 'jsonc', 'yaml', 'markdown', 'typescript', 'typescriptreact'];

const EVALUATE = 'hrmLens.evaluateCheckpoint';

/** The hover Markdown of a checkpoint file, or undefined when it does not exist or is no HRM Lens checkpoint. */
export async function checkpointHoverMarkdown(file: string): Promise<vscode.MarkdownString | undefined> {
  const header = await readCheckpointHeader(file);
  if (!header.kind.hrm) return undefined;
  const read = await readCheckpointInfo(file);
  if (!read) return undefined;
  const info = !read.run && header.preset ? { ...read, run: { preset: header.preset } } : read;
  // Every interpolated value is escaped (the file name may be anything, `[x](command:…)` included): the only link is ours.
  const lines = [`**HRM checkpoint** ${escapeMarkdown(path.basename(file))}`, '', ...checkpointMarkdownLines(info)];
  const md = new vscode.MarkdownString();
  md.supportHtml = false;
  if (!info.evaluation) {
    lines.push('', `[$(play) Evaluate this checkpoint…](${commandUri(EVALUATE, [{ checkpoint: file }])} "HRM: Evaluate Checkpoint on a dataset file")`);
    md.isTrusted = { enabledCommands: [EVALUATE] };
    md.supportThemeIcons = true;
  }
  md.appendMarkdown(lines.join('\n'));
  return md;
}

export class CheckpointHoverProvider implements vscode.HoverProvider {
  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const line = document.lineAt(position.line).text;
    const at = checkpointPathAt(line, position.character);
    if (!at) return undefined;
    const docDir = document.uri.scheme === 'file' ? path.dirname(document.uri.fsPath) : undefined;
    const file = resolveCheckpointPath(at.text, docDir, (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath));
    if (!file || !isCheckpointFile(file)) return undefined;
    const md = await checkpointHoverMarkdown(file);
    return md ? new vscode.Hover(md, new vscode.Range(position.line, at.start, position.line, at.end)) : undefined;
  }
}

export function registerCheckpointHover(): vscode.Disposable {
  const selector: vscode.DocumentSelector = HOVER_LANGUAGES.flatMap((language) => [
    { language, scheme: 'file' }, { language, scheme: 'untitled' }, { language, scheme: 'vscode-remote' },
  ]);
  return vscode.languages.registerHoverProvider(selector, new CheckpointHoverProvider());
}
