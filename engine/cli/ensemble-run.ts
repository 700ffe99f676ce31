/** The action of `hrm-lens ensemble` (loaded on demand). */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { buildPassMatrix, resolveCheckpoints } from '../ensemble/checkpoints';
import { PERTURBATION_KINDS, type PerturbationKind, perturbationSet } from '../ensemble/perturb';
import {
  CONFIG_NAMES, type EnsembleReport, bandsCsv, buildEnsembleReport, curvesCsv, jaccardCsv, passesCsv, reportToJson, solvedCsv, summaryCsv,
} from '../ensemble/report';
import { backendFromFlags } from './train-run';
import { type PuzzleSourceFlags, loadPuzzleSource, pct, puzzleSourceOptions } from './puzzle-source';
import { LIMITS, intOption } from '../util/limits';
import { Progress } from './progress';
import type { TorchCliFlags } from './torch-options';
import { TORCH_BACKEND } from '../rpc/backend-names';

export interface EnsembleFlags extends PuzzleSourceFlags, TorchCliFlags {
  run?: string; last: string; checkpoints?: string; perturb: string; count?: string; segments?: string; maxRows: string;
  csv?: string; out?: string; json?: boolean; backend: string; threads?: string;
}

export function formatEnsembleReport(r: EnsembleReport, header: string, seconds: number): string {
  const lines = [header, `${r.puzzles} puzzles × ${r.checkpoints} checkpoints × ${r.perturbations} perturbations = `
    + `${r.puzzles * r.checkpoints * r.perturbations} passes, ${seconds.toFixed(1)} s`,
  `checkpoints: ${r.checkpointNames.join(', ')} (baseline: ${r.checkpointNames[r.baselineCheckpoint]})`,
  `perturbations: ${r.perturbationNames.join(', ')}`, '',
  'configuration   checkpoints × perturbations   oracle   label-free'];
  const sizes = { baseline: [1, 1], relabeling: [1, r.perturbations], checkpoints: [r.checkpoints, 1], both: [r.checkpoints, r.perturbations] };
  for (const n of CONFIG_NAMES) {
    lines.push(`${n.padEnd(15)} ${`${sizes[n][0]} × ${sizes[n][1]}`.padStart(27)}   ${pct(r.summary[n].oracle).padStart(6)}   ${pct(r.summary[n].labelFree).padStart(10)}`);
  }
  const curve = (name: string, pts: { k: number; oracle: number; labelFree: number }[]) =>
    `${name.padEnd(30)} ${pts.map((p) => `${p.k}:${(p.oracle * 100).toFixed(0)}/${(p.labelFree * 100).toFixed(0)}`).join(' ')}`;
  lines.push('', 'curves (k: oracle% / label-free%)',
    curve('perturbations, baseline ckpt', r.curves.relabelings), curve('perturbations, all ckpts', r.curves.relabelingsAllCheckpoints),
    curve('checkpoints (last k), identity', r.curves.checkpoints), curve('checkpoints (last k), all pert.', r.curves.checkpointsAllRelabelings));
  const C = r.checkpoints;
  lines.push('', 'checkpoint alone (all perturbations): oracle solved; Jaccard with the next checkpoint');
  for (let c = 0; c < C; c++) {
    let solved = 0;
    for (let i = 0; i < r.puzzles; i++) solved += r.checkpointSolved.oracle[c * r.puzzles + i];
    const j = c + 1 < C ? r.jaccard.oracle[c * C + c + 1].toFixed(2) : '';
    lines.push(`  ${r.checkpointNames[c].padEnd(30)} ${pct(solved / Math.max(1, r.puzzles)).padStart(6)}  ${j}`);
  }
  if (r.bands) {
    lines.push('', 'by rating band (baseline → both, oracle)');
    for (const b of r.bands) if (b.count > 0) lines.push(`  [${b.lo}, ${b.hi}) ${String(b.count).padStart(5)} puzzles  ${pct(b.summary.baseline.oracle)} → ${pct(b.summary.both.oracle)}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runEnsemble(flags: EnsembleFlags): Promise<void> {
  const sources = flags.checkpoints ? flags.checkpoints.split(',').map((s) => s.trim()).filter(Boolean) : flags.run ? [flags.run] : [];
  if (sources.length === 0) throw new Error('give --run DIR or --checkpoints A,B,…');
  if (sources.length > LIMITS.sources.max) throw new RangeError(`--checkpoints lists ${sources.length} files or folders, at most ${LIMITS.sources.max} are allowed`);
  if (!PERTURBATION_KINDS.includes(flags.perturb as PerturbationKind)) throw new Error(`--perturb must be one of ${PERTURBATION_KINDS.join(', ')}`);
  const kind = flags.perturb as PerturbationKind;
  const last = intOption(flags.last, 'last', LIMITS.checkpoints);
  const { seed } = puzzleSourceOptions(flags);
  const perturbationCount = intOption(flags.count, 'count', LIMITS.perturbations);
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  const maxRows = intOption(flags.maxRows, 'max-rows', LIMITS.batch);
  const files = await resolveCheckpoints(sources, last);
  const run = async (gridSize: () => Promise<GridSize>, passes: typeof buildPassMatrix): Promise<{ report: EnsembleReport; source: string; seconds: number }> => {
    const n = await gridSize();
    const count = perturbationCount ?? (kind === 'shifts' ? n : 9);
    const perturbations = perturbationSet(kind, n, count, seed);
    const { puzzles, source } = await loadPuzzleSource(flags, n);
    const t0 = performance.now();
    const progress = new Progress({ label: 'ensemble', unit: 'puzzles', total: puzzles.length * files.length });
    const matrix = await passes(files, puzzles, perturbations, {
      segments, maxRows,
      onProgress: (p) => progress.update(p.checkpoint * p.total + p.done),
    });
    progress.done();
    return { report: buildEnsembleReport(matrix), source, seconds: (performance.now() - t0) / 1000 };
  };
  const { report, source, seconds } = flags.backend === TORCH_BACKEND
    ? await (await import('./torch-run')).withTorchWorker(flags, async (worker) => {
      const { checkpointGridSize, buildPassMatrixTorch } = await import('../torch/analyses-torch');
      return run(() => checkpointGridSize(files[0], worker), (f, p, q, o) => buildPassMatrixTorch(f, p, q, o ?? {}, worker));
    })
    : await (async () => {
      await backendFromFlags(flags);
      return run(async () => {
        const { model } = await loadModel(files[0]);
        const n = model.config.gridSize as GridSize;
        model.dispose();
        return n;
      }, buildPassMatrix);
    })();
  if (flags.out) writeFileSync(flags.out, `${reportToJson(report)}\n`);
  if (flags.csv) {
    mkdirSync(flags.csv, { recursive: true });
    const csvs: Record<string, string> = {
      'summary.csv': summaryCsv(report), 'curves.csv': curvesCsv(report), 'passes.csv': passesCsv(report), 'solved.csv': solvedCsv(report),
      'jaccard-oracle.csv': jaccardCsv(report, 'oracle'), 'jaccard-label-free.csv': jaccardCsv(report, 'labelFree'), 'bands.csv': bandsCsv(report),
    };
    for (const [name, text] of Object.entries(csvs)) writeFileSync(path.join(flags.csv, name), text);
  }
  process.stdout.write(flags.json ? `${reportToJson(report)}\n` : formatEnsembleReport(report, `ensemble on ${source}`, seconds));
}
