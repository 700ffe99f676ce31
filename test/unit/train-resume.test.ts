/**
 * Training end to end through the CLI: a run killed with SIGKILL and resumed from its newest checkpoint logs exactly
 * the losses of the uninterrupted run, step for step (same seed, data and backend). Also: the same seed gives a
 * byte-identical checkpoint. A run folder that kept only its weights resumes with --fresh-optimizer, and only with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const args = ['--preset', 'tiny-4x4', '--batch', '8', '--steps', '30', '--checkpoint-every', '4', '--eval-puzzles', '4', '--seed', '5', '--mixing', '--backend', 'wasm', '--quiet'];

function cli(extra: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), 'train', ...extra], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += c; });
    onSpawn?.(child);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function losses(dir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as { step: number; loss: number };
    out.set(r.step, r.loss);
  }
  return out;
}

test('a SIGKILLed run resumed from its checkpoint matches the uninterrupted run step for step', { timeout: 240_000 }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-resume-'));
  try {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const full = await cli([...args, '--out', a]);
    assert.equal(full.code, 0, full.stderr);

    // Kill run b with SIGKILL as soon as its second checkpoint exists.
    const killed = await cli([...args, '--out', b], (child) => {
      const timer = setInterval(() => {
        if (existsSync(path.join(b, 'step-000008.safetensors'))) { clearInterval(timer); child.kill('SIGKILL'); }
      }, 10);
      child.on('exit', () => clearInterval(timer));
    });
    assert.equal(killed.signal, 'SIGKILL', 'the run should have been killed before it finished');
    const resumedFrom = Math.max(...readdirSync(b).filter((f) => /^step-\d+\.safetensors$/.test(f)).map((f) => Number(f.slice(5, 11))));
    assert.ok(resumedFrom >= 8 && resumedFrom < 30, `resumes from step ${resumedFrom}`);

    const resumed = await cli(['--resume', b, '--backend', 'wasm', '--quiet']);
    assert.equal(resumed.code, 0, resumed.stderr);

    const la = losses(a);
    const lb = losses(b);
    assert.equal(la.size, 30);
    assert.equal(lb.size, 30, 'the resumed log has every step once');
    for (let s = 1; s <= 30; s++) assert.equal(lb.get(s), la.get(s), `loss at step ${s}`);
    // Same seed, data and backend: the final checkpoints are byte-identical.
    const wa = readFileSync(path.join(a, 'step-000030.safetensors'));
    const wb = readFileSync(path.join(b, 'step-000030.safetensors'));
    const strip = (buf: Buffer) => { const n = Number(buf.readBigUInt64LE(0)); return buf.subarray(8 + n); };
    assert.ok(strip(wa).equals(strip(wb)), 'final weights identical');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a run folder that kept only its weights resumes with --fresh-optimizer, and only with it', { timeout: 240_000 }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-fresh-'));
  try {
    const dir = path.join(tmp, 'run');
    const base = ['--preset', 'tiny-4x4', '--batch', '8', '--checkpoint-every', '4', '--eval-puzzles', '4', '--seed', '2', '--backend', 'wasm', '--quiet'];
    const first = await cli([...base, '--steps', '8', '--out', dir]);
    assert.equal(first.code, 0, first.stderr);
    // What a shipped model keeps: the weights and the log, no optimizer state.
    for (const f of readdirSync(dir)) if (f.endsWith('.optim.safetensors') || f.startsWith('step-000004')) rmSync(path.join(dir, f));
    const refused = await cli(['--resume', dir, '--steps', '12', '--backend', 'wasm', '--quiet']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /step-000008\.safetensors: no optimizer state beside it; cannot resume exactly \(--fresh-optimizer continues/);
    const fresh = await cli(['--resume', dir, '--steps', '12', '--fresh-optimizer', '--backend', 'wasm', '--quiet']);
    assert.equal(fresh.code, 0, fresh.stderr);
    const steps = [...losses(dir).keys()];
    assert.deepEqual(steps, Array.from({ length: 12 }, (_, i) => i + 1), 'the log goes on from step 9');
    assert.ok(existsSync(path.join(dir, 'step-000012.safetensors')));
    assert.ok(existsSync(path.join(dir, 'step-000012.optim.safetensors')), 'the continued run keeps its own optimizer state');
    const strip = (buf: Buffer) => { const n = Number(buf.readBigUInt64LE(0)); return buf.subarray(8 + n); };
    assert.ok(!strip(readFileSync(path.join(dir, 'step-000012.safetensors'))).equals(strip(readFileSync(path.join(dir, 'step-000008.safetensors')))), 'the weights moved');
    const misuse = await cli([...base, '--steps', '4', '--fresh-optimizer', '--out', path.join(tmp, 'other')]);
    assert.equal(misuse.code, 1);
    assert.match(misuse.stderr, /--fresh-optimizer goes with --resume DIR/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
