/**
 * Does the reproduction agree with the paper? One verdict per fact, by rules written here and applied to the report's
 * numbers (never to anything else):
 *   (a)  agrees when the baseline arm's pooled stability rate is below 100% and at least one corruption occurs;
 *        inconclusive when no baseline probe puzzle is ever exact. The mixing arm's effect is stated from the overlap of
 *        the two pooled Wilson intervals (the paper: mixing restores the fixed points).
 *   (b)  agrees when the baseline arm's median suddenness is at least 0.5 (for half the puzzles that improve, one
 *        segment makes at least half of the whole improvement); inconclusive when no puzzle improves.
 *   (c)  agrees when the baseline arm has failures stuck at a wrong fixed point and, when landscapes were sampled, at
 *        least one of them shows a spurious attractor; inconclusive without failures.
 *   guess scaling  agrees when, under the oracle rule, "all three" is the best row and above the baseline, and adding
 *        relabelings and adding checkpoints each do not lower the baseline; the effect of mixing alone is stated from
 *        the interval overlap.
 */
import type { AgreementItem, FactAArm, FactASection, FactBSection, FactCSection, GuessScalingSection, Proportion } from './report-types';
import { overlaps } from './stats';

const pct = (x: number | null): string => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
const ci = (p: Proportion): string => (p.lo === null || p.hi === null ? 'no interval' : `95% CI ${pct(p.lo)}–${pct(p.hi)}`);

function effect(what: string, base: Proportion, mixed: Proportion): string {
  const o = overlaps(base, mixed);
  if (o === null || base.value === null || mixed.value === null) return `The effect of mixing on ${what} cannot be stated (no data in one arm).`;
  if (o) return `Mixing gives ${pct(mixed.value)} against ${pct(base.value)} for ${what}; the intervals overlap, so no clear difference.`;
  return `Mixing ${mixed.value > base.value ? 'raises' : 'lowers'} ${what} from ${pct(base.value)} to ${pct(mixed.value)}; the intervals do not overlap.`;
}

export function agreeFactA(a: FactASection): AgreementItem {
  const rule = 'agrees when the baseline\'s pooled stability rate < 100% and a corruption occurs';
  const base = a.arms.find((x) => x.arm === 'baseline') as FactAArm;
  const mix = a.arms.find((x) => x.arm === 'mixing') as FactAArm;
  const mixing = effect('the stability rate', base.pooled.stable, mix.pooled.stable);
  const few = a.arms.filter((x) => x.fewRuns).map((x) => `${x.arm} (${x.runs} run${x.runs === 1 ? '' : 's'})`);
  const fewText = few.length > 0 ? ` Fewer than 3 training runs in ${few.join(' and ')}: the intervals are over puzzles, not over training seeds.` : '';
  if (base.pooled.everExact === 0) {
    return { fact: 'a', title: 'Fact (a): correct answers are not fixed points', verdict: 'inconclusive', rule, sentence: `No baseline probe puzzle was ever exact, so stability cannot be measured.${fewText}` };
  }
  const s = base.pooled.stable;
  const agrees = (s.value ?? 1) < 1 && base.pooled.corruptionEvents > 0;
  const sentence = agrees
    ? `Agrees: a correct answer is not always kept: the baseline keeps ${pct(s.value)} of the easy puzzles it solves exact to the last segment (${ci(s)}) and corrupts a correct answer ${base.pooled.corruptionEvents} time(s). ${mixing}${fewText}`
    : `Differs: the baseline keeps ${pct(s.value)} of the easy puzzles it solves exact to the last segment (${ci(s)}) with ${base.pooled.corruptionEvents} corruption(s). ${mixing}${fewText}`;
  return { fact: 'a', title: 'Fact (a): correct answers are not fixed points', verdict: agrees ? 'agrees' : 'differs', rule, sentence };
}

export function agreeFactB(b: FactBSection): AgreementItem {
  const rule = 'agrees when the baseline\'s median suddenness ≥ 0.5';
  const title = 'Fact (b): the answer changes suddenly at a critical segment';
  const base = b.arms.find((x) => x.arm === 'baseline');
  if (!base || base.included === 0 || base.suddenness.median === null) {
    return { fact: 'b', title, verdict: 'inconclusive', rule, sentence: 'No baseline puzzle improved over the segments, so there is no critical segment to measure.' };
  }
  const med = base.suddenness.median;
  const top = [...base.criticalHistogram].sort((x, y) => y.count - x.count || x.segment - y.segment)[0];
  const agrees = med >= 0.5;
  const what = `the median share of the whole improvement made by one segment is ${med.toFixed(2)} (quartiles ${(base.suddenness.q1 ?? 0).toFixed(2)}–${(base.suddenness.q3 ?? 0).toFixed(2)}, ${base.included} puzzles; ${base.excludedNoFall} without any fall excluded)`;
  const where = top && top.count > 0 ? `; the most common critical segment is ${top.segment}` : '';
  return { fact: 'b', title, verdict: agrees ? 'agrees' : 'differs', rule, sentence: `${agrees ? 'Agrees' : 'Differs'}: ${what}${where}.` };
}

export function agreeFactC(c: FactCSection): AgreementItem {
  const rule = 'agrees when baseline failures sit at a wrong fixed point and a sampled landscape shows a spurious attractor';
  const title = 'Fact (c): several fixed points, and the model falls into a wrong one';
  const base = c.arms.find((x) => x.arm === 'baseline');
  if (!base || base.failures === 0) return { fact: 'c', title, verdict: 'inconclusive', rule, sentence: 'The baseline solves every held-out puzzle: there is no failure to examine.' };
  const l = base.landscape;
  const withSpurious = l.puzzles.filter((p) => p.spurious > 0).length;
  const landscapeOk = l.sampled === 0 || withSpurious > 0;
  const agrees = base.stuck.k > 0 && landscapeOk;
  const stuck = `${base.stuck.k} of ${base.failures} baseline failures (${pct(base.stuck.value)}) keep the same wrong grid over the last ${c.window} segments, ${base.moving} are still moving`;
  const land = l.sampled > 0
    ? `; landscapes of ${l.sampled} failing puzzles show ${withSpurious} with a spurious attractor (mean ${(l.spurious.mean ?? 0).toFixed(1)} distinct spurious fixed points per puzzle)`
    : '; no landscape was sampled';
  return { fact: 'c', title, verdict: agrees ? 'agrees' : 'differs', rule, sentence: `${agrees ? 'Agrees' : 'Differs'}: ${stuck}${land}.` };
}

export function agreeGuessScaling(g: GuessScalingSection): AgreementItem {
  const rule = 'agrees when, under the oracle rule, all three is the best row and above the baseline, and + relabelings and + checkpoints each ≥ the baseline';
  const title = 'Guess scaling: more (and better) guesses raise accuracy';
  const row = (k: string) => g.rows.find((r) => r.config === k);
  const base = row('baseline');
  const all = row('allThree');
  const rel = row('relabelings');
  const ck = row('checkpoints');
  const mix = row('mixing');
  if (!base || !all || !rel || !ck || !mix || base.oracle.value === null || all.oracle.value === null) {
    return { fact: 'guessScaling', title, verdict: 'inconclusive', rule, sentence: 'No held-out puzzle was evaluated.' };
  }
  const best = Math.max(...g.rows.map((r) => r.oracle.value ?? 0));
  const agrees = all.oracle.value >= best && all.oracle.value > base.oracle.value
    && (rel.oracle.value ?? 0) >= base.oracle.value && (ck.oracle.value ?? 0) >= base.oracle.value;
  const nums = `baseline ${pct(base.oracle.value)} (paper 54.5%), + relabelings ${pct(rel.oracle.value)} (73.2%), + checkpoints ${pct(ck.oracle.value)} (64.7%), all three ${pct(all.oracle.value)} (96.9%)`;
  return { fact: 'guessScaling', title, verdict: agrees ? 'agrees' : 'differs', rule, sentence: `${agrees ? 'Agrees' : 'Differs'}: ${nums}. ${effect('single-checkpoint accuracy', base.oracle, mix.oracle)}` };
}
