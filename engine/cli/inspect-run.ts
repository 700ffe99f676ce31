/**
 * The action of `hrm-lens inspect` (loaded on demand).
 * `hrm-lens inspect --checkpoint F --puzzle P [--segments S] [--json]`: run one puzzle segment by segment and
 * summarise its trace — decoded grid, wrong cells, conflict energy E, loss, halting values and latent residual per
 * segment; first-exact and critical segments; corruptions; and the trajectory's class with its evidence.
 */
import { loadModel } from '../train/load-model';
import { backendFromFlags } from './train-run';
import { captureTraces } from '../analysis/capture-trace';
import { computeTraceMetrics, type TraceMetrics } from '../analysis/segment-metrics';
import { classifyMode, type ModeResult } from '../analysis/modes';
import { geometry, gridToString, parseGrid, type GridSize } from '../sudoku/geometry';
import { solve } from '../sudoku/solver';

export interface InspectFlags { checkpoint: string; puzzle: string; segments?: string; json?: boolean; backend: string; threads?: string }

export interface InspectSummary {
  checkpoint: string;
  puzzle: string;
  solution: string | null;
  segments: {
    segment: number; grid: string; exact: boolean; wrong: number | null; wrongGivens: number | null; wrongBlanks: number | null;
    energy: number; loss: number | null; changed: number; qHalt: number; qContinue: number; residualH: number | null;
  }[];
  firstExact: number | null;
  stableFrom: number | null;
  criticalSegment: number | null;
  corruptions: number[];
  mode: ModeResult;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function summarize(checkpoint: string, m: TraceMetrics, solution: string | null, mode: ModeResult): InspectSummary {
  const segs = [];
  for (let k = 0; k < m.segments; k++) {
    segs.push({
      segment: k + 1, grid: gridToString(m.grids.subarray(k * m.cells, (k + 1) * m.cells)), exact: m.exact[k] === 1,
      wrong: m.wrong ? m.wrong[k] : null, wrongGivens: m.wrongGivens ? m.wrongGivens[k] : null, wrongBlanks: m.wrongBlanks ? m.wrongBlanks[k] : null,
      energy: m.energy[k], loss: m.loss ? finite(m.loss[k]) : null, changed: m.changed[k],
      qHalt: m.qHaltProb[k], qContinue: m.qContinueProb[k], residualH: finite(m.residualH[k]),
    });
  }
  return {
    checkpoint, puzzle: gridToString(m.puzzle), solution, segments: segs, firstExact: m.firstExact, stableFrom: m.stableFrom,
    criticalSegment: m.criticalSegment, corruptions: m.corruptions, mode,
  };
}

export async function runInspect(flags: InspectFlags): Promise<void> {
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    const parsed = parseGrid(flags.puzzle.trim(), model.config.gridSize as GridSize);
    if ('error' in parsed) throw new Error(`--puzzle: ${parsed.error}`);
    const solved = solve(parsed.grid, geometry(parsed.n));
    const solution = solved.solutions === 1 ? solved.solution : undefined;
    const segments = flags.segments ? Number(flags.segments) : model.config.haltMaxSteps;
    const [trace] = captureTraces(model, [{ puzzle: parsed.grid, solution }], { segments, checkpoint: checkpoint.file });
    const metrics = computeTraceMetrics(trace);
    const summary = summarize(checkpoint.file, metrics, solution ? gridToString(solution) : null, classifyMode(metrics));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${checkpoint.file}\npuzzle   ${summary.puzzle}\nsolution ${summary.solution ?? '(not unique)'}\n\n`);
    process.stdout.write('seg  grid' + ' '.repeat(Math.max(1, parsed.grid.length - 3)) + 'wrong  E   loss    σ(halt) residual\n');
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

