/**
 * `hrm-lens train --backend torch --nproc-per-node 2`: two processes (DistributedDataParallel over gloo) train tiny-4x4
 * for 40 steps on the engine's data. Every step's losses are within 1e-4 (relative) of a one-process run of the same
 * seed, and the run folder is the engine's: run.json says torch, `hrm-lens eval` evaluates its checkpoint, and the
 * engine (wasm) resumes it for 4 more steps, logging the losses a torch resume of the one-process run logs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { torchPython } from './helpers/torch-python';
import { hrmLens, metricsOf } from './helpers/train-cli';
import { torchrunArgs } from '../../engine/torch/train-launch';
import { withTempDir } from './helpers/temp-dir';

const HANG = 2_400_000;
const torchArgs = (): string[] => ['--backend', 'torch', '--python', torchPython(), '--device', 'cpu', '--threads', '1', '--quiet'];
const REL = 1e-4;

function assertLossesClose(a: ReturnType<typeof metricsOf>, b: ReturnType<typeof metricsOf>, steps: number[], what: string): void {
  for (const s of steps) {
    const x = a.find((r) => r.step === s);
    const y = b.find((r) => r.step === s);
    assert.ok(x && y, `${what}: step ${s} logged by both`);
    for (const k of ['loss', 'lmLoss', 'qHaltLoss', 'qContinueLoss'] as const) {
      assert.ok(Math.abs(x[k] - y[k]) <= REL * Math.abs(y[k]) + 1e-7, `${what}: ${k} at step ${s}: ${x[k]} vs ${y[k]}`);
    }
    assert.equal(x.halted, y.halted, `${what}: slots halted at step ${s}`);
  }
}

test('a 2-process torchrun training (gloo) matches 1 process; the engine evaluates and resumes its run folder', { timeout: HANG }, async () => {
  await withTempDir('hrm-torch-ddp-', async (tmp) => {
    const two = path.join(tmp, 'two');
    const one = path.join(tmp, 'one');
    const common = ['train', '--preset', 'tiny-4x4', '--steps', '40', '--checkpoint-every', '20', '--eval-puzzles', '20', '--seed', '11', ...torchArgs()];
    const r2 = await hrmLens([...common, '--nproc-per-node', '2', '--out', two]);
    assert.equal(r2.code, 0, r2.stderr);
    const r1 = await hrmLens([...common, '--nproc-per-node', '1', '--out', one]);
    assert.equal(r1.code, 0, r1.stderr);
    const steps40 = Array.from({ length: 40 }, (_, i) => i + 1);
    assertLossesClose(metricsOf(two), metricsOf(one), steps40, '2 processes vs 1');

    // The run folder: run.json, checkpoints with their optimizer state, the held-out evaluation, TensorBoard events.
    const run = JSON.parse(readFileSync(path.join(two, 'run.json'), 'utf8')) as { spec: { backend: { name: string; processes: number; distBackend: string } } };
    assert.equal(run.spec.backend.name, 'torch');
    assert.equal(run.spec.backend.processes, 2);
    assert.equal(run.spec.backend.distBackend, 'gloo');
    for (const f of ['step-000020.safetensors', 'step-000020.optim.safetensors', 'step-000040.safetensors', 'step-000040.optim.safetensors', 'step-000040.eval.json']) {
      assert.ok(existsSync(path.join(two, f)), `${f} written`);
    }
    assert.ok(readdirSync(two).some((f) => f.startsWith('events.out.tfevents.')), 'a TensorBoard event file');
    const out = JSON.parse(r2.stdout.trim().split('\n').pop() as string) as { step: number; heldOut: { puzzles: number } };
    assert.equal(out.step, 40);
    assert.equal(out.heldOut.puzzles, 20);

    // The engine evaluates the checkpoint …
    const data = path.join(tmp, 'puzzles.csv');
    const gen = await hrmLens(['data', 'generate', '--size', '4', '--count', '16', '--seed', '5', '--out', data]);
    assert.equal(gen.code, 0, gen.stderr);
    const ev = await hrmLens(['eval', '--checkpoint', path.join(two, 'step-000040.safetensors'), '--data', data, '--json', '--backend', 'wasm']);
    assert.equal(ev.code, 0, ev.stderr);
    const report = JSON.parse(ev.stdout) as { puzzles: number; step: number; perSegment: unknown[] };
    assert.equal(report.puzzles, 16);
    assert.equal(report.step, 40);
    assert.equal(report.perSegment.length, 4);

    // … and resumes it on wasm, as torch resumes the one-process run: the same losses.
    const wasm = await hrmLens(['train', '--resume', two, '--steps', '44', '--backend', 'wasm', '--quiet']);
    assert.equal(wasm.code, 0, wasm.stderr);
    const torch = await hrmLens(['train', '--resume', one, '--steps', '44', ...torchArgs()]);
    assert.equal(torch.code, 0, torch.stderr);
    assert.deepEqual(metricsOf(two).map((r) => r.step), Array.from({ length: 44 }, (_, i) => i + 1), 'the resumed log has every step once');
    assertLossesClose(metricsOf(two), metricsOf(one), [41, 42, 43, 44], 'engine resume of the 2-process run vs torch resume of the 1-process run');
  });
});

test('the torchrun command line: one node on a local port; several nodes pass the rendezvous through', () => {
  assert.deepEqual(torchrunArgs({ python: 'python3', nprocPerNode: 2, masterPort: 29999, job: '/feed/job.json' }), [
    '-m', 'torch.distributed.run', '--nnodes', '1', '--node_rank', '0', '--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', '29999',
    '-m', 'hrm_lens_torch.train', '--job', '/feed/job.json',
  ]);
  assert.deepEqual(torchrunArgs({ python: 'python3', nprocPerNode: 4, nnodes: 2, nodeRank: 1, rdzvEndpoint: 'head:29400', rdzvId: 'r7', job: '/feed/job.json' }), [
    '-m', 'torch.distributed.run', '--nnodes', '2', '--node_rank', '1', '--nproc_per_node', '4', '--rdzv_backend', 'c10d', '--rdzv_endpoint', 'head:29400',
    '--rdzv_id', 'r7', '-m', 'hrm_lens_torch.train', '--job', '/feed/job.json',
  ]);
  // Where the interpreter's own torchrun cannot start, the same launcher with its fault fixed.
  assert.equal(torchrunArgs({ python: 'python3', nprocPerNode: 1, masterPort: 1, job: 'j', torchrunFix: true })[1], 'hrm_lens_torch.torchrun');
  assert.throws(() => torchrunArgs({ python: 'python3', nprocPerNode: 1, nnodes: 2, job: 'j' }), /--nnodes above 1 needs --rdzv-endpoint/);
});
