/**
 * How a checkpoint's figures read in the Runs tree, the hover and the Explorer decoration: one short description,
 * a 2-character badge, and a Markdown block (a table of exact/cell accuracy per evaluation set, then step, date,
 * preset, backend, data mixing).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { escapeMarkdown } from './markdown-text';
import type { CheckpointInfo, EvalSet, RunInfo } from './run-files';

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The set a single figure speaks for: held-out when there is one, else the first named set. */
export function primarySet(c: Pick<CheckpointInfo, 'evaluation'>): EvalSet | undefined {
  return c.evaluation?.sets[0];
}

/** "exact 83.2%" (the tree's description), or "not evaluated". */
export function accuracyDescription(c: Pick<CheckpointInfo, 'evaluation'>): string {
  const s = primarySet(c);
  return s ? `exact ${pct(s.exact)}` : 'not evaluated';
}

/** The Explorer badge: exact accuracy in whole percent, 2 characters at most ("83", "0", "✓" for 100%). */
export function accuracyBadge(exact: number): string {
  const p = Math.floor(exact * 100 + 1e-9);
  return p >= 100 ? '✓' : String(Math.max(0, p));
}

/** "HRM: exact 83.2% · cell 96.4% (held-out, 500 puzzles)" and the other sets on further lines. */
export function accuracyTooltip(c: Pick<CheckpointInfo, 'evaluation'>): string {
  return (c.evaluation?.sets ?? []).map((s) => `HRM ${s.name}: exact ${pct(s.exact)} · cell ${pct(s.cell)} (${s.puzzles} puzzles, ${s.segments} segments)`).join('\n');
}

/** Names and run.json fields are untrusted: literal text in Markdown (markdown-text.ts). */
const esc = escapeMarkdown;

function dateOf(c: CheckpointInfo): string {
  const t = primarySet(c)?.time;
  const d = t ? new Date(t) : new Date(c.mtime);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString();
}

/** Markdown lines describing a checkpoint (no header). */
export function checkpointMarkdownLines(c: CheckpointInfo): string[] {
  const lines: string[] = [];
  const sets = c.evaluation?.sets ?? [];
  if (sets.length) {
    lines.push('| evaluation set | exact | cell | puzzles | segments |', '|---|---:|---:|---:|---:|');
    for (const s of sets) lines.push(`| ${esc(s.name)} | **${pct(s.exact)}** | ${pct(s.cell)} | ${s.puzzles} | ${s.segments} |`);
    lines.push('');
  } else {
    lines.push('_Not evaluated yet._', '');
  }
  const r = c.run;
  const facts = [
    `step ${c.step ?? '–'}${r?.steps !== undefined && (c.step ?? 0) <= r.steps ? ` of ${r.steps}` : ''}`,
    `date ${dateOf(c)}`,
    ...(r?.preset ? [`preset ${esc(r.preset)}`] : []),
    ...(r?.backend ? [`backend ${esc(r.backend)}`] : []),
    ...(r?.mixing !== undefined ? [`data mixing ${r.mixing ? 'on' : 'off'}`] : []),
  ];
  lines.push(facts.join(' · '));
  return lines;
}

/** The Runs tree tooltip of a checkpoint. */
export function checkpointTooltip(c: CheckpointInfo): vscode.MarkdownString {
  const md = new vscode.MarkdownString([`**${esc(path.basename(c.file))}**`, '', ...checkpointMarkdownLines(c)].join('\n'));
  md.supportHtml = false;
  return md;
}

/** "tiny-4x4 · step 2000/2000 · mixing off": the Runs tree description of a run. */
export function runDescription(r: RunInfo): string {
  const last = r.checkpoints[0]?.step;
  const target = r.spec?.steps;
  const steps = last !== undefined ? `step ${last}${target !== undefined && last <= target ? `/${target}` : ''}` : `${target ?? '?'} steps, no checkpoint`;
  const parts = [r.spec?.preset ?? 'unknown preset', steps];
  if (r.spec?.mixing !== undefined) parts.push(`mixing ${r.spec.mixing ? 'on' : 'off'}`);
  return parts.join(' · ');
}

/** The Runs tree tooltip of a run. */
export function runTooltip(r: RunInfo): vscode.MarkdownString {
  const s = r.spec;
  const created = s?.created ? new Date(s.created) : new Date(r.mtime);
  const rows = [
    `**${esc(r.name)}**`, '',
    `- preset: ${esc(s?.preset ?? '–')}; seed ${s?.seed ?? '–'}; batch ${s?.batch ?? '–'}; ${s?.steps ?? '–'} steps`,
    `- data: ${esc(s?.data ?? '–')}; data mixing ${s?.mixing === undefined ? '–' : s.mixing ? 'on' : 'off'}`,
    `- backend: ${esc(s?.backendDetail ?? s?.backend ?? '–')}`,
    `- created: ${Number.isNaN(created.getTime()) ? '–' : created.toLocaleString()}`,
    `- checkpoints: ${r.checkpoints.length}${r.checkpoints[0] ? ` (newest: ${accuracyDescription(r.checkpoints[0])})` : ''}`,
  ];
  const md = new vscode.MarkdownString(rows.join('\n'));
  md.supportHtml = false;
  return md;
}
