/**
 * The "Shipped Models" view (`hrmLens.models` in the HRM activity-bar container): the models that ship with the
 * extension (views/shipped-models.ts), one item each with its grid size, preset and held-out accuracy, a Markdown
 * tooltip of its evaluation, and the Runs view's checkpoint actions (Inspect with this Checkpoint, Evaluate, Reveal:
 * the items share the checkpoint context value). Read from the models folder each time the view asks; refreshed with
 * the Runs view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { pct } from './checkpoint-text';
import { escapeMarkdown } from './markdown-text';
import { CHECKPOINT_CONTEXT } from './runs-tree';
import { type ShippedModel, readShippedModels, shippedModelDescription } from './shipped-models';

export interface ModelsNode {
  kind: 'model';
  model: ShippedModel;
}

/** The tooltip of a shipped model: grid size, preset, step, file size, and its evaluation (or why there is none). */
export function shippedModelTooltip(m: ShippedModel): vscode.MarkdownString {
  const h = m.heldOut;
  const lines = [
    `**${escapeMarkdown(path.basename(m.file))}** (shipped model)`, '',
    `- grid: ${m.gridSize ? `${m.gridSize}×${m.gridSize}` : 'unknown'}; preset ${escapeMarkdown(m.preset ?? '–')}; step ${m.step ?? '–'}; ${Math.max(1, Math.round(m.bytes / 1024))} KiB`,
    h ? `- ${escapeMarkdown(h.name)}: exact **${pct(h.exact)}**, cell ${pct(h.cell)} (${h.puzzles} puzzles, ${h.segments} segments)`
      : `- ${escapeMarkdown(m.evalProblem ?? 'not evaluated')}`,
  ];
  const md = new vscode.MarkdownString(lines.join('\n'));
  md.supportHtml = false;
  return md;
}

export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly modelsDir: string) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(element?: ModelsNode): Promise<ModelsNode[]> {
    if (element) return [];
    return (await readShippedModels(this.modelsDir)).map((model) => ({ kind: 'model', model }));
  }

  getTreeItem(node: ModelsNode): vscode.TreeItem {
    const m = node.model;
    const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.None);
    item.id = `model:${m.file}`;
    item.description = shippedModelDescription(m);
    item.tooltip = shippedModelTooltip(m);
    item.iconPath = new vscode.ThemeIcon(m.heldOut ? 'package' : 'circle-outline');
    item.contextValue = CHECKPOINT_CONTEXT;
    item.resourceUri = vscode.Uri.file(m.file);
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export interface ModelsView extends vscode.Disposable {
  provider: ModelsTreeProvider;
}

export function registerModelsView(modelsDir: string): ModelsView {
  const provider = new ModelsTreeProvider(modelsDir);
  const view = vscode.window.createTreeView('hrmLens.models', { treeDataProvider: provider });
  return { provider, dispose: () => { view.dispose(); provider.dispose(); } };
}
