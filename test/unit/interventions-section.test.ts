/**
 * The inspector's Interventions section without a browser: what the webview computes before drawing
 * (webview/inspector-interventions-model.ts: the ε slider's kick sizes, where a patched run ends, the spectrum's
 * class, the sweep's lines, the lens's bars), the host's checks of a webview's request
 * (extension/panels/inspector-interventions-requests.ts) and the CSV / JSON exports
 * (extension/panels/inspector-interventions-export.ts), on real results of the engine's `intervene.*` handlers with the
 * shipped tiny-4x4 model.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { handlers } from '../../engine/rpc/handlers';
import type { HandlerContext } from '../../engine/rpc/handler';
import type { KickResult, LensResult, PatchResult, SpectrumResult, SweepResult } from '../../engine/intervene/intervene-protocol';
import { NUM_LIMITS, LIMITS } from '../../engine/util/limits';
import {
  EPSILON_LOG, EPSILON_POINTS, epsilonsUpTo, keepSpectrum, lensBars, patchEnd, patchRows, spectrumBadgeText, spectrumClass, sweepLines,
} from '../../webview/inspector-interventions-model';
import { MAX_EPSILON, MAX_EPSILONS, requestProblem, shiftPerm } from '../../extension/panels/inspector-interventions-requests';
import { interventionCsv, interventionJson, interventionStem } from '../../extension/panels/inspector-interventions-export';
import type { InterventionView } from '../../webview/protocol';

const root = path.resolve(import.meta.dirname, '..', '..');
const checkpoint = path.join(root, 'models', 'tiny-4x4.safetensors');
const RECEIVER = '.1.....3..32....';
const DONOR = '..4.3.....1..2..';
const SOLUTION = '3124421314322341';

function ctx<P>(events: P[] = []): HandlerContext<P> {
  return { id: 1, signal: new AbortController().signal, progress: (e) => { events.push(e); }, log: () => {} };
}

const csvRows = (text: string): string[][] => text.trimEnd().split('\n').map((l) => l.split(','));

describe('the Interventions section: the slider, the checks of a request', () => {
  test('the ε slider: 7 kick sizes over two decades up to 10^slider, clamped to the slider, inside the host\'s and the engine\'s bounds', () => {
    assert.deepEqual(epsilonsUpTo(0), [0.01, 0.0215, 0.0464, 0.1, 0.215, 0.464, 1]);
    for (let v = EPSILON_LOG.min; v <= EPSILON_LOG.max; v += EPSILON_LOG.step) {
      const e = epsilonsUpTo(v);
      assert.equal(e.length, EPSILON_POINTS);
      assert.ok(e.every((x, i) => i === 0 || x > e[i - 1]), `ascending at ${v}`);
      assert.ok(Math.abs(e[e.length - 1] / 10 ** v - 1) < 1e-3 && Math.abs(e[0] / 10 ** (v - 2) - 1) < 1e-3, `ends at ${v}: ${e}`);
      assert.equal(requestProblem({ kind: 'kick', epsilons: e }, { segments: [] }), undefined);
      assert.ok(e.every((x) => x > NUM_LIMITS.kickEpsilon.min && x <= NUM_LIMITS.kickEpsilon.max));
    }
    assert.equal(epsilonsUpTo(99).at(-1), 10 ** EPSILON_LOG.max);
    assert.equal(epsilonsUpTo(-99)[0], Number((10 ** (EPSILON_LOG.min - 2)).toPrecision(3)));
    assert.deepEqual(epsilonsUpTo(Number.NaN), epsilonsUpTo(EPSILON_LOG.initial));
    assert.ok(MAX_EPSILONS <= LIMITS.kickSizes.max && MAX_EPSILON <= NUM_LIMITS.kickEpsilon.max, 'the host never sends what the engine refuses');
  });

  test('a webview\'s request is checked on the host: kick sizes, the segment, the part, the scope, the kind', () => {
    const trace = { segments: [{}, {}, {}, {}] } as Parameters<typeof requestProblem>[1];
    assert.equal(requestProblem({ kind: 'spectrum', atSegment: 4 }, trace), undefined);
    for (const atSegment of [0, 5, 1.5, Number.NaN]) assert.match(requestProblem({ kind: 'spectrum', atSegment }, trace) ?? '', /segment must be 1 to 4/);
    for (const epsilons of [[], [0], [-1], [MAX_EPSILON * 1.01], [Number.POSITIVE_INFINITY], Array(MAX_EPSILONS + 1).fill(0.1), ['0.1']]) {
      assert.match(requestProblem({ kind: 'kick', epsilons } as never, trace) ?? '', /kick sizes/, JSON.stringify(epsilons));
    }
    assert.match(requestProblem({ kind: 'patch', part: 'zX' } as never, trace) ?? '', /part/);
    assert.match(requestProblem({ kind: 'sweep', scope: '/etc' } as never, trace) ?? '', /sweep/);
    assert.match(requestProblem({ kind: 'landscape' } as never, trace) ?? '', /not an intervention/);
    assert.match(requestProblem(null as never, trace) ?? '', /not an intervention/);
    assert.equal(requestProblem({ kind: 'lens' }, trace), undefined);
  });

  test('a relabeling donor: the cyclic digit shift as a permutation of 1…n', () => {
    assert.deepEqual(shiftPerm(4, 1), [2, 3, 4, 1]);
    assert.deepEqual(shiftPerm(9, 8), [9, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [n, s] of [[4, 0], [4, 4], [4, 1.5], [1, 1]]) assert.equal(shiftPerm(n, s), undefined);
  });

  test('the spectrum badge\'s class: a contraction below 1, an expansion above 1', () => {
    assert.equal(spectrumClass(0.999), 'contraction');
    assert.equal(spectrumClass(1.001), 'expansion');
    assert.equal(spectrumClass(1), 'marginal');
    assert.equal(spectrumBadgeText({ spectralRadius: 0.87654321, atSegment: 3 }), 'ρ = 0.8765 · contraction at segment 3');
  });
});

describe('the Interventions section on real engine results (tiny-4x4)', () => {
  let patch: PatchResult;
  let kick: KickResult;
  let spectra: SpectrumResult[];
  let sweep: SweepResult;
  let lens: LensResult;
  const patchEvents: { done: number; total: number }[] = [];

  before(async () => {
    patch = await handlers['intervene.patch']({ checkpoint, puzzle: RECEIVER, source: { kind: 'trace', puzzle: DONOR } }, ctx(patchEvents));
    kick = await handlers['intervene.kick']({ checkpoint, puzzle: RECEIVER, epsilons: epsilonsUpTo(0), directions: 4, pcs: 1 }, ctx());
    spectra = [];
    for (const atSegment of [2, 4, 2]) spectra.push(await handlers['intervene.spectrum']({ checkpoint, puzzle: RECEIVER, atSegment, count: 3 }, ctx()));
    sweep = await handlers['intervene.sweep']({ checkpoint, puzzles: [`${RECEIVER},${SOLUTION}`], hCycles: [1, 2], lCycles: [1, 2], segments: [2, 4] }, ctx());
    lens = await handlers['intervene.lens']({ checkpoint, puzzle: RECEIVER }, ctx());
  });

  test('patch: every point is drawn on the row where its run ends, and the rows hold them all', () => {
    assert.ok(patch.curve.length >= 1 && patchEvents.length >= 1);
    const rows = patchRows(patch.curve);
    for (const p of patch.curve) {
      const end = patchEnd(p);
      assert.ok(rows.includes(end));
      assert.equal(end === 'donor' || end === 'both', p.grid === patch.donor.grid, `k ${p.atSegment}: ${end}, grid ${p.grid}`);
      assert.equal(end === 'receiver' || end === 'both', p.grid === patch.receiver.grid, `k ${p.atSegment}: ${end}`);
    }
    assert.equal(rows.includes('both'), patch.curve.some((p) => p.endsAtDonor && p.endsAtReceiver));
  });

  test('patch: the CSV has one row per k, the receiver and the donor, the marks; the JSON is the view', () => {
    const view: InterventionView = { kind: 'patch', result: patch, donor: { kind: 'trace', label: `trajectory ${DONOR}` } };
    const rows = csvRows(interventionCsv(view));
    assert.deepEqual(rows[0], ['k', 'ends_at_donor', 'ends_at_receiver', 'grid', 'exact', 'wrong', 'energy', 'mode', 'exact_from']);
    patch.curve.forEach((p, i) => {
      assert.equal(rows[1 + i][0], String(p.atSegment));
      assert.equal(rows[1 + i][3], p.grid);
      assert.equal(rows[1 + i][1], String(p.endsAtDonor));
    });
    const runs = rows.slice(patch.curve.length + 3, patch.curve.length + 5);
    assert.deepEqual(runs.map((r) => [r[0], r[3]]), [['receiver', patch.receiver.grid], ['donor', patch.donor.grid]]);
    assert.deepEqual(rows.at(-1), [String(patch.rescuedUpTo ?? ''), String(patch.inescapableFrom ?? ''), String(patch.segments)]);
    assert.deepEqual(JSON.parse(interventionJson(view)), JSON.parse(JSON.stringify(view)));
    assert.equal(interventionStem(view), 'patch');
  });

  test('kick: the CSV has one row per ε and one per escape grid', () => {
    const rows = csvRows(interventionCsv({ kind: 'kick', result: kick }));
    assert.equal(rows[0][0], 'epsilon');
    assert.deepEqual(rows.slice(1, 1 + kick.curve.length).map((r) => Number(r[0])), kick.curve.map((p) => p.epsilon));
    const escapes = kick.curve.reduce((n, p) => n + p.escapes.length, 0);
    const start = kick.curve.length + 3;
    assert.equal(rows.slice(start, start + escapes).length, escapes);
    assert.deepEqual(rows.at(-1), [String(kick.basinRadius ?? ''), String(kick.basinLevel), String(kick.stateNorm)]);
  });

  test('spectrum: one kept per segment (a new one replaces the old), by segment, none past the trace; the badge and the CSV', () => {
    const [at2, at4, again2] = spectra;
    let kept = keepSpectrum(undefined, at4, 4);
    kept = keepSpectrum(kept, at2, 4);
    assert.deepEqual(kept.map((x) => x.atSegment), [2, 4]);
    kept = keepSpectrum(kept, again2, 4);
    assert.deepEqual(kept.map((x) => x.atSegment), [2, 4]);
    assert.equal(kept[0], again2);
    assert.deepEqual(keepSpectrum(kept, at2, 3).map((x) => x.atSegment), [2], 'a spectrum past a shorter trace goes');
    for (const s of spectra) {
      assert.equal(spectrumBadgeText(s), `ρ = ${s.spectralRadius.toPrecision(4)} · ${spectrumClass(s.spectralRadius)} at segment ${s.atSegment}`);
      const rows = csvRows(interventionCsv({ kind: 'spectrum', result: s }));
      assert.deepEqual(rows[0], ['index', 're', 'im', 'modulus', 'residual']);
      assert.equal(rows.slice(1, 1 + s.eigenvalues.length).length, s.eigenvalues.length);
      assert.ok(Math.abs(Number(rows[1][3]) - s.spectralRadius) <= 1e-9 * Math.max(1, s.spectralRadius), 'ρ is the first eigenvalue\'s modulus');
      assert.equal(rows.at(-1)?.[0], String(s.atSegment));
    }
    assert.equal(interventionStem({ kind: 'spectrum', result: at4 }), 'spectrum-s4');
  });

  test('sweep: one line per (H, L), its points by compute = segments × H × (L + 1), the trained setting on its line', () => {
    const lines = sweepLines(sweep);
    const settings = new Set(sweep.cells.map((c) => `${c.hCycles}/${c.lCycles}`));
    assert.equal(lines.length, settings.size);
    assert.equal(lines.reduce((n, l) => n + l.points.length, 0), sweep.cells.length);
    for (const l of lines) {
      assert.ok(l.points.every((p, i) => i === 0 || p.compute >= l.points[i - 1].compute), `${l.label} by compute`);
      for (const p of l.points) assert.equal(p.compute, p.segments * l.hCycles * (l.lCycles + 1));
      assert.equal(l.trained, l.points.some((p) => p.trained));
    }
    assert.ok(lines.filter((l) => l.trained).length <= 1);
    const rows = csvRows(interventionCsv({ kind: 'sweep', result: sweep, scope: 'puzzle', dataset: null }));
    assert.equal(rows.length, 1 + sweep.cells.length);
    assert.deepEqual(rows[0].slice(0, 7), ['h_cycles', 'l_cycles', 'segments', 'compute', 'exact', 'cell', 'trained']);
  });

  test('lens: one bar per update, z_L reads hollow (the L-steps), a gap before each segment, the jump on a z_H read', () => {
    const bars = lensBars(lens);
    assert.equal(bars.length, lens.steps.length);
    assert.equal(bars.filter((b) => b.first).length, new Set(lens.steps.map((x) => x.segment)).size);
    bars.forEach((b, i) => {
      const step = lens.steps[i];
      assert.equal(b.state, step.state);
      assert.equal(b.label, step.l === null ? `H${step.h}` : `L${step.h}.${step.l}`);
      assert.equal(b.jump, lens.jump === i);
    });
    assert.ok(bars.some((b) => b.state === 'zL') && bars.some((b) => b.state === 'zH'));
    if (lens.jump !== null) assert.equal(bars[lens.jump].state, 'zH', 'the jump is read from z_H');
    const rows = csvRows(interventionCsv({ kind: 'lens', result: lens }));
    assert.equal(rows.length, 1 + lens.steps.length);
    assert.equal(rows.filter((r) => r[8] === 'true').length, lens.jump === null ? 0 : 1);
  });

  test('a result from a saved state that is not of its kind is refused, not half written', () => {
    assert.throws(() => interventionCsv({ kind: 'kick', result: {} } as never), TypeError);
    assert.throws(() => interventionCsv({ kind: 'nothing' } as never), /not an intervention result/);
  });
});


