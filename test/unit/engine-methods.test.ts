/**
 * The engine's `inspect`, `train`, `train.stop` and `evaluate` methods, run through the real handler registry and
 * Dispatcher in-process (structured-cloned replies, as over IPC): inspect with the shipped 4×4 model (or a 3-step
 * model trained here when it is missing), a 3-step training with its ordered progress events, stopping and cancelling
 * a longer training (a valid checkpoint either way), evaluation with the .eval.json it stores, and bad params.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MethodName, ResultOf, TrainEvent } from '../../engine/protocol';
import { getPreset } from '../../engine/train/presets';
import { TRAIN_PRESETS } from '../../extension/commands/train-presets';
import { engineUnderTest } from './helpers/engine-dispatch';

const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-engine-methods-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const engine = engineUnderTest({ timeoutMs: 120_000 });
const { call } = engine;

const stepEvents = (es: TrainEvent[]) => es.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
const PUZZLE = '.1.....3..32....';
const SOLUTION = '3124421314322341';

describe('engine methods: train, inspect, evaluate (in-process)', () => {
  let trained = '';

  before(async () => {
    const out = path.join(tmp, 'run3');
    const c = call('train', { preset: 'tiny-4x4', steps: 3, batch: 8, seed: 1, out });
    const r = await c.result();
    trained = r.checkpoint;
    (globalThis as { run3?: { events: TrainEvent[]; result: typeof r } }).run3 = { events: c.events(), result: r };
  });

  test('train: 3 steps with batch 8 write a checkpoint; step events come in order, then the checkpoint event', () => {
    const { events, result } = (globalThis as unknown as { run3: { events: TrainEvent[]; result: ResultOf<'train'> } }).run3;
    const steps = stepEvents(events);
    assert.deepEqual(steps.map((e) => e.step), [1, 2, 3]);
    for (const e of steps) {
      assert.equal(e.totalSteps, 3);
      assert.ok(Number.isFinite(e.loss) && e.loss > 0);
      assert.ok(e.cellAccuracy >= 0 && e.cellAccuracy <= 1);
      assert.ok(e.stepsPerSecond > 0);
      assert.equal(typeof e.backend, 'string');
    }
    const last = events[events.length - 1];
    assert.deepEqual(last, { kind: 'checkpoint', checkpoint: result.checkpoint, step: 3 });
    assert.equal(result.cancelled, false);
    assert.equal(result.step, 3);
    assert.ok(existsSync(result.checkpoint), result.checkpoint);
    assert.equal(path.dirname(result.checkpoint), result.run);
    assert.ok(result.heldOut && result.heldOut.puzzles > 0 && result.heldOut.perSegment.length === result.heldOut.segments);
    assert.ok(existsSync(path.join(result.run, 'run.json')));
  });

  test('inspect: the shipped 4×4 model (or the 3-step one) gives one grid of 16 cells per segment', async () => {
    const shipped = path.join(root, 'models', 'tiny-4x4.safetensors');
    const checkpoint = existsSync(shipped) ? shipped : trained;
    const s = await engine.ok('inspect', { checkpoint, puzzle: PUZZLE });
    assert.equal(s.segments.length, 4); // tiny-4x4: haltMaxSteps 4
    assert.equal(s.solution, SOLUTION);
    for (const g of s.segments) assert.match(g.grid, /^[1-4.]{16}$/);
    assert.ok(s.firstExact === null || (Number.isInteger(s.firstExact) && s.firstExact >= 1 && s.firstExact <= 4), `firstExact ${s.firstExact}`);
    assert.equal(typeof s.mode.mode, 'string');
    // Per-cell confidence of every segment, and the z_H trajectory on two principal components (arrive as typed arrays).
    assert.ok(s.cellConfidence instanceof Float32Array);
    assert.equal(s.cellConfidence.length, s.segments.length * 16);
    assert.ok(s.cellConfidence.every((c) => c > 0 && c <= 1));
    assert.ok(s.pca);
    assert.ok(s.pca.points instanceof Float64Array);
    assert.equal(s.pca.points.length, 2 * s.pca.updatesPerSegment * s.segments.length);
    assert.ok(s.pca.explained[0] >= s.pca.explained[1] && s.pca.explained[0] <= 1 && s.pca.explained[1] >= 0);
    // The perturbation strip: the 4 cyclic shifts of a 4×4 grid; shift 0 is the identity, whose mapped-back answer is
    // the last segment's grid of the trace itself (same model, same batch-independent forward).
    assert.deepEqual(s.perturbations.map((p) => p.name), ['shift p=0', 'shift p=1', 'shift p=2', 'shift p=3']);
    assert.equal(s.perturbations[0].answer, s.segments.at(-1)?.grid);
    for (const p of s.perturbations) assert.equal(p.exact, p.answer === SOLUTION);
    assert.ok(s.vote.votes >= 1 && s.vote.votes <= s.vote.poolSize && s.vote.poolSize <= 4);
    const two = await engine.ok('inspect', { checkpoint: trained, puzzle: PUZZLE, segments: 2 });
    assert.equal(two.segments.length, 2);
    assert.equal(s.stripPending, undefined);
    // The extension's order: the trace without the strip, then the strip alone — together the same summary.
    const first = await engine.ok('inspect', { checkpoint, puzzle: PUZZLE, strip: false });
    assert.equal(first.stripPending, true);
    assert.deepEqual(first.perturbations, []);
    assert.equal(first.vote.poolSize, 0);
    assert.deepEqual(first.segments, s.segments);
    assert.deepEqual(first.mode, s.mode);
    const strip = await engine.ok('inspect.strip', { checkpoint, puzzle: PUZZLE });
    assert.deepEqual(strip, { perturbations: s.perturbations, vote: s.vote });
    const bad = await call('inspect', { checkpoint, puzzle: PUZZLE, strip: 'no' as unknown as boolean }).reply;
    assert.ok('error' in bad && /strip must be true or false/.test(bad.error.message), JSON.stringify(bad));
    const missing = await call('inspect.strip', { checkpoint: path.join(tmp, 'missing.safetensors'), puzzle: PUZZLE }).reply;
    assert.ok('error' in missing && /no checkpoint file/.test(missing.error.message), JSON.stringify(missing));
  });

  test('train.stop ends a long training early with a valid checkpoint and cancelled: true', async () => {
    const out = path.join(tmp, 'long-stop');
    const c = call('train', { preset: 'tiny-4x4', steps: 100_000, batch: 8, out });
    await c.until((es) => stepEvents(es).length >= 2);
    assert.deepEqual(await engine.ok('train.stop', { out }), { stopping: 1 });
    const r = await c.result();
    assert.equal(r.cancelled, true);
    assert.equal(r.heldOut, null);
    assert.ok(r.step >= 2 && r.step < 100_000);
    assert.ok(existsSync(r.checkpoint));
    const s = await engine.ok('inspect', { checkpoint: r.checkpoint, puzzle: PUZZLE, segments: 1 });
    assert.equal(s.segments.length, 1);
    assert.deepEqual(await engine.ok('train.stop', {}), { stopping: 0 });
  });

  test('cancelling a train request writes a checkpoint first and names it in the Cancelled error', async () => {
    const out = path.join(tmp, 'long-cancel');
    const c = call('train', { preset: 'tiny-4x4', steps: 100_000, batch: 8, out });
    await c.until((es) => stepEvents(es).length >= 2);
    engine.cancel(c.id);
    const r = await c.reply;
    assert.ok('error' in r, 'expected an error reply');
    assert.equal(r.error.code, 'Cancelled');
    const file = /last checkpoint: (.+\.safetensors)$/.exec(r.error.message)?.[1];
    assert.ok(file && existsSync(file), r.error.message);
    assert.equal(path.dirname(file), out);
  });

  test('evaluate: progress done/total, figures per segment, stored in the .eval.json when save is given', async () => {
    const data = path.join(tmp, 'four.txt');
    const blanks = [[0, 2, 4, 5], [1, 6, 7, 10], [3, 8, 12, 15], [9, 11, 13, 14], [0, 5, 10, 15]];
    writeFileSync(data, blanks.map((b) => [...SOLUTION].map((ch, i) => (b.includes(i) ? '.' : ch)).join('')).join('\n') + '\n');
    const c = call('evaluate', { checkpoint: trained, data, segments: 3, save: 'four' });
    const r = await c.result();
    assert.equal(r.puzzles, 5);
    assert.equal(r.segments, 3);
    assert.equal(r.perSegment.length, 3);
    assert.equal(r.step, 3);
    assert.deepEqual(c.events().at(-1), { done: 5, total: 5 });
    assert.ok(r.savedTo && existsSync(r.savedTo));
    const stored = JSON.parse(readFileSync(r.savedTo, 'utf8')) as { sets?: Record<string, { puzzles: number }> };
    assert.equal(stored.sets?.four?.puzzles, 5);
    const limited = await engine.ok('evaluate', { checkpoint: trained, data, limit: 2 });
    assert.equal(limited.puzzles, 2);
    assert.equal(limited.savedTo, null);
  });

  test('import: the PyTorch fixture becomes a native run whose checkpoint inspects; a malicious pickle is refused', async () => {
    const fixture = path.join(root, 'test', 'fixtures', 'torch', 'hrm', 'step_100');
    const out = path.join(tmp, 'imported');
    const r = await engine.ok('import', { file: fixture, out });
    assert.equal(r.sourceFormat, 'torch');
    assert.equal(r.step, 100);
    assert.ok(r.configFile?.endsWith('all_config.yaml'));
    assert.ok(existsSync(r.file) && r.file.startsWith(out));
    assert.ok(existsSync(path.join(out, 'run.json')));
    const insp = await engine.ok('inspect', { checkpoint: r.file, puzzle: '.'.repeat(r.gridSize * r.gridSize), segments: 2 });
    assert.equal(insp.segments.length, 2);
    // A torch zip whose pickle names os.system: refused by name; the file it would create never appears.
    const marker = path.join(tmp, 'pwned');
    const evil = path.join(tmp, 'evil.pt');
    writeFileSync(evil, Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from(`cos\nsystem\n(Vtouch ${marker}\ntR.`, 'latin1')]));
    const refused = await call('import', { file: evil, out: path.join(tmp, 'evil') }).reply;
    assert.ok('error' in refused, JSON.stringify(refused));
    assert.match(refused.error.message, /os\.system|not a|zip/i);
    assert.equal(existsSync(marker), false);
    assert.equal(existsSync(path.join(tmp, 'evil')), false);
  });

  test('probe and ensemble: the shipped model against the 3-step one; figures, report text and progress', async () => {
    const shipped = path.join(root, 'models', 'tiny-4x4.safetensors');
    const c = call('probe', { checkpoints: [shipped, trained], masks: ['cell', 'row'], count: 6, segments: 3, seed: 2 });
    const r = await c.result();
    assert.equal(r.segments, 3);
    assert.equal(r.rows.length, 2 * 3); // 2 checkpoints × (2 masks + all)
    const shippedCell = r.rows.find((x) => x.checkpoint === shipped && x.mask === 'cell');
    const trainedCell = r.rows.find((x) => x.checkpoint === trained && x.mask === 'cell');
    assert.ok(shippedCell && trainedCell);
    assert.equal(shippedCell.puzzles, 6);
    assert.equal(shippedCell.exactBySegment.length, 3);
    // One blank cell: the shipped model (83% on hard 4×4 puzzles) beats a 3-step model.
    assert.ok(shippedCell.finalAccuracy > trainedCell.finalAccuracy, JSON.stringify([shippedCell, trainedCell]));
    assert.match(r.text, /probe: 12 puzzles \(cell, row\)/);
    assert.deepEqual(c.events().at(-1), { done: 24, total: 24 });
    const e = call('ensemble', { sources: [trained, shipped], generate: 8, segments: 3, seed: 4 });
    const er = await e.result();
    assert.equal(er.puzzles, 8);
    assert.equal(er.checkpoints, 2);
    assert.equal(er.perturbations, 4); // the 4 cyclic shifts of a 4×4 grid
    for (const k of ['baseline', 'relabeling', 'checkpoints', 'both'] as const) {
      assert.ok(er.summary[k].oracle >= 0 && er.summary[k].oracle <= 1);
    }
    // The oracle OR over checkpoints can only add solved puzzles to the baseline (the last checkpoint).
    assert.ok(er.summary.checkpoints.oracle >= er.summary.baseline.oracle - 1e-12);
    assert.match(er.text, /8 puzzles × 2 checkpoints × 4 perturbations/);
  });

  test('train on a dataset file: the run records the file as its data source', async () => {
    const data = path.join(tmp, 'four-train.txt');
    const blanks = [[0, 2, 4, 5], [1, 6, 7, 10], [3, 8, 12, 15]];
    writeFileSync(data, blanks.map((b) => [...SOLUTION].map((ch, i) => (b.includes(i) ? '.' : ch)).join('')).join('\n') + '\n');
    const out = path.join(tmp, 'run-data');
    const r = await engine.ok('train', { preset: 'tiny-4x4', steps: 2, batch: 4, seed: 1, out, data });
    assert.equal(r.step, 2);
    const spec = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as { spec?: { data?: { kind?: string; puzzles?: number } } };
    assert.equal(spec.spec?.data?.kind, 'file');
    assert.equal(spec.spec?.data?.puzzles, 3);
  });

  test('landscape: heights and flow for every point of a 9×9 grid of the plane, progress, and cancellation', async () => {
    const shipped = path.join(root, 'models', 'tiny-4x4.safetensors');
    const c = call('landscape', { checkpoint: shipped, puzzle: PUZZLE, size: 9, segments: 2 });
    const r = await c.result();
    assert.equal(r.size, 9);
    assert.equal(r.heights.length, 81);
    assert.equal(r.flow.length, 162);
    assert.ok(r.heights instanceof Int16Array && r.flow instanceof Float32Array);
    assert.equal(r.heights[40], r.centreEnergy, 'the centre point is the last state');
    assert.deepEqual(c.events().at(-1), { done: 81, total: 81 });
    // A large landscape cancelled after its first progress event answers Cancelled.
    const res = await call('landscape', { checkpoint: shipped, puzzle: PUZZLE, size: 61, segments: 2, basins: true }, { cancelAfter: 1 }).reply;
    assert.ok('error' in res && res.error.code === 'Cancelled', JSON.stringify(res).slice(0, 300));
  });

  test('bad params are refused with InvalidParams', async () => {
    const bad: [MethodName, object][] = [
      ['train', { preset: 'tiny-4x4' }], ['train', { preset: 'tiny-4x4', out: path.join(tmp, 'x'), steps: 0 }],
      ['train', { preset: 'tiny-4x4', out: path.join(tmp, 'y'), backend: 'gpu' }], ['evaluate', { checkpoint: trained }],
      ['evaluate', { checkpoint: trained, data: 'x', segments: 0 }], ['import', { file: '', out: 'x' }], ['probe', { checkpoints: [] }], ['ensemble', { sources: ['a'], perturb: 'flip' }], ['landscape', { checkpoint: 'a', puzzle: PUZZLE, size: 4 }],
    ];
    for (const [method, params] of bad) {
      const r = await call(method, params as never).reply;
      assert.ok('error' in r && r.error.code === 'InvalidParams', `${method} ${JSON.stringify(params)}: ${JSON.stringify(r)}`);
    }
    const unknown = await call('train', { preset: 'nope', out: path.join(tmp, 'z'), steps: 1 }).reply;
    assert.ok('error' in unknown && /unknown preset/.test(unknown.error.message));
  });
});

test('the presets offered by "HRM: Train" exist in the engine with the same default steps', () => {
  for (const p of TRAIN_PRESETS) assert.equal(getPreset(p.name).train.steps, p.defaultSteps, p.name);
});
