/**
 * The shipped models as the pickers and the Shipped Models view read them (extension/views/shipped-models.ts): every
 * HRM Lens checkpoint at the top of a models folder with its grid size, preset, step and held-out figures; a broken
 * .eval.json leaves the model listed with the reason; files of other kinds, optimizer state and a run's sub-folder
 * are left out; the number of files read is bounded. Real files: the repository's models/ and a temp folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCheckpointHeader } from '../../extension/views/checkpoint-header';
import {
  MAX_SHIPPED_MODELS, readShippedModels, shippedModelDescription, shippedModelDetail, shippedModelLabel,
} from '../../extension/views/shipped-models';

const root = path.resolve(import.meta.dirname, '..', '..');
const modelsDir = path.join(root, 'models');
const tiny = path.join(modelsDir, 'tiny-4x4.safetensors');

/** A header-only safetensors file with these metadata. */
function writeSafetensors(file: string, metadata: Record<string, string>): void {
  const json = Buffer.from(JSON.stringify({ __metadata__: metadata }), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json]));
}

/** An HRM Lens checkpoint header of a `side`×`side` model trained with `preset`. */
function writeHrmHeader(file: string, side: number, preset: string, step = 10): void {
  writeSafetensors(file, {
    format: 'hrm-lens', format_version: '1', step: String(step),
    config: JSON.stringify({ gridSize: side, hidden: 64 }), meta: JSON.stringify({ step, seed: 1, preset }),
  });
}

function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-shipped-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the header of the shipped 4×4 model names its preset', async () => {
  assert.deepEqual(await readCheckpointHeader(tiny), { kind: { hrm: true, gridSize: 4, step: 2000 }, preset: 'tiny-4x4' });
});

test('every checkpoint of the repository\'s models folder is a shipped model with its grid size, preset and held-out figures', async () => {
  const models = await readShippedModels(modelsDir);
  const files = readdirSync(modelsDir).filter((f) => f.endsWith('.safetensors')).sort();
  assert.deepEqual(models.map((m) => path.basename(m.file)).sort(), files, 'each models/*.safetensors is listed');
  assert.deepEqual(models.map((m) => m.gridSize), [...models.map((m) => m.gridSize)].sort((a, b) => (a ?? 99) - (b ?? 99)), 'by grid size');
  assert.equal(models[0].name, 'tiny-4x4', 'the 4×4 model first');
  for (const m of models) {
    const stem = path.basename(m.file, '.safetensors');
    const stored = JSON.parse(readFileSync(path.join(modelsDir, `${stem}.eval.json`), 'utf8')) as { exact: number; cell: number; puzzles: number; segments: number };
    assert.ok(m.preset && stem.startsWith(m.preset), `${stem}: the preset of its metadata (${m.preset})`);
    assert.equal(m.gridSize, Number(/(\d)x\d/.exec(stem)?.[1]), `${stem}: the grid size of its config`);
    assert.ok(m.heldOut, `${stem}: its .eval.json is read`);
    assert.equal(m.heldOut.exact, stored.exact);
    assert.equal(m.heldOut.puzzles, stored.puzzles);
    assert.equal(m.evalProblem, undefined);
    assert.equal(shippedModelDescription(m), `${m.gridSize}×${m.gridSize} · preset ${m.preset} · held-out exact ${(stored.exact * 100).toFixed(1)}%`);
    assert.match(shippedModelDetail(m), new RegExp(`^models/${stem}\\.safetensors · step \\d+ · \\d+ KiB · cell \\d+\\.\\d%, ${stored.puzzles} puzzles, ${stored.segments} segments$`));
    assert.equal(shippedModelLabel(m), `${stem} (shipped model)`);
  }
  const six = models.filter((m) => m.gridSize === 6);
  assert.ok(six.some((m) => m.name === 'small-6x6'), 'a 6×6 model ships');
  assert.equal(models.filter((m) => m.gridSize === 9).length, 0, 'no 9×9 model ships');
});

test('a models folder: checkpoints with and without a readable .eval.json are listed; other files and sub-folders are not', () => withDir(async (dir) => {
  copyFileSync(tiny, path.join(dir, 'a-4x4.safetensors'));
  copyFileSync(path.join(modelsDir, 'tiny-4x4.eval.json'), path.join(dir, 'a-4x4.eval.json'));
  writeHrmHeader(path.join(dir, 'b-6x6.safetensors'), 6, 'hard-6x6', 2500);
  writeFileSync(path.join(dir, 'b-6x6.eval.json'), '{ "exact": 0.5, ');
  writeHrmHeader(path.join(dir, 'c-6x6.safetensors'), 6, 'small-6x6');
  writeFileSync(path.join(dir, 'c-6x6.eval.json'), '{"note": "no figures"}');
  writeHrmHeader(path.join(dir, 'd-9x9.safetensors'), 9, 'easy-9x9');
  writeFileSync(path.join(dir, 'd-9x9.eval.json'), '[1, 2]');
  writeHrmHeader(path.join(dir, 'e-6x6.safetensors'), 6, 'small-6x6');
  writeSafetensors(path.join(dir, 'bert.safetensors'), { format: 'pt' });
  writeSafetensors(path.join(dir, 'a-4x4.optim.safetensors'), { format: 'hrm-lens-optim' });
  writeFileSync(path.join(dir, 'notes.safetensors'), 'not a checkpoint at all');
  writeFileSync(path.join(dir, 'README.md'), '# models\n');
  mkdirSync(path.join(dir, 'b-6x6-run'));
  writeHrmHeader(path.join(dir, 'b-6x6-run', 'step-002500.safetensors'), 6, 'hard-6x6', 2500);
  mkdirSync(path.join(dir, 'folder.safetensors'));

  const models = await readShippedModels(dir);
  assert.deepEqual(models.map((m) => [m.name, m.gridSize, m.preset]), [
    ['a-4x4', 4, 'tiny-4x4'], ['b-6x6', 6, 'hard-6x6'], ['c-6x6', 6, 'small-6x6'], ['e-6x6', 6, 'small-6x6'], ['d-9x9', 9, 'easy-9x9'],
  ]);
  const [a, b, c, e, d] = models;
  assert.equal(a.file, path.join(dir, 'a-4x4.safetensors'));
  assert.equal(a.heldOut?.exact, 0.832);
  assert.equal(a.step, 2000);
  assert.equal(b.heldOut, undefined);
  assert.match(b.evalProblem ?? '', /^b-6x6\.eval\.json is not JSON/);
  assert.equal(shippedModelDescription(b), '6×6 · preset hard-6x6 · evaluation unreadable');
  assert.match(shippedModelDetail(b), /^models\/b-6x6\.safetensors · step 2500 · 1 KiB · b-6x6\.eval\.json is not JSON/);
  assert.equal(c.evalProblem, 'c-6x6.eval.json holds no exact and cell accuracy');
  assert.equal(d.evalProblem, 'd-9x9.eval.json is not a JSON object');
  assert.equal(e.evalProblem, undefined, 'no .eval.json: not evaluated, no problem');
  assert.equal(shippedModelDescription(e), '6×6 · preset small-6x6 · not evaluated');
}));

test('a missing models folder has no models; at most MAX_SHIPPED_MODELS files are read', () => withDir(async (dir) => {
  assert.deepEqual(await readShippedModels(path.join(dir, 'absent')), []);
  for (let i = 0; i < MAX_SHIPPED_MODELS + 6; i++) writeHrmHeader(path.join(dir, `m-${String(i).padStart(3, '0')}.safetensors`), 4, 'tiny-4x4');
  const models = await readShippedModels(dir);
  assert.equal(models.length, MAX_SHIPPED_MODELS);
  assert.equal(models.at(-1)?.name, `m-${String(MAX_SHIPPED_MODELS - 1).padStart(3, '0')}`, 'the first files by name');
}));

test('the package ships each top-level model with its .eval.json, and no run folder (.vscodeignore)', () => {
  const lines = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '**', 'everything is left out unless re-included');
  assert.ok(lines.includes('!models/*.safetensors') && lines.includes('!models/*.eval.json'));
  // `*` stops at a folder: models/<name>-run/ (run.json, metrics.jsonl, its step checkpoints) stays out.
  assert.deepEqual(lines.filter((l) => l.startsWith('!models/') && (l.includes('**') || l.split('/').length > 2)), []);
});
