/**
 * The exported files in PyTorch itself (python3 with torch, numpy and PyYAML; CI installs them): torch.load reads the
 * checkpoint (also with weights_only=True), the keys and shapes are exactly the reference loss head's, load_state_dict
 * with strict=True takes it, every value equals what HRM Lens wrote, and the reference model of
 * bench/reference/hrm_reference.py, built from all_config.yaml alone, gives the TS engine's per-segment logits within
 * 1e-4. For a trained HRM (SwiGLU padded to the reference's 256), an HRM with RoPE and bf16 tensors, and a TRM in
 * the torch.compile key layout.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { selectBackend } from '../../engine/backend';
import { type ExportOfficialResult, type OfficialDtype, exportOfficial } from '../../engine/interop/export-official';
import { parseTorchCheckpoint } from '../../engine/interop/torch-zip';
import { parseNpy } from '../../engine/interop/npy';
import { loadModel } from '../../engine/train/load-model';
import { PUZZLES_4, PUZZLES_6, maxAbsDiff, randomRun, sameBits, segmentLogits, shippedRun, tokens } from './helpers/official-export';

const HELPER = path.join(__dirname, 'helpers', 'load_official.py');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'hrm-export-torch-'));

interface Report {
  torch: string;
  weights_only: boolean;
  compiled: boolean;
  keys: [string, number[], string][];
  module_keys: Record<string, number[]>;
  yaml: { arch: Record<string, unknown>; [k: string]: unknown };
  inter: number;
  prefix: number;
}

interface Loaded {
  report: Report;
  logits: Float32Array;
  values: Float32Array;
}

/**
 * Run the helper on every job in one process (PyTorch is slow to import), with the first interpreter that has torch,
 * numpy and yaml: $HRM_LENS_PYTHON, python3, /usr/bin/python3 (the helper exits with 3 when a module is missing).
 */
function loadInPython(jobs: { dir: string; file: string; tokens: number[][]; segments: number }[]): Loaded[] {
  const root = tmp();
  const withOut = jobs.map((j, i) => ({ ...j, out: mkdtempSync(path.join(root, `job${i}-`)) }));
  const jobFile = path.join(root, 'jobs.json');
  writeFileSync(jobFile, JSON.stringify(withOut));
  const candidates = [process.env.HRM_LENS_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, [HELPER, jobFile], { encoding: 'utf8', timeout: 540_000 });
    if (r.error || r.status === 3) {
      tried.push(`${python}: ${r.error?.message ?? r.stderr.trim()}`);
      continue;
    }
    assert.equal(r.status, 0, `${python} ${HELPER} failed:\n${r.stderr}`);
    const npy = (dir: string, name: string) => parseNpy(new Uint8Array(readFileSync(path.join(dir, name)))).data as Float32Array;
    return withOut.map((j) => ({
      report: JSON.parse(readFileSync(path.join(j.out, 'report.json'), 'utf8')) as Report,
      logits: npy(j.out, 'logits.npy'), values: npy(j.out, 'values.npy'),
    }));
  }
  throw new Error('these tests need Python 3 with PyTorch, NumPy and PyYAML (Debian: apt install python3-torch python3-numpy '
    + `python3-yaml; or set HRM_LENS_PYTHON to such an interpreter). Tried: ${tried.join('; ')}`);
}

/** Fields the reference needs from all_config.yaml: the model's (the rest come from the dataset) and PretrainConfig's. */
const ARCH_FIELDS: Record<string, 'number' | 'string'> = {
  H_cycles: 'number', L_cycles: 'number', H_layers: 'number', L_layers: 'number', hidden_size: 'number', expansion: 'number',
  num_heads: 'number', pos_encodings: 'string', halt_max_steps: 'number', halt_exploration_prob: 'number', rope_theta: 'number',
  rms_norm_eps: 'number', puzzle_emb_ndim: 'number', forward_dtype: 'string', name: 'string',
};
const TRAIN_FIELDS = ['global_batch_size', 'epochs', 'lr', 'lr_min_ratio', 'lr_warmup_steps', 'weight_decay', 'beta1', 'beta2', 'puzzle_emb_lr', 'puzzle_emb_weight_decay'];

interface Case {
  name: string;
  make: (t: string) => string;
  dtype: OfficialDtype;
  compiled: boolean;
  puzzles: string[];
  segments: number;
}

const CASES: Case[] = [
  { name: 'trained HRM 4×4 (learned positions, SwiGLU padded 96 → 256), fp32', make: shippedRun, dtype: 'fp32', compiled: false, puzzles: PUZZLES_4, segments: 4 },
  {
    name: 'HRM 6×6 with RoPE, bf16',
    make: (t) => randomRun(t, 'hrm6', { gridSize: 6, hidden: 32, heads: 2, expansion: 2, interMultiple: 32, H_layers: 1, L_layers: 2, haltMaxSteps: 3, positions: 'rope', puzzleEmbLen: 1, variant: 'hrm' }, 21).dir,
    dtype: 'bf16', compiled: false, puzzles: PUZZLES_6, segments: 3,
  },
  {
    name: 'TRM 6×6 (16-position prefix), torch.compile key layout, fp32',
    make: (t) => randomRun(t, 'trm6', { gridSize: 6, hidden: 32, heads: 2, expansion: 4, interMultiple: 256, H_layers: 0, L_layers: 2, H_cycles: 2, L_cycles: 2, haltMaxSteps: 3, positions: 'rope', puzzleEmbLen: 16, variant: 'trm' }, 22).dir,
    dtype: 'fp32', compiled: true, puzzles: PUZZLES_6, segments: 2,
  },
];

const results = new Map<Case, { r: ExportOfficialResult; py: Loaded }>();

before(async () => {
  await selectBackend({ backend: 'cpu' });
  const exported: ExportOfficialResult[] = [];
  for (const c of CASES) exported.push(await exportOfficial(c.make(tmp()), { dtype: c.dtype, compiled: c.compiled }));
  const loaded = loadInPython(exported.map((r, i) => ({ dir: r.dir, file: r.file, tokens: tokens(CASES[i].puzzles), segments: CASES[i].segments })));
  CASES.forEach((c, i) => results.set(c, { r: exported[i], py: loaded[i] }));
}, { timeout: 600_000 });

for (const c of CASES) {
  test(`PyTorch loads the export strictly and computes the engine's logits: ${c.name}`, { timeout: 600_000 }, async (t) => {
    const done = results.get(c);
    assert.ok(done, 'exported and loaded in before()');
    const { r, py } = done;
    const toks = tokens(c.puzzles);

    // Keys, shapes and dtypes: what we wrote, and exactly the reference module's own state dict.
    assert.deepEqual(py.report.keys.map(([k, s]) => [k, s]), r.keys.map((k) => [k.key, k.shape]));
    assert.deepEqual(py.report.keys.map(([, , d]) => d), r.keys.map((k) => k.dtype));
    assert.deepEqual(Object.fromEntries(py.report.keys.map(([k, s]) => [k, s])), py.report.module_keys);
    assert.equal(py.report.compiled, c.compiled);
    assert.equal(py.report.inter, r.swiglu.written, 'the reference\'s own SwiGLU rule gives the written width');
    assert.equal(py.report.prefix, r.config.puzzleEmbLen);
    assert.ok(py.report.weights_only, `torch ${py.report.torch} read it with weights_only=True`);

    // Values, as numpy sees them, equal what the file holds (read back by the project's reader).
    const ck = parseTorchCheckpoint(new Uint8Array(readFileSync(r.file)), r.file);
    const flat = new Float32Array(py.values.length);
    let at = 0;
    for (const k of r.keys) {
      const w = ck.tensors.get(k.key);
      assert.ok(w, k.key);
      flat.set(w.data, at);
      at += w.data.length;
    }
    assert.equal(at, py.values.length);
    assert.ok(sameBits(py.values, flat), 'numpy values equal the written values bit for bit');

    // The YAML as PyYAML reads it names what the reference needs.
    for (const [k, type] of Object.entries(ARCH_FIELDS)) assert.equal(typeof py.report.yaml.arch[k], type, `arch.${k}`);
    for (const k of TRAIN_FIELDS) assert.equal(typeof py.report.yaml[k], 'number', k);
    assert.equal(typeof (py.report.yaml.arch.loss as { name: unknown }).name, 'string');
    if (r.variant === 'trm') assert.ok(Array.isArray(py.report.yaml.data_paths));
    else assert.equal(typeof py.report.yaml.data_path, 'string');

    // The reference model's logits vs the engine's, on the exported checkpoint's source (bf16: the rounded weights).
    const { model } = await loadModel(r.source);
    try {
      const engine = segmentLogits(model, toks, c.segments);
      const d = maxAbsDiff(engine, py.logits);
      t.diagnostic(`${c.name}: torch ${py.report.torch}, max |Δ logits| = ${d.toExponential(2)} over ${c.segments} segments`);
      if (c.dtype === 'bf16') {
        assert.ok(d < 0.5, `bf16 drift ${d}`); // rounding every weight moves the outputs; the exact check is below
      } else {
        assert.ok(d <= 1e-4, `logits differ by ${d}`);
      }
    } finally {
      model.dispose();
    }
    if (c.dtype === 'bf16') {
      // The engine on the bf16 export itself (imported back) agrees with PyTorch on it within 1e-4.
      const { importCheckpoint } = await import('../../engine/interop/import-checkpoint');
      const back = await importCheckpoint(r.file, { out: `${r.dir}-imported` });
      const opened = await loadModel(back.file);
      try {
        const d = maxAbsDiff(segmentLogits(opened.model, toks, c.segments), py.logits);
        t.diagnostic(`bf16 export imported back: max |Δ logits| = ${d.toExponential(2)}`);
        assert.ok(d <= 1e-4, `logits differ by ${d}`);
      } finally {
        opened.model.dispose();
      }
    }
  });
}
