/**
 * The guess-scaling table of the paper (its ablation: more, and better, guesses) on the two arms, from the ensemble
 * report of each arm's first run (engine/ensemble/report.ts: the pass matrix over its last C checkpoints × P
 * relabelings of the held-out puzzles, S segments):
 *   baseline                    baseline run, newest checkpoint, identity            (the paper: 54.5%)
 *   + relabelings               baseline run, newest checkpoint, all P relabelings   (73.2%)
 *   + checkpoints               baseline run, last C checkpoints, identity           (64.7%, "model bootstrapping")
 *   + relabelings + checkpoints baseline run, C × P                                  (no such row)
 *   + mixing                    mixing run, newest checkpoint, identity              (59.9%)
 *   + mixing + checkpoints      mixing run, C checkpoints                            (82.9%)
 *   + mixing + relabelings      mixing run, P relabelings                            (no such row)
 *   all three                   mixing run, C × P                                    (96.9%, "Augmented HRM")
 * Each under the oracle rule (a checkpoint solves a puzzle when a strict majority of its halted passes is exact; any
 * checkpoint suffices: the paper's evaluation) and the label-free plurality vote (engine/ensemble/votes.ts), with
 * Wilson intervals. Curves: accuracy against the number of relabelings (the first k) and of checkpoints (the last k).
 * Per puzzle the raw passes (distinct answers with their E, each pass's answer, halt flag and q_halt) go into the
 * report, enough to recompute every vote.
 */
import { type EnsembleReport, type PassMatrix } from '../ensemble/report';
import type { EnsembleConfig } from '../ensemble/report-types';
import { gridToString } from '../sudoku/geometry';
import type { EnsemblePuzzleRaw, GuessArmRaw, GuessConfig, GuessCurve, GuessRow, PaperArm } from './report-types';
import { finite, proportion } from './stats';

export const GUESS_DEFINITIONS = [
  'A pass: one checkpoint on one relabeled copy of a puzzle, S segments, the answer mapped back; halted = q_halt > q_continue at the last segment.',
  'Oracle rule (the paper\'s evaluation): a checkpoint solves a puzzle when 2·#(halted and exact) > #halted over its passes; a set of checkpoints when any of them does.',
  'Label-free rule: the most frequent answer among the halted passes of all selected checkpoints (all passes when none halted); ties go to the lower E, then the higher q_halt, then the smaller answer string.',
];

interface RowSpec {
  config: GuessConfig;
  label: string;
  arm: PaperArm;
  ensemble: EnsembleConfig;
  paper: number | null;
  paperNote: string | null;
}

export const GUESS_ROWS: readonly RowSpec[] = [
  { config: 'baseline', label: 'baseline', arm: 'baseline', ensemble: 'baseline', paper: 54.5, paperNote: '55.0 in the revised version' },
  { config: 'relabelings', label: '+ relabelings', arm: 'baseline', ensemble: 'relabeling', paper: 73.2, paperNote: null },
  { config: 'checkpoints', label: '+ checkpoints', arm: 'baseline', ensemble: 'checkpoints', paper: 64.7, paperNote: 'model bootstrapping; possibly 64.2 in the revised version' },
  { config: 'relabelingsCheckpoints', label: '+ relabelings + checkpoints', arm: 'baseline', ensemble: 'both', paper: null, paperNote: null },
  { config: 'mixing', label: '+ mixing', arm: 'mixing', ensemble: 'baseline', paper: 59.9, paperNote: null },
  { config: 'mixingCheckpoints', label: '+ mixing + checkpoints', arm: 'mixing', ensemble: 'checkpoints', paper: 82.9, paperNote: null },
  { config: 'mixingRelabelings', label: '+ mixing + relabelings', arm: 'mixing', ensemble: 'relabeling', paper: null, paperNote: null },
  { config: 'allThree', label: 'all three', arm: 'mixing', ensemble: 'both', paper: 96.9, paperNote: 'Augmented HRM: mixing + relabelings + checkpoints' },
];

function count(bits: Uint8Array): number {
  let s = 0;
  for (const b of bits) s += b;
  return s;
}

export function guessRows(reports: Record<PaperArm, EnsembleReport>): GuessRow[] {
  return GUESS_ROWS.map((s) => {
    const r = reports[s.arm];
    const solved = r.solved[s.ensemble];
    const many = s.ensemble === 'checkpoints' || s.ensemble === 'both';
    const relabeled = s.ensemble === 'relabeling' || s.ensemble === 'both';
    return {
      config: s.config, label: s.label, arm: s.arm, ensemble: s.ensemble,
      checkpoints: many ? r.checkpoints : 1, relabelings: relabeled ? r.perturbations : 1,
      oracle: proportion(count(solved.oracle), r.puzzles), labelFree: proportion(count(solved.labelFree), r.puzzles),
      paper: s.paper, paperNote: s.paperNote,
    };
  });
}

export function guessCurves(arm: PaperArm, r: EnsembleReport): GuessCurve[] {
  return (Object.keys(r.curves) as (keyof EnsembleReport['curves'])[]).map((curve) => ({
    arm, curve, points: r.curves[curve].map((p) => ({ k: p.k, oracle: finite(p.oracle), labelFree: finite(p.labelFree) })),
  }));
}

/** Every pass of the matrix, compactly: distinct answers per puzzle, and per pass its answer, halt flag and q_halt. */
export function guessRaw(arm: PaperArm, run: string, m: PassMatrix, r: EnsembleReport, recompute: string): GuessArmRaw {
  const puzzles: EnsemblePuzzleRaw[] = m.passes.map((byC, i) => {
    const answers: string[] = [];
    const energies: number[] = [];
    const index = new Map<string, number>();
    const pass: number[] = [];
    let halted = '';
    const qHalt: number[] = [];
    for (const byP of byC) {
      for (const p of byP) {
        const key = gridToString(p.answer, '0');
        let a = index.get(key);
        if (a === undefined) { a = answers.length; index.set(key, a); answers.push(key); energies.push(p.energy); }
        pass.push(a);
        halted += p.halted ? '1' : '0';
        qHalt.push(p.qHalt);
      }
    }
    return { id: r.puzzleIds[i], solution: gridToString(m.solutions[i], '0'), answers, energies, pass, halted, qHalt };
  });
  return { arm, run, checkpointNames: r.checkpointNames, perturbationNames: r.perturbationNames, puzzles, recompute };
}
