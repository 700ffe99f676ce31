/**
 * Forward agreement between the TypeScript engine and the PyTorch reference (bench/reference/) on the SAME weights.
 * Run: `npx tsx bench/agreement.ts [--backends wasm,cpu] [--keep]`. Prints a Markdown table; writes
 * bench/results/agreement.json. Needs /usr/bin/python3 with python3-torch (bench/reference/README.md).
 *
 * Per case (torch → TS):
 *  1. `torch_bench.py init --test-init --seed K` writes random weights (random q-head and puzzle vector, so the Q head
 *     and the prefix are exercised) in the engine layout, config JSON in `__metadata__.config`;
 *  2. `torch_bench.py forward --segments 4 --states --threads 1` on 8 puzzles (9×9: test/fixtures/puzzles/easy_50.txt;
 *     4×4 / 6×6: generated here with engine/sudoku/generator and written to a puzzle file);
 *  3. the engine reads the weights file (readSafetensors — see "interop" below for why not loadCheckpoint), maps the
 *     config field names, builds the model with modelFromWeights, runs the same tokens for 4 segments from
 *     H_init/L_init with runSegment (no halting), and compares per segment: max |Δ| of logits, q_halt, q_continue,
 *     z_H, z_L, and the argmax grid (a differing argmax counts only when torch's top-2 gap is > 1e-4).
 *  PASS when every segment's max |Δ logits| and max |Δ q| are ≤ 1e-4 (z_H / z_L are reported and held to the same
 *  bound in `statesPass`).
 * Reverse (TS → torch), once: the engine creates a model (createModel, seed 7; q-head and puzzle vector randomised
 * as --test-init does), writes it with the engine's own saveCheckpoint, torch runs `forward` on it and the engine
 * compares its own forward with torch's dump, as above.
 *
 * Interop checks recorded in the JSON (`interop`): whether the engine's loadCheckpoint / configFromJson accept the
 * reference's files, and whether the reference reads the engine's config JSON (field names) correctly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../engine/tf';
import { selectBackend } from '../engine/backend';
import {
  type Carry, type HrmConfig, type HrmModel, assignWeights, configFromJson, configToJson, createModel, disposeCarry, exportWeights,
  initialCarry, linearWeightNames, makeConfig, modelFromWeights, puzzleEmbeddingName, runSegment,
} from '../engine/model';
import { readSafetensors, writeSafetensors, type SafeTensorInput } from '../engine/interop/safetensors';
import { loadCheckpoint, saveCheckpoint } from '../engine/train/checkpoint';
import { type GridSize, gridToString, gridToTokens, parseGrid } from '../engine/sudoku/geometry';
import { generatePuzzles } from '../engine/sudoku/generator';
import { truncNormal } from '../engine/model/init';
import { Rng } from '../engine/util/rng';
import { writeFileAtomic } from '../engine/util/atomic-write';

const TOL = 1e-4;
const SEGMENTS = 4;
const PUZZLES = 8;
const PY = '/usr/bin/python3';

const root = path.resolve(import.meta.dirname, '..');
const torchBench = path.join(root, 'bench', 'reference', 'torch_bench.py');
// --out FILE writes the results elsewhere (e.g. a run on the threaded build: HRM_LENS_THREADS=2 … --out /tmp/a.json).
const outArg = process.argv.indexOf('--out');
const resultsFile = outArg >= 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'bench', 'results', 'agreement.json');

const argv = process.argv.slice(2);
const argValue = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const backends = (argValue('--backends') ?? 'wasm,cpu').split(',').map((s) => s.trim()).filter(Boolean) as ('wasm' | 'cpu')[];
const keep = argv.includes('--keep');
/** --threads N: wasm threads (N > 1 = tfjs's threaded build); default 1. */
const wasmThreads = Number(argValue('--threads') ?? '1');

// ---------------------------------------------------------------------------------------------------------------
// Config field names. The reference (hrm_reference.py CONFIG_FIELDS) writes hLayers/lLayers/hCycles/lCycles and the
// derived seqLen/vocab; the engine's HrmConfig (engine/model/config.ts) names them H_layers/L_layers/H_cycles/L_cycles
// and configFromJson rejects unknown fields. Mapped here, in the bench only.
// ---------------------------------------------------------------------------------------------------------------
const PY_TO_TS: Record<string, keyof HrmConfig> = { hLayers: 'H_layers', lLayers: 'L_layers', hCycles: 'H_cycles', lCycles: 'L_cycles' };
const TS_TO_PY: Record<string, string> = Object.fromEntries(Object.entries(PY_TO_TS).map(([py, ts]) => [ts, py]));
const PY_DERIVED = ['seqLen', 'vocab'];

function configFromReference(raw: Record<string, unknown>): { config: HrmConfig; renamed: string[]; dropped: string[] } {
  const out: Record<string, unknown> = {};
  const renamed: string[] = [];
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (k in PY_TO_TS) { out[PY_TO_TS[k]] = v; renamed.push(`${k}→${PY_TO_TS[k]}`); } else if (PY_DERIVED.includes(k)) dropped.push(k);
    else out[k] = v;
  }
  const config = configFromJson(out);
  const n = config.gridSize;
  if (raw.seqLen !== undefined && raw.seqLen !== n * n) throw new Error(`reference config seqLen ${String(raw.seqLen)} ≠ ${n * n}`);
  if (raw.vocab !== undefined && raw.vocab !== n + 2) throw new Error(`reference config vocab ${String(raw.vocab)} ≠ ${n + 2}`);
  return { config, renamed, dropped };
}

function configToReference(c: HrmConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(configToJson(c))) out[TS_TO_PY[k] ?? k] = v;
  out.seqLen = c.gridSize * c.gridSize;
  out.vocab = c.gridSize + 2;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------------------------
interface Case {
  name: string;
  /** torch_bench.py init flags. */
  flags: string[];
  seed: number;
  grid: GridSize;
  note: string;
}

const CASES: Case[] = [
  {
    name: 'hrm-9x9-h128-rope', seed: 1, grid: 9, note: 'the CPU bench model: 9×9, D=128, 4 heads, 2+2 layers, 2×2 cycles, RoPE, 1 prefix',
    flags: ['--grid', '9', '--hidden', '128', '--heads', '4', '--expansion', '4', '--inter-multiple', '256', '--h-layers', '2', '--l-layers', '2', '--h-cycles', '2', '--l-cycles', '2', '--positions', 'rope', '--puzzle-emb-len', '1', '--variant', 'hrm'],
  },
  {
    name: 'hrm-4x4-tiny-learned', seed: 2, grid: 4, note: 'tiny-4x4 preset model: 4×4, D=64, 2 heads, expansion 2, inter multiple 32, 1+1 layers, learned positions',
    flags: ['--grid', '4', '--hidden', '64', '--heads', '2', '--expansion', '2', '--inter-multiple', '32', '--h-layers', '1', '--l-layers', '1', '--h-cycles', '2', '--l-cycles', '2', '--halt-max-steps', '4', '--positions', 'learned', '--puzzle-emb-len', '1', '--variant', 'hrm'],
  },
  {
    name: 'hrm-6x6-h96-rope-asym', seed: 3, grid: 6, note: '6×6, D=96, 4 heads (hd 24), inter multiple 64, 1 H + 2 L layers, 3 H-cycles × 2 L-cycles, RoPE θ=5000',
    flags: ['--grid', '6', '--hidden', '96', '--heads', '4', '--expansion', '4', '--inter-multiple', '64', '--h-layers', '1', '--l-layers', '2', '--h-cycles', '3', '--l-cycles', '2', '--positions', 'rope', '--rope-theta', '5000', '--puzzle-emb-len', '1', '--variant', 'hrm'],
  },
  {
    name: 'trm-9x9-h128-rope', seed: 4, grid: 9, note: 'TRM-Att: 9×9, D=128, 4 heads, one shared 2-layer net, 3 H-cycles × 6 L-cycles, RoPE, 16 prefix positions',
    flags: ['--grid', '9', '--hidden', '128', '--heads', '4', '--expansion', '4', '--inter-multiple', '256', '--l-layers', '2', '--h-cycles', '3', '--l-cycles', '6', '--positions', 'rope', '--puzzle-emb-len', '16', '--variant', 'trm'],
  },
];

/** The reverse case's model (engine-created). */
const REVERSE_CONFIG = makeConfig({
  gridSize: 9, hidden: 128, heads: 4, expansion: 4, interMultiple: 256, H_layers: 2, L_layers: 2, H_cycles: 2, L_cycles: 2,
  haltMaxSteps: 16, haltExplorationProb: 0.1, positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});
/** A config whose layers/cycles differ from the reference's defaults (2/2/2/2): shows what the field names do. */
const PROBE_CONFIG = makeConfig({
  gridSize: 6, hidden: 64, heads: 2, expansion: 2, interMultiple: 32, H_layers: 1, L_layers: 1, H_cycles: 3, L_cycles: 1,
  haltMaxSteps: 4, haltExplorationProb: 0.1, positions: 'rope', ropeTheta: 10000, rmsEps: 1e-5, puzzleEmbLen: 1, variant: 'hrm',
});

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------
function py(args: string[]): { stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(PY, [torchBench, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { stdout, stderr: '' };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`torch_bench.py ${args[0]} failed: ${err.stderr || err.message}`);
  }
}

/** Like py() but keeps stderr and the exit status instead of throwing. */
function pyRaw(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(PY, [torchBench, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * The float64 run of the reference (same weights, same tokens, the model cast to double; RoPE tables are computed in
 * float32 first, as in the fp32 run, then cast). Writes logits, q and states as F32. It tells how far a correct
 * fp32 forward can be from exact arithmetic on these weights: torch's own fp32 error is measured the same way.
 */
const FP64_SCRIPT = `
import sys, torch
sys.dont_write_bytecode = True
sys.path.insert(0, 'bench/reference')
import hrm_reference as ref, safetensors_io as st
weights, dump, out, segments = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(1)
tokens = st.load_file(dump)[0]['tokens']
inner, _ = ref.load_checkpoint(weights)
inner.double()
o = ref.run_segments(inner, tokens, segments, keep_states=True)
st.save_file(out, {k: v.float().contiguous() for k, v in o.items()}, {'format': 'hrm-lens-forward-fp64-as-f32'})
`;

function fp64Dump(weights: string, dump: string, out: string): void {
  execFileSync(PY, ['-c', FP64_SCRIPT, weights, dump, out, String(SEGMENTS)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Puzzle file for a case: 9×9 from the fixture, 4×4 / 6×6 generated. Returns the path and the engine's tokens. */
function puzzleFile(dir: string, grid: GridSize, seed: number): { file: string; tokens: Int32Array } {
  let lines: string[];
  if (grid === 9) {
    lines = readFileSync(path.join(root, 'test', 'fixtures', 'puzzles', 'easy_50.txt'), 'utf8').split(/\r?\n/)
      .map((l) => l.split('//')[0].trim()).filter(Boolean).slice(0, PUZZLES);
  } else {
    lines = generatePuzzles({ n: grid, seed: 1000 + seed }, PUZZLES).map((p) => gridToString(p.puzzle, '.'));
  }
  const file = path.join(dir, `puzzles-${grid}x${grid}-${seed}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const cells = grid * grid;
  const tokens = new Int32Array(lines.length * cells);
  lines.forEach((l, i) => {
    const r = parseGrid(l.slice(0, cells), grid);
    if ('error' in r) throw new Error(`puzzle ${i + 1}: ${r.error}`);
    tokens.set(gridToTokens(r.grid), i * cells);
  });
  return { file, tokens };
}

/** max |Δ| of the five outputs of one segment. */
interface Diffs {
  logits: number;
  qHalt: number;
  qContinue: number;
  zH: number;
  zL: number;
}

interface SegmentDiff extends Diffs {
  segment: number;
  /** Cells whose argmax differs although torch's top-2 gap is > TOL. */
  argmaxMismatch: number;
  /** Cells whose argmax differs within a near-tie (gap ≤ TOL); allowed. */
  argmaxNearTies: number;
  /** This segment alone, started from torch's carry after the previous segment (the local, per-segment error). */
  teacherForced: Diffs;
  /** Against the reference run in float64: the engine (free run) and torch fp32. */
  tsVsFp64: Diffs;
  torchFp32VsFp64: Diffs;
}

function maxAbsDiff(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[aOffset + i] - b[bOffset + i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

function argmaxCompare(ts: Float32Array, ref: Float32Array, refOffset: number, rows: number, V: number): { mismatch: number; nearTies: number } {
  let mismatch = 0, nearTies = 0;
  for (let r = 0; r < rows; r++) {
    let bt = 0, br = 0;
    for (let v = 1; v < V; v++) {
      if (ts[r * V + v] > ts[r * V + bt]) bt = v;
      if (ref[refOffset + r * V + v] > ref[refOffset + r * V + br]) br = v;
    }
    if (bt === br) continue;
    const gap = Math.abs(ref[refOffset + r * V + br] - ref[refOffset + r * V + bt]);
    if (gap <= TOL) nearTies++; else mismatch++;
  }
  return { mismatch, nearTies };
}

/** A forward dump's tensors (fp32 run or the fp64 run stored as F32). */
interface Dump {
  tokens: Int32Array;
  B: number;
  cells: number;
  logits: Float32Array;
  qHalt: Float32Array;
  qContinue: Float32Array;
  zH: Float32Array;
  zL: Float32Array;
}

async function readDump(file: string, withTokens: boolean): Promise<Dump> {
  const st = await readSafetensors(file);
  const t = (name: string) => {
    const x = st.tensors.get(name);
    if (!x) throw new Error(`${file}: no tensor ${name}`);
    return x;
  };
  const logits = t('logits');
  const tokens = withTokens ? t('tokens').data as Int32Array : new Int32Array(0);
  return {
    tokens, B: logits.shape[1], cells: logits.shape[2], logits: logits.data as Float32Array,
    qHalt: t('q_halt').data as Float32Array, qContinue: t('q_continue').data as Float32Array,
    zH: t('z_H').data as Float32Array, zL: t('z_L').data as Float32Array,
  };
}

/** Per-segment sizes: logits B·cells·V, q B, states B·S_total·D. */
function sizes(model: HrmModel, B: number): { nl: number; nq: number; ns: number } {
  return { nl: B * model.dims.cells * model.dims.vocab, nq: B, ns: B * model.dims.totalLen * model.config.hidden };
}

function diffDumps(a: Dump, b: Dump, s: number, n: { nl: number; nq: number; ns: number }): Diffs {
  return {
    logits: maxAbsDiff(a.logits, s * n.nl, b.logits, s * n.nl, n.nl),
    qHalt: maxAbsDiff(a.qHalt, s * n.nq, b.qHalt, s * n.nq, n.nq),
    qContinue: maxAbsDiff(a.qContinue, s * n.nq, b.qContinue, s * n.nq, n.nq),
    zH: maxAbsDiff(a.zH, s * n.ns, b.zH, s * n.ns, n.ns),
    zL: maxAbsDiff(a.zL, s * n.ns, b.zL, s * n.ns, n.ns),
  };
}

/** One engine segment from `carry`; returns its outputs as data (the new carry is returned too, not disposed). */
function segmentData(model: HrmModel, carry: Carry, tokT: tf.Tensor2D): { next: Carry; logits: Float32Array; qHalt: Float32Array; qContinue: Float32Array; zH: Float32Array; zL: Float32Array } {
  const out = runSegment(model, carry, tokT);
  const r = {
    next: out.carry, logits: out.logits.dataSync() as Float32Array, qHalt: out.qHalt.dataSync() as Float32Array,
    qContinue: out.qContinue.dataSync() as Float32Array, zH: out.carry.zH.dataSync() as Float32Array, zL: out.carry.zL.dataSync() as Float32Array,
  };
  out.logits.dispose(); out.qHalt.dispose(); out.qContinue.dispose();
  return r;
}

function diffSeg(o: { logits: Float32Array; qHalt: Float32Array; qContinue: Float32Array; zH: Float32Array; zL: Float32Array }, d: Dump, s: number,
  n: { nl: number; nq: number; ns: number }): Diffs {
  return {
    logits: maxAbsDiff(o.logits, 0, d.logits, s * n.nl, n.nl),
    qHalt: maxAbsDiff(o.qHalt, 0, d.qHalt, s * n.nq, n.nq),
    qContinue: maxAbsDiff(o.qContinue, 0, d.qContinue, s * n.nq, n.nq),
    zH: maxAbsDiff(o.zH, 0, d.zH, s * n.ns, n.ns),
    zL: maxAbsDiff(o.zL, 0, d.zL, s * n.ns, n.ns),
  };
}

/**
 * Runs the engine's forward and compares with torch's fp32 dump (free run and teacher-forced per segment) and with
 * the fp64 dump.
 */
async function compare(model: HrmModel, dumpFile: string, dump64File: string, expectTokens: Int32Array): Promise<{ segments: SegmentDiff[]; tokensEqual: boolean; seconds: number }> {
  const d32 = await readDump(dumpFile, true);
  const d64 = await readDump(dump64File, false);
  const { B, cells } = d32;
  const tokensEqual = d32.tokens.length === expectTokens.length && d32.tokens.every((v, i) => v === expectTokens[i]);
  const n = sizes(model, B);
  const S = model.dims.totalLen;
  const D = model.config.hidden;
  const tokT = tf.tensor2d(d32.tokens, [B, cells], 'int32');
  let carry = initialCarry(model, B);
  const segments: SegmentDiff[] = [];
  const t0 = performance.now();
  let seconds = 0;
  for (let s = 0; s < SEGMENTS; s++) {
    const ts = performance.now();
    const o = segmentData(model, carry, tokT);
    seconds += (performance.now() - ts) / 1000;
    disposeCarry(carry);
    carry = o.next;
    const am = argmaxCompare(o.logits, d32.logits, s * n.nl, B * cells, model.dims.vocab);
    let teacherForced: Diffs;
    if (s === 0) teacherForced = diffSeg(o, d32, 0, n);
    else {
      const start: Carry = {
        zH: tf.tensor3d(d32.zH.subarray((s - 1) * n.ns, s * n.ns), [B, S, D]),
        zL: tf.tensor3d(d32.zL.subarray((s - 1) * n.ns, s * n.ns), [B, S, D]),
      };
      const f = segmentData(model, start, tokT);
      disposeCarry(start);
      disposeCarry(f.next);
      teacherForced = diffSeg(f, d32, s, n);
    }
    segments.push({
      segment: s + 1, ...diffSeg(o, d32, s, n), argmaxMismatch: am.mismatch, argmaxNearTies: am.nearTies,
      teacherForced, tsVsFp64: diffSeg(o, d64, s, n), torchFp32VsFp64: diffDumps(d32, d64, s, n),
    });
  }
  void t0;
  disposeCarry(carry);
  tokT.dispose();
  return { segments, tokensEqual, seconds };
}

interface Verdict {
  /** Free run, max over segments. */
  maxLogits: number;
  maxQ: number;
  maxStates: number;
  worst: string;
  /** The agreement criterion: free-run logits and q ≤ TOL in every segment, no argmax difference outside near-ties. */
  pass: boolean;
  statesPass: boolean;
  /** Teacher-forced (one segment from torch's carry), max over segments. */
  tfMaxLogits: number;
  tfMaxQ: number;
  teacherForcedPass: boolean;
  /** Max over segments of |engine − fp64| and |torch fp32 − fp64| (logits; q). */
  tsVsFp64Logits: number;
  torchVsFp64Logits: number;
  tsVsFp64Q: number;
  torchVsFp64Q: number;
  /** Whether torch fp32 itself meets TOL against fp64 (if not, no fp32 forward can be held to TOL over these segments). */
  torchFp32MeetsTol: boolean;
}

function verdict(segs: SegmentDiff[]): Verdict {
  let maxLogits = 0, maxQ = 0, maxStates = 0, worstV = -1, worst = '';
  let tfL = 0, tfQ = 0, a = 0, b = 0, aq = 0, bq = 0;
  for (const s of segs) {
    maxLogits = Math.max(maxLogits, s.logits);
    maxQ = Math.max(maxQ, s.qHalt, s.qContinue);
    maxStates = Math.max(maxStates, s.zH, s.zL);
    for (const k of ['logits', 'qHalt', 'qContinue', 'zH', 'zL'] as const) if (s[k] > worstV) { worstV = s[k]; worst = `segment ${s.segment} ${k}`; }
    tfL = Math.max(tfL, s.teacherForced.logits);
    tfQ = Math.max(tfQ, s.teacherForced.qHalt, s.teacherForced.qContinue);
    a = Math.max(a, s.tsVsFp64.logits);
    b = Math.max(b, s.torchFp32VsFp64.logits);
    aq = Math.max(aq, s.tsVsFp64.qHalt, s.tsVsFp64.qContinue);
    bq = Math.max(bq, s.torchFp32VsFp64.qHalt, s.torchFp32VsFp64.qContinue);
  }
  const argOk = segs.every((s) => s.argmaxMismatch === 0);
  return {
    maxLogits, maxQ, maxStates, worst, pass: maxLogits <= TOL && maxQ <= TOL && argOk, statesPass: maxStates <= TOL,
    tfMaxLogits: tfL, tfMaxQ: tfQ, teacherForcedPass: tfL <= TOL && tfQ <= TOL,
    tsVsFp64Logits: a, torchVsFp64Logits: b, tsVsFp64Q: aq, torchVsFp64Q: bq, torchFp32MeetsTol: b <= TOL && bq <= TOL,
  };
}

function fmt(x: number): string {
  return x === 0 ? '0' : x.toExponential(1);
}

/** Random q-head and puzzle vector, as torch_bench.py --test-init does (not the same numbers: a different RNG). */
function randomiseZeroInitParts(model: HrmModel, seed: number): void {
  const rng = new Rng(seed);
  const w = exportWeights(model);
  const D = model.config.hidden;
  w.set('q_head.weight', { shape: [2, D], data: truncNormal(rng, 2 * D, 1 / Math.sqrt(D)) });
  w.set('q_head.bias', { shape: [2], data: Float32Array.from([rng.normal(), rng.normal()]) });
  if (w.has(puzzleEmbeddingName)) w.set(puzzleEmbeddingName, { shape: [1, D], data: truncNormal(rng, D, 1) });
  assignWeights(model, w);
}

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------
interface CaseResult extends Verdict {
  name: string;
  direction: 'torch→ts' | 'ts→torch';
  note: string;
  config: Record<string, unknown>;
  backend: string;
  tokensEqual: boolean;
  tsSeconds: number;
  segments: SegmentDiff[];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hrm-agreement-'));
  const loadStart = os.loadavg();
  const started = Date.now();
  const interop: Record<string, unknown> = {};
  const results: CaseResult[] = [];
  const prepared: { c: Case; weights: string; dump: string; dump64: string; tokens: Int32Array; config: HrmConfig; tensors: Map<string, { shape: number[]; data: Float32Array }>; rawConfig: Record<string, unknown> }[] = [];
  let torchVersion = '?';
  try {
    // 1. torch side for every case (weights + forward dump), once.
    for (const c of CASES) {
      const weights = path.join(dir, `${c.name}.safetensors`);
      const dump = path.join(dir, `${c.name}.forward.safetensors`);
      const { file, tokens } = puzzleFile(dir, c.grid, c.seed);
      py(['init', ...c.flags, '--seed', String(c.seed), '--test-init', '--out', weights]);
      py(['forward', '--weights', weights, '--puzzles', file, '--limit', String(PUZZLES), '--segments', String(SEGMENTS), '--states', '--threads', '1', '--out', dump]);
      const dump64 = path.join(dir, `${c.name}.forward64.safetensors`);
      fp64Dump(weights, dump, dump64);
      const st = await readSafetensors(weights);
      const rawConfig = JSON.parse(st.metadata.config) as Record<string, unknown>;
      if (c === CASES[0]) {
        // Interop: does the engine's own reader take the reference's files as they are?
        try { await loadCheckpoint(weights); interop.loadCheckpointOnReferenceFile = 'accepted'; } catch (e) { interop.loadCheckpointOnReferenceFile = `refused: ${(e as Error).message}`; }
        try { configFromJson(rawConfig); interop.configFromJsonOnReferenceConfig = 'accepted'; } catch (e) { interop.configFromJsonOnReferenceConfig = `refused: ${(e as Error).message}`; }
        interop.referenceMetadata = { format: st.metadata.format, keys: Object.keys(st.metadata).sort() };
        const dumpMeta = (await readSafetensors(dump)).metadata;
        torchVersion = dumpMeta.producer ?? '?';
      }
      const { config, renamed, dropped } = configFromReference(rawConfig);
      interop.configMapping = { renamed, dropped };
      const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
      for (const [name, t] of st.tensors) {
        if (!(t.data instanceof Float32Array)) throw new Error(`${weights}: ${name} is ${t.dtype}, expected a float tensor`);
        tensors.set(name, { shape: t.shape, data: t.data });
      }
      prepared.push({ c, weights, dump, dump64, tokens, config, tensors, rawConfig });
    }

    // 2. reverse: engine-created weights saved by the engine's saveCheckpoint, run in torch.
    const revDir = path.join(dir, 'reverse');
    const { file: revPuzzles, tokens: revTokens } = puzzleFile(dir, 9, 7);
    await selectBackend({ backend: 'cpu' });
    const revModel = createModel(REVERSE_CONFIG, 7);
    randomiseZeroInitParts(revModel, 7007);
    const revWeights = exportWeights(revModel);
    const saved = await saveCheckpoint(revDir, 0, {
      weights: revModel.weights, transposeNames: new Set(linearWeightNames(REVERSE_CONFIG)),
      config: configToJson(REVERSE_CONFIG), meta: { producer: 'bench/agreement.ts' },
    });
    revModel.dispose();
    // (a) the engine's file as written: the reference reads the config with its own field names.
    const rawRun = pyRaw(['forward', '--weights', saved.file, '--puzzles', revPuzzles, '--limit', String(PUZZLES), '--segments', String(SEGMENTS), '--states', '--threads', '1', '--out', path.join(dir, 'reverse-raw.forward.safetensors')]);
    interop.referenceOnEngineCheckpoint = {
      config: '2+2 layers, 2×2 cycles (equal to the reference defaults)', status: rawRun.status, stderr: rawRun.stderr.trim(),
      sameAsTranslated: undefined as boolean | undefined,
    };
    // (b) the same tensors with the config translated to the reference's names: what the comparison uses.
    const revFile = path.join(dir, 'reverse-translated.safetensors');
    const revSt = await readSafetensors(saved.file);
    await writeSafetensors(revFile, revSt.tensors as Map<string, SafeTensorInput>, { ...revSt.metadata, config: JSON.stringify(configToReference(REVERSE_CONFIG)) });
    const revDump = path.join(dir, 'reverse.forward.safetensors');
    py(['forward', '--weights', revFile, '--puzzles', revPuzzles, '--limit', String(PUZZLES), '--segments', String(SEGMENTS), '--states', '--threads', '1', '--out', revDump]);
    const revDump64 = path.join(dir, 'reverse.forward64.safetensors');
    fp64Dump(revFile, revDump, revDump64);
    if (rawRun.status === 0) {
      const a = (await readSafetensors(path.join(dir, 'reverse-raw.forward.safetensors'))).tensors.get('logits')?.data as Float32Array;
      const b = (await readSafetensors(revDump)).tensors.get('logits')?.data as Float32Array;
      (interop.referenceOnEngineCheckpoint as { sameAsTranslated?: boolean }).sameAsTranslated = a.length === b.length && a.every((x, i) => x === b[i]);
    }
    // (c) probe: an engine checkpoint whose layers/cycles differ from the reference defaults, as written.
    const probeDir = path.join(dir, 'probe');
    const probeModel = createModel(PROBE_CONFIG, 9);
    const probeSaved = await saveCheckpoint(probeDir, 0, {
      weights: probeModel.weights, transposeNames: new Set(linearWeightNames(PROBE_CONFIG)), config: configToJson(PROBE_CONFIG), meta: {},
    });
    probeModel.dispose();
    const { file: probePuzzles } = puzzleFile(dir, 6, 9);
    const probeRun = pyRaw(['forward', '--weights', probeSaved.file, '--puzzles', probePuzzles, '--limit', '2', '--segments', '1', '--threads', '1', '--out', path.join(dir, 'probe.forward.safetensors')]);
    interop.referenceOnEngineCheckpointNonDefault = {
      config: 'gridSize 6, D 64, H_layers 1, L_layers 1, H_cycles 3, L_cycles 1 (engine names)', status: probeRun.status,
      stderr: probeRun.stderr.trim().split('\n').slice(-3).join('\n'),
    };

    // 3. engine side, per backend.
    for (const backend of backends) {
      const info = await selectBackend({ backend, threads: wasmThreads });
      for (const p of prepared) {
        const model = modelFromWeights(p.config, p.tensors);
        const r = await compare(model, p.dump, p.dump64, p.tokens);
        model.dispose();
        const v = verdict(r.segments);
        results.push({
          name: p.c.name, direction: 'torch→ts', note: p.c.note, config: p.rawConfig, backend: `${info.name} (${info.detail})`,
          tokensEqual: r.tokensEqual, tsSeconds: r.seconds, ...v, pass: v.pass && r.tokensEqual, segments: r.segments,
        });
        process.stderr.write(`${backend} ${p.c.name}: logits ${fmt(v.maxLogits)} q ${fmt(v.maxQ)} states ${fmt(v.maxStates)}\n`);
      }
      const model = modelFromWeights(REVERSE_CONFIG, revWeights);
      const r = await compare(model, revDump, revDump64, revTokens);
      model.dispose();
      const v = verdict(r.segments);
      results.push({
        name: 'reverse-hrm-9x9-h128-rope', direction: 'ts→torch', note: 'engine createModel(seed 7) + random q-head/puzzle vector, written by saveCheckpoint',
        config: configToJson(REVERSE_CONFIG), backend: `${info.name} (${info.detail})`, tokensEqual: r.tokensEqual, tsSeconds: r.seconds,
        ...v, pass: v.pass && r.tokensEqual, segments: r.segments,
      });
      process.stderr.write(`${backend} reverse: logits ${fmt(v.maxLogits)} q ${fmt(v.maxQ)} states ${fmt(v.maxStates)}\n`);
    }
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }

  // Report
  const names = (r: CaseResult) => `${r.name} | ${r.direction} | ${r.backend.split(' ')[0]}`;
  const lines = [
    '| case | direction | backend | logits | q | z_H/z_L | argmax diffs | 1e-4 | teacher-forced logits / q | engine vs fp64 logits | torch fp32 vs fp64 logits |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${names(r)} | ${fmt(r.maxLogits)} | ${fmt(r.maxQ)} | ${fmt(r.maxStates)} | `
      + `${r.segments.reduce((n, s) => n + s.argmaxMismatch, 0)} (+${r.segments.reduce((n, s) => n + s.argmaxNearTies, 0)} near-ties) | ${r.pass ? 'PASS' : 'FAIL'} | `
      + `${fmt(r.tfMaxLogits)} / ${fmt(r.tfMaxQ)} ${r.teacherForcedPass ? 'PASS' : 'FAIL'} | ${fmt(r.tsVsFp64Logits)} | ${fmt(r.torchVsFp64Logits)} |`),
  ];
  console.log(lines.join('\n'));
  console.log('\nper segment, free run: logits / q_halt / q_continue   [teacher-forced logits]   {engine vs fp64 | torch fp32 vs fp64, logits}');
  for (const r of results) {
    console.log(`  ${r.name} [${r.backend.split(' ')[0]}]:`);
    for (const s of r.segments) {
      console.log(`    s${s.segment} ${fmt(s.logits)} / ${fmt(s.qHalt)} / ${fmt(s.qContinue)}   [${fmt(s.teacherForced.logits)}]   {${fmt(s.tsVsFp64.logits)} | ${fmt(s.torchFp32VsFp64.logits)}}`);
    }
  }
  console.log('\ninterop:', JSON.stringify(interop, null, 2));
  const report = {
    what: 'TS engine vs PyTorch reference forward on the same weights: 4 segments from H_init/L_init, no halting, 8 puzzles; max |Δ| per segment',
    tolerance: TOL,
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    torch: torchVersion,
    cpu: os.cpus()[0]?.model ?? '?',
    nproc: os.cpus().length,
    loadavgStart: loadStart.map((x) => +x.toFixed(2)),
    loadavgEnd: os.loadavg().map((x) => +x.toFixed(2)),
    seconds: +((Date.now() - started) / 1000).toFixed(1),
    allPass: results.every((r) => r.pass),
    allTeacherForcedPass: results.every((r) => r.teacherForcedPass),
    criteria: {
      pass: `free run from H_init/L_init: max |Δ logits| and max |Δ q| ≤ ${TOL} in every segment, tokens equal, no argmax difference outside near-ties (torch top-2 gap ≤ ${TOL})`,
      teacherForcedPass: `each segment run alone from torch's carry after the previous segment: max |Δ logits|, |Δ q| ≤ ${TOL}`,
      fp64: 'the reference model cast to float64 (same weights and tokens): |engine − fp64| next to |torch fp32 − fp64| shows how much of the free-run gap any fp32 forward has on these weights',
    },
    interop,
    results,
  };
  await writeFileAtomic(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(root, resultsFile)}; free run: ${report.allPass ? 'ALL PASS' : 'SOME FAIL'}; teacher-forced: ${report.allTeacherForcedPass ? 'ALL PASS' : 'SOME FAIL'}`);
  if (!report.allPass) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(2);
});
