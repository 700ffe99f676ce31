/**
 * Kicks over a dataset (docs/analyses.md §Kicks over a dataset): every puzzle's end state on each checkpoint is kicked
 * as `hrm-lens kick` kicks one (engine/intervene/kick.ts, batched over puzzles; the same random directions for every
 * puzzle and checkpoint), and the basin radii are summarised per checkpoint, apart for the answers that are correct
 * and for those that are wrong:
 * - radius: how many puzzles have each radius of the ε sweep (and how many lie below its smallest ε); the median;
 * - returned: per ε, the mean share of kicks that came back, with a 95% normal interval over the puzzles
 *   (mean ± 1.96 · sd / √N);
 * - toExact: per ε, the mean share of kicks that ended at the solution (for wrong answers: kicks that rescue).
 * With two checkpoints, the puzzles both answer correctly are paired and their radii compared as ranks of the sweep
 * (below the smallest ε ranks lowest): wider / narrower / the same, and the two-sided exact sign test
 * (engine/paper/stats.ts) — "does the second checkpoint's correct answer sit in a wider basin?"
 */
import type { Grid } from '../sudoku/geometry';
import { type Steps } from '../util/steps';
import { Z95, proportion, signTest } from '../paper/stats';
import type { BasinClass, KickDataCheckpoint, KickDataComparison, KickDataResult, KickDataRow, KickResult } from './intervene-protocol';
import { type KickOptions, kickManySteps, kickSettings } from './kick';
import type { RecurrentMap } from './recurrent-map';

export interface KickDataItem {
  puzzle: Grid;
  solution?: Grid;
  /** Where the puzzle came from ("line 12", "gen 3"). */
  id: string;
}

export interface KickDataModel {
  map: RecurrentMap;
  /** Names the checkpoint in the report (its file name). */
  label: string;
  /** The checkpoint's path, as reported. */
  checkpoint: string;
}

export type KickDataOptions = Omit<KickOptions, 'solution' | 'label' | 'onProgress'> & {
  /** What the puzzles are, for the report ("heldout.csv", "20 generated 6×6 puzzles (seed 3)"). */
  source?: string;
  onProgress?: (done: number, total: number) => void;
};

/** The ε sweep rank of a radius: −1 below the smallest ε, else its index in the ascending sweep. */
function rank(epsilons: readonly number[], radius: number | null): number {
  return radius === null ? -1 : epsilons.indexOf(radius);
}

/** The summary of one class of answers (the kick results of its puzzles). */
export function basinClass(epsilons: readonly number[], results: readonly KickResult[]): BasinClass {
  const N = results.length;
  const radius = [...epsilons.map((epsilon) => ({ epsilon: epsilon as number | null, count: 0 })), { epsilon: null as number | null, count: 0 }];
  for (const r of results) {
    const k = rank(epsilons, r.basinRadius);
    radius[k < 0 ? epsilons.length : k].count++;
  }
  let medianRadius: number | null = null;
  if (N > 0) {
    // The lower median of the ranks (a radius the sweep holds, never an average of two).
    const ranks = results.map((r) => rank(epsilons, r.basinRadius)).sort((a, b) => a - b);
    const m = ranks[Math.floor((N - 1) / 2)];
    medianRadius = m < 0 ? null : epsilons[m];
  }
  const share = (r: KickResult, e: number, pick: 'back' | 'exact'): number => {
    const p = r.curve[e];
    const all = p.random.total + p.principal.total;
    if (pick === 'back') return (p.random.returned + p.principal.returned) / all;
    const back = r.reference.exact === true ? p.random.returned + p.principal.returned : 0;
    return (back + p.escapes.filter((x) => x.exact === true).reduce((a, x) => a + x.count, 0)) / all;
  };
  const returned = epsilons.map((epsilon, e) => {
    if (N === 0) return { epsilon, mean: null, lo: null, hi: null };
    const xs = results.map((r) => share(r, e, 'back'));
    const mean = xs.reduce((a, b) => a + b, 0) / N;
    const sd = N > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (N - 1)) : 0;
    const half = N > 1 ? Z95 * sd / Math.sqrt(N) : 0;
    return { epsilon, mean, lo: Math.max(0, mean - half), hi: Math.min(1, mean + half) };
  });
  const toExact = epsilons.map((epsilon, e) => ({ epsilon, mean: N === 0 ? null : results.reduce((a, r) => a + share(r, e, 'exact'), 0) / N }));
  return { puzzles: N, radius, medianRadius, returned, toExact };
}

/** The paired comparison of two checkpoints' radii on the puzzles both answer correctly. */
export function compareBasins(epsilons: readonly number[], a: readonly KickResult[], b: readonly KickResult[]): KickDataComparison {
  let wider = 0;
  let narrower = 0;
  let same = 0;
  a.forEach((ra, i) => {
    const rb = b[i];
    if (!ra.outcome.exact || !rb.outcome.exact) return;
    const d = rank(epsilons, rb.basinRadius) - rank(epsilons, ra.basinRadius);
    if (d > 0) wider++;
    else if (d < 0) narrower++;
    else same++;
  });
  return { paired: wider + narrower + same, wider, narrower, same, signTestP: signTest(wider, narrower) };
}

/** Kicks over a dataset as a step generator: one `yield` after every segment of every batch. */
export function* kickDataSteps(models: readonly KickDataModel[], items: readonly KickDataItem[], opts: KickDataOptions = {}): Steps<KickDataResult> {
  const t0 = performance.now();
  if (models.length < 1 || models.length > 2) throw new RangeError(`kick: give one checkpoint, or two to compare; got ${models.length}`);
  if (items.length === 0) throw new RangeError('kick: no puzzles to kick');
  const n = models[0].map.n;
  for (const m of models) if (m.map.n !== n) throw new RangeError(`kick: ${m.label} is a ${m.map.n}×${m.map.n} model, ${models[0].label} a ${n}×${n} one: compare models of one grid size`);
  const settings = models.map((m) => kickSettings(m.map, opts));
  const { epsilons, directions, pcs, part } = settings[0];
  const perModel: KickResult[][] = [];
  let base = 0;
  const totals: number[] = [];
  for (const [i, m] of models.entries()) {
    const res = yield* kickManySteps(m.map, items, {
      ...opts, label: m.label,
      onProgress: (done, total) => {
        totals[i] = total;
        // Each checkpoint's share of the work is its own total; the later ones are estimated as the first's.
        const all = (totals[0] ?? total) * models.length;
        opts.onProgress?.(Math.min(all, base + done), all);
      },
    });
    base += totals[i] ?? 0;
    perModel.push(res);
  }
  const checkpoints: KickDataCheckpoint[] = models.map((m, i) => {
    const res = perModel[i];
    const correct = res.filter((r) => r.outcome.exact === true);
    const wrong = res.filter((r) => r.outcome.exact !== true);
    return {
      label: m.label, checkpoint: m.checkpoint, exact: proportion(correct.length, res.length),
      correct: basinClass(epsilons, correct), wrong: basinClass(epsilons, wrong),
    };
  });
  const rows: KickDataRow[] = items.map((it, j) => ({
    id: it.id, exact: perModel.map((res) => res[j].outcome.exact === true), radius: perModel.map((res) => res[j].basinRadius),
  }));
  const result: KickDataResult = {
    source: opts.source ?? `${items.length} puzzles`, puzzles: items.length, epsilons: [...epsilons],
    kicksPerEpsilon: directions + 2 * pcs, basinLevel: perModel[0][0].basinLevel,
    checkpoints, comparison: models.length === 2 ? compareBasins(epsilons, perModel[0], perModel[1]) : null,
    rows, seconds: (performance.now() - t0) / 1000, text: '',
  };
  result.text = formatKickData(result, { segments: settings[0].S, runOn: settings[0].runOn, part });
  return result;
}

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(1)} %`);
const radiusText = (r: number | null, empty: boolean): string => (empty ? '–' : r === null ? '< smallest ε' : `ε = ${r}`);

/** The report `hrm-lens kick --data` prints. */
export function formatKickData(r: KickDataResult, o: { segments: number; runOn: number; part: 'zH' | 'zL' | 'both' }): string {
  const partName = o.part === 'both' ? 'z_H and z_L' : o.part === 'zH' ? 'z_H' : 'z_L';
  const lines = [
    `kick over ${r.source}: ${r.puzzles} puzzles, ${partName} after segment ${o.segments}, run on ${o.runOn} segments, `
      + `${r.kicksPerEpsilon} kicks per ε per puzzle, basin level ${Math.round(r.basinLevel * 100)} %, ${r.seconds.toFixed(1)} s`,
  ];
  for (const c of r.checkpoints) {
    lines.push('', `${c.label}: exact ${c.exact.k}/${c.exact.n} (${pct(c.exact.value)}, 95% ${pct(c.exact.lo)}–${pct(c.exact.hi)})`);
    for (const [name, k] of [['correct', c.correct], ['wrong', c.wrong]] as const) {
      lines.push(`  ${name} answers: ${k.puzzles} puzzles, median basin radius ${radiusText(k.medianRadius, k.puzzles === 0)}`);
      if (k.puzzles === 0) continue;
      lines.push(`  ${'ε'.padStart(8)}  ${'radius'.padStart(6)}  ${'came back (95%)'.padEnd(24)}  ended exact`);
      r.epsilons.forEach((eps, e) => {
        const back = k.returned[e];
        lines.push(`  ${eps.toPrecision(3).padStart(8)}  ${String(k.radius[e].count).padStart(6)}  ${`${pct(back.mean)} (${pct(back.lo)}–${pct(back.hi)})`.padEnd(24)}  ${pct(k.toExact[e].mean)}`);
      });
      lines.push(`  ${'< ε₁'.padStart(8)}  ${String(k.radius[r.epsilons.length].count).padStart(6)}`);
    }
  }
  if (r.comparison) {
    const c = r.comparison;
    const [a, b] = r.checkpoints;
    lines.push('', `paired on the ${c.paired} puzzles both answer correctly: ${b.label}'s basin is wider on ${c.wider}, narrower on ${c.narrower}, `
      + `the same on ${c.same} (sign test p = ${c.signTestP === null ? '–' : c.signTestP.toPrecision(3)}); median radius ${radiusText(a.correct.medianRadius, a.correct.puzzles === 0)} `
      + `(${a.label}) vs ${radiusText(b.correct.medianRadius, b.correct.puzzles === 0)} (${b.label})`);
  }
  return `${lines.join('\n')}\n`;
}
