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

export interface InspectFlags { checkpoint: string; puzzle: string; segments?: string; json?: boolean; backend: string; threads?: string }

export async function runInspect(flags: InspectFlags): Promise<void> {
  // Refuse a puzzle that cannot be one (length, characters, clashing givens) before loading anything.
  const problem = puzzleProblem(flags.puzzle);
  if (problem) throw new Error(`--puzzle: ${problem}`);
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    const summary = inspectPuzzle(model, checkpoint.file, flags.puzzle, segments);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${checkpoint.file}\npuzzle   ${summary.puzzle}\nsolution ${summary.solution ?? '(not unique)'}\n\n`);
    process.stdout.write('seg  grid' + ' '.repeat(Math.max(1, summary.puzzle.length - 3)) + 'wrong  E   loss    σ(halt) residual\n');
    for (const s of summary.segments) {
      process.stdout.write(`${String(s.segment).padStart(3)}  ${s.grid}  ${String(s.wrong ?? '-').padStart(5)} ${String(s.energy).padStart(3)}  `
        + `${s.loss === null ? '   -  ' : s.loss.toFixed(4)}  ${s.qHalt.toFixed(3)}   ${s.residualH === null ? '-' : s.residualH.toFixed(4)}${s.exact ? '  ✓' : ''}\n`);
    }
    process.stdout.write(`\nfirst exact: ${summary.firstExact ?? '-'}   stays exact from: ${summary.stableFrom ?? '-'}   critical segment: ${summary.criticalSegment ?? '-'}`
      + `   corruptions: ${summary.corruptions.length ? summary.corruptions.join(', ') : 'none'}\nclass: ${summary.mode.mode}\n`);
  } finally {
    model.dispose();
  }
}

