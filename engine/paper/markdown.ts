/**
 * report.md of a reproduction: a pure function of the PaperReport (report.json), so that every table cell can be
 * re-derived from the JSON. Each table is preceded by a comment line `<!-- table: <id> -->` naming it; figures are
 * linked as PNG (figures/<name>.png); each section ends with the commands that recompute it.
 *
 * Cell formats (the only ones used):
 *   pct(x)        x·100 with one decimal and '%' ("75.0%"); '—' for null
 *   prop(p)       "k/n · pct(value) [lo–hi]" with lo, hi as x·100 with one decimal ("45/60 · 75.0% [62.8–84.2]");
 *                 '—' when n = 0
 *   spread(s)     "pct(mean) ± (sd·100, one decimal) [lo–hi]" over the runs; '—' without a value
 *   fixed2(x)     two decimals; quartiles as "mean (q1–q3)" with fixed2, or with 3 significant digits for the loss
 *   integers      as they are; τ with 3 significant digits
 * A '|' inside a cell is written '\|'.
 */
import type {
  FactAArm, FigureRef, GuessCurve, PaperArm, PaperReport, PaperSection, ProbeStats, Proportion, Quartiles, SeedSpread,
} from './report-types';

const ARMS: readonly PaperArm[] = ['baseline', 'mixing'];
export const MODE_ORDER = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'] as const;

export const dash = '—';
export const pct = (x: number | null): string => (x === null ? dash : `${(x * 100).toFixed(1)}%`);
const pctNum = (x: number | null): string => (x === null ? dash : (x * 100).toFixed(1));
export const prop = (p: Proportion): string => (p.n === 0 || p.value === null ? dash : `${p.k}/${p.n} · ${pct(p.value)} [${pctNum(p.lo)}–${pctNum(p.hi)}]`);
export const fixed2 = (x: number | null): string => (x === null ? dash : x.toFixed(2));
export const sig3 = (x: number | null): string => (x === null ? dash : x.toPrecision(3));
export const spread = (s: SeedSpread | undefined): string => (!s || s.mean === null ? dash
  : `${pct(s.mean)} ± ${s.sd === null ? dash : (s.sd * 100).toFixed(1)} [${pctNum(s.lo)}–${pctNum(s.hi)}]`);
export const quart = (q: Quartiles, f: (x: number | null) => string): string => (q.n === 0 ? dash : `${f(q.mean)} (${f(q.q1)}–${f(q.q3)})`);

function cell(text: string | number): string {
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(id: string, header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const lines = [`<!-- table: ${id} -->`, `| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

function figures(r: PaperReport, section: PaperSection): string {
  const fs = r.figures.filter((f: FigureRef) => f.section === section);
  return fs.map((f) => `![${f.title}](${f.png})`).join('\n\n');
}

function recompute(commands: readonly string[]): string {
  return ['Recompute:', '', '```sh', ...commands, '```'].join('\n');
}

function base(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

function probeRow(first: readonly (string | number)[], s: ProbeStats): (string | number)[] {
  return [...first, s.puzzles, s.everExact, prop(s.stable), prop(s.corrupted), s.corruptionEvents, prop(s.finalExact)];
}

function curveTable(id: string, r: PaperReport, name: GuessCurve['curve'], kName: string): string {
  const curves = ARMS.map((arm) => r.guessScaling.curves.find((c) => c.arm === arm && c.curve === name));
  const ks = [...new Set(curves.flatMap((c) => c?.points.map((p) => p.k) ?? []))].sort((a, b) => a - b);
  return table(id, [kName, 'baseline oracle', 'baseline label-free', 'mixing oracle', 'mixing label-free'], ks.map((k) => {
    const at = (c: GuessCurve | undefined) => c?.points.find((p) => p.k === k);
    const b = at(curves[0]);
    const m = at(curves[1]);
    return [k, pct(b?.oracle ?? null), pct(b?.labelFree ?? null), pct(m?.oracle ?? null), pct(m?.labelFree ?? null)];
  }));
}

export function reportMarkdown(r: PaperReport): string {
  const out: string[] = [];
  const i = r.inputs;
  const runs = [...i.runs.baseline, ...i.runs.mixing];
  out.push('# Reasoning or guessing? A reproduction on your own runs', '');
  out.push(`Created ${r.created} by HRM Lens ${r.engineVersion} in ${r.seconds.toFixed(0)} s. Everything below is computed from report.json, which also holds every puzzle's raw data.`, '');
  out.push('```sh', r.command, '```', '');
  out.push(table('runs', ['arm', 'run', 'preset', 'seed', 'trained with mixing', 'newest step', 'checkpoints', 'in the ensemble'], runs.map((x) => [
    x.arm, x.dir, x.preset ?? dash, x.seed ?? dash, x.mixing === null ? dash : x.mixing ? `yes${x.mixingMode ? ` (${x.mixingMode})` : ''}` : 'no',
    x.step, x.checkpointsAvailable, x.ensembleCheckpoints.length,
  ])), '');
  const d = i.data;
  out.push(d.kind === 'file'
    ? `Held-out puzzles: the first ${d.puzzles} rows of ${d.file}, copied to ${i.heldOutFile}.`
    : `Held-out puzzles: ${d.puzzles} generated ${i.gridSize}×${i.gridSize} puzzles as ${base(d.from)}'s training data (${d.minClues === null && d.maxClues === null ? 'minimal puzzles: no clue can be removed' : `clues ${d.minClues ?? 'as few as possible'}…${d.maxClues ?? 'any'}`}) with generator seed ${d.seed}, a seed training never uses; written to ${i.heldOutFile}.`);
  const o = i.options;
  out.push('', `Settings: ${o.segments} segments (halting off); ${o.relabelings} relabelings (${o.perturbation === 'shifts' ? 'cyclic digit shifts, as the paper' : 'the identity and random digit permutations: a cyclic shift has only n distinct values'}); the last ${o.checkpoints} checkpoints; probe masks ${o.probeMasks.join(', ')} (seed ${i.seeds.probe}); stuck window K = ${o.stuckWindow}; landscapes of ${o.landscapeSample} failing puzzles at ${o.landscapeSize}×${o.landscapeSize} (sample seed ${i.seeds.sample}).`);
  for (const arm of ARMS) {
    const n = i.runs[arm].length;
    if (n < 3) out.push('', `The ${arm} arm has ${n} run${n === 1 ? '' : 's'}: fewer than 3 training seeds, so the intervals below are over puzzles and say nothing about the spread between trainings.`);
  }
  if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `- ${n}`));

  // ---- held-out
  out.push('', '## Held-out accuracy', '');
  out.push(table('heldOut', ['arm', 'run', 'step', `exact at segment ${r.heldOut.segments}`, 'cell accuracy', 'halted'], r.heldOut.runs.map((x) => [
    x.arm, base(x.run), x.step, prop(x.exact), pct(x.cell), prop(x.halted),
  ])));
  out.push('', recompute(r.heldOut.recompute));

  // ---- fact (a)
  const a = r.factA;
  out.push('', '## Fact (a): correct answers are not fixed points', '', ...a.definitions.map((x) => `- ${x}`), '');
  out.push(table('factA.runs', ['arm', 'run', 'probe puzzles', 'ever exact', 'stability rate', 'corrupted puzzles', 'corruption events', 'final exact'],
    a.runs.map((x) => probeRow([x.arm, base(x.run)], x.overall))), '');
  out.push(table('factA.arms', ['arm', 'runs', 'probe puzzles', 'ever exact', 'stability rate', 'corrupted puzzles', 'corruption events', 'final exact'],
    a.arms.map((x: FactAArm) => probeRow([x.arm, x.runs], x.pooled))), '');
  const seeded = a.arms.filter((x) => x.acrossSeeds !== null);
  if (seeded.length > 0) {
    out.push('Across training seeds (one value per run):', '');
    out.push(table('factA.seeds', ['arm', 'runs', 'stability rate', 'corrupted puzzles', 'final exact'], seeded.map((x) => [
      x.arm, x.runs, spread(x.acrossSeeds?.stabilityRate), spread(x.acrossSeeds?.corruptedRate), spread(x.acrossSeeds?.finalAccuracy),
    ])), '');
  } else out.push('No arm has two or more runs: there is no across-seed spread.', '');
  out.push(table('factA.masks', ['arm', 'run', 'mask', 'probe puzzles', 'ever exact', 'stability rate', 'corrupted puzzles', 'corruption events', 'final exact'],
    a.runs.flatMap((x) => x.byMask.map((m) => probeRow([x.arm, base(x.run), m.mask], m)))), '');
  const segs = Math.max(0, ...a.arms.map((x) => x.pooled.exactBySegment.length));
  out.push(table('factA.segments', ['segment', 'baseline exact (pooled)', 'mixing exact (pooled)'], Array.from({ length: segs }, (_, k) => [
    k + 1, ...ARMS.map((arm) => {
      const p = a.arms.find((x) => x.arm === arm)?.pooled.exactBySegment[k];
      return p ? prop(p) : dash;
    }),
  ])));
  if (a.notes.length > 0) out.push('', ...a.notes.map((x) => `- ${x}`));
  const fa = figures(r, 'factA');
  if (fa) out.push('', fa);
  out.push('', recompute(a.recompute));

  // ---- fact (b)
  const b = r.factB;
  out.push('', '## Fact (b): the answer changes suddenly, at a critical segment', '', ...b.definitions.map((x) => `- ${x}`), '');
  out.push(table('factB.summary', ['arm', 'run', 'puzzles', 'included', 'no fall (excluded)', 'clipped', 'suddenness mean (q1–q3)', 'suddenness median'], b.arms.map((x) => [
    x.arm, base(x.run), x.puzzles, x.included, x.excludedNoFall, x.clipped, quart(x.suddenness, fixed2), fixed2(x.suddenness.median),
  ])), '');
  const arm = (k: PaperArm) => b.arms.find((x) => x.arm === k);
  const critSegs = [...new Set(b.arms.flatMap((x) => x.criticalHistogram.map((h) => h.segment)))].sort((p, q) => p - q);
  out.push(table('factB.critical', ['critical segment', 'baseline puzzles', 'mixing puzzles'], critSegs.map((s) => [
    s, ...ARMS.map((k) => arm(k)?.criticalHistogram.find((h) => h.segment === s)?.count ?? 0),
  ])), '');
  const bins = arm('baseline')?.suddennessHistogram ?? arm('mixing')?.suddennessHistogram ?? [];
  out.push(table('factB.suddenness', ['suddenness', 'baseline puzzles', 'mixing puzzles'], bins.map((h, j) => [
    `[${h.lo.toFixed(1)}, ${h.hi.toFixed(1)}${j === bins.length - 1 ? ']' : ')'}`, ...ARMS.map((k) => arm(k)?.suddennessHistogram[j]?.count ?? 0),
  ])), '');
  const offsets = [...new Set(b.arms.flatMap((x) => x.aligned.map((p) => p.offset)))].sort((p, q) => p - q);
  out.push(table('factB.aligned', ['offset from the critical segment', 'baseline n', 'baseline wrong cells', 'baseline loss', 'mixing n', 'mixing wrong cells', 'mixing loss'], offsets.map((off) => [
    off, ...ARMS.flatMap((k) => {
      const p = arm(k)?.aligned.find((x) => x.offset === off);
      return p ? [p.wrong.n, quart(p.wrong, fixed2), quart(p.loss, sig3)] : [0, dash, dash];
    }),
  ])));
  const fb = figures(r, 'factB');
  if (fb) out.push('', fb);
  out.push('', recompute(b.recompute));

  // ---- fact (c)
  const c = r.factC;
  out.push('', '## Fact (c): several fixed points; failures fall into a wrong one', '', ...c.definitions.map((x) => `- ${x}`), '');
  out.push(table('factC.summary', ['arm', 'run', 'puzzles', 'failures', `stuck (grid unchanged over the last ${c.window})`, 'settled (also drift < τ)', 'moving', 'τ'], c.arms.map((x) => [
    x.arm, base(x.run), x.puzzles, x.failures, prop(x.stuck), x.settled, x.moving, x.tau === null ? dash : `${x.tau.toPrecision(3)} (${x.tauSource})`,
  ])), '');
  out.push(table('factC.modes', ['mode', 'baseline puzzles', 'mixing puzzles'], MODE_ORDER.map((m) => [
    m, ...ARMS.map((k) => c.arms.find((x) => x.arm === k)?.modes[m] ?? 0),
  ])), '');
  out.push(table('factC.landscapes', ['arm', 'failing', 'sampled', 'grid', 'spurious fixed points per puzzle: mean (q1–q3)', 'median'], c.arms.map((x) => [
    x.arm, x.landscape.failing, x.landscape.sampled, `${x.landscape.size}×${x.landscape.size}`, quart(x.landscape.spurious, fixed2), fixed2(x.landscape.spurious.median),
  ])), '');
  const lp = c.arms.flatMap((x) => x.landscape.puzzles.map((p) => [x.arm, p.id, p.spurious, p.solutionPoints, p.movingPoints]));
  if (lp.length > 0) out.push(table('factC.landscapePuzzles', ['arm', 'puzzle', 'spurious fixed points', 'points in the solution basin', 'points still moving'], lp));
  else out.push('No failing puzzle was sampled for a landscape.');
  const fc = figures(r, 'factC');
  if (fc) out.push('', fc);
  out.push('', recompute([...c.recompute, ...c.arms.flatMap((x) => x.landscape.puzzles.map((p) => p.recompute))]));

  // ---- guess scaling
  const g = r.guessScaling;
  out.push('', '## Guess scaling: more guesses, better guesses', '', ...g.definitions.map((x) => `- ${x}`), '');
  out.push(table('guess.table', ['configuration', 'run', 'checkpoints × relabelings', 'oracle', 'label-free', 'paper'], g.rows.map((x) => [
    x.label, x.arm, `${x.checkpoints} × ${x.relabelings}`, prop(x.oracle), prop(x.labelFree), x.paper === null ? dash : `${x.paper.toFixed(1)}%`,
  ])), '');
  const noted = g.rows.filter((x) => x.paperNote !== null);
  if (noted.length > 0) out.push(...noted.map((x) => `- paper, ${x.label}: ${x.paperNote}`), '');
  out.push('Accuracy against the number of relabelings (the first k, newest checkpoint):', '');
  out.push(curveTable('guess.relabelings', r, 'relabelings', 'relabelings k'), '');
  out.push('Accuracy against the number of checkpoints (the last k, no relabeling):', '');
  out.push(curveTable('guess.checkpoints', r, 'checkpoints', 'checkpoints k'));
  if (g.notes.length > 0) out.push('', ...g.notes.map((x) => `- ${x}`));
  const fg = figures(r, 'guessScaling');
  if (fg) out.push('', fg);
  out.push('', recompute(g.recompute));

  // ---- agreement
  out.push('', '## Agreement with the paper', '');
  for (const it of r.agreement.items) out.push(`- **${it.title}: ${it.verdict}.** ${it.sentence} (Rule: ${it.rule}.)`);
  out.push('', recompute(r.agreement.recompute), '');
  return out.join('\n');
}
