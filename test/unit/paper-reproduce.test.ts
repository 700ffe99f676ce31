/**
 * `hrm-lens reproduce` end to end on real runs (real TF.js on wasm): a baseline arm of two runs (the shipped 4×4
 * weights under three step names with the run.json of the training that made them, and a short training) and a
 * mixing arm of one short training with data mixing. A reduced reproduction writes report.json, report.md, heldout.csv
 * and PNG figures; every Markdown table cell is re-derived here, independently, from report.json's raw per-puzzle
 * data; two reproductions leave tf.memory().numTensors where it was and give the same numbers; the command line
 * writes the same kind of report.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { openTrainer, runTrainLoop } from '../../engine/train/train-session';
import { type ReproduceOptions, runReproduce } from '../../engine/paper/reproduce';
import type { PaperArm, PaperReport } from '../../engine/paper/report-types';
import { SHIPPED_CHECKPOINT } from './helpers/shipped-model';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-paper-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const shipped = path.join(tmp, 'shipped');
const trained = path.join(tmp, 'trained');
const mixed = path.join(tmp, 'mixed');

before(async () => {
  await selectBackend({ backend: 'wasm' });
  mkdirSync(shipped);
  copyFileSync(path.join(root, 'demo', 'shipped-run', 'run.json'), path.join(shipped, 'run.json'));
  for (const step of [1500, 1750, 2000]) copyFileSync(SHIPPED_CHECKPOINT, path.join(shipped, `step-${String(step).padStart(6, '0')}.safetensors`));
  for (const [out, seed, mixing] of [[trained, 3, false], [mixed, 4, true]] as const) {
    const { trainer, totalSteps } = await openTrainer({
      preset: 'tiny-4x4', out, steps: 30, seed, mixing, overrides: { batch: 16, checkpointEvery: 15, evalPuzzles: 2 }, backend: {},
    });
    try {
      await runTrainLoop(trainer, totalSteps, { shouldStop: () => false });
    } finally {
      await trainer.close();
    }
  }
});

const options = (out: string): ReproduceOptions => ({
  baseline: [shipped, trained], mixing: [mixed], puzzles: 12, relabelings: 4, checkpoints: 2, landscapeSample: 2, landscapeSize: 5,
  seeds: { heldOut: 424242, probe: 1, sample: 2 }, out,
});

let first: { dir: string; report: PaperReport } | undefined;
const firstReport = async (): Promise<{ dir: string; report: PaperReport }> => (first ??= await runReproduce(options(path.join(tmp, 'report-1'))));
/** tf.memory().numTensors before and after the first reproduction. */
const tensors: { before?: number; after?: number } = {};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

test('reproduce writes report.json, report.md, heldout.csv and PNG figures into one folder', { timeout: 900_000 }, async () => {
  const phases = new Set<string>();
  tensors.before = tf.memory().numTensors;
  const { dir, report } = await runReproduce(options(path.join(tmp, 'report-1')), (p) => {
    phases.add(p.phase);
    assert.ok(p.done >= 0 && p.done <= p.total, `${p.phase}: ${p.done}/${p.total}`);
  });
  tensors.after = tf.memory().numTensors;
  for (const ph of ['held-out', 'traces', 'probe', 'landscape', 'ensemble', 'figures', 'write']) assert.ok(phases.has(ph), `phase ${ph}`);
  first = { dir, report };
  const json = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as PaperReport;
  assert.deepEqual(json, JSON.parse(JSON.stringify(report)));
  assert.equal(json.format, 'hrm-lens-paper-report');
  assert.equal(json.version, 1);
  assert.deepEqual(json.inputs.runs.baseline.map((r) => r.dir), [shipped, trained]);
  assert.deepEqual(json.inputs.runs.mixing.map((r) => r.dir), [mixed]);
  assert.equal(json.inputs.gridSize, 4);
  assert.equal(json.inputs.options.segments, 4, 'the run\'s evaluation segments');
  assert.equal(json.inputs.options.perturbation, 'shifts', '4 relabelings on 4×4 grids are the cyclic shifts');
  assert.deepEqual(json.inputs.data, { kind: 'generated', seed: 424242, minClues: null, maxClues: null, puzzles: 12, from: shipped });
  assert.equal(readFileSync(path.join(dir, 'heldout.csv'), 'utf8').trim().split('\n').length, 13);
  // Raw per-puzzle data of every part.
  assert.equal(json.factA.runs.length, 3);
  for (const r of json.factA.runs) assert.equal(r.raw.length, 12 * 3);
  for (const b of json.factB.arms) assert.equal(b.raw.length, 12);
  for (const g of json.guessScaling.raw) for (const p of g.puzzles) assert.equal(p.pass.length, 2 * 4);
  assert.equal(json.factA.arms.find((a) => a.arm === 'baseline')?.acrossSeeds?.stabilityRate.runs !== undefined, true);
  assert.equal(json.factA.arms.find((a) => a.arm === 'mixing')?.acrossSeeds, null);
  // Figures: PNG and SVG files, linked from report.md.
  const md = readFileSync(path.join(dir, 'report.md'), 'utf8');
  assert.ok(json.figures.length >= 10, `${json.figures.length} figures`);
  for (const f of json.figures) {
    const png = readFileSync(path.join(dir, f.png));
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, f.png);
    assert.match(readFileSync(path.join(dir, f.svg), 'utf8'), /<svg[\s>]/, f.svg);
    assert.ok(md.includes(`](figures/${f.name}.png)`), `report.md links ${f.name}.png`);
  }
  assert.match(md, /The mixing arm has 1 run: fewer than 3 training seeds/);
  // Every section ends with the commands that recompute it.
  for (const s of [json.heldOut, json.factA, json.factB, json.factC, json.guessScaling, json.agreement]) {
    assert.ok(s.recompute.length > 0 && s.recompute.every((c) => c.startsWith('hrm-lens ')));
  }
  assert.equal((md.match(/^Recompute:$/gm) ?? []).length, 6);
  assert.deepEqual(json.agreement.items.map((x) => x.fact), ['a', 'b', 'c', 'guessScaling']);
});

// ---------------------------------------------------------------- independent re-derivation of report.md

const dash = '—';
const pct = (x: number | null): string => (x === null ? dash : `${(x * 100).toFixed(1)}%`);
const one = (x: number): string => (x * 100).toFixed(1);

function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z / d) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

const prop = (k: number, n: number): string => {
  if (n === 0) return dash;
  const [lo, hi] = wilson(k, n);
  return `${k}/${n} · ${pct(k / n)} [${one(lo)}–${one(hi)}]`;
};

function q7(sorted: number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(sorted.length - 1, lo + 1)]) - sorted[lo]);
}

function quart(xs: number[], f: (x: number) => string): string {
  if (xs.length === 0) return dash;
  const s = [...xs].sort((a, b) => a - b);
  return `${f(s.reduce((a, b) => a + b, 0) / s.length)} (${f(q7(s, 0.25))}–${f(q7(s, 0.75))})`;
}

const median = (xs: number[], f: (x: number) => string): string => (xs.length === 0 ? dash : f(q7([...xs].sort((a, b) => a - b), 0.5)));
const f2 = (x: number): string => x.toFixed(2);
const s3 = (x: number): string => x.toPrecision(3);
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571];

function spread(values: (number | null)[]): string {
  const xs = values.filter((v): v is number => v !== null);
  if (xs.length === 0) return dash;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return `${pct(m)} ± ${dash} [${dash}–${dash}]`;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  const h = T975[xs.length - 2] * sd / Math.sqrt(xs.length);
  return `${pct(m)} ± ${one(sd)} [${one(Math.max(0, m - h))}–${one(Math.min(1, m + h))}]`;
}

const base = (p: string): string => path.basename(p);

/** Markdown tables by id: header and rows of cells (escaped pipes restored). */
function parseTables(md: string): Map<string, { header: string[]; rows: string[][] }> {
  const out = new Map<string, { header: string[]; rows: string[][] }>();
  const lines = md.split('\n');
  const cells = (l: string) => l.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- table: (\S+) -->$/.exec(lines[i]);
    if (!m) continue;
    const header = cells(lines[i + 1]);
    assert.match(lines[i + 2], /^\|(---\|)+$/);
    const rows: string[][] = [];
    for (let j = i + 3; j < lines.length && lines[j].startsWith('|'); j++) rows.push(cells(lines[j]));
    assert.ok(!out.has(m[1]), `table ${m[1]} appears once`);
    out.set(m[1], { header, rows });
  }
  return out;
}

interface ProbeFacts { n: number; ever: number; stable: number; corrupted: number; events: number; final: number }

function probeFacts(exacts: string[]): ProbeFacts {
  const f: ProbeFacts = { n: exacts.length, ever: 0, stable: 0, corrupted: 0, events: 0, final: 0 };
  for (const e of exacts) {
    const firstExact = e.indexOf('1');
    if (firstExact >= 0) {
      f.ever++;
      if (!e.slice(firstExact).includes('0')) f.stable++;
    }
    let ev = 0;
    for (let k = 1; k < e.length; k++) if (e[k - 1] === '1' && e[k] === '0') ev++;
    f.events += ev;
    if (ev > 0) f.corrupted++;
    if (e.endsWith('1')) f.final++;
  }
  return f;
}

const probeCells = (f: ProbeFacts): string[] => [String(f.n), String(f.ever), prop(f.stable, f.ever), prop(f.corrupted, f.n), String(f.events), prop(f.final, f.n)];

/** Fact (b) per puzzle from its wrong series alone. */
function sudden(wrong: number[]): { critical: number | null; drop: number; fall: number; s: number | null } {
  let critical: number | null = null;
  let drop = 0;
  for (let k = 1; k < wrong.length; k++) if (wrong[k - 1] - wrong[k] > drop) { drop = wrong[k - 1] - wrong[k]; critical = k + 1; }
  const fall = wrong[0] - Math.min(...wrong);
  return { critical, drop, fall, s: fall > 0 ? Math.min(1, drop / fall) : null };
}

/** Both vote rules for one puzzle's raw passes over the selected checkpoints and perturbations. */
function votes(p: PaperReport['guessScaling']['raw'][number]['puzzles'][number], P: number, cks: number[], ps: number[]): { oracle: boolean; labelFree: boolean } {
  let oracle = false;
  const pool: number[] = [];
  for (const c of cks) {
    let halted = 0;
    let right = 0;
    for (const q of ps) {
      const i = c * P + q;
      pool.push(i);
      if (p.halted[i] === '1') { halted++; if (p.answers[p.pass[i]] === p.solution) right++; }
    }
    if (2 * right > halted) oracle = true;
  }
  const haltedPool = pool.filter((i) => p.halted[i] === '1');
  const use = haltedPool.length > 0 ? haltedPool : pool;
  const groups = new Map<number, { count: number; q: number }>();
  for (const i of use) {
    const g = groups.get(p.pass[i]);
    if (g) { g.count++; g.q = Math.max(g.q, p.qHalt[i]); } else groups.set(p.pass[i], { count: 1, q: p.qHalt[i] });
  }
  const ranked = [...groups.entries()].sort(([a, x], [b, y]) => y.count - x.count || p.energies[a] - p.energies[b] || y.q - x.q || (p.answers[a] < p.answers[b] ? -1 : 1));
  return { oracle, labelFree: ranked.length > 0 && p.answers[ranked[0][0]] === p.solution };
}

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

function expectedTables(r: PaperReport): Map<string, string[][]> {
  const t = new Map<string, string[][]>();
  const arms: PaperArm[] = ['baseline', 'mixing'];
  t.set('runs', [...r.inputs.runs.baseline, ...r.inputs.runs.mixing].map((x) => [x.arm, x.dir, x.preset ?? dash, x.seed === null ? dash : String(x.seed),
    x.mixing === null ? dash : x.mixing ? `yes${x.mixingMode ? ` (${x.mixingMode})` : ''}` : 'no', String(x.step), String(x.checkpointsAvailable), String(x.ensembleCheckpoints.length)]));
  const cells = r.heldOut.cells;
  t.set('heldOut', r.heldOut.runs.map((x) => [x.arm, base(x.run), String(x.step), prop(x.wrong.filter((w) => w === 0).length, x.wrong.length),
    pct(x.wrong.reduce((a, w) => a + (cells - w) / cells, 0) / x.wrong.length), prop([...x.haltedFlags].filter((c) => c === '1').length, x.haltedFlags.length)]));

  const a = r.factA;
  t.set('factA.runs', a.runs.map((x) => [x.arm, base(x.run), ...probeCells(probeFacts(x.raw.map((p) => p.exact)))]));
  const armRuns = (arm: PaperArm) => a.runs.filter((x) => x.arm === arm);
  t.set('factA.arms', arms.map((arm) => [arm, String(armRuns(arm).length), ...probeCells(probeFacts(armRuns(arm).flatMap((x) => x.raw.map((p) => p.exact))))]));
  const seeded = arms.filter((arm) => armRuns(arm).length >= 2);
  if (seeded.length > 0) {
    t.set('factA.seeds', seeded.map((arm) => {
      const fs = armRuns(arm).map((x) => probeFacts(x.raw.map((p) => p.exact)));
      return [arm, String(fs.length), spread(fs.map((f) => (f.ever > 0 ? f.stable / f.ever : null))), spread(fs.map((f) => f.corrupted / f.n)), spread(fs.map((f) => f.final / f.n))];
    }));
  }
  t.set('factA.masks', a.runs.flatMap((x) => [...new Set(x.raw.map((p) => p.mask))].map((mask) => [x.arm, base(x.run), mask,
    ...probeCells(probeFacts(x.raw.filter((p) => p.mask === mask).map((p) => p.exact)))])));
  const S = r.inputs.options.segments;
  t.set('factA.segments', range(0, S).map((k) => [String(k + 1), ...arms.map((arm) => {
    const ex = armRuns(arm).flatMap((x) => x.raw.map((p) => p.exact)).filter((e) => e.length > k);
    return prop(ex.filter((e) => e[k] === '1').length, ex.length);
  })]));

  const b = r.factB;
  const per = (arm: PaperArm) => {
    const raw = b.arms.find((x) => x.arm === arm)?.raw ?? [];
    return raw.map((p) => ({ ...sudden(p.wrong), wrong: p.wrong, loss: p.loss, recorded: p }));
  };
  for (const arm of arms) {
    for (const p of per(arm)) {
      assert.equal(p.recorded.criticalSegment, p.critical, `critical segment of ${arm} ${p.recorded.id}`);
      assert.equal(p.recorded.suddenness, p.s, `suddenness of ${arm} ${p.recorded.id}`);
    }
  }
  t.set('factB.summary', b.arms.map((x) => {
    const ps = per(x.arm);
    const inc = ps.filter((p) => p.s !== null);
    const ss = inc.map((p) => p.s as number);
    return [x.arm, base(x.run), String(ps.length), String(inc.length), String(ps.length - inc.length), String(inc.filter((p) => p.drop > p.fall).length), quart(ss, f2), median(ss, f2)];
  }));
  t.set('factB.critical', range(2, S + 1).map((s) => [String(s), ...arms.map((arm) => String(per(arm).filter((p) => p.s !== null && p.critical === s).length))]));
  t.set('factB.suddenness', range(0, 10).map((j) => [`[${(j / 10).toFixed(1)}, ${((j + 1) / 10).toFixed(1)}${j === 9 ? ']' : ')'}`,
    ...arms.map((arm) => String(per(arm).filter((p) => p.s !== null && Math.min(9, Math.floor(p.s * 10)) === j).length))]));
  const w = Math.min(r.inputs.options.alignWindow, S - 1);
  t.set('factB.aligned', range(-w, w + 1).map((o) => [String(o), ...arms.flatMap((arm) => {
    const inc = per(arm).filter((p) => p.s !== null);
    const at = inc.map((p) => (p.critical as number) + o).map((k, i) => (k >= 1 && k <= S ? i : -1));
    const wr = inc.filter((_, i) => at[i] >= 0).map((p) => p.wrong[(p.critical as number) + o - 1]);
    const lo = inc.filter((_, i) => at[i] >= 0).map((p) => p.loss[(p.critical as number) + o - 1]);
    return [String(wr.length), quart(wr, f2), quart(lo, s3)];
  })]));

  const c = r.factC;
  t.set('factC.summary', c.arms.map((x) => {
    const fails = x.raw.filter((p) => !p.finalExact);
    const stuck = fails.filter((p) => p.gridStable).length;
    return [x.arm, base(x.run), String(x.raw.length), String(fails.length), prop(stuck, fails.length), String(fails.filter((p) => p.settled).length),
      String(fails.length - stuck), x.tau === null ? dash : `${x.tau.toPrecision(3)} (${x.tauSource})`];
  }));
  t.set('factC.modes', ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'].map((m) => [m,
    ...arms.map((arm) => String(c.arms.find((x) => x.arm === arm)?.raw.filter((p) => p.mode === m).length ?? 0))]));
  const spurious = (labels: number[]) => new Set(labels.filter((l) => l >= 1)).size;
  t.set('factC.landscapes', c.arms.map((x) => {
    const sp = x.landscape.puzzles.map((p) => spurious(p.labels));
    return [x.arm, String(x.raw.filter((p) => !p.finalExact).length), String(x.landscape.puzzles.length), `${x.landscape.size}×${x.landscape.size}`, quart(sp, f2), median(sp, f2)];
  }));
  const lp = c.arms.flatMap((x) => x.landscape.puzzles.map((p) => [x.arm, p.id, String(spurious(p.labels)), String(p.labels.filter((l) => l === 0).length), String(p.labels.filter((l) => l === -1).length)]));
  if (lp.length > 0) t.set('factC.landscapePuzzles', lp);

  const g = r.guessScaling;
  const raw = (arm: PaperArm) => g.raw.find((x) => x.arm === arm) as PaperReport['guessScaling']['raw'][number];
  const acc = (arm: PaperArm, cks: number[], ps: number[]) => {
    const x = raw(arm);
    const P = x.perturbationNames.length;
    const vs = x.puzzles.map((p) => votes(p, P, cks, ps));
    return { oracle: vs.filter((v) => v.oracle).length, labelFree: vs.filter((v) => v.labelFree).length, n: vs.length };
  };
  const paper: Record<string, number | null> = {
    baseline: 54.5, relabelings: 73.2, checkpoints: 64.7, relabelingsCheckpoints: null, mixing: 59.9, mixingCheckpoints: 82.9, mixingRelabelings: null, allThree: 96.9,
  };
  t.set('guess.table', g.rows.map((row) => {
    const x = raw(row.arm);
    const C = x.checkpointNames.length;
    const P = x.perturbationNames.length;
    const cks = row.config.toLowerCase().includes('checkpoints') || row.config === 'allThree' ? range(0, C) : [C - 1];
    const ps = row.config.toLowerCase().includes('relabelings') || row.config === 'allThree' ? range(0, P) : [0];
    const v = acc(row.arm, cks, ps);
    const p = paper[row.config];
    return [row.label, row.arm, `${cks.length} × ${ps.length}`, prop(v.oracle, v.n), prop(v.labelFree, v.n), p === null ? dash : `${p.toFixed(1)}%`];
  }));
  const curve = (sel: (C: number, P: number, k: number) => [number[], number[]], len: (C: number, P: number) => number) => {
    const ks = Math.max(...arms.map((arm) => len(raw(arm).checkpointNames.length, raw(arm).perturbationNames.length)));
    return range(1, ks + 1).map((k) => [String(k), ...arms.flatMap((arm) => {
      const C = raw(arm).checkpointNames.length;
      const P = raw(arm).perturbationNames.length;
      if (k > len(C, P)) return [dash, dash];
      const v = acc(arm, ...sel(C, P, k));
      return [pct(v.oracle / v.n), pct(v.labelFree / v.n)];
    })]);
  };
  t.set('guess.relabelings', curve((C, _P, k) => [[C - 1], range(0, k)], (_C, P) => P));
  t.set('guess.checkpoints', curve((C, _P, k) => [range(C - k, C), [0]], (C) => C));
  return t;
}

test('every table cell of report.md re-derives from the raw per-puzzle data in report.json', { timeout: 900_000 }, async () => {
  const { dir } = await firstReport();
  const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as PaperReport;
  const tables = parseTables(readFileSync(path.join(dir, 'report.md'), 'utf8'));
  const expected = expectedTables(report);
  assert.deepEqual([...tables.keys()].sort(), [...expected.keys()].sort(), 'the tables of report.md');
  for (const [id, want] of expected) {
    const got = tables.get(id);
    assert.ok(got, id);
    assert.equal(got.rows.length, want.length, `${id}: rows`);
    got.rows.forEach((row, i) => {
      assert.equal(row.length, got.header.length, `${id} row ${i + 1}: cells`);
      row.forEach((cellText, j) => assert.equal(cellText, want[i][j], `${id} row ${i + 1}, column "${got.header[j]}"`));
    });
  }
});

test('two reproductions keep tf.memory().numTensors flat and give the same numbers, the second from --data heldout.csv of the first', { timeout: 900_000 }, async () => {
  if (tensors.before === undefined) {
    tensors.before = tf.memory().numTensors;
    await firstReport();
    tensors.after = tf.memory().numTensors;
  }
  const a = await firstReport();
  const b = await runReproduce({ ...options(path.join(tmp, 'report-2')), data: path.join(a.dir, 'heldout.csv') });
  assert.deepEqual(b.report.inputs.data, { kind: 'file', file: path.join(a.dir, 'heldout.csv'), puzzles: 12 });
  assert.equal(tensors.after, tensors.before, 'after the first reproduction');
  assert.equal(tf.memory().numTensors, tensors.before, 'after the second reproduction');
  const numbers = (r: PaperReport) => ({ heldOut: r.heldOut.runs.map((x) => ({ ...x, recompute: '' })), factA: r.factA.arms, factB: r.factB.arms.map((x) => ({ ...x, recompute: [] })),
    modes: r.factC.arms.map((x) => x.modes), rows: r.guessScaling.rows, verdicts: r.agreement.items.map((x) => x.verdict) });
  assert.deepEqual(numbers(b.report), numbers(a.report));
});

test('a cancelled reproduction stops with an AbortError and frees every tensor', { timeout: 900_000 }, async () => {
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  const phases: string[] = [];
  await assert.rejects(runReproduce(options(path.join(tmp, 'report-cancelled')), (p) => {
    phases.push(p.phase);
    if (p.phase === 'probe') controller.abort();
  }, controller.signal), (err: Error) => err.name === 'AbortError');
  assert.ok(phases.includes('probe') && !phases.includes('ensemble'), phases.join(' '));
  assert.equal(tf.memory().numTensors, before);
  assert.equal(existsSync(path.join(tmp, 'report-cancelled', 'report.json')), false);
});

/** Runs a recorded recompute command (plain paths: split on spaces) and parses its JSON output. */
function recompute(command: string): Promise<unknown> {
  assert.ok(!/['"]/.test(command), command);
  const args = command.split(' ');
  assert.equal(args[0], 'hrm-lens');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args.slice(1), '--backend', 'wasm'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`${command}: ${stderr}`)) : resolve(JSON.parse(stdout))));
  });
}

test('the recorded probe and ensemble commands recompute the report\'s numbers', { timeout: 900_000 }, async () => {
  const { report } = await firstReport();
  const run = report.factA.runs[0];
  const probe = await recompute(run.recompute) as { checkpoints: { overall: { stable: number; everExact: number; corruptionEvents: number; corruptedPuzzles: number; exactBySegment: number[] } }[] };
  const o = probe.checkpoints[0].overall;
  assert.deepEqual([o.stable, o.everExact, o.corruptionEvents, o.corruptedPuzzles], [run.overall.stable.k, run.overall.everExact, run.overall.corruptionEvents, run.overall.corrupted.k]);
  assert.deepEqual(o.exactBySegment, run.overall.exactBySegment.map((p) => p.value));
  const raw = report.guessScaling.raw.find((x) => x.arm === 'baseline');
  assert.ok(raw);
  const ens = await recompute(raw.recompute) as { summary: Record<string, { oracle: number; labelFree: number }> };
  for (const row of report.guessScaling.rows.filter((x) => x.arm === 'baseline')) {
    assert.deepEqual([ens.summary[row.ensemble].oracle, ens.summary[row.ensemble].labelFree], [row.oracle.value, row.labelFree.value], row.label);
  }
});

test('hrm-lens reproduce on the command line writes the report and prints it with --json', { timeout: 900_000 }, async () => {
  const out = path.join(tmp, 'report-cli');
  const res = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'reproduce', '--baseline', shipped, '--mixing', mixed, '--puzzles', '4',
      '--relabelings', '2', '--checkpoints', '1', '--landscape-sample', '0', '--seeds', '7', '--out', out, '--json', '--quiet', '--backend', 'wasm'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '', '--quiet prints no progress');
  const printed = JSON.parse(res.stdout) as PaperReport;
  assert.deepEqual(printed, JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')));
  assert.equal(printed.inputs.puzzles, 4);
  assert.deepEqual(printed.inputs.seeds, { heldOut: 7, probe: 0, sample: 0 });
  assert.equal(printed.inputs.options.checkpoints, 1);
  assert.ok(printed.factC.arms.every((x) => x.landscape.sampled === 0));
  assert.ok(existsSync(path.join(out, 'report.md')));
});
