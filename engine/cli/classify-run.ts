/** The action of `hrm-lens classify` (loaded on demand). */
import type { GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { type ClassifyReport, classifyPuzzles } from '../analysis/classify';
import { REASONING_MODES } from '../analysis/modes';
import { backendFromFlags } from './train-run';
import { type PuzzleSourceFlags, loadPuzzleSource, pct, puzzleSourceOptions, toJson } from './puzzle-source';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import { Progress } from './progress';
import type { TorchCliFlags } from './torch-options';
import { TORCH_BACKEND } from '../rpc/backend-names';
import { withLatentsExport } from '../analysis/latents-export';

export interface ClassifyFlags extends PuzzleSourceFlags, TorchCliFlags {
  checkpoint: string; segments?: string; trivialWithin: string; last: string; tau?: string; batch: string;
  json?: boolean; backend: string; threads?: string;
  /** --save-latents: FILE.safetensors, FILE.npy (files beside) or a folder. */
  saveLatents?: string;
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
  if (flags.backend === TORCH_BACKEND) {
    const { report, source } = await (await import('./torch-run')).classifyTorch(flags);
    process.stdout.write(flags.json ? `${toJson({ checkpoint: flags.checkpoint, source, ...report })}\n`
      : formatClassifyReport(report, `${flags.checkpoint} on ${source}`));
    return;
  }
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
    const { value: report, latents } = withLatentsExport(flags.saveLatents, model, {
      checkpoint: checkpoint.file, source: 'classify', ids: puzzles.map((p) => p.id), segments: options.segments ?? model.config.haltMaxSteps,
    }, (onTraces) => classifyPuzzles(model, puzzles, { ...options, onProgress: (d) => progress.update(d), onTraces }));
    progress.done();
    if (latents) process.stderr.write(`latents: ${latents.summary}\n`);
    process.stdout.write(flags.json ? `${toJson({ checkpoint: checkpoint.file, source, ...report })}\n`
      : formatClassifyReport(report, `${checkpoint.file} on ${source}`));
  } finally {
    model.dispose();
  }
}
