/**
 * How a followed reference run and its `step_N` checkpoints read in the Runs tree (official-runs.ts): the run's
 * description (how many checkpoints, the newest one's exact accuracy), each checkpoint's state ("exact 12.3%",
 * "evaluating… 40/100", "writing…", "queued", "error: …") and Markdown tooltips (the figures, the model, the puzzles).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeMarkdown as esc } from './markdown-text';
import { pct } from './checkpoint-text';
import type { OfficialEvalEntry } from '../../engine/interop/official-protocol';
import type { OfficialCheckpointView, OfficialRunView, OfficialState } from './official-runs';

/** Longest error text in a description (the tooltip has all of it). */
const SHORT_ERROR_CHARS = 80;

/** "exact 12.3%", "evaluating… 40/100", …: a checkpoint's description in the tree. */
export function officialStateDescription(s: OfficialState): string {
  switch (s.kind) {
    case 'settling': return 'writing… (waiting for the file to settle)';
    case 'queued': return 'queued for evaluation';
    case 'evaluating': return s.total > 0 ? `evaluating… ${s.done}/${s.total} puzzles` : 'evaluating…';
    case 'done': return `exact ${pct(s.entry.figures.exact)}`;
    case 'error': {
      const first = s.message.split('\n')[0];
      return `error: ${first.length > SHORT_ERROR_CHARS ? `${first.slice(0, SHORT_ERROR_CHARS)}…` : first}`;
    }
  }
}

/** "100 generated 9×9 puzzles (seed 424242)" or "the first 100 of test.csv". */
export function officialPuzzlesText(e: OfficialEvalEntry): string {
  const n = e.model.gridSize;
  return e.spec.data === null
    ? `${e.figures.puzzles} generated ${n}×${n} puzzles (seed ${e.spec.seed})`
    : `${e.figures.puzzles} puzzles of ${path.basename(e.spec.data)}`;
}

function stateIcon(s: OfficialState): vscode.ThemeIcon {
  switch (s.kind) {
    case 'settling': return new vscode.ThemeIcon('history');
    case 'queued': return new vscode.ThemeIcon('clock');
    case 'evaluating': return new vscode.ThemeIcon('loading~spin');
    case 'done': return new vscode.ThemeIcon('pass');
    case 'error': return new vscode.ThemeIcon('error');
  }
}

function markdown(lines: string[]): vscode.MarkdownString {
  const md = new vscode.MarkdownString(lines.join('\n'));
  md.supportHtml = false;
  return md;
}

/** The tooltip of a checkpoint: its figures, or its state, and where it is. */
export function officialCheckpointTooltip(c: OfficialCheckpointView): vscode.MarkdownString {
  const lines = [`**${esc(c.name)}** (reference checkpoint, read in place)`, ''];
  const s = c.state;
  if (s.kind === 'done') {
    const e = s.entry;
    const f = e.figures;
    lines.push('| evaluation set | exact | cell | puzzles | segments |', '|---|---:|---:|---:|---:|',
      `| held-out | **${pct(f.exact)}** | ${pct(f.cell)} | ${f.puzzles} | ${f.segments} |`, '',
      `${esc(officialPuzzlesText(e))}; Q-head halts at the last segment: ${pct(f.haltedAtLast)}`, '',
      `${esc(e.model.variant.toUpperCase())} ${e.model.gridSize}×${e.model.gridSize}, hidden ${e.model.hidden}, ${e.model.heads} heads, `
        + `${e.model.numParams.toLocaleString('en-US')} parameters · step ${e.step} · evaluated ${esc(new Date(f.time).toLocaleString())}`
        + `${s.cached ? ' (cached)' : ''} in ${e.seconds.toFixed(1)} s`);
    if (e.configFile === null) lines.push('', '_No all_config.yaml beside it: reference defaults assumed._');
    for (const n of e.notes) lines.push('', `- ${esc(n)}`);
  } else if (s.kind === 'error') {
    lines.push(`Not evaluated: ${esc(s.message)}`);
  } else {
    lines.push(`_${esc(officialStateDescription(s))}_`);
  }
  lines.push('', `${(c.size / 1e6).toFixed(1)} MB · ${esc(c.file)}`);
  return markdown(lines);
}

export function officialCheckpointItem(c: OfficialCheckpointView, contextValue: string): vscode.TreeItem {
  const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.None);
  item.id = `official-checkpoint:${c.file}`;
  item.description = officialStateDescription(c.state);
  item.tooltip = officialCheckpointTooltip(c);
  item.iconPath = stateIcon(c.state);
  item.contextValue = contextValue;
  item.resourceUri = vscode.Uri.file(c.file);
  return item;
}

/** "official · 3 checkpoints · step 2000: exact 83.2%". */
export function officialRunDescription(r: OfficialRunView): string {
  if (!r.exists) return 'official · folder not found';
  const n = r.checkpoints.length;
  if (n === 0) return `official · no checkpoint yet${r.hasConfig ? '' : ' (no all_config.yaml)'}`;
  const newest = r.checkpoints[0];
  return `official · ${n} checkpoint${n === 1 ? '' : 's'} · step ${newest.step}: ${officialStateDescription(newest.state)}`;
}

export function officialRunItem(r: OfficialRunView, contextValue: string): vscode.TreeItem {
  const item = new vscode.TreeItem(r.name, r.checkpoints.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = `official-run:${r.dir}`;
  item.description = officialRunDescription(r);
  const done = r.checkpoints.filter((c) => c.state.kind === 'done').length;
  item.tooltip = markdown([
    `**${esc(r.name)}** (followed reference run)`, '',
    `- folder: ${esc(r.dir)}${r.root !== r.dir ? ` (under the followed ${esc(r.root)})` : ''}`,
    `- all_config.yaml: ${r.hasConfig ? 'present' : 'missing (reference defaults are assumed)'}`,
    `- checkpoints: ${r.checkpoints.length}, ${done} evaluated`,
  ]);
  item.iconPath = new vscode.ThemeIcon(r.exists ? 'eye' : 'warning');
  item.contextValue = contextValue;
  item.resourceUri = vscode.Uri.file(r.dir);
  return item;
}
