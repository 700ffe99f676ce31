/**
 * The PyTorch anchor of the benchmarks: the check of the BLAS PyTorch runs on (bench/reference/blas_check.py, through
 * bench/torch-anchor.ts as the benches call it), the refusal of the reference BLAS by the bench itself, and the choice
 * of PyTorch's best thread configuration. Real /usr/bin/python3 with python3-torch (the benches' interpreter): the
 * live check runs on this machine's torch; the reference BLAS, which cannot be installed for one test, is given as
 * recorded /proc/self/maps texts and torch configuration strings (written to a temp folder).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ALLOW_REFERENCE_BLAS, EXIT_REFERENCE_BLAS, PYTHON, checkTorchBlas, chooseAnchor, configLabel, pickBest, threadArgs,
  threadConfigs, threadEnv, type Stat, type TorchConfigResult,
} from '../../bench/torch-anchor';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-bench-blas-'));
const TIMEOUT = { timeout: 600_000 };

/** A torch 1.13 build configuration as Debian's python3-torch prints it (abridged to the fields that matter). */
const DEBIAN_TORCH_CONFIG = `PyTorch built with:
  - GCC 12.2
  - C++ Version: 201402
  - Intel(R) MKL-DNN v2.6.3 (Git Hash N/A)
  - OpenMP 201511 (a.k.a. OpenMP 4.5)
  - LAPACK is enabled (usually provided by MKL)
  - CPU capability usage: AVX2
  - Build settings: BLAS_INFO=generic, BUILD_TYPE=RelWithDebInfo, LAPACK_INFO=generic, TORCH_VERSION=1.13.0, USE_CUDA=OFF, USE_MKLDNN=ON, USE_OPENMP=ON,
`;
const PIP_TORCH_CONFIG = DEBIAN_TORCH_CONFIG.replace('BLAS_INFO=generic', 'BLAS_INFO=mkl').replace('LAPACK_INFO=generic', 'LAPACK_INFO=mkl');

/** /proc/self/maps lines of a torch process: each library mapped in its usual segments. */
const maps = (...libs: string[]): string => libs.flatMap((lib, i) => ['r--p 00000000', 'r-xp 0001e000', 'rw-p 00061000'].map((perm, k) => {
  const start = (0x7f2900000000 + i * 0x1000000 + k * 0x10000).toString(16);
  const end = (0x7f2900000000 + i * 0x1000000 + (k + 1) * 0x10000).toString(16);
  return `${start}-${end} ${perm} fe:00 ${5595570 + i}                    ${lib}`;
})).concat(['7ffd3c5e1000-7ffd3c602000 rw-p 00000000 00:00 0                          [stack]']).join('\n') + '\n';

const COMMON = ['/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0', '/usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0', '/usr/lib/x86_64-linux-gnu/libc.so.6'];
/** Debian without libopenblas0-pthread: libblas.so.3 → /etc/alternatives → libblas3's netlib build. */
const REFERENCE_MAPS = maps(...COMMON, '/usr/lib/x86_64-linux-gnu/libgfortran.so.5.0.0', '/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0', '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0');
/** Debian with libopenblas0-pthread (as this machine has it). */
const OPENBLAS_PTHREAD_MAPS = maps(...COMMON, '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so', '/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3', '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3');
/** Debian with libopenblas0-serial chosen by the alternatives. */
const OPENBLAS_SERIAL_MAPS = maps(...COMMON, '/usr/lib/x86_64-linux-gnu/openblas-serial/libblas.so.3', '/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0');

const file = (name: string, text: string): string => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};
const recorded = (mapsText: string, config = DEBIAN_TORCH_CONFIG): string[] =>
  ['--maps', file(`maps-${Math.random().toString(36).slice(2)}.txt`, mapsText), '--torch-config', file(`config-${Math.random().toString(36).slice(2)}.txt`, config)];

before(() => {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`these tests need ${PYTHON} with Debian's python3-torch and libopenblas0-pthread (the benchmarks' PyTorch): `
      + `${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  }
});

test('the BLAS check finds OpenBLAS with pthread threading under this machine\'s PyTorch, with its threads and a GEMM rate', TIMEOUT, () => {
  const r = checkTorchBlas({ probeSize: 64 });
  assert.equal(r.status, 'ok', r.status !== 'ok' ? r.message : '');
  if (r.status !== 'ok') return;
  assert.equal(r.info.kind, 'openblas', r.info.reason);
  assert.equal(r.info.threading, 'pthread');
  assert.match(r.info.library ?? '', /openblas/);
  assert.match(r.info.label, /^OpenBLAS \d+\.\d+\.\d+ pthread/);
  assert.equal(r.info.openblas?.parallel, 'pthread');
  assert.ok((r.info.threads?.torch ?? 0) >= 1 && (r.info.threads?.blas ?? 0) >= 1);
  assert.equal(r.info.gemm?.n, 64);
  assert.ok((r.info.gemm?.gflops ?? 0) > 0);
  assert.equal(r.info.refused, false);
});

test('recorded maps of a torch process on Debian\'s netlib libblas3 are the reference BLAS: refused, naming the package and the override', TIMEOUT, () => {
  const r = checkTorchBlas({ args: recorded(REFERENCE_MAPS) });
  assert.equal(r.status, 'refused');
  if (r.status !== 'refused') return;
  assert.equal(r.info.kind, 'reference');
  assert.equal(r.info.library, '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0');
  assert.match(r.message, /reference BLAS/);
  assert.match(r.message, /apt-get install libopenblas0-pthread/);
  assert.match(r.message, /--allow-reference-blas/);

  const allowed = checkTorchBlas({ args: recorded(REFERENCE_MAPS), allowReference: true });
  assert.equal(allowed.status, 'ok');
  if (allowed.status !== 'ok') return;
  assert.equal(allowed.info.allowed_reference, true);
  assert.match(allowed.info.label, /reference BLAS .*not an anchor/);
});

test('recorded maps and torch configurations of other BLAS layouts are classified by library and threading', TIMEOUT, () => {
  const cases: [string, string, string, string | null][] = [
    [OPENBLAS_PTHREAD_MAPS, DEBIAN_TORCH_CONFIG, 'openblas', 'pthread'],
    [OPENBLAS_SERIAL_MAPS, DEBIAN_TORCH_CONFIG, 'openblas', 'serial'],
    // A numpy wheel's own OpenBLAS mapped beside the netlib libblas.so.3 that torch calls: still the reference BLAS.
    [maps(...COMMON, '/usr/local/lib/python3.11/dist-packages/numpy.libs/libopenblas64_p-r0-0cf96a72.3.23.dev.so', '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'), DEBIAN_TORCH_CONFIG, 'reference', 'serial'],
    [maps(...COMMON, '/opt/intel/oneapi/mkl/lib/intel64/libmkl_intel_lp64.so.2', '/opt/intel/oneapi/mkl/lib/intel64/libmkl_gnu_thread.so.2', '/opt/intel/oneapi/mkl/lib/intel64/libmkl_core.so.2'), DEBIAN_TORCH_CONFIG, 'mkl', 'openmp'],
    // A pip wheel: MKL linked into libtorch_cpu, no BLAS library of its own in the maps.
    [maps(...COMMON), PIP_TORCH_CONFIG, 'mkl', null],
    [maps(...COMMON), DEBIAN_TORCH_CONFIG, 'unknown', null],
  ];
  for (const [mapsText, config, kind, threading] of cases) {
    const r = checkTorchBlas({ args: recorded(mapsText, config) });
    if (r.status === 'unavailable') assert.fail(`${kind}: ${r.message}`);
    assert.equal(r.status, kind === 'reference' ? 'refused' : 'ok', kind);
    assert.equal(r.info.kind, kind, r.info.reason);
    assert.equal(r.info.threading, threading, r.info.reason);
  }
});

test('torch_bench.py bench on the reference BLAS exits with the refusal and no figures; with the override every figure is labelled', TIMEOUT, () => {
  const mapsFile = file('reference-maps.txt', REFERENCE_MAPS);
  // The live check of the bench process, with its /proc/self/maps read replaced by the recorded text.
  const script = `import sys; sys.dont_write_bytecode = True; sys.path.insert(0, ${JSON.stringify(path.join(root, 'bench', 'reference'))})
import blas_check
recorded = open(${JSON.stringify(mapsFile)}).read()
blas_check.read_maps = lambda: recorded
import torch_bench
torch_bench.main(sys.argv[1:])`;
  const tiny = ['bench', '--grid', '4', '--hidden', '32', '--heads', '2', '--batch', '2', '--runs', '1', '--warmup', '0',
    '--infer-batch', '2', '--infer-runs', '1', '--pool', '4', '--gemm-probe', '32', ...threadArgs({ id: 't1-b1', torch: 1, blas: 1 })];
  const refused = spawnSync(PYTHON, ['-c', script, ...tiny], { encoding: 'utf8', cwd: root, timeout: 300_000 });
  assert.equal(refused.status, EXIT_REFERENCE_BLAS, refused.stderr);
  assert.equal(refused.stdout.trim(), '');
  assert.match(refused.stderr, /reference BLAS .*libopenblas0-pthread/);

  const allowed = spawnSync(PYTHON, ['-c', script, ...tiny, ALLOW_REFERENCE_BLAS], { encoding: 'utf8', cwd: root, timeout: 300_000 });
  assert.equal(allowed.status, 0, allowed.stderr);
  const j = JSON.parse(allowed.stdout) as { train: unknown; blas: { kind: string; label: string; allowed_reference: boolean; gemm: { n: number } }; threads: { torch: number; blas: number } };
  assert.ok(j.train);
  assert.equal(j.blas.kind, 'reference');
  assert.equal(j.blas.allowed_reference, true);
  assert.match(j.blas.label, /reference BLAS/);
  assert.equal(j.blas.gemm.n, 32);
  assert.deepEqual([j.threads.torch, j.threads.blas], [1, 1]);
});

test('the thread sweep: 1/1, N/1, 1/N and N/N, each with its thread variables', () => {
  assert.deepEqual(threadConfigs(2).map((c) => [c.torch, c.blas]), [[1, 1], [2, 1], [1, 2], [2, 2]]);
  assert.deepEqual(threadConfigs(1).map((c) => c.id), ['t1-b1']);
  assert.deepEqual(threadConfigs(8).map((c) => c.id), ['t1-b1', 't8-b1', 't1-b8', 't8-b8']);
  const [, mixed] = threadConfigs(2);
  assert.deepEqual(threadEnv(mixed), { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '1', GOTO_NUM_THREADS: '1', MKL_NUM_THREADS: '1', BLIS_NUM_THREADS: '1' });
  assert.deepEqual(threadArgs(mixed, true), ['--threads', '2', '--blas-threads', '1', ALLOW_REFERENCE_BLAS]);
  assert.equal(configLabel(mixed), 'torch 2 / BLAS 1 threads');
});

test('the thread sweep picks the faster configuration per row from given timings, slower full-thread runs included', () => {
  const s = (median: number): Stat => ({ median, min: median * 0.9, max: median * 1.1, n: 3 });
  const [c11, c21, c12, c22] = threadConfigs(2);
  // Oversubscribed 2/2 trains slower than 1/1 (rates: higher is better; capture in seconds: lower is better).
  const results: TorchConfigResult[] = [
    { config: c11, train: s(0.59), infer: s(41.8), capture27m: s(5.5) },
    { config: c21, train: s(1.28), infer: s(52.0), capture27m: s(6.1) },
    { config: c12, train: s(1.22), infer: s(56.0), capture27m: s(4.9) },
    { config: c22, train: s(0.52), infer: s(91.0), capture27m: s(13.8) },
  ];
  const anchor = chooseAnchor(results);
  assert.equal(anchor.train?.config, 't2-b1');
  assert.equal(anchor.train?.stat.median, 1.28);
  assert.equal(anchor.infer?.config, 't2-b2');
  assert.equal(anchor.capture27m?.config, 't1-b2');
  assert.equal(anchor.capture27m?.label, 'torch 1 / BLAS 2 threads');

  // A failed configuration, a missing figure and a non-finite one are passed over; a tie keeps the fewer threads.
  const anchor2 = chooseAnchor([
    { config: c11, train: s(0.8), infer: null, capture27m: s(Number.NaN) },
    { config: c21, error: 'torch_bench.py failed', train: s(9) },
    { config: c22, train: s(0.8), infer: s(10), capture27m: s(7) },
  ]);
  assert.equal(anchor2.train?.config, 't1-b1');
  assert.equal(anchor2.infer?.config, 't2-b2');
  assert.equal(anchor2.capture27m?.config, 't2-b2');
  assert.equal(chooseAnchor([{ config: c11, error: 'no torch' }]).train, null);
  assert.equal(pickBest([], true), undefined);
});
