/**
 * The report's figures as chart specs (engine/paper/figures draws them): a pure function of the PaperReport, so a
 * figure shows exactly the numbers report.json holds. Rates are drawn in percent; a value that does not exist is NaN
 * (not drawn). Colours: the baseline arm blue, the mixing arm vermilion; oracle solid, label-free dashed.
 */
import type { BarChart, ChartSpec, LineChart, Series } from './figures';
import type { GuessCurve, PaperArm, PaperReport, PaperSection, Proportion, Quartiles } from './report-types';
import { MODE_ORDER } from './markdown';

export const ARM_COLOR: Record<PaperArm, string> = { baseline: '#0072B2', mixing: '#D55E00' };
const ARMS: readonly PaperArm[] = ['baseline', 'mixing'];
/** Per-puzzle loss curves drawn in the fact (b) figure (the first ones of the baseline arm). */
export const LOSS_CURVES_SHOWN = 40;

export interface FigureSpec {
  name: string;
  title: string;
  section: PaperSection;
  spec: ChartSpec;
}

const per = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x * 100);
const val = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : x);

function propBars(label: string, color: string, ps: readonly Proportion[]): BarChart['groups'][number] {
  return { label, color, values: ps.map((p) => per(p.value)), lo: ps.map((p) => per(p.lo)), hi: ps.map((p) => per(p.hi)) };
}

function quartSeries(label: string, color: string, x: number[], qs: readonly Quartiles[]): Series {
  return { label, color, x, y: qs.map((q) => val(q.mean)), band: { lo: qs.map((q) => val(q.q1)), hi: qs.map((q) => val(q.q3)) } };
}

function curveSeries(r: PaperReport, name: GuessCurve['curve']): Series[] {
  const out: Series[] = [];
  for (const arm of ARMS) {
    const c = r.guessScaling.curves.find((x) => x.arm === arm && x.curve === name);
    if (!c) continue;
    const x = c.points.map((p) => p.k);
    out.push({ label: `${arm}, oracle`, color: ARM_COLOR[arm], x, y: c.points.map((p) => per(p.oracle)) });
    out.push({ label: `${arm}, label-free`, color: ARM_COLOR[arm], dashed: true, x, y: c.points.map((p) => per(p.labelFree)) });
  }
  return out;
}

export function figureSpecs(r: PaperReport): FigureSpec[] {
  const out: FigureSpec[] = [];
  const add = (name: string, section: PaperSection, spec: ChartSpec) => out.push({ name, title: spec.title, section, spec });
  const a = r.factA;
  const armA = (arm: PaperArm) => a.arms.find((x) => x.arm === arm);

  const exactLine: LineChart = {
    kind: 'line', title: 'Easy puzzles: exact by segment (pooled over runs, 95% Wilson band)', xLabel: 'segment', yLabel: 'exact (%)', yMin: 0, yMax: 100,
    series: ARMS.flatMap((arm) => {
      const p = armA(arm)?.pooled.exactBySegment ?? [];
      return p.length === 0 ? [] : [{
        label: arm, color: ARM_COLOR[arm], x: p.map((_, k) => k + 1), y: p.map((q) => per(q.value)),
        band: { lo: p.map((q) => per(q.lo)), hi: p.map((q) => per(q.hi)) },
      }];
    }),
  };
  add('fact-a-exact-by-segment', 'factA', exactLine);
  add('fact-a-stability', 'factA', {
    kind: 'bar', title: 'Easy puzzles: stability, corruption, final accuracy (pooled, 95% Wilson)', xLabel: '', yLabel: '%', yMin: 0, yMax: 100,
    categories: ['stability rate', 'corrupted puzzles', 'final exact'],
    groups: ARMS.map((arm) => {
      const s = armA(arm)?.pooled;
      return propBars(arm, ARM_COLOR[arm], s ? [s.stable, s.corrupted, s.finalExact] : []);
    }),
  });

  const b = r.factB;
  const armB = (arm: PaperArm) => b.arms.find((x) => x.arm === arm);
  const share = (count: number, total: number) => (total > 0 ? (100 * count) / total : NaN);
  const critSegs = [...new Set(b.arms.flatMap((x) => x.criticalHistogram.map((h) => h.segment)))].sort((p, q) => p - q);
  add('fact-b-critical-segment', 'factB', {
    kind: 'bar', title: 'Critical segment (largest single-segment fall of wrong cells)', xLabel: 'critical segment', yLabel: 'puzzles (% of included)', yMin: 0,
    categories: critSegs.map(String),
    groups: ARMS.map((arm) => ({ label: arm, color: ARM_COLOR[arm], values: critSegs.map((s) => share(armB(arm)?.criticalHistogram.find((h) => h.segment === s)?.count ?? 0, armB(arm)?.included ?? 0)) })),
  });
  const bins = armB('baseline')?.suddennessHistogram ?? [];
  add('fact-b-suddenness', 'factB', {
    kind: 'bar', title: 'Suddenness: share of the whole fall made by the critical segment', xLabel: 'suddenness', yLabel: 'puzzles (% of included)', yMin: 0,
    categories: bins.map((h) => `${h.lo.toFixed(1)}–${h.hi.toFixed(1)}`),
    groups: ARMS.map((arm) => ({ label: arm, color: ARM_COLOR[arm], values: bins.map((_, j) => share(armB(arm)?.suddennessHistogram[j]?.count ?? 0, armB(arm)?.included ?? 0)) })),
  });
  add('fact-b-aligned-wrong', 'factB', {
    kind: 'line', title: 'Wrong cells around the critical segment (mean, quartile band)', xLabel: 'segments from the critical segment', yLabel: 'wrong cells', yMin: 0,
    series: ARMS.flatMap((arm) => {
      const p = armB(arm)?.aligned ?? [];
      return p.length === 0 ? [] : [quartSeries(arm, ARM_COLOR[arm], p.map((x) => x.offset), p.map((x) => x.wrong))];
    }),
  });
  add('fact-b-aligned-loss', 'factB', {
    kind: 'line', title: 'Loss around the critical segment (mean, quartile band)', xLabel: 'segments from the critical segment', yLabel: 'loss (stablemax CE)', yLog: true,
    series: ARMS.flatMap((arm) => {
      const p = armB(arm)?.aligned ?? [];
      return p.length === 0 ? [] : [quartSeries(arm, ARM_COLOR[arm], p.map((x) => x.offset), p.map((x) => x.loss))];
    }),
  });
  const shown = (armB('baseline')?.raw ?? []).slice(0, LOSS_CURVES_SHOWN);
  add('fact-b-loss-curves', 'factB', {
    kind: 'line', title: `Baseline: loss by segment, first ${shown.length} held-out puzzles`, xLabel: 'segment', yLabel: 'loss (stablemax CE)', yLog: true,
    series: shown.map((p) => {
      const solved = p.wrong.length > 0 && p.wrong[p.wrong.length - 1] === 0;
      return { label: solved ? 'solved at the last segment' : 'not solved', color: solved ? '#009E73' : '#CC79A7', thin: true, x: p.loss.map((_, k) => k + 1), y: p.loss };
    }),
  });

  const c = r.factC;
  const armC = (arm: PaperArm) => c.arms.find((x) => x.arm === arm);
  add('fact-c-modes', 'factC', {
    kind: 'bar', title: 'Reasoning modes over the held-out puzzles', xLabel: '', yLabel: 'puzzles (%)', yMin: 0, yMax: 100,
    categories: [...MODE_ORDER],
    groups: ARMS.map((arm) => ({ label: arm, color: ARM_COLOR[arm], values: MODE_ORDER.map((m) => share(armC(arm)?.modes[m] ?? 0, armC(arm)?.puzzles ?? 0)) })),
  });
  add('fact-c-failures', 'factC', {
    kind: 'bar', title: `Failures: stuck at a wrong grid over the last ${c.window} segments, or still moving`, xLabel: '', yLabel: 'failures (%)', yMin: 0, yMax: 100,
    categories: ['stuck', 'settled (drift < τ too)', 'moving'],
    groups: ARMS.map((arm) => {
      const x = armC(arm);
      const f = x?.failures ?? 0;
      return { label: arm, color: ARM_COLOR[arm], values: [share(x?.stuck.k ?? 0, f), share(x?.settled ?? 0, f), share(x?.moving ?? 0, f)] };
    }),
  });

  const g = r.guessScaling;
  add('guess-scaling', 'guessScaling', {
    kind: 'bar', title: 'Guess scaling: exact accuracy on the held-out puzzles', xLabel: '', yLabel: 'exact (%)', yMin: 0, yMax: 100,
    categories: g.rows.map((x) => x.label),
    groups: [
      propBars('oracle', '#0072B2', g.rows.map((x) => x.oracle)),
      propBars('label-free', '#56B4E9', g.rows.map((x) => x.labelFree)),
      { label: 'paper', color: '#888888', values: g.rows.map((x) => (x.paper === null ? NaN : x.paper)) },
    ],
  });
  add('guess-relabelings', 'guessScaling', {
    kind: 'line', title: 'Accuracy against the number of relabelings (newest checkpoint)', xLabel: 'relabelings', yLabel: 'exact (%)', yMin: 0, yMax: 100,
    series: curveSeries(r, 'relabelings'),
  });
  add('guess-checkpoints', 'guessScaling', {
    kind: 'line', title: 'Accuracy against the number of checkpoints (no relabeling)', xLabel: 'checkpoints', yLabel: 'exact (%)', yMin: 0, yMax: 100,
    series: curveSeries(r, 'checkpoints'),
  });
  return out;
}
