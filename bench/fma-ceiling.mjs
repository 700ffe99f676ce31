#!/usr/bin/env node
// `npm run bench -- fma`: the machine's ceiling for 128-bit wasm SIMD FMAs, on one thread and on two threads at once.
//
// A loop of 10 independent f32x4.relaxed_madd chains (enough to cover the FMA latency on both FMA ports; registers only,
// no memory traffic) runs on this thread alone, then on this thread and a worker thread at the same time. Rounds
// alternate the two, so the VM's drift reaches both alike. If the two vCPUs had their own FMA units, two threads would
// each keep the one-thread rate; if they share one core's (hyperthreads, or a host that lowers the clock under load),
// each gets about half. Every product of the engine's training step is bound by this rate.
// Then the same loop with 4 to 14 chains on one thread (rounds interleaved): how many independent accumulators a kernel
// needs to reach that rate. The engine's GEMM micro-kernel (2 rows × 16 columns) has 8;
// docs/benchmarks.md §Why the GEMM keeps 8 accumulators.
// Output: the medians, and bench/results/fma-ceiling.json. `--pair-only` (bench/paired.ts, once per round): only the
// one-thread / two-thread rounds, one JSON line on stdout ({ alone, perThread, factor }), no file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import wabtInit from 'wabt';

const CHAINS = 10;
const SWEEP = [4, 6, 8, 10, 12, 14];
const ITERS = 5e7; // 4 GFLOP per call
const ROUNDS = Number(process.env.FMA_ROUNDS ?? 5);

async function moduleBytes(chains = CHAINS) {
  const wabt = await wabtInit();
  const acc = Array.from({ length: chains }, (_, i) => `$a${i}`);
  const wat = `(module (func (export "spin") (param $n i32) (result f32)
    ${acc.map((a) => `(local ${a} v128)`).join(' ')} (local $b v128) (local $c v128)
    (local.set $b (f32x4.splat (f32.const 0.999))) (local.set $c (f32x4.splat (f32.const 0.001)))
    (block $e (loop $l (br_if $e (i32.eqz (local.get $n)))
      ${acc.map((a) => `(local.set ${a} (f32x4.relaxed_madd (local.get ${a}) (local.get $b) (local.get $c)))`).join('\n      ')}
      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))
    (f32x4.extract_lane 0 (local.get $a0))))`;
  return wabt.parseWat('fma.wat', wat, { simd: true, relaxed_simd: true }).toBinary({}).buffer;
}

function instantiate(bytes) {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  setFlagsFromString('--no-liftoff'); // the optimising compiler from the first call
  try {
    return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  } finally {
    setFlagsFromString('--liftoff');
  }
}

/** GFLOP/s of one call (2 flops × 4 lanes per FMA); `ITERS × CHAINS` FMAs whatever the chain count. */
function timed(spin, chains = CHAINS) {
  const iters = Math.round((ITERS * CHAINS) / chains);
  const t0 = performance.now();
  spin(iters);
  return (iters * chains * 8) / ((performance.now() - t0) * 1e6);
}

if (!isMainThread) {
  const { spin } = instantiate(workerData.bytes);
  spin(1e6);
  parentPort.on('message', () => parentPort.postMessage(timed(spin)));
} else {
  const bytes = await moduleBytes();
  const { spin } = instantiate(bytes);
  spin(1e6);
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { bytes } });
  await new Promise((r) => setTimeout(r, 300));
  const alone = [];
  const pairs = [];
  for (let r = 0; r < ROUNDS; r++) {
    alone.push(timed(spin));
    const theirs = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage('go');
    const mine = timed(spin);
    pairs.push([mine, await theirs]);
  }
  await worker.terminate();
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (process.argv.includes('--pair-only')) {
    const alone1 = median(alone);
    const total = median(pairs.map(([a, b]) => a + b));
    console.log(JSON.stringify({ alone: alone1, perThread: median(pairs.flat()), factor: total / alone1 }));
    process.exit(0);
  }
  const sweepSpins = [];
  for (const chains of SWEEP) sweepSpins.push(instantiate(await moduleBytes(chains)).spin);
  const sweep = SWEEP.map(() => []);
  for (let r = 0; r < ROUNDS; r++) SWEEP.forEach((chains, i) => sweep[i].push(timed(sweepSpins[i], chains)));
  const both = pairs.map(([a, b]) => a + b);
  const result = {
    date: new Date().toISOString(), chains: CHAINS, rounds: ROUNDS,
    oneThreadGflops: alone, twoThreadsGflops: pairs,
    medianOneThread: median(alone), medianPerThreadOfTwo: median(pairs.flat()), medianTwoThreadsTotal: median(both),
    chainSweep: SWEEP.map((chains, i) => ({ chains, gflops: sweep[i], median: median(sweep[i]) })),
  };
  console.log(`128-bit FMA loop, ${ROUNDS} rounds: one thread alone ${result.medianOneThread.toFixed(1)} GFLOP/s (${alone.map((x) => x.toFixed(1)).join(', ')});`
    + ` two threads at once ${result.medianPerThreadOfTwo.toFixed(1)} each, ${result.medianTwoThreadsTotal.toFixed(1)} together`
    + ` (${both.map((x) => x.toFixed(1)).join(', ')}): ×${(result.medianTwoThreadsTotal / result.medianOneThread).toFixed(2)} for the second thread`);
  console.log(`one thread by number of independent chains (median GFLOP/s): ${result.chainSweep.map((c) => `${c.chains}: ${c.median.toFixed(1)}`).join(', ')}`);
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'fma-ceiling.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${out}.tmp`, out);
}
