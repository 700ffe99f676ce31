/**
 * `hrm-lens reproduce`: the paper's experiments on a baseline arm and a data-mixing arm of training runs, written to
 * one report folder:
 *   report.json   the PaperReport (engine/paper/report-types.ts): every number and the raw per-puzzle data behind it
 *   report.md     rendered from report.json alone (markdown.ts)
 *   heldout.csv   the held-out puzzles every recompute command reads (heldout.ts)
 *   figures/      SVG and PNG charts of the report (figure-specs.ts, drawn by engine/paper/figures)
 * Order of work (each phase reports progress; an aborted signal stops at the next segment with an AbortError):
 *   held-out   the puzzles (a file's first N rows, or generated as the first baseline run's training data)
 *   per run    newest checkpoint: the traces of the held-out puzzles (S segments, halting off; their last segment
 *              gives the held-out accuracy `hrm-lens eval` prints: exact, cell accuracy, halted), the easy-puzzle probe
 *              (fact (a)); for the first run of each arm the traces keep the latents, for facts (b) and (c), and the
 *              landscapes of a sample of its failures follow
 *   ensemble   the first run of each arm: its last C checkpoints × P relabelings (the guess-scaling table)
 *   figures, then report.json and report.md (atomic writes).
 * One model is in memory at a time and each is disposed after use, whatever happens; every tensor the analyses make is
 * freed by them, so tf.memory().numTensors is the same before and after a call.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadModel } from '../train/load-model';
import { batchTraceMetricsSteps } from '../analysis/batch-metrics';
import type { TraceMetrics } from '../analysis/segment-metrics';
import { buildPassMatrix } from '../ensemble/checkpoints';
import { perturbationSet } from '../ensemble/perturb';
import { buildEnsembleReport, type EnsembleReport, type PassMatrix } from '../ensemble/report';
import { runStepsAsync, throwIfAborted } from '../util/steps';
import { boundedMessage } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { VERSION } from '../version';
import { DEFAULT_HELD_OUT_SEED, REPRODUCE_DEFAULTS, type ReproduceOptions, validateReproduceOptions } from './options';
import { type RunFolder, readRunFolders } from './runs';
import { checkHeldOutSource, heldOutPuzzles, writeHeldOut } from './heldout';
import { FACT_A_DEFINITIONS, type FactARunResult, factAArm, factAPuzzles, factARun, probeRunMetrics } from './fact-a';
import { FACT_B_DEFINITIONS, factBArm } from './fact-b';
import { FACT_C_DEFINITIONS, factCArm, factCLandscape, factCModes } from './fact-c';
import { GUESS_DEFINITIONS, guessCurves, guessRaw, guessRows } from './guess-scaling';
import { agreeFactA, agreeFactB, agreeFactC, agreeGuessScaling } from './agreement';
import {
  classifyCommand, ensembleCommand, evalCommand, generateCommand, inspectCommand, landscapeCommand, probeCommand, reproduceCommand,
} from './commands';
import { reportMarkdown } from './markdown';
import { figureSpecs } from './figure-specs';
import { writeFigure } from './figures';
import type {
  FactBArm, FactCArm, FigureRef, GuessArmRaw, HeldOutRun, PaperArm, PaperReport, PaperRunInput,
} from './report-types';
import { proportion } from './stats';

export type { ReproduceOptions } from './options';

export interface ReproduceProgress {
  phase: string;
  done: number;
  total: number;
}

const ARMS: readonly PaperArm[] = ['baseline', 'mixing'];

/** `.hrm/reports/paper-<yyyymmddThhmmss>` under `base` (default the working directory). */
export function defaultReportDir(base = '.', now = new Date()): string {
  return path.join(base, '.hrm', 'reports', `paper-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`);
}

/** A run's held-out accuracy from the last segment of its traces (what `hrm-lens eval` prints for the same puzzles). */
function heldOutRun(run: RunFolder, metrics: readonly TraceMetrics[], recompute: string): HeldOutRun {
  const wrong = metrics.map((m) => m.finalWrong ?? m.cells);
  const halted = metrics.map((m) => (m.segments > 0 && m.halt[m.segments - 1] ? 1 : 0));
  const cells = metrics[0]?.cells ?? 0;
  return {
    arm: run.arm, run: run.dir, checkpoint: run.newest, step: run.step,
    exact: proportion(wrong.filter((w) => w === 0).length, wrong.length),
    cell: wrong.length > 0 && cells > 0 ? wrong.reduce((a, w) => a + (cells - w) / cells, 0) / wrong.length : 0,
    halted: proportion(halted.reduce((a: number, b) => a + b, 0), halted.length), wrong, haltedFlags: halted.join(''), recompute,
  };
}

export async function runReproduce(
  opts: ReproduceOptions, onProgress?: (p: ReproduceProgress) => void, signal?: AbortSignal,
): Promise<{ dir: string; report: PaperReport }> {
  validateReproduceOptions(opts);
  const t0 = performance.now();
  const progress = (phase: string, done: number, total: number) => onProgress?.({ phase, done, total });
  const check = () => throwIfAborted(signal, 'reproduce');
  const notes: string[] = [];

  const runs = await readRunFolders(opts.baseline, opts.mixing);
  const n = runs.gridSize;
  const firstOf: Record<PaperArm, RunFolder> = { baseline: runs.baseline[0], mixing: runs.mixing[0] };
  checkHeldOutSource(opts.data, firstOf.baseline);
  if (opts.data !== undefined) {
    const st = await fs.stat(opts.data).catch(() => undefined);
    if (!st) throw new Error(`--data: ${opts.data}: no such file or folder`);
  }
  const S = opts.segments ?? firstOf.baseline.spec?.train.evalSegments ?? firstOf.baseline.haltMaxSteps;
  const N = opts.puzzles ?? REPRODUCE_DEFAULTS.puzzles;
  const P = opts.relabelings ?? REPRODUCE_DEFAULTS.relabelings;
  const C = opts.checkpoints ?? REPRODUCE_DEFAULTS.checkpoints;
  const sampleCount = opts.landscapeSample ?? REPRODUCE_DEFAULTS.landscapeSample;
  const landscapeSize = opts.landscapeSize ?? REPRODUCE_DEFAULTS.landscapeSize;
  const K = opts.stuckWindow ?? REPRODUCE_DEFAULTS.stuckWindow;
  const trivialWithin = REPRODUCE_DEFAULTS.trivialWithin;
  const batch = REPRODUCE_DEFAULTS.batch;
  const maxRows = REPRODUCE_DEFAULTS.maxRows;
  const masks = [...REPRODUCE_DEFAULTS.probeMasks];
  const seeds = {
    heldOut: opts.seeds?.heldOut ?? DEFAULT_HELD_OUT_SEED, probe: opts.seeds?.probe ?? REPRODUCE_DEFAULTS.probeSeed, sample: opts.seeds?.sample ?? REPRODUCE_DEFAULTS.sampleSeed,
  };
  const kind: 'shifts' | 'relabel' = P <= n ? 'shifts' : 'relabel';
  const dir = path.resolve(opts.out ?? defaultReportDir());
  const heldOutFile = path.join(dir, 'heldout.csv');
  const command = opts.command ?? reproduceCommand({
    baseline: runs.baseline.map((r) => r.dir), mixing: runs.mixing.map((r) => r.dir), data: opts.data && path.resolve(opts.data),
    puzzles: N, seeds, relabelings: P, checkpoints: C, segments: S, landscapeSample: sampleCount, out: dir,
  });

  for (const r of runs.baseline) if (r.spec?.mixing) notes.push(`${r.dir} is in the baseline arm but was trained with data mixing.`);
  for (const r of runs.mixing) if (r.spec && !r.spec.mixing) notes.push(`${r.dir} is in the mixing arm but was trained without data mixing.`);
  const clueText = (r: RunFolder) => (r.spec ? `${r.spec.train.minClues ?? '-'}…${r.spec.train.maxClues ?? '-'}` : '?');
  for (const r of [...runs.baseline, ...runs.mixing]) {
    if (r.spec && firstOf.baseline.spec && clueText(r) !== clueText(firstOf.baseline)) {
      notes.push(`${r.dir} was trained on puzzles with clues ${clueText(r)}, the held-out set follows ${firstOf.baseline.dir} (${clueText(firstOf.baseline)}).`);
    }
  }
  if (kind === 'relabel') notes.push(`${P} relabelings on ${n}×${n} grids: a cyclic digit shift has only ${n} distinct values, so the relabelings are the identity and ${P - 1} random digit permutations (seed ${seeds.sample}).`);
  for (const arm of ARMS) {
    const have = firstOf[arm].checkpoints.length;
    if (have < C) notes.push(`${firstOf[arm].dir} holds ${have} checkpoint${have === 1 ? '' : 's'}, fewer than the ${C} asked for: its ensemble uses all of them.`);
    if (runs[arm].length > 1) notes.push(`The ${arm} arm has ${runs[arm].length} runs: fact (a) reports each of them and their pool; facts (b) and (c), the landscapes and the ensemble use its first run, ${firstOf[arm].dir}.`);
  }

  check();
  await fs.mkdir(dir, { recursive: true });
  progress('held-out', 0, N);
  const { puzzles: heldOut, data } = await heldOutPuzzles({ data: opts.data === undefined ? undefined : path.resolve(opts.data), puzzles: N, seed: seeds.heldOut, gridSize: n, source: firstOf.baseline }, signal);
  await writeHeldOut(heldOutFile, heldOut, data);
  progress('held-out', heldOut.length, heldOut.length);
  if (heldOut.length < N) notes.push(`${opts.data} has ${heldOut.length} puzzles, fewer than the ${N} asked for.`);
  const H = heldOut.length;

  check();
  const probePuzzles = await factAPuzzles(heldOut, n, masks, seeds.probe, signal);
  const allRuns = [...runs.baseline, ...runs.mixing];
  const heldOutRuns: HeldOutRun[] = [];
  const factARuns: Record<PaperArm, FactARunResult[]> = { baseline: [], mixing: [] };
  const factB: FactBArm[] = [];
  const factC: FactCArm[] = [];
  for (const [ri, run] of allRuns.entries()) {
    check();
    const { model } = await loadModel(run.newest);
    try {
      const first = run === firstOf[run.arm];
      // The first run of an arm keeps the latents of its traces: the modes' drift (fact (c)) needs them.
      const metrics = await runStepsAsync(batchTraceMetricsSteps(model, heldOut.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id })), {
        segments: S, batch, latents: first, signal, onProgress: (d) => progress('traces', ri * H + d, allRuns.length * H),
      }), signal, 'reproduce');
      heldOutRuns.push(heldOutRun(run, metrics, evalCommand(run.newest, heldOutFile, S)));

      const pm = await probeRunMetrics(model, probePuzzles, {
        segments: S, batch, signal, onProgress: (d) => progress('probe', ri * probePuzzles.length + d, allRuns.length * probePuzzles.length),
      });
      factARuns[run.arm].push(factARun(run.arm, run.dir, run.newest, probePuzzles, pm, probeCommand(run.newest, heldOutFile, H, masks, S, seeds.probe)));

      if (first) {
        const inspect = inspectCommand(run.newest, S);
        factB.push(factBArm(run.arm, run.dir, run.newest, heldOut, metrics, REPRODUCE_DEFAULTS.alignWindow, [inspect]));
        const modes = factCModes(heldOut, metrics, K, trivialWithin);
        const landscape = await factCLandscape(model, heldOut, modes.failures, {
          count: sampleCount, seed: seeds.sample, size: landscapeSize, segments: S, signal,
          recompute: (puzzle) => landscapeCommand(run.newest, puzzle, landscapeSize, S),
          onPuzzle: (d, t) => progress('landscape', d, t),
        });
        factC.push(factCArm(run.arm, run.dir, run.newest, modes, landscape, [classifyCommand(run.newest, heldOutFile, S, K, trivialWithin)]));
      }
    } finally {
      model.dispose();
    }
  }

  const perturbations = perturbationSet(kind, n, P, seeds.sample);
  const ensembleFiles: Record<PaperArm, string[]> = {
    baseline: firstOf.baseline.checkpoints.slice(-C), mixing: firstOf.mixing.checkpoints.slice(-C),
  };
  const ensembleTotal = ARMS.reduce((a, arm) => a + ensembleFiles[arm].length * H, 0);
  let ensembleBefore = 0;
  const reports = {} as Record<PaperArm, EnsembleReport>;
  const raws: GuessArmRaw[] = [];
  const ensembleRecompute: string[] = [];
  for (const arm of ARMS) {
    check();
    const files = ensembleFiles[arm];
    const matrix: PassMatrix = await buildPassMatrix(files, heldOut.map((p) => ({ puzzle: p.puzzle, solution: p.solution, id: p.id, rating: p.rating })), perturbations, {
      segments: S, maxRows, signal, onProgress: (p) => progress('ensemble', ensembleBefore + p.checkpoint * H + p.done, ensembleTotal),
    });
    ensembleBefore += files.length * H;
    reports[arm] = buildEnsembleReport(matrix);
    const cmd = ensembleCommand(firstOf[arm].dir, files.length, heldOutFile, kind, P, seeds.sample, S);
    ensembleRecompute.push(cmd);
    raws.push(guessRaw(arm, firstOf[arm].dir, matrix, reports[arm], cmd));
  }

  const runInput = (r: RunFolder): PaperRunInput => ({
    arm: r.arm, dir: r.dir, preset: r.spec?.preset ?? null, seed: r.spec?.seed ?? null, mixing: r.spec ? r.spec.mixing : null,
    mixingMode: r.spec?.mixingMode ?? null, checkpoint: r.newest, step: r.step, checkpointsAvailable: r.checkpoints.length,
    ensembleCheckpoints: r === firstOf[r.arm] ? ensembleFiles[r.arm] : [],
  });
  const factAArms = ARMS.map((arm) => factAArm(arm, factARuns[arm]));
  const factANotes = factAArms.filter((x) => x.fewRuns).map((x) => `The ${x.arm} arm has ${x.runs} run${x.runs === 1 ? '' : 's'} (fewer than 3 training seeds): its intervals are over puzzles only.`);
  const report: PaperReport = {
    format: 'hrm-lens-paper-report', version: 1, created: new Date().toISOString(), engineVersion: VERSION, command,
    inputs: {
      runs: { baseline: runs.baseline.map(runInput), mixing: runs.mixing.map(runInput) }, gridSize: n, data, heldOutFile, puzzles: H, seeds,
      options: {
        relabelings: P, perturbation: kind, checkpoints: C, segments: S, landscapeSample: sampleCount, landscapeSize, stuckWindow: K, trivialWithin,
        alignWindow: REPRODUCE_DEFAULTS.alignWindow, probeMasks: masks, batch, maxRows,
      },
    },
    heldOut: {
      puzzles: H, segments: S, cells: n * n, runs: heldOutRuns,
      recompute: [
        ...(data.kind === 'generated' ? [generateCommand({ size: n, count: H, seed: data.seed, minClues: data.minClues, maxClues: data.maxClues, out: heldOutFile })] : []),
        ...heldOutRuns.map((x) => x.recompute),
      ],
    },
    factA: {
      definitions: FACT_A_DEFINITIONS, masks, solvedGrids: H, segments: S, runs: ARMS.flatMap((arm) => factARuns[arm].map((x) => x.run)), arms: factAArms,
      notes: factANotes, recompute: ARMS.flatMap((arm) => factARuns[arm].map((x) => x.run.recompute)),
    },
    factB: { definitions: FACT_B_DEFINITIONS, segments: S, arms: factB, recompute: [...factB.flatMap((x) => x.recompute), command] },
    factC: { definitions: FACT_C_DEFINITIONS, window: K, arms: factC, recompute: factC.flatMap((x) => x.recompute) },
    guessScaling: {
      definitions: GUESS_DEFINITIONS, perturbation: { kind, count: P, seed: seeds.sample }, rows: guessRows(reports),
      curves: ARMS.flatMap((arm) => guessCurves(arm, reports[arm])), raw: raws,
      notes: [
        `The ensembles use the first run of each arm (${firstOf.baseline.dir}; ${firstOf.mixing.dir}): the newest checkpoint alone, and its last ${C} checkpoints.`,
        'The paper\'s numbers are Sudoku-Extreme (9×9, 27M parameters) under the oracle rule; these are your runs on your held-out puzzles: compare the direction and the size of the gains, not the values.',
      ],
      recompute: ensembleRecompute,
    },
    agreement: { items: [], recompute: [command] },
    figures: [],
    notes,
    seconds: 0,
  };
  report.agreement.items = [agreeFactA(report.factA), agreeFactB(report.factB), agreeFactC(report.factC), agreeGuessScaling(report.guessScaling)];

  check();
  const specs = figureSpecs(report);
  const figures: FigureRef[] = [];
  for (const [j, f] of specs.entries()) {
    check();
    try {
      await writeFigure(path.join(dir, 'figures'), f.name, f.spec);
      figures.push({ name: f.name, title: f.title, section: f.section, png: `figures/${f.name}.png`, svg: `figures/${f.name}.svg` });
    } catch (err) {
      notes.push(`Figure ${f.name} was not drawn: ${boundedMessage(err, 300)}`);
    }
    progress('figures', j + 1, specs.length);
  }
  report.figures = figures;
  report.seconds = (performance.now() - t0) / 1000;
  check();
  await writeFileAtomic(path.join(dir, 'report.json'), `${JSON.stringify(report)}\n`);
  await writeFileAtomic(path.join(dir, 'report.md'), reportMarkdown(report));
  progress('write', 1, 1);
  return { dir, report };
}
