/**
 * Hostile checkpoints, generated here in a temp folder: weights with NaN / ±Inf values (native safetensors and an
 * imported torch.save file) and configs with fields out of range (checkpoint metadata, run.json, all_config.yaml,
 * the metadata of an imported HRM Lens file). Each is refused when opened with a DataError that names the file and
 * the tensor or field; the config ranges admit the reference models and every preset.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../../engine/backend';
import {
  CONFIG_RANGES, HRM_SUDOKU_27M, MAX_MODEL_WEIGHTS, TINY_4X4, TRM_SUDOKU_ATT, configFromFile, configIssues, configToJson, shapeSize,
  weightCount, weightSpecs, type HrmConfig,
} from '../../engine/model';
import { countNonFinite } from '../../engine/model/finite-weights';
import { loadCheckpoint } from '../../engine/train/checkpoint';
import { loadModel } from '../../engine/train/load-model';
import { PRESETS, trainSettingsProblems } from '../../engine/train/presets';
import { Trainer } from '../../engine/train/trainer';
import { importCheckpoint } from '../../engine/interop/import-checkpoint';
import { parseTorchCheckpoint } from '../../engine/interop/torch-zip';
import { ZipArchive } from '../../engine/interop/zip-entries';
import { encodeStoredZip } from '../../engine/interop/zip-writer';
import { DataError } from '../../engine/util/errors';
import { type Tensors, tinyWeights, withValues, writeNativeCheckpoint } from './helpers/hostile-checkpoints';

const dir = mkdtempSync(path.join(tmpdir(), 'hrm-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const FIX = path.join(__dirname, '..', 'fixtures', 'torch');
let weights: Tensors;

before(async () => {
  await selectBackend({ backend: 'cpu' });
  weights = tinyWeights();
});

/** Asserts `err` is a DataError for `file` and `field` whose message matches `reason`. */
function isDataError(err: unknown, file: string, field: string, reason: RegExp): true {
  assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
  assert.equal(err.location.file, file);
  assert.equal(err.location.field, field);
  assert.match(err.message, reason);
  return true;
}

const DOWN = 'L_level.layers.0.mlp.down_proj.weight';

test('a checkpoint with NaN and infinite weights is refused when opened, naming the file, the tensor and the count', async () => {
  const n = weights.get(DOWN)!.data.length;
  const file = writeNativeCheckpoint(path.join(dir, 'nan.safetensors'), {}, withValues(weights, DOWN, [NaN, 1, NaN, Infinity, -Infinity]));
  await assert.rejects(loadModel(file), (e) => isDataError(e, file, DOWN, new RegExp(`4 of ${n} values are not finite \\(2 NaN, 1 \\+Inf, 1 -Inf\\)`)));
  // The check is in loadCheckpoint: resuming a run and every reader of run checkpoints get it too.
  await assert.rejects(loadCheckpoint(file), (e) => isDataError(e, file, DOWN, /not finite/));

  // Several tensors: the first is the field, the others are listed.
  const two = withValues(withValues(weights, DOWN, [Infinity]), 'q_head.weight', [NaN]);
  const file2 = writeNativeCheckpoint(path.join(dir, 'nan2.safetensors'), {}, two);
  await assert.rejects(loadModel(file2), (e) => {
    assert.ok(e instanceof DataError);
    assert.ok([DOWN, 'q_head.weight'].includes(e.location.field ?? ''), e.message);
    assert.match(e.message, /1 more weight with non-finite values: (L_level\.layers\.0\.mlp\.down_proj\.weight|q_head\.weight)/);
    return true;
  });

  // Finite weights (the same tensors) load.
  const good = writeNativeCheckpoint(path.join(dir, 'good.safetensors'));
  const { model } = await loadModel(good);
  model.dispose();
});

test('countNonFinite counts NaN, +Inf and -Inf; finite extremes are fine', () => {
  assert.equal(countNonFinite(Float32Array.of(0, -0, 3.4e38, -3.4e38, 1e-45)), undefined);
  assert.deepEqual(countNonFinite(Float32Array.of(NaN, Infinity, -Infinity, NaN, 1)), { nan: 2, posInf: 1, negInf: 1 });
});

test('checkpoint metadata with haltMaxSteps = 1e9 or H_cycles = 1e6 is refused when opened, before any model is built', async () => {
  for (const [field, value, range] of [['haltMaxSteps', 1e9, '1…256'], ['H_cycles', 1e6, '1…64'], ['L_cycles', 1e6, '1…64']] as const) {
    const file = writeNativeCheckpoint(path.join(dir, `${field}.safetensors`), { [field]: value });
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(loadModel(file), (e) => isDataError(e, file, `config.${field}`, new RegExp(`${field} must be an integer in ${range}, got ${value}`)));
    // Nothing sized by the value was allocated (a generous bound: the file itself is a few hundred kB).
    assert.ok(process.memoryUsage().arrayBuffers - before < 256 * 2 ** 20);
  }
});

test('every config field has a range: absurd, fractional, negative and non-numeric values are refused with the field named', () => {
  const bad: [string, unknown][] = [
    ['gridSize', 25], ['hidden', 100_000], ['hidden', 0], ['heads', 0], ['heads', 2.5], ['heads', 512], ['expansion', 0], ['expansion', 1000],
    ['interMultiple', 1e9], ['H_layers', 1000], ['H_layers', 0], ['L_layers', 0], ['L_layers', -1], ['H_cycles', 65], ['L_cycles', 1.5],
    ['haltMaxSteps', 257], ['haltMaxSteps', -3], ['haltExplorationProb', 2], ['ropeTheta', 0], ['ropeTheta', 1e12], ['rmsEps', 5],
    ['rmsEps', -1e-5], ['puzzleEmbLen', 1e6], ['puzzleEmbLen', -1], ['positions', 'sinusoidal'], ['variant', 'gpt'], ['hidden', 'NaN'],
    ['haltMaxSteps', null],
  ];
  for (const [field, value] of bad) {
    assert.throws(() => configFromFile({ ...configToJson(TINY_4X4), [field]: value }, 'ck.safetensors'),
      (e) => isDataError(e, 'ck.safetensors', `config.${field}`, new RegExp(`bad model config: .*${field}`)), `${field} = ${String(value)}`);
  }
  // A JSON text that is not JSON names the config as a whole.
  assert.throws(() => configFromFile('{oops', 'ck.safetensors'), (e) => isDataError(e, 'ck.safetensors', 'config', /bad model config/));
  // Each field within its range, but together too many weights.
  const huge = { ...TINY_4X4, hidden: 8192, heads: 64, expansion: 16, H_layers: 64, L_layers: 64 };
  assert.deepEqual(configIssues(huge).map((i) => i.field), ['config']);
  assert.ok(weightCount(huge) > MAX_MODEL_WEIGHTS);
});

test('the ranges admit the reference HRM and TRM, every preset, and the bounds themselves', () => {
  const limits: HrmConfig = { ...TINY_4X4, H_cycles: CONFIG_RANGES.H_cycles.max, L_cycles: CONFIG_RANGES.L_cycles.max, haltMaxSteps: CONFIG_RANGES.haltMaxSteps.max };
  for (const c of [HRM_SUDOKU_27M, TRM_SUDOKU_ATT, TINY_4X4, limits, ...Object.values(PRESETS).map((p) => p.model)]) {
    assert.deepEqual(configIssues(c), [], JSON.stringify(c));
    assert.equal(weightCount(c), weightSpecs(c).reduce((a, s) => a + shapeSize(s.shape), 0), 'weightCount = the sum over weightSpecs');
  }
  for (const p of Object.values(PRESETS)) assert.deepEqual(trainSettingsProblems(p.train), [], p.name);
});

test('a run.json with an absurd model config or training setting is refused on resume, naming run.json and the field', async () => {
  const spec = { ...PRESETS['tiny-4x4'], preset: 'tiny-4x4', seed: 0, mixing: false, augment: false, data: { kind: 'generated' }, backend: {} };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...spec, model: { ...configToJson(TINY_4X4), haltMaxSteps: 1e9 } }, 'spec.model.haltMaxSteps', /haltMaxSteps must be an integer in 1…256/],
    [{ ...spec, model: configToJson(TINY_4X4), train: { ...spec.train, batch: 1e9 } }, 'spec.train.batch', /batch must be an integer in 1…65536/],
    [{ ...spec, model: configToJson(TINY_4X4), train: { ...spec.train, evalSegments: 0 } }, 'spec.train.evalSegments', /evalSegments must be an integer in 1…256, got 0/],
  ];
  for (const [i, [runSpec, field, reason]] of cases.entries()) {
    const run = path.join(dir, `run${i}`);
    mkdirSync(run);
    const file = path.join(run, 'run.json');
    writeFileSync(file, JSON.stringify({ format: 'hrm-lens-run', spec: runSpec }));
    await assert.rejects(Trainer.readRunSpec(run), (e) => isDataError(e, file, field, reason));
  }
});

/** The fp32 reference fixture with `values` written into the storage `entry`, beside a copy of its all_config.yaml. */
function corruptTorchFixture(name: string, entry: string, values: number[], yaml?: string): string {
  const src = path.join(FIX, 'hrm', 'step_100');
  const zip = new ZipArchive(new Uint8Array(readFileSync(src)), src);
  const entries = zip.entries.map((e) => ({ name: e.name, data: zip.read(e.name).slice() }));
  const target = entries.find((e) => e.name === entry);
  assert.ok(target, `fixture entry ${entry}`);
  new Float32Array(target.data.buffer, target.data.byteOffset, target.data.byteLength / 4).set(values, 0);
  const out = path.join(dir, name);
  mkdirSync(out);
  writeFileSync(path.join(out, 'step_100'), encodeStoredZip(entries));
  if (yaml === undefined) copyFileSync(path.join(FIX, 'hrm', 'all_config.yaml'), path.join(out, 'all_config.yaml'));
  else writeFileSync(path.join(out, 'all_config.yaml'), yaml);
  return path.join(out, 'step_100');
}

test('import: a torch.save checkpoint with NaN weights is refused, naming the file, the key and the count; nothing is written', async () => {
  const file = corruptTorchFixture('torch-nan', 'step_100/data/13', [NaN, 0.5, Infinity]);
  const bad = [...parseTorchCheckpoint(new Uint8Array(readFileSync(file)), file).tensors].filter(([, t]) => countNonFinite(t.data));
  assert.equal(bad.length, 1, 'the corrupted storage belongs to one weight');
  const [key, t] = bad[0];
  const out = path.join(dir, 'torch-nan-run');
  await assert.rejects(importCheckpoint(file, { out }), (e) => isDataError(e, file, key, new RegExp(`2 of ${t.data.length} values are not finite \\(1 NaN, 1 \\+Inf\\)`)));
  assert.equal(existsSync(out), false);
});

test('import: all_config.yaml with H_cycles = 1e6 or halt_max_steps = 1e9 is refused, naming the YAML file and the key', async () => {
  const yaml = readFileSync(path.join(FIX, 'hrm', 'all_config.yaml'), 'utf8');
  for (const [key, value, range] of [['H_cycles', '1000000', '1…64'], ['halt_max_steps', '1000000000', '1…256'], ['num_heads', '2.5', '1…256']] as const) {
    const changed = yaml.replace(new RegExp(`^(\\s*${key}:).*$`, 'm'), `$1 ${value}`);
    assert.notEqual(changed, yaml);
    const file = corruptTorchFixture(`yaml-${key}`, 'step_100/data/13', [0.25], changed);
    const yamlFile = path.join(path.dirname(file), 'all_config.yaml');
    await assert.rejects(importCheckpoint(file, { out: path.join(dir, `yaml-${key}-run`) }),
      (e) => isDataError(e, yamlFile, `arch.${key}`, new RegExp(`${key} must be an integer in ${range}, got ${Number(value)}`)));
  }
});

test('import: an HRM Lens safetensors whose metadata config is out of range is refused (__metadata__.config.<field>)', async () => {
  const file = writeNativeCheckpoint(path.join(dir, 'import-halt.safetensors'), { haltMaxSteps: 1e9 });
  await assert.rejects(importCheckpoint(file, { out: path.join(dir, 'import-halt-run') }),
    (e) => isDataError(e, file, '__metadata__.config.haltMaxSteps', /haltMaxSteps must be an integer in 1…256, got 1000000000/));
  const nan = writeNativeCheckpoint(path.join(dir, 'import-nan.safetensors'), {}, withValues(weights, 'lm_head.weight', [-Infinity]));
  await assert.rejects(importCheckpoint(nan, { out: path.join(dir, 'import-nan-run') }),
    (e) => isDataError(e, nan, 'lm_head.weight', /1 of \d+ values are not finite \(1 -Inf\)/));
});
