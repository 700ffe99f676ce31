/** The action of `hrm-lens landscape` (loaded on demand). */
import { writeFileSync } from 'node:fs';
import type { GridSize } from '../sudoku/geometry';
import { parsePuzzle } from '../sudoku/givens';
import { loadModel } from '../train/load-model';
import { type Landscape, type LandscapeOptions, computeLandscape, landscapeToJson } from '../analysis/landscape';
import { backendFromFlags } from './train-run';
import { LIMITS, NUM_LIMITS, intOption, numOption } from '../util/limits';
import { Progress } from './progress';
import type { TorchCliFlags } from './torch-options';
import { TORCH_BACKEND } from '../rpc/backend-names';

export interface LandscapeFlags extends TorchCliFlags {
  checkpoint: string; puzzle: string; size: string; step?: string; segments?: string; flowSegments: string; basins?: boolean;
  maxSegments: string; patience: string; tolerance?: string; batch: string; out?: string; json?: boolean; backend: string; threads?: string;
}

const SHADES = ' .:-=+*#%@';

/** Text heatmap of E (clipped at `clip`; 0 = ' '), PC2 up, the centre marked 'O', trajectory states 'o'. */
export function landscapeAscii(l: Landscape, clip = 40): string {
  const { size, radius: r } = l;
  const rows: string[][] = [];
  for (let jj = 0; jj < size; jj++) {
    const row: string[] = [];
    for (let ii = 0; ii < size; ii++) {
      const e = Math.min(clip, l.heights[jj * size + ii]);
      row.push(e === 0 ? ' ' : SHADES[Math.min(SHADES.length - 1, 1 + Math.floor((e / clip) * (SHADES.length - 2)))]);
    }
    rows.push(row);
  }
  for (let k = 0; k < l.trajectory.length / 2; k++) {
    const ii = Math.round(l.trajectory[2 * k]) + r;
    const jj = Math.round(l.trajectory[2 * k + 1]) + r;
    if (ii >= 0 && ii < size && jj >= 0 && jj < size) rows[jj][ii] = 'o';
  }
  rows[r][r] = 'O';
  return rows.reverse().map((row) => `|${row.join('')}|`).join('\n');
}

/** Text basin map: '*' solution, 'a'.. spurious #1.., '?' still moving. */
export function basinAscii(l: Landscape): string {
  if (!l.basins) return '';
  const { size } = l;
  const lines: string[] = [];
  for (let jj = size - 1; jj >= 0; jj--) {
    let s = '';
    for (let ii = 0; ii < size; ii++) {
      const lab = l.basins.labels[jj * size + ii];
      s += lab === 0 ? '*' : lab < 0 ? '?' : String.fromCharCode(96 + Math.min(26, lab));
    }
    lines.push(`|${s}|`);
  }
  return lines.join('\n');
}

export function formatLandscape(l: Landscape, file: string): string {
  const P = l.size * l.size;
  let moved = 0;
  let toZero = 0;
  for (let p = 0; p < P; p++) {
    const ii = (p % l.size) - l.radius;
    const jj = Math.floor(p / l.size) - l.radius;
    if (Math.hypot(l.flow[2 * p] - ii, l.flow[2 * p + 1] - jj) > 0.5) moved++;
    if (l.flowEnergy[p] === 0) toZero++;
  }
  const zero = l.heights.filter((e) => e === 0).length;
  const meanOff = l.offPlane.reduce((a, b) => a + b, 0) / P;
  const out = [
    `${file}: ${l.size}×${l.size} landscape, step ${l.step.toFixed(3)}, centre = segment ${l.segments}, ${l.seconds.toFixed(2)} s`,
    `puzzle   ${l.puzzle}\nsolution ${l.solution ?? '(not unique)'}\ncentre   ${l.centreGrid}  E = ${l.centreEnergy}`,
    `PC1/PC2 explain ${(l.explainedVarianceRatio[0] * 100).toFixed(1)}% / ${(l.explainedVarianceRatio[1] * 100).toFixed(1)}% of the trajectory's variance (${l.basisSource} basis)`,
    `heights: E = 0 at ${zero}/${P} points, max E ${Math.max(...l.heights)}; after ${l.flowSegments} segment(s): E = 0 at ${toZero}/${P}, `
      + `${moved} arrows longer than 0.5 units, mean off-plane distance ${meanOff.toFixed(2)} units`,
    '', 'E (clipped at 40; blank = 0, O = centre, o = trajectory), PC1 →, PC2 ↑', landscapeAscii(l),
  ];
  if (l.basins) {
    out.push('', `basins (max ${l.basins.maxSegments} segments, patience ${l.basins.patience}): * solution, a.. spurious, ? moving`, basinAscii(l));
    for (const a of l.basins.attractors) out.push(`  ${a.kind === 'solution' ? '*' : String.fromCharCode(96 + Math.min(26, a.label))} ${a.kind.padEnd(8)} ${a.grid}  E ${a.energy}  ${a.points} points`);
    out.push(`  ? moving   ${l.basins.moving} points`);
  }
  return `${out.join('\n')}\n`;
}

/** The sizing options checked against their ranges (engine/util/limits.ts), before anything is loaded. */
export function landscapeOptions(flags: LandscapeFlags): Omit<LandscapeOptions, 'onProgress' | 'signal' | 'basis'> {
  const basins = flags.basins ? {
    maxSegments: intOption(flags.maxSegments, 'max-segments', LIMITS.segments), patience: intOption(flags.patience, 'patience', LIMITS.segmentCount),
    tolerance: numOption(flags.tolerance, 'tolerance', NUM_LIMITS.tolerance),
  } : false;
  return {
    size: intOption(flags.size, 'size', LIMITS.landscapeSize), step: numOption(flags.step, 'step', NUM_LIMITS.landscapeStep),
    segments: intOption(flags.segments, 'segments', LIMITS.segments), flowSegments: intOption(flags.flowSegments, 'flow-segments', LIMITS.segments),
    batch: intOption(flags.batch, 'batch', LIMITS.batch), basins,
  };
}

export async function runLandscape(flags: LandscapeFlags): Promise<void> {
  const options = landscapeOptions(flags);
  if (flags.backend === TORCH_BACKEND) {
    const l = await (await import('./torch-run')).withTorchWorker(flags, async (worker) => {
      const [{ TorchModel }, { computeLandscapeTorch }] = await Promise.all([import('../torch/torch-model'), import('../torch/landscape-torch')]);
      const model = await TorchModel.fromCheckpoint(flags.checkpoint, worker);
      const parsed = parsePuzzle(flags.puzzle, model.config.gridSize as GridSize);
      if ('error' in parsed) throw new Error(`--puzzle: ${parsed.error}`);
      const progress = new Progress({ label: 'landscape', unit: 'points' });
      const r = await computeLandscapeTorch(model, parsed.grid, {
        ...options,
        onProgress: (p) => { if (p.phase === 'grid') progress.update(p.done, p.done / p.total); },
      });
      progress.done();
      return r;
    });
    writeLandscape(flags, l, flags.checkpoint);
    return;
  }
  await backendFromFlags(flags);
  const { model, checkpoint } = await loadModel(flags.checkpoint);
  try {
    const parsed = parsePuzzle(flags.puzzle, model.config.gridSize as GridSize);
    if ('error' in parsed) throw new Error(`--puzzle: ${parsed.error}`);
    const progress = new Progress({ label: 'landscape', unit: 'points' });
    const l = computeLandscape(model, parsed.grid, {
      ...options,
      onProgress: (p) => { if (p.phase === 'grid') progress.update(p.done, p.done / p.total); },
    });
    progress.done();
    writeLandscape(flags, l, checkpoint.file);
  } finally {
    model.dispose();
  }
}

/** --out, then the landscape on stdout (JSON or text). */
function writeLandscape(flags: LandscapeFlags, l: Landscape, file: string): void {
  if (flags.out) writeFileSync(flags.out, `${landscapeToJson(l)}\n`);
  process.stdout.write(flags.json ? `${landscapeToJson(l, 2)}\n` : formatLandscape(l, file));
}
