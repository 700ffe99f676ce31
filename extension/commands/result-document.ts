/**
 * Read-only virtual documents for results (scheme `hrm-lens`): a TextDocumentContentProvider that serves Markdown
 * text by URI: `view: 'document'` of the inspection and the ensemble report. A document can be updated in place (the
 * inspection's digit relabelings arrive after its trace).
 */
import * as vscode from 'vscode';

export const RESULT_SCHEME = 'hrm-lens';

export class ResultDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '# HRM Lens\n\nThis result is no longer available.\n';
  }

  /** Store `markdown` under a new URI `hrm-lens:/<name>-<n>.md` and open it (read-only, Markdown). */
  async show(name: string, markdown: string): Promise<vscode.TextDocument> {
    const uri = vscode.Uri.from({ scheme: RESULT_SCHEME, path: `/${name.replace(/[^\w.-]+/g, '-')}-${++this.counter}.md` });
    this.contents.set(uri.toString(), markdown);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }

  /** Replace the text of a document opened by show (an open editor shows the new text); false when it is gone. */
  update(uri: vscode.Uri, markdown: string): boolean {
    if (!this.contents.has(uri.toString())) return false;
    this.contents.set(uri.toString(), markdown);
    this.changed.fire(uri);
    return true;
  }

  dispose(): void {
    this.changed.dispose();
    this.contents.clear();
  }
}

/** Register the provider; returns it (to show documents) — dispose it with the extension. */
export function registerResultDocuments(context: vscode.ExtensionContext): ResultDocuments {
  const docs = new ResultDocuments();
  context.subscriptions.push(docs, vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, docs));
  return docs;
}
