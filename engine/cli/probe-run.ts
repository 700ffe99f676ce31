/** The action of `hrm-lens probe` (loaded on demand: it pulls in TF.js). */
import type { GridSize } from '../sudoku/geometry';
import { loadModel } from '../train/load-model';
import { makeProbePuzzles, parseMask, probeSolutions, type ProbeReport, runProbe } from '../analysis/probe';
import { backendFromFlags } from './train-run';
import { loadSolvedGrids, pct, toJson } from './puzzle-source';
import { LIMITS, intOption } from '../util/limits';
import { Progress } from './progress';
import type { TorchCliFlags } from './torch-options';
import { TORCH_BACKEND } from '../rpc/backend-names';

export interface ProbeFlags extends TorchCliFlags {
  checkpoint: string; compare?: string; data?: string; masks: string; count: string; segments?: string; seed: string; batch: string;
  json?: boolean; backend: string; threads?: string;
}

export function formatProbeReport(r: ProbeReport): string {
  const lines: string[] = [];
  lines.push(`probe: ${r.puzzles} puzzles (${r.masks.join(', ')}) on ${r.n}×${r.n} grids, ${r.segments} segments, halting off, ${r.seconds.toFixed(1)} s`);
  const w = Math.max(10, ...r.checkpoints.map((c) => c.checkpoint.length));
  lines.push(`${'mask'.padEnd(10)} ${'checkpoint'.padEnd(w)}  final    stable   ever-exact  corruptions (events/puzzles)  exact by segment`);
  for (const mask of [...r.masks, 'all']) {
    for (const c of r.checkpoints) {
      const g = mask === 'all' ? c.overall : c.groups.find((x) => x.mask === mask);
      if (!g) continue;
      lines.push(`${mask.padEnd(10)} ${c.checkpoint.padEnd(w)}  ${pct(g.finalAccuracy).padStart(6)}  ${pct(g.stabilityRate).padStart(6)}  `
        + `${`${g.everExact}/${g.puzzles}`.padStart(10)}  ${`${g.corruptionEvents}/${g.corruptedPuzzles}`.padStart(28)}  ${g.exactBySegment.map((x) => (x * 100).toFixed(0)).join(' ')}`);
    }
  }
  for (const c of r.checkpoints) {
    const ex = c.overall.corruptedExample;
    if (!ex) continue;
    lines.push(`\n${c.checkpoint}: corrupted example ${ex.id} (corrupted at segment ${ex.corruptions.join(', ')})`);
    lines.push(`  puzzle   ${ex.puzzle}\n  solution ${ex.solution}`);
    ex.grids.forEach((g, k) => lines.push(`  seg ${String(k + 1).padStart(2)}   ${g}${g === ex.solution ? '  ✓' : ''}`));
  }
  return `${lines.join('\n')}\n`;
}

export async function runProbeCommand(flags: ProbeFlags): Promise<void> {
  const masks = flags.masks.split(',').filter((s) => s.trim()).map(parseMask);
  if (masks.length > LIMITS.masks.max) throw new RangeError(`--masks lists ${masks.length} masks, at most ${LIMITS.masks.max} are allowed`);
  const count = intOption(flags.count, 'count', LIMITS.puzzles) ?? 100;
  const seed = intOption(flags.seed, 'seed', LIMITS.seed) ?? 0;
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  const batch = intOption(flags.batch, 'batch', LIMITS.batch);
  const files = [flags.checkpoint, ...(flags.compare ? [flags.compare] : [])];
  if (flags.backend === TORCH_BACKEND) {
    const report = await (await import('./torch-run')).withTorchWorker(flags, async (worker) => {
      const { checkpointGridSize, runProbeTorch } = await import('../torch/analyses-torch');
      const n = await checkpointGridSize(files[0], worker);
      const solutions = flags.data ? await loadSolvedGrids(flags.data, n, count) : probeSolutions(n, count, seed);
      const puzzles = makeProbePuzzles(solutions, n, masks, seed);
      const progress = new Progress({ label: 'probe', unit: 'puzzles', total: puzzles.length * files.length });
      let finished = 0;
      const r = await runProbeTorch(files, puzzles, { segments, batch, onProgress: (done) => progress.update(finished + done) }, worker, () => { finished += puzzles.length; });
      progress.done();
      return r;
    });
    process.stdout.write(flags.json ? `${toJson(report)}\n` : formatProbeReport(report));
    return;
  }
  await backendFromFlags(flags);
  // The grid size comes from the first checkpoint; every model is opened only while it runs.
  const first = await loadModel(files[0]);
  const n = first.model.config.gridSize as GridSize;
  first.model.dispose();
  const solutions = flags.data ? await loadSolvedGrids(flags.data, n, count) : probeSolutions(n, count, seed);
  const puzzles = makeProbePuzzles(solutions, n, masks, seed);
  const progress = new Progress({ label: 'probe', unit: 'puzzles', total: puzzles.length * files.length });
  let finished = 0;
  const report = await runProbe(files.map((f) => ({
    name: f,
    open: async () => (await loadModel(f)).model,
    release: (m) => { m.dispose(); finished += puzzles.length; },
  })), puzzles, {
    segments, batch,
    onProgress: (done) => progress.update(finished + done),
  });
  progress.done();
  process.stdout.write(flags.json ? `${toJson(report)}\n` : formatProbeReport(report));
}
