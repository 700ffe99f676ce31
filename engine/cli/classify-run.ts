/** The action of `hrm-lens classify` (loaded on demand). */
import type { GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { type ClassifyReport, classifyPuzzles } from '../analysis/classify';
import { REASONING_MODES } from '../analysis/modes';
import { backendFromFlags } from './train-run';
import { type PuzzleSourceFlags, loadPuzzleSource, pct, puzzleSourceOptions, toJson } from './puzzle-source';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import { Progress } from './progress';

export interface ClassifyFlags extends PuzzleSourceFlags {
  checkpoint: string; segments?: string; trivialWithin: string; last: string; tau?: string; batch: string;
  json?: boolean; backend: string; threads?: string;
}

export function formatClassifyReport(r: ClassifyReport, header: string): string {
  const lines = [header,
    `${r.puzzles} puzzles, ${r.segments} segments, ${r.seconds.toFixed(1)} s; final accuracy ${pct(r.finalAccuracy)}, `
    + `stability ${pct(r.stabilityRate)}, corruption events ${r.corruptionEvents}`,
    `τ = ${Number.isFinite(r.tau) ? r.tau.toPrecision(3) : '–'} (${r.tauSource})`, '',
    'mode                  count   share  example'];
  for (const m of REASONING_MODES) {
    lines.push(`${m.padEnd(20)} ${String(r.counts[m]).padStart(6)}  ${pct(r.counts[m] / Math.max(1, r.puzzles)).padStart(6)}  ${r.examples[m] ?? ''}`);
  }
  lines.push('', `exact by segment: ${r.exactBySegment.map((x) => (x * 100).toFixed(0)).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export async function runClassify(flags: ClassifyFlags): Promise<void> {
  puzzleSourceOptions(flags);
  const options = {
    segments: intOption(flags.segments, 'segments', LIMITS.segments), batch: intOption(flags.batch, 'batch', LIMITS.batch),
    trivialWithin: intOption(flags.trivialWithin, 'trivial-within', LIMITS.segmentCount), lastSegments: intOption(flags.last, 'last', LIMITS.segmentCount),
    tau: numOption(flags.tau, 'tau', NUM_LIMITS.tau),
  };
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    const { puzzles, source } = await loadPuzzleSource(flags, model.config.gridSize as GridSize);
    const progress = new Progress({ label: 'classify', unit: 'puzzles', total: puzzles.length });
    const report = classifyPuzzles(model, puzzles, {
      ...options, onProgress: (d) => progress.update(d),
    });
    progress.done();
    process.stdout.write(flags.json ? `${toJson({ checkpoint: checkpoint.file, source, ...report })}\n`
      : formatClassifyReport(report, `${checkpoint.file} on ${source}`));
  } finally {
    model.dispose();
  }
}
