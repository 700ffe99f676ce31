/**
 * "HRM: Inspect Puzzle": the puzzle from the arguments, the editor selection (16/36/81 characters, '.' or '0'
 * blanks; whitespace ignored) or an input box; the checkpoint from the arguments, else the shipped default model
 * for 4×4 puzzles, else a quick pick of the workspace's checkpoints (or "Browse…"); workspace checkpoints only in a
 * trusted workspace. The engine computes the trace summary, shown in the inspector panel (extension/panels/), or as a
 * read-only Markdown document (scheme `hrm-lens`) with `{ view: 'document' }`. Returns the summary (for tests and other
 * commands).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/engine-client';
import type { InspectSummary } from '../../engine/analysis/inspect';
import { isCancelled } from '../../engine/protocol';
import { pickCheckpoint, workspaceCheckpointRefusal } from './checkpoints';
import type { ResultDocuments } from './result-document';
import type { InspectorPanels } from '../panels/inspector-panel';
import type { TrajectoryStore } from '../views/trajectory-store';

export interface InspectPuzzleArgs {
  puzzle?: string;
  checkpoint?: string;
  segments?: number;
  /** 'panel' (default) or 'document' (the Markdown summary). */
  view?: 'panel' | 'document';
}

const PUZZLE = /^[0-9.]{16}$|^[0-9.]{36}$|^[0-9.]{81}$/;

function puzzleFromSelection(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const text = editor.document.getText(editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : editor.selection);
  const candidate = text.split(/\/\/|#/)[0].replace(/\s+/g, '');
  return PUZZLE.test(candidate) ? candidate : undefined;
}

async function chooseCheckpoint(context: vscode.ExtensionContext, puzzle: string): Promise<string | undefined> {
  if (puzzle.length === 16) return path.join(context.extensionPath, 'models', 'tiny-4x4.safetensors');
  return pickCheckpoint(`HRM: Inspect Puzzle — a checkpoint for this ${Math.round(Math.sqrt(puzzle.length))}×${Math.round(Math.sqrt(puzzle.length))} puzzle`);
}

/**
 * The inspection as Markdown: the trace's table, then the digit relabelings (the perturbation strip and its vote) —
 * "computing…" while `s.stripPending`, or `stripError` when its request ended without one.
 */
export function markdownOf(s: InspectSummary, stripError?: string): string {
  const rows = s.segments.map((g) => `| ${g.segment} | \`${g.grid}\` | ${g.exact ? '✓' : ''} | ${g.wrong ?? '–'} | ${g.energy} | ${g.loss === null ? '–' : g.loss.toFixed(4)} | ${g.qHalt.toFixed(3)} | ${g.residualH === null ? '–' : g.residualH.toFixed(4)} |`);
  return [
    `# HRM Lens — puzzle inspection`, '', `- checkpoint: \`${s.checkpoint}\``, `- puzzle: \`${s.puzzle}\``, `- solution: \`${s.solution ?? 'not unique'}\``,
    `- class: **${s.mode.mode}**; first exact segment: ${s.firstExact ?? '–'}; stays exact from: ${s.stableFrom ?? '–'}; critical segment: ${s.criticalSegment ?? '–'}; corruptions: ${s.corruptions.length ? s.corruptions.join(', ') : 'none'}`,
    `- class evidence: \`${JSON.stringify(s.mode.evidence)}\``,
    '', '| segment | grid | exact | wrong | E | loss | σ(q_halt) | residual ‖ΔzH‖/‖zH‖ |', '|---|---|---|---|---|---|---|---|', ...rows, '',
    `## Digit relabelings (last segment)`, '', ...stripMarkdown(s, stripError), '',
  ].join('\n');
}

function stripMarkdown(s: InspectSummary, stripError?: string): string[] {
  if (stripError !== undefined) return [`_Not computed: ${stripError}._`];
  if (s.stripPending) return ['_Computing… (the puzzle under each cyclic relabeling of its digits, every segment)._'];
  const v = s.vote;
  const verdict = v.exact === null ? '' : v.exact ? ' — exact' : ' — wrong';
  return [
    '| relabeling | answer | halted | exact |', '|---|---|---|---|',
    ...s.perturbations.map((p) => `| ${p.name} | \`${p.answer}\` | ${p.halted ? '✓' : ''} | ${p.exact === null ? '–' : p.exact ? '✓' : '✗'} |`),
    '', `Vote (${v.pool === 'halted' ? 'halted relabelings' : 'all relabelings'}, ${v.poolSize}): ${v.answer === null ? 'no answer' : `\`${v.answer}\`, ${v.votes} vote${v.votes === 1 ? '' : 's'}${verdict}`}`,
  ];
}

export function registerInspectPuzzle(context: vscode.ExtensionContext, engine: EngineClient, docs: ResultDocuments, panels: InspectorPanels, trajectories: TrajectoryStore): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.inspectPuzzle', async (args: InspectPuzzleArgs = {}): Promise<InspectSummary | undefined> => {
    const puzzle = args.puzzle?.replace(/\s+/g, '') ?? puzzleFromSelection() ?? (await vscode.window.showInputBox({
      title: 'HRM: Inspect Puzzle', prompt: "16, 36 or 81 characters; '.' or '0' for a blank",
      validateInput: (v) => (PUZZLE.test(v.replace(/\s+/g, '')) ? undefined : 'expected 16, 36 or 81 characters of 0-9 or .'),
    }))?.replace(/\s+/g, '');
    if (!puzzle) return undefined;
    const checkpoint = args.checkpoint ?? (await chooseCheckpoint(context, puzzle));
    if (!checkpoint) return undefined;
    const refusal = workspaceCheckpointRefusal(checkpoint);
    if (refusal) {
      void vscode.window.showWarningMessage(refusal);
      return undefined;
    }
    try {
      // The trace first, then the perturbation strip (n passes of every segment: ~9× the trace's work at 9×9), so the
      // panel opens as soon as the trace is there; the command resolves with the whole summary.
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'HRM Lens: inspecting the puzzle…', cancellable: true },
        async (progress, token) => {
          const trace = await engine.request('inspect', { checkpoint, puzzle, segments: args.segments, strip: false }, { token });
          trajectories.add(trace);
          // The document opens with the trace too, and is updated in place when the strip is there.
          const doc = args.view === 'document' ? await docs.show('inspection', markdownOf(trace)) : undefined;
          if (!doc) panels.show(trace);
          progress.report({ message: 'the digit relabelings…' });
          try {
            const strip = await engine.request('inspect.strip', { checkpoint, puzzle, segments: args.segments }, { token });
            const summary: InspectSummary = { ...trace, ...strip };
            delete summary.stripPending;
            if (doc) docs.update(doc.uri, markdownOf(summary));
            else panels.showStrip(summary, strip);
            return summary;
          } catch (e) {
            const why = isCancelled(e) ? 'cancelled' : `failed: ${e instanceof Error ? e.message : String(e)}`;
            if (doc) docs.update(doc.uri, markdownOf(trace, why));
            else panels.showStrip(trace, { error: why });
            if (!isCancelled(e)) void vscode.window.showWarningMessage(`HRM: Inspect Puzzle: the perturbation strip ${why}`);
            return trace;
          }
        },
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`HRM: Inspect Puzzle failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  });
}
