/**
 * The action of `hrm-lens inspect` (loaded on demand).
 * `hrm-lens inspect --checkpoint F --puzzle P [--segments S] [--json]`: run one puzzle segment by segment and
 * summarise its trace — decoded grid, wrong cells, conflict energy E, loss, halting values and latent residual per
 * segment; first-exact and critical segments; corruptions; and the trajectory's class with its evidence.
 */
import { loadModel } from '../train/load-model';
import { backendFromFlags } from './train-run';
import { inspectPuzzle } from '../analysis/inspect';
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, intOption } from '../util/limits';
import { withLatentsExport } from '../analysis/latents-export';
import type { InspectSummary } from '../analysis/inspect';
import type { TorchCliFlags } from './torch-options';
import { TORCH_BACKEND } from '../rpc/backend-names';

export interface InspectFlags extends TorchCliFlags {
  checkpoint: string; puzzle: string; segments?: string; json?: boolean; backend: string; threads?: string;
  /** --save-latents: FILE.safetensors, FILE.npy (files beside) or a folder. */
  saveLatents?: string;
}

export async function runInspect(flags: InspectFlags): Promise<void> {
  // Refuse a puzzle that cannot be one (length, characters, clashing givens) before loading anything.
  const problem = puzzleProblem(flags.puzzle);
  if (problem) throw new Error(`--puzzle: ${problem}`);
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  if (flags.backend === TORCH_BACKEND) {
    writeInspect(flags.checkpoint, await (await import('./torch-run')).inspectTorch(flags), flags.json);
    return;
  }
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    const { value: summary, latents } = withLatentsExport(flags.saveLatents, model, {
      checkpoint: checkpoint.file, source: 'inspect', ids: [flags.puzzle], segments: segments ?? model.config.haltMaxSteps,
    }, (onTraces) => inspectPuzzle(model, checkpoint.file, flags.puzzle, segments, { onTrace: onTraces && ((t) => onTraces([t], 0)) }));
    if (latents) process.stderr.write(`latents: ${latents.summary}\n`);
    writeInspect(checkpoint.file, summary, flags.json);
  } finally {
    model.dispose();
  }
}

/** Prints an inspection: JSON, or the per-segment table. */
function writeInspect(file: string, summary: InspectSummary, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${file}\npuzzle   ${summary.puzzle}\nsolution ${summary.solution ?? '(not unique)'}\n\n`);
  process.stdout.write('seg  grid' + ' '.repeat(Math.max(1, summary.puzzle.length - 3)) + 'wrong  E   loss    σ(halt) residual\n');
  for (const s of summary.segments) {
    process.stdout.write(`${String(s.segment).padStart(3)}  ${s.grid}  ${String(s.wrong ?? '-').padStart(5)} ${String(s.energy).padStart(3)}  `
      + `${s.loss === null ? '   -  ' : s.loss.toFixed(4)}  ${s.qHalt.toFixed(3)}   ${s.residualH === null ? '-' : s.residualH.toFixed(4)}${s.exact ? '  ✓' : ''}\n`);
  }
  process.stdout.write(`\nfirst exact: ${summary.firstExact ?? '-'}   stays exact from: ${summary.stableFrom ?? '-'}   critical segment: ${summary.criticalSegment ?? '-'}`
    + `   corruptions: ${summary.corruptions.length ? summary.corruptions.join(', ') : 'none'}\nclass: ${summary.mode.mode}\n`);
}

