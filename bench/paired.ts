/**
 * `npm run bench -- paired`: the engine and the PyTorch reference measured in alternation, in the same minutes.
 *
 * The summary table (summary.mjs) runs each column in its own process, one after another: the engine's training row
 * and PyTorch's are minutes apart, and this VM's speed drifts by up to 1.5× over minutes (its second vCPU does not
 * always have a core of its own). Here every participant stays loaded, and each round times a few training steps of
 * each, one after the other (the order rotates from round to round), then a few inference segments of each; the others
 * wait (PyTorch processes blocked on stdin, `torch_bench.py serve`). A ratio is taken within a round, from timings
 * seconds apart, so the host's state is nearly the same for both sides of it. At the start of each round a short
 * register-only FMA loop runs on one thread, then on two at once (`fma-ceiling.mjs --pair-only`): its factor (two
 * threads' total ÷ one thread's rate, ~2 when the second vCPU has a core of its own) is recorded with the round, and
 * the ratios are also given separately for the rounds with a factor ≥ 1.8 and below.
 *
 * Participants (same model and batch as the summary's training and inference rows: 9×9, hidden 128, 4 heads, 2+2
 * layers, 2×2 cycles, RoPE; training batch 32, inference batch 256):
 *   engine        HRM Lens, wasm as installed (the data-parallel helper: both cores)
 *   engine-1t     the same trainer and model with HRM_LENS_GEMM_THREADS=1 (one thread: no helper, no split)
 *   torch-t<T>-b<B>  PyTorch 1.13 + OpenBLAS at each thread configuration (torch T / BLAS B threads: 1/1, N/1, 1/N,
 *                 N/N; bench/torch-anchor.ts threadConfigs), each in its own process; per task the fastest over the
 *                 rounds is the anchor ("PyTorch at its best")
 *
 * First the BLAS PyTorch runs on is checked (bench/reference/blas_check.py): on the reference BLAS the bench refuses
 * (exit status 3, the message names the Debian package) unless --allow-reference-blas, which labels every figure.
 *
 * Usage: npx tsx bench/paired.ts [--rounds 10] [--steps 3] [--segments 2] [--allow-reference-blas]
 * Output: the table on stdout, bench/results/paired.{json,md}.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { tf } from '../engine/tf';
import { selectBackend } from '../engine/backend';
import { createModel, disposeCarry, initialCarry, makeConfig } from '../engine/model';
import { runSegmentParallel } from '../engine/train/data-parallel-segment';
import { Trainer } from '../engine/train/trainer';
import { getPreset } from '../engine/train/presets';
import { generatePuzzles } from '../engine/sudoku/generator';
import { gridToTokens } from '../engine/sudoku/geometry';
import { ALLOW_REFERENCE_BLAS, EXIT_REFERENCE_BLAS, checkTorchBlas, configLabel, describeBlas, pickBest, threadArgs, threadConfigs, threadEnv, type BlasInfo, type ThreadConfig } from './torch-anchor';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: a positive integer, not ${process.argv[i + 1]}`);
  return v;
};
const quick = process.argv.includes('--quick');
const rounds = quick ? 2 : arg('rounds', 10);
const steps = quick ? 1 : arg('steps', 3);
const segments = quick ? 1 : arg('segments', 2);
const WARMUP_STEPS = 3;
const INFER_BATCH = 256;
const MODEL = { gridSize: 9 as const, hidden: 128, heads: 4, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 2, H_cycles: 2, L_cycles: 2, positions: 'rope' as const, haltMaxSteps: 16 };
const PYTHON = '/usr/bin/python3';
const allowReferenceBlas = process.argv.includes(ALLOW_REFERENCE_BLAS);

type Task = 'train' | 'infer';
interface Participant {
  id: string;
  label: string;
  /** PyTorch's: its thread configuration and the BLAS its process runs on (with the GEMM probe at those threads). */
  config?: ThreadConfig;
  blas?: BlasInfo;
  /** Wall seconds of each of `n` training steps / inference segments. */
  run(task: Task, n: number): Promise<number[]>;
  close(): Promise<void>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A `torch_bench.py serve` process at one thread configuration (its thread variables set at start, as the BLAS
 * reads them when it loads): one JSON line per request. */
async function torchParticipant(config: ThreadConfig): Promise<Participant> {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, ['bench/reference/torch_bench.py', 'serve', '--hidden', '128', '--heads', '4', '--batch', '32',
    '--infer-batch', String(INFER_BATCH), ...threadArgs(config, allowReferenceBlas)], { cwd: path.resolve(__dirname, '..'), env: { ...process.env, ...threadEnv(config) } });
  const threads = configLabel(config);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await lines.next();
    if (r.done) throw new Error(`torch_bench.py serve (${threads}) ended: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const ready = await next();
  if (ready.ready !== true) throw new Error(`torch_bench.py serve: unexpected first line ${JSON.stringify(ready)}`);
  const blas = ready.blas as BlasInfo;
  return {
    id: `torch-${config.id}`,
    label: `PyTorch 1.13 + ${blas.label}, ${threads}`,
    config, blas,
    async run(task, n) {
      child.stdin.write(`${task} ${n}\n`);
      const r = await next();
      if (!Array.isArray(r.seconds)) throw new Error(`torch_bench.py serve: ${JSON.stringify(r)}`);
      return r.seconds as number[];
    },
    async close() {
      child.stdin.end('quit\n');
      await new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
    },
  };
}

/** Runs `f` with environment variables set (the engine reads its switches at each call), then restores them. */
function withEnv<T>(vars: Record<string, string>, f: () => T): T {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** The engine in this process: one trainer and one inference model, shared by the default and the one-thread runs. */
async function engineParticipants(dir: string): Promise<Participant[]> {
  const info = await selectBackend({ backend: 'wasm' });
  const puzzles = generatePuzzles({ n: 9, seed: 1 }, 64).map((p) => ({ puzzle: p.puzzle, solution: p.solution }));
  const config = makeConfig(MODEL);
  const trainer = await Trainer.create(path.join(dir, 'train'), {
    preset: 'bench', model: config, train: { ...getPreset('tiny-4x4').train, batch: 32, lr: 1e-4, lossType: 'stablemax', evalPuzzles: 0, steps: 100000 },
    seed: 0, mixing: false, augment: false, data: { kind: 'generated' }, backend: {},
  }, { kind: 'pool', size: 9, puzzles, description: 'bench pool' });
  const infer = createModel(config, 0);
  const tokens = new Int32Array(INFER_BATCH * 81);
  for (let b = 0; b < INFER_BATCH; b++) tokens.set(gridToTokens(puzzles[b % puzzles.length].puzzle), b * 81);
  const tok = tf.tensor2d(tokens, [INFER_BATCH, 81], 'int32');
  const once = (task: Task): number => {
    const t0 = performance.now();
    if (task === 'train') trainer.trainStep();
    else {
      const carry = initialCarry(infer, INFER_BATCH);
      const r = runSegmentParallel(infer, carry, tok);
      r.logits.dataSync();
      disposeCarry(carry); disposeCarry(r.carry); r.logits.dispose(); r.qHalt.dispose(); r.qContinue.dispose();
    }
    return (performance.now() - t0) / 1000;
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    tok.dispose(); infer.dispose();
    await trainer.close();
  };
  const make = (id: string, label: string, env: Record<string, string>): Participant => ({
    id, label, close,
    run: (task, n) => Promise.resolve(withEnv(env, () => Array.from({ length: n }, () => once(task)))),
  });
  return [
    make('engine', `HRM Lens, wasm as installed (${info.detail.split(';')[0]}; data-parallel helper)`, {}),
    make('engine-1t', 'HRM Lens, wasm, one thread (HRM_LENS_GEMM_THREADS=1)', { HRM_LENS_GEMM_THREADS: '1' }),
  ];
}

interface RoundResult {
  round: number; order: string[]; loadavg: number;
  /** The FMA probe at the round's start: two threads' total ÷ one thread's GFLOP/s (undefined when it failed). */
  secondCore?: number;
  train: Record<string, number[]>; infer: Record<string, number[]>;
}

/** Rounds whose probe gave at least this factor count as "the second vCPU had a core of its own". */
const SECOND_CORE = 1.8;

/** The FMA probe (bench/fma-ceiling.mjs --pair-only, 3 rounds, ~1 s). */
function secondCoreFactor(): number | undefined {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'fma-ceiling.mjs'), '--pair-only'], { encoding: 'utf8', env: { ...process.env, FMA_ROUNDS: '3' }, timeout: 60_000 });
  try {
    const factor = (JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { factor?: unknown }).factor;
    return typeof factor === 'number' && Number.isFinite(factor) ? factor : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: the reference needs Debian's python3-torch (see bench/reference/README.md)`);
  const blas = checkTorchBlas({ allowReference: allowReferenceBlas });
  if (blas.status === 'refused') {
    console.error(`paired: ${blas.message}`);
    process.exit(EXIT_REFERENCE_BLAS);
  }
  if (blas.status === 'unavailable') throw new Error(`PyTorch cannot be measured: ${blas.message}`);
  console.error(`paired: PyTorch runs on ${describeBlas(blas.info)}`);  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-bench-paired-'));
  const started = new Date();
  const participants: Participant[] = [];
  try {
    participants.push(...await engineParticipants(dir));
    for (const config of threadConfigs(availableParallelism())) participants.push(await torchParticipant(config));
    for (const p of participants) { await p.run('train', WARMUP_STEPS); await p.run('infer', 1); }
    const results: RoundResult[] = [];
    for (let r = 0; r < rounds; r++) {
      const shift = r % participants.length;
      const order = [...participants.slice(shift), ...participants.slice(0, shift)];
      const res: RoundResult = { round: r + 1, order: order.map((p) => p.id), loadavg: loadavg()[0], secondCore: secondCoreFactor(), train: {}, infer: {} };
      for (const p of order) res.train[p.id] = await p.run('train', steps);
      for (const p of order) res.infer[p.id] = await p.run('infer', segments);
      results.push(res);
      const t = (id: string) => median(res.train[id]);
      const i = (id: string) => median(res.infer[id]);
      console.log(`round ${r + 1}/${rounds} (load ${res.loadavg.toFixed(2)}, FMA ×${res.secondCore?.toFixed(2) ?? '?'} on two threads): training s/step ${participants.map((p) => `${p.id} ${t(p.id).toFixed(3)}`).join(', ')}; `
        + `inference s/segment ${participants.map((p) => `${p.id} ${i(p.id).toFixed(3)}`).join(', ')}`);
    }
    report(started, participants, results);
  } finally {
    for (const p of participants) await p.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(started: Date, participants: Participant[], results: RoundResult[]): void {
  const fmt = (xs: number[], d = 3) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
  const rate = (task: Task, id: string, r: RoundResult) => (task === 'train' ? 1 : INFER_BATCH) / median(r[task][id]);
  const rows = participants.map((p) => `| ${p.label} | ${fmt(results.map((r) => rate('train', p.id, r)))} | ${fmt(results.map((r) => rate('infer', p.id, r)), 1)} |`);
  // The anchor, per task: the PyTorch configuration with the best median rate over the rounds (bench/torch-anchor.ts
  // threadConfigs: torch's and OpenBLAS's pools oversubscribe the cores when both are full, so "N threads" is not
  // assumed to be PyTorch's best; every configuration stays in the table).
  const torchPs = participants.filter((p) => p.config);
  const best = (task: Task): Participant => pickBest(torchPs.map((p) => ({ p, stat: { median: median(results.map((r) => rate(task, p.id, r))), min: 0, max: 0, n: results.length } })), true)?.p ?? torchPs[0];
  const anchor = { train: best('train'), infer: best('infer') };
  const single = torchPs.find((p) => p.config?.torch === 1 && p.config.blas === 1) ?? torchPs[0];
  const pairs: [string, Participant, Participant, string, number][] = [
    ['engine', anchor.train, anchor.infer, `as installed ÷ PyTorch at its best (training ${configLabel(anchor.train.config as ThreadConfig)}, inference ${configLabel(anchor.infer.config as ThreadConfig)})`, 0.5],
    ['engine', single, single, `as installed ÷ PyTorch, ${configLabel(single.config as ThreadConfig)}`, 1.0],
    ['engine-1t', single, single, `one thread ÷ PyTorch, ${configLabel(single.config as ThreadConfig)}`, 0.5],
  ];
  const ratios: Record<string, { train: number[]; infer: number[] }> = {};
  const ratioRows = pairs.map(([a, bt, bi, what, target]) => {
    const tr = results.map((r) => rate('train', a, r) / rate('train', bt.id, r));
    const inf = results.map((r) => rate('infer', a, r) / rate('infer', bi.id, r));
    ratios[bt === bi ? `${a}/${bt.id}` : `${a}/${bt.id}|${bi.id}`] = { train: tr, infer: inf };
    const at = (xs: number[]) => (xs.length ? `${fmt(xs, 2)}×, ${xs.filter((x) => x >= target).length} of ${xs.length} rounds ≥ ${target.toFixed(1)}` : '–');
    const split = (xs: number[], own: boolean) => xs.filter((_, k) => (results[k].secondCore ?? 0) >= SECOND_CORE === own);
    return `| ${what} | ${at(tr)} | ${at(inf)} | ${at(split(tr, true))} | ${at(split(tr, false))} |`;
  });
  const probes = results.map((r) => r.secondCore).filter((x): x is number => x !== undefined);
  const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
  const md = `\`npm run bench -- paired\` (bench/paired.ts --rounds ${rounds} --steps ${steps} --segments ${segments}), ${started.toISOString().slice(0, 16)}Z; `
    + `${cpus()[0]?.model ?? 'CPU'} × ${cpus().length}; ${minutes} min. Each round times ${steps} training step(s) (batch 32) and ${segments} inference segment(s) `
    + `(batch ${INFER_BATCH}) of every participant in turn (the order rotates); per round the median of each; below, the median (min–max) over the ${rounds} rounds. `
    + `Ratios are taken within each round.\n\n`
    + `| | training steps/s (9×9, h128, batch 32) | inference puzzle-segments/s (batch ${INFER_BATCH}) |\n|---|---|---|\n${rows.join('\n')}\n\n`
    + `| ratio (within a round) | training | inference | training, rounds with FMA ×≥ ${SECOND_CORE} on two threads | training, the other rounds |\n|---|---|---|---|---|\n${ratioRows.join('\n')}\n\n`
    + `FMA probe at each round's start (two threads' total ÷ one thread's rate): ${probes.length ? `${fmt(probes, 2)}; ${probes.filter((x) => x >= SECOND_CORE).length} of ${probes.length} rounds ≥ ${SECOND_CORE}` : 'not available'}.\n\n`
    + torchPs.map((p) => `- ${p.label}: ${p.blas ? describeBlas(p.blas) : 'BLAS not reported'}; environment ${Object.entries(threadEnv(p.config as ThreadConfig)).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('\n') + '\n';
  console.log(`\n${md}`);
  const outDir = path.join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const write = (name: string, text: string) => { const f = path.join(outDir, name); writeFileSync(`${f}.tmp`, text); renameSync(`${f}.tmp`, f); };
  write('paired.json', `${JSON.stringify({ date: started.toISOString(), rounds, steps, segments, participants: participants.map((p) => ({ id: p.id, label: p.label, ...(p.config ? { threads: { ...p.config, env: threadEnv(p.config) }, blas: p.blas } : {}) })),
    anchor: { train: anchor.train.id, infer: anchor.infer.id }, allowReferenceBlas, ratios, results }, null, 2)}\n`);
  write('paired.md', md);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
