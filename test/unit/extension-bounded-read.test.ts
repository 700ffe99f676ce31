/**
 * What the extension host reads from run folders: run.json and .eval.json only when they are regular files of at most
 * 1 MiB (a FIFO, a link to /dev/zero or a 10 MB file is refused without reading it), and of metrics.jsonl only its
 * newest whole lines within the bound. Hostile files are made here, in a temp folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileReadRefused, MAX_JSON_BYTES, readBoundedJsonObject, readBoundedText, readTextTail } from '../../extension/views/bounded-read';
import { readCheckpointEval, readRun, readRunSpec } from '../../extension/views/run-files';
import { readMetricsHistory } from '../../extension/panels/training-history';

const posix = process.platform !== 'win32';

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'hrm-bounded-'));
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

const RUN = { format: 'hrm-lens-run', spec: { preset: 'tiny-4x4', seed: 1, mixing: false, train: { steps: 10, batch: 8 }, backend: { name: 'cpu' } } };

test('a regular run.json is read; one larger than 1 MiB is refused, even when it is valid JSON', async () => {
  const dir = tempDir();
  try {
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify(RUN));
    assert.equal((await readRunSpec(dir))?.preset, 'tiny-4x4');
    // 10 MB of valid JSON: the spec plus padding.
    writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...RUN, pad: 'x'.repeat(10 * 1024 * 1024) }));
    assert.equal(await readRunSpec(dir), undefined);
    await assert.rejects(readBoundedText(path.join(dir, 'run.json')), (e: unknown) => e instanceof FileReadRefused && e.reason === 'too-large');
    // Exactly at the bound is read.
    const exact = JSON.stringify(RUN);
    writeFileSync(path.join(dir, 'run.json'), exact + ' '.repeat(MAX_JSON_BYTES - exact.length));
    assert.equal((await readRunSpec(dir))?.preset, 'tiny-4x4');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run.json or .eval.json that is a FIFO is refused without blocking', { skip: !posix, timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    mkfifo(path.join(dir, 'run.json'));
    writeFileSync(path.join(dir, 'step-000010.safetensors'), 'not really weights');
    mkfifo(path.join(dir, 'step-000010.eval.json'));
    assert.equal(await readRunSpec(dir), undefined);
    assert.equal(await readCheckpointEval(path.join(dir, 'step-000010.safetensors')), undefined);
    await assert.rejects(readBoundedText(path.join(dir, 'run.json')), (e: unknown) => e instanceof FileReadRefused && e.reason === 'not-a-file' && /FIFO/.test(e.message));
    const run = await readRun(dir);
    assert.ok(run, 'the folder is still listed');
    assert.equal(run.spec, undefined);
    assert.equal(run.checkpoints.length, 1);
    assert.equal(run.checkpoints[0].evaluation, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a run.json linked to /dev/zero is refused (a device, never read)', { skip: !existsSync('/dev/zero'), timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    symlinkSync('/dev/zero', path.join(dir, 'run.json'));
    assert.equal(await readRunSpec(dir), undefined);
    await assert.rejects(readBoundedText(path.join(dir, 'run.json')), (e: unknown) => e instanceof FileReadRefused && /device/.test(e.message));
    assert.equal(await readBoundedJsonObject(path.join(dir, 'run.json')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an .eval.json larger than 1 MiB, or that is a folder, reads as no evaluation', async () => {
  const dir = tempDir();
  try {
    const ckpt = path.join(dir, 'step-000010.safetensors');
    writeFileSync(ckpt, 'not really weights');
    const fig = { step: 10, puzzles: 5, segments: 4, exact: 0.5, cell: 0.75 };
    writeFileSync(path.join(dir, 'step-000010.eval.json'), JSON.stringify(fig));
    assert.equal((await readCheckpointEval(ckpt))?.sets[0].exact, 0.5);
    writeFileSync(path.join(dir, 'step-000010.eval.json'), JSON.stringify({ ...fig, sets: { big: { ...fig, note: 'y'.repeat(2 * MAX_JSON_BYTES) } } }));
    assert.equal(await readCheckpointEval(ckpt), undefined);
    rmSync(path.join(dir, 'step-000010.eval.json'));
    mkdirSync(path.join(dir, 'step-000010.eval.json'));
    assert.equal(await readCheckpointEval(ckpt), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metrics.jsonl: only its newest whole lines within the bound are read; a FIFO is an empty history', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const line = (step: number) => `${JSON.stringify({ step, loss: 1 / step, batchCellAccuracy: 0.5, segmentExact: [0, 0.5] })}\n`;
    const text = Array.from({ length: 200 }, (_, i) => line(i + 1)).join('');
    writeFileSync(path.join(dir, 'metrics.jsonl'), text);
    const whole = await readMetricsHistory(dir);
    assert.equal(whole.points.length, 200);
    assert.equal(whole.omittedBytes, 0);
    // A bound of 30 lines and a half: the torn first line is dropped, the newest 30 steps are read.
    const newest = Array.from({ length: 30 }, (_, i) => line(171 + i)).join('');
    const bound = newest.length + 20;
    const tail = await readMetricsHistory(dir, bound);
    assert.deepEqual(tail.points.map((p) => p.step), Array.from({ length: 30 }, (_, i) => 171 + i));
    assert.equal(tail.skipped, 0, 'no torn line is parsed');
    assert.equal(tail.omittedBytes, text.length - newest.length);
    const t = await readTextTail(path.join(dir, 'metrics.jsonl'), bound);
    assert.ok(t.text.startsWith('{"step":171,'), t.text.slice(0, 40));
    // One absurd line among good ones is skipped, not parsed.
    writeFileSync(path.join(dir, 'metrics.jsonl'), line(1) + `{"step":2,"loss":1,"pad":"${'z'.repeat(100_000)}"}\n` + line(3));
    const odd = await readMetricsHistory(dir);
    assert.deepEqual(odd.points.map((p) => p.step), [1, 3]);
    assert.equal(odd.skipped, 1);
    if (posix) {
      rmSync(path.join(dir, 'metrics.jsonl'));
      mkfifo(path.join(dir, 'metrics.jsonl'));
      assert.deepEqual(await readMetricsHistory(dir), { points: [], skipped: 0, omittedBytes: 0 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
