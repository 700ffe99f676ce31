/**
 * "HRM: Compare Runs": several runs side by side in one panel: their training curves overlaid (loss, cell and exact
 * accuracy, exact at one ACT segment, held-out exact of the evaluated checkpoints) and a table of their settings and
 * held-out accuracies (compare-runs-data.ts). Opened from the Runs view's context menu on a multi-selection (the
 * command gets the clicked node and the selected ones) or from the palette (a multi-select pick of the runs folder's
 * runs). One panel: comparing again replaces its runs. While the panel is visible, each run's metrics.jsonl and folder
 * are looked at every METRICS_POLL_MS (metrics-watch.ts, as the training dashboard follows a run trained elsewhere) and a
 * run that changed is read again. After a reload the serializer reopens it from the run folders kept in the webview's
 * state, each checked on the host (webview-paths.ts). Exports: the table as CSV, each chart as PNG.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CompareColumn, CompareRun, CompareState, CompareToHost, HostToCompare } from '../../webview/protocol';
import { runsFolderUri } from '../settings';
import { isCheckpointFile, listRuns } from '../views/run-files';
import { type RunsTarget, targetPath } from '../views/runs-view';
import { compareHtml } from './compare-html';
import { type ComparedRun, MAX_COMPARE_RUNS, assembleComparison, comparisonCsv, readRunForComparison, uniqueRunDirs } from './compare-runs-data';
import { MetricsWatch, runStamp } from './metrics-watch';
import { pngBytes, saveExport } from './trace-export';
import { checkWebviewPath, showPathRefusal } from './webview-paths';

export const COMPARE_VIEW_TYPE = 'hrmLens.compare';


export class ComparePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private dirs: string[] = [];
  private readonly compared = new Map<string, ComparedRun>();
  private columns: CompareColumn[] = [];
  private watch: MetricsWatch | undefined;
  /** Bumped by each new selection: a read of an older one is not posted. */
  private generation = 0;
  private readonly bundleDir: vscode.Uri;
  /** The columns and runs as last posted ('runs', then each 'run' in place): what the page shows, and what CSV exports. */
  shown: { columns: CompareColumn[]; runs: CompareRun[] } | undefined;
  /** Messages posted by kind (for the in-host test). */
  readonly posted: Record<string, number> = {};

  constructor(private readonly extensionUri: vscode.Uri) {
    this.bundleDir = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  }

  /** The run folders shown (resolved). */
  get runs(): readonly string[] {
    return this.dirs;
  }

  /** The page's HTML (for the in-host test of its Content-Security-Policy); undefined without a panel. */
  get html(): string | undefined {
    return this.panel?.webview.html;
  }

  private post(m: HostToCompare): void {
    if (!this.panel || !this.ready) return;
    this.posted[m.kind] = (this.posted[m.kind] ?? 0) + 1;
    if (m.kind === 'runs') this.shown = { columns: m.columns, runs: m.runs };
    else if (m.kind === 'run' && this.shown) this.shown = { ...this.shown, runs: this.shown.runs.map((r) => (r.dir === m.run.dir ? m.run : r)) };
    void this.panel.webview.postMessage(m);
  }

  /** Reads every run (one after the other) and posts them. */
  private async readAll(): Promise<void> {
    const generation = ++this.generation;
    const dirs = this.dirs;
    const compared: ComparedRun[] = [];
    for (const dir of dirs) {
      const stamp = await runStamp(dir);
      const c = await readRunForComparison(dir);
      if (generation !== this.generation) return;
      this.watch?.seen(dir, stamp);
      compared.push(c);
    }
    this.compared.clear();
    for (const c of compared) this.compared.set(c.reading.dir, c);
    const { columns, runs } = assembleComparison(compared);
    this.columns = columns;
    this.post({ kind: 'runs', columns, runs });
  }

  /** Reads one run again (its log or folder changed); the table's columns may change with it. */
  private async reread(dir: string): Promise<void> {
    const generation = this.generation;
    const stamp = await runStamp(dir);
    const c = await readRunForComparison(dir);
    if (generation !== this.generation || !this.compared.has(dir)) return;
    this.watch?.seen(dir, stamp);
    this.compared.set(dir, c);
    const all = this.dirs.map((d) => this.compared.get(d)).filter((x): x is ComparedRun => x !== undefined);
    const { columns, runs } = assembleComparison(all);
    const same = columns.length === this.columns.length && columns.every((col, i) => col.key === this.columns[i].key);
    this.columns = columns;
    const run = runs.find((r) => r.dir === dir);
    if (same && run) this.post({ kind: 'run', run });
    else this.post({ kind: 'runs', columns, runs });
  }

  private setup(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.bundleDir] };
    panel.webview.html = compareHtml(panel.webview, this.bundleDir, randomBytes(16).toString('base64'));
    panel.iconPath = vscode.Uri.joinPath(this.bundleDir, '..', '..', 'media', 'hrm-activity.svg');
    this.watch?.dispose();
    const watch = new MetricsWatch({
      dirs: () => this.dirs, active: () => this.ready && this.panel === panel && panel.visible, changed: (dir) => this.reread(dir), stamp: runStamp,
    });
    this.watch = watch;
    panel.onDidDispose(() => {
      watch.dispose();
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.watch = undefined;
      this.ready = false;
      this.compared.clear();
      this.generation++;
    });
    panel.webview.onDidReceiveMessage((m: CompareToHost) => this.handle(m));
  }

  /** Handles message `m` as if the webview had sent it (for the in-host tests); answers the export's message. */
  async handle(m: CompareToHost): Promise<string | undefined> {
    if (m.kind === 'ready') {
      this.ready = true;
      await this.readAll();
    } else if (m.kind === 'export-csv') {
      const shown = this.shown;
      const message = shown?.runs.length
        ? await saveExport('runs-comparison.csv', new TextEncoder().encode(comparisonCsv(shown.columns, shown.runs, m.order)), { CSV: ['csv'] })
        : 'not saved: no runs';
      this.post({ kind: 'exported', message });
      return message;
    } else if (m.kind === 'export-png') {
      const bytes = pngBytes(m.dataUrl);
      const name = String(m.name).replace(/[^\w-]+/g, '-').slice(0, 40);
      const message = bytes ? await saveExport(`runs-comparison-${name}.png`, bytes, { 'PNG image': ['png'] }) : 'not saved: not a PNG';
      this.post({ kind: 'exported', message });
      return message;
    }
    return undefined;
  }

  /** Shows `dirs` side by side (the panel is created, or revealed and given the new runs). */
  show(dirs: readonly string[]): vscode.WebviewPanel {
    const { dirs: unique, dropped } = uniqueRunDirs(dirs);
    if (dropped) void vscode.window.showWarningMessage(`HRM: Compare Runs shows at most ${MAX_COMPARE_RUNS} runs: the first ${MAX_COMPARE_RUNS} of the ${unique.length + dropped} selected.`);
    this.dirs = unique;
    this.generation++;
    if (this.panel) {
      this.panel.reveal();
      if (this.ready) void this.readAll();
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, 'HRM: Compare Runs', vscode.ViewColumn.Active,
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [this.bundleDir] });
    this.setup(panel);
    return panel;
  }

  /** Reopened after a reload from the run folders in the webview's state (each must lie in the workspace or the runs folder). */
  serializer(): vscode.WebviewPanelSerializer<CompareState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        const saved = Array.isArray(state?.runs) ? state.runs.slice(0, MAX_COMPARE_RUNS) : [];
        const ok: string[] = [];
        for (const dir of saved) {
          const checked = await checkWebviewPath(dir, 'run', this.extensionUri);
          if (checked.ok) ok.push(checked.path);
          else showPathRefusal('Reopening the runs comparison', checked);
        }
        if (!ok.length || this.panel) {
          panel.dispose();
          return;
        }
        this.dirs = uniqueRunDirs(ok).dirs;
        this.setup(panel);
      },
    };
  }

  dispose(): void {
    this.watch?.dispose();
    this.panel?.dispose();
  }
}

/** What the command may be given: a Runs tree node, a run or checkpoint path or Uri, `{ runs: [...] }`, or a list. */
export type CompareTarget = RunsTarget | { runs: readonly string[] } | readonly RunsTarget[];

/** The run folders named by the command's arguments: the selection when there is one, else the clicked item or list. */
export function compareTargetDirs(clicked: CompareTarget | undefined, selected: unknown): string[] {
  const one = (t: RunsTarget): string | undefined => {
    const p = targetPath(t);
    return p && (isCheckpointFile(p) ? path.dirname(p) : p);
  };
  const many = (ts: readonly unknown[]): string[] => ts.map((t) => one(t as RunsTarget)).filter((p): p is string => typeof p === 'string' && p.length > 0);
  if (Array.isArray(selected) && selected.length) return many(selected);
  if (Array.isArray(clicked)) return many(clicked);
  if (clicked && typeof clicked === 'object' && 'runs' in clicked && Array.isArray(clicked.runs)) return many(clicked.runs);
  const single = clicked === undefined ? undefined : one(clicked as RunsTarget);
  return single ? [single] : [];
}

/** A multi-select pick of the runs folder's runs (those of `preselected` checked). */
async function pickRuns(preselected: readonly string[]): Promise<string[] | undefined> {
  const folder = runsFolderUri();
  const runs = folder ? await listRuns(folder.fsPath) : [];
  if (!runs.length) {
    void vscode.window.showInformationMessage('HRM: no training run in the runs folder yet (run "HRM: Train" first).');
    return undefined;
  }
  const chosen = new Set(preselected.map((d) => path.resolve(d)));
  const picked = await vscode.window.showQuickPick(runs.map((r) => ({
    label: r.name, dir: r.dir, picked: chosen.has(path.resolve(r.dir)),
    description: [r.spec?.preset, r.spec?.seed === undefined ? undefined : `seed ${r.spec.seed}`, r.spec?.mixing === undefined ? undefined : `mixing ${r.spec.mixing ? 'on' : 'off'}`].filter(Boolean).join(' · '),
  })), { title: 'HRM: Compare Runs — pick two or more runs', canPickMany: true, placeHolder: 'runs of the runs folder' });
  return picked?.map((p) => p.dir);
}

export function registerCompareRuns(context: vscode.ExtensionContext): ComparePanel {
  const compare = new ComparePanel(context.extensionUri);
  context.subscriptions.push(compare, vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, compare.serializer()),
    vscode.commands.registerCommand('hrmLens.compareRuns', async (clicked?: CompareTarget, selected?: unknown): Promise<string[] | undefined> => {
      let dirs = compareTargetDirs(clicked, selected);
      // One run or none (the palette, a keybinding): pick the runs, that one checked.
      if (dirs.length < 2) dirs = (await pickRuns(dirs)) ?? [];
      if (!dirs.length) return undefined;
      compare.show(dirs);
      return [...compare.runs];
    }));
  return compare;
}
