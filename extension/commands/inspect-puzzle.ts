/**
 * "HRM: Inspect Puzzle": the puzzle from the arguments, the editor selection (or, with none, the cursor's line; read
 * by puzzle-text.ts: 16/36/81 cells, '.' or '0' blanks, whitespace and grid separators ignored) or an input box; the
 * checkpoint from the arguments (a path, or `shipped`: a shipped model's name), else the shipped model of the puzzle's grid size when exactly one ships (4×4:
 * tiny-4x4), else a quick pick of the shipped models and the workspace's checkpoints of that size (or "Browse…"). Refused: a file that is not an HRM Lens checkpoint, a
 * checkpoint of another grid size, a workspace checkpoint in an untrusted workspace. The engine computes the trace
 * summary, shown in the inspector panel (extension/panels/), or as a read-only Markdown document (scheme `hrm-lens`)
 * with `{ view: 'document' }`. Returns the summary (for tests and other commands).
 */
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/engine-client';
import type { InspectSummary } from '../../engine/analysis/inspect';
import { isCancelled } from '../../engine/protocol';
import { checkpointRefusal, pickCheckpoint, type GridSide } from './checkpoints';
import type { ResultDocuments } from './result-document';
import type { InspectorPanels } from '../panels/inspector-panel';
import type { TrajectoryStore } from '../views/trajectory-store';
import type { CheckpointCatalog } from '../views/checkpoint-catalog';
import { escapeMarkdown, markdownCode } from '../views/markdown-text';
import { boundedMessage } from '../../engine/util/errors';
import { MAX_PUZZLE_TEXT, puzzleFromText, puzzleProblem, puzzleSide } from './puzzle-text';
import { refuse } from './refusals';
import { torchRequest } from '../settings';

export interface InspectPuzzleArgs {
  puzzle?: string;
  checkpoint?: string;
  /** A shipped model by name (`models/<name>.safetensors`, e.g. "hard-6x6"), used when `checkpoint` is absent. */
  shipped?: string;
  segments?: number;
  /** 'panel' (default) or 'document' (the Markdown summary). */
  view?: 'panel' | 'document';
}

/** The text Inspect Puzzle reads in an editor: the selection, or the cursor's line when nothing is selected. */
export function selectionText(editor: vscode.TextEditor): string | undefined {
  const doc = editor.document;
  const range = editor.selection.isEmpty ? doc.lineAt(editor.selection.active.line).range : editor.selection;
  // Measured before it is read: a selection of a whole large file is no puzzle.
  if (doc.offsetAt(range.end) - doc.offsetAt(range.start) > MAX_PUZZLE_TEXT) return undefined;
  return doc.getText(range);
}

function puzzleFromSelection(): string | undefined {
  const editor = vscode.window.activeTextEditor;
  const text = editor ? selectionText(editor) : undefined;
  return text === undefined ? undefined : puzzleFromText(text);
}

/** The one shipped model of the puzzle's size, else a pick (the shipped models of that size first). */
async function chooseCheckpoint(catalog: CheckpointCatalog, side: GridSide): Promise<string | undefined> {
  const shipped = await catalog.shippedModels(side);
  if (shipped.length === 1) return shipped[0].file;
  return pickCheckpoint(catalog, `HRM: Inspect Puzzle — a checkpoint for this ${side}×${side} puzzle`, [], side);
}

/** The shipped model named `name` of the puzzle's size, or a refusal saying which ones ship. */
async function shippedByName(catalog: CheckpointCatalog, name: string, side: GridSide): Promise<{ file: string } | { refusal: string }> {
  const models = await catalog.shippedModels(side);
  const hit = models.find((m) => m.name === name);
  if (hit) return { file: hit.file };
  const names = models.map((m) => m.name).join(', ') || 'none';
  return { refusal: `HRM: Inspect Puzzle: no shipped ${side}×${side} model is named "${name.slice(0, 80)}" (shipped: ${names}).` };
}

/**
 * The inspection as Markdown: the trace's table, then the digit relabelings (the perturbation strip and its vote) —
 * "computing…" while `s.stripPending`, or `stripError` when its request ended without one.
 */
export function markdownOf(s: InspectSummary, stripError?: string): string {
  const rows = s.segments.map((g) => `| ${g.segment} | ${markdownCode(g.grid)} | ${g.exact ? '✓' : ''} | ${g.wrong ?? '–'} | ${g.energy} | ${g.loss === null ? '–' : g.loss.toFixed(4)} | ${g.qHalt.toFixed(3)} | ${g.residualH === null ? '–' : g.residualH.toFixed(4)} |`);
  return [
    `# HRM Lens — puzzle inspection`, '', `- checkpoint: ${markdownCode(s.checkpoint)}`, `- puzzle: ${markdownCode(s.puzzle)}`, `- solution: ${markdownCode(s.solution ?? 'not unique')}`,
    `- class: **${escapeMarkdown(s.mode.mode)}**; first exact segment: ${s.firstExact ?? '–'}; stays exact from: ${s.stableFrom ?? '–'}; critical segment: ${s.criticalSegment ?? '–'}; corruptions: ${s.corruptions.length ? s.corruptions.join(', ') : 'none'}`,
    `- class evidence: ${markdownCode(JSON.stringify(s.mode.evidence))}`,
    '', '| segment | grid | exact | wrong | E | loss | σ(q_halt) | residual ‖ΔzH‖/‖zH‖ |', '|---|---|---|---|---|---|---|---|', ...rows, '',
    `## Digit relabelings (last segment)`, '', ...stripMarkdown(s, stripError), '',
  ].join('\n');
}

function stripMarkdown(s: InspectSummary, stripError?: string): string[] {
  if (stripError !== undefined) return [`_Not computed: ${escapeMarkdown(stripError)}._`];
  if (s.stripPending) return ['_Computing… (the puzzle under each cyclic relabeling of its digits, every segment)._'];
  const v = s.vote;
  const verdict = v.exact === null ? '' : v.exact ? ' — exact' : ' — wrong';
  return [
    '| relabeling | answer | halted | exact |', '|---|---|---|---|',
    ...s.perturbations.map((p) => `| ${escapeMarkdown(p.name)} | ${markdownCode(p.answer)} | ${p.halted ? '✓' : ''} | ${p.exact === null ? '–' : p.exact ? '✓' : '✗'} |`),
    '', `Vote (${v.pool === 'halted' ? 'halted relabelings' : 'all relabelings'}, ${v.poolSize}): ${v.answer === null ? 'no answer' : `${markdownCode(v.answer)}, ${v.votes} vote${v.votes === 1 ? '' : 's'}${verdict}`}`,
  ];
}

export function registerInspectPuzzle(engine: EngineClient, docs: ResultDocuments, panels: InspectorPanels, trajectories: TrajectoryStore, catalog: CheckpointCatalog): vscode.Disposable {
  return vscode.commands.registerCommand('hrmLens.inspectPuzzle', async (args: InspectPuzzleArgs = {}): Promise<InspectSummary | undefined> => {
    const given = args.puzzle?.replace(/\s+/g, '');
    if (given !== undefined && puzzleProblem(given)) return refuse(`HRM: Inspect Puzzle: "${given.slice(0, 100)}" is not a puzzle: ${puzzleProblem(given)}.`);
    const typed = given ?? puzzleFromSelection() ?? (await vscode.window.showInputBox({
      title: 'HRM: Inspect Puzzle', prompt: "16, 36 or 81 cells; '.' or '0' for a blank (spaces and | + - separators are ignored)",
      validateInput: (v) => puzzleProblem(v) || undefined,
    }));
    const puzzle = typed === undefined ? undefined : puzzleFromText(typed);
    const side = puzzle === undefined ? undefined : puzzleSide(puzzle);
    if (!puzzle || !side) return undefined;
    let checkpoint = args.checkpoint;
    if (checkpoint === undefined && args.shipped !== undefined) {
      const named = await shippedByName(catalog, args.shipped, side);
      if ('refusal' in named) return refuse(named.refusal);
      checkpoint = named.file;
    }
    checkpoint ??= await chooseCheckpoint(catalog, side);
    if (!checkpoint) return undefined;
    const refusal = await checkpointRefusal(catalog, checkpoint, side);
    if (refusal) return refuse(refusal);
    try {
      // The trace first, then the perturbation strip (n passes of every segment: ~9× the trace's work at 9×9), so the
      // panel opens as soon as the trace is there; the command resolves with the whole summary.
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'HRM Lens: inspecting the puzzle…', cancellable: true },
        async (progress, token) => {
          const backend = torchRequest();
          const trace = await engine.request('inspect', { checkpoint, puzzle, segments: args.segments, strip: false, ...backend }, { token });
          trajectories.add(trace);
          // The document opens with the trace too, and is updated in place when the strip is there.
          const doc = args.view === 'document' ? await docs.show('inspection', markdownOf(trace)) : undefined;
          if (!doc) panels.show(trace);
          progress.report({ message: 'the digit relabelings…' });
          try {
            const strip = await engine.request('inspect.strip', { checkpoint, puzzle, segments: args.segments, ...backend }, { token });
            const summary: InspectSummary = { ...trace, ...strip };
            delete summary.stripPending;
            if (doc) docs.update(doc.uri, markdownOf(summary));
            else panels.showStrip(summary, strip);
            return summary;
          } catch (e) {
            const why = isCancelled(e) ? 'cancelled' : `failed: ${boundedMessage(e)}`;
            if (doc) docs.update(doc.uri, markdownOf(trace, why));
            else panels.showStrip(trace, { error: why });
            if (!isCancelled(e)) void vscode.window.showWarningMessage(`HRM: Inspect Puzzle: the perturbation strip ${why}`);
            return trace;
          }
        },
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`HRM: Inspect Puzzle failed: ${boundedMessage(e)}`);
      return undefined;
    }
  });
}
