/**
 * PyTorch checkpoint import: the fixtures of test/fixtures/torch (made by make_fixtures.py from the one PyTorch
 * reference, saved with torch.save as the reference code saves them) are imported, re-opened from the native file and
 * run segment by segment; logits and Q-values must match PyTorch's. Also: a pickle naming a disallowed global is
 * refused and its payload never runs; missing / unknown keys are listed.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { tf } from '../../engine/tf';
import { selectBackend } from '../../engine/backend';
import { disposeCarry, initialCarry, runSegment, type HrmModel } from '../../engine/model';
import { loadModel } from '../../engine/train/load-model';
import { parseNpy } from '../../engine/interop/npy';
import { importCheckpoint, readCheckpointTensors } from '../../engine/interop/import-checkpoint';
import { mapReferenceStateDict } from '../../engine/interop/hrm-keys';
import { parseTorchCheckpoint } from '../../engine/interop/torch-zip';
import { scanPickle, unpickle } from '../../engine/interop/pickle';
import { TORCH_ALLOWED_GLOBALS } from '../../engine/interop/torch-zip';
import { encodeSafetensors } from '../../engine/interop/safetensors';
import { DataError } from '../../engine/util/errors';
import { encodeStoredZip } from '../../engine/interop/zip-writer';

const FIX = path.join(__dirname, '..', 'fixtures', 'torch');
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'hrm-import-'));

interface Expected {
  name: string;
  checkpoint: string;
  tokens: number[][];
  segments: number;
  q_halt: number[][];
  q_continue: number[][];
  config: Record<string, number | string>;
  fp32_source?: string;
}

function expected(name: string): { meta: Expected; logits: Float32Array; shape: number[] } {
  const meta = JSON.parse(readFileSync(path.join(FIX, 'expected', `${name}.json`), 'utf8')) as Expected;
  const npy = parseNpy(new Uint8Array(readFileSync(path.join(FIX, 'expected', `${name}.logits.npy`))));
  assert.equal(npy.dtype, 'float32');
  return { meta, logits: npy.data as Float32Array, shape: npy.shape };
}

/** Per-segment logits [S·B·cells·V] and q [S][B] of a model from H_init / L_init. */
function runModel(model: HrmModel, tokens: number[][], segments: number): { logits: Float32Array; qh: number[][]; qc: number[][] } {
  const B = tokens.length;
  const cells = model.dims.cells;
  const V = model.dims.vocab;
  const logits = new Float32Array(segments * B * cells * V);
  const qh: number[][] = [];
  const qc: number[][] = [];
  const tok = tf.tensor2d(Int32Array.from(tokens.flat()), [B, cells], 'int32');
  let carry = initialCarry(model, B);
  for (let s = 0; s < segments; s++) {
    const out = runSegment(model, carry, tok);
    disposeCarry(carry);
    carry = out.carry;
    logits.set(out.logits.dataSync() as Float32Array, s * B * cells * V);
    qh.push(Array.from(out.qHalt.dataSync()));
    qc.push(Array.from(out.qContinue.dataSync()));
    out.logits.dispose();
    out.qHalt.dispose();
    out.qContinue.dispose();
  }
  disposeCarry(carry);
  tok.dispose();
  return { logits, qh, qc };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

before(async () => {
  await selectBackend({ backend: 'cpu' });
});

const FIXTURES: { name: string; tol: number; variant: 'hrm' | 'trm'; prefix: string }[] = [
  { name: 'hrm-fp32', tol: 1e-4, variant: 'hrm', prefix: 'model.inner.' },
  { name: 'hrm-bf16-compiled', tol: 1e-4, variant: 'hrm', prefix: '_orig_mod.model.inner.' },
  { name: 'hrm-safetensors', tol: 1e-4, variant: 'hrm', prefix: 'model.inner.' },
  { name: 'trm-fp32', tol: 1e-4, variant: 'trm', prefix: '_orig_mod.model.inner.' },
  { name: 'trm-bf16', tol: 1e-4, variant: 'trm', prefix: 'model.inner.' },
  { name: 'hrm4-learned-noyaml', tol: 1e-4, variant: 'hrm', prefix: 'model.inner.' },
];

for (const fx of FIXTURES) {
  test(`import ${fx.name}: per-segment logits and q match PyTorch`, async (t) => {
    const { meta, logits } = expected(fx.name);
    const out = tmp();
    const result = await importCheckpoint(path.join(FIX, meta.checkpoint), { out });
    assert.equal(result.variant, fx.variant);
    assert.deepEqual(Object.keys(result.prefixes), [fx.prefix]);
    assert.ok(existsSync(result.file) && existsSync(path.join(out, 'run.json')));
    // The config the importer inferred is the one the fixture was built with.
    for (const [k, v] of Object.entries(meta.config)) {
      if (k === 'interMultiple' || k === 'expansion') continue; // any rule giving the same SwiGLU width will do
      assert.equal((result.config as unknown as Record<string, unknown>)[k], v, `config field ${k}`);
    }
    const { model } = await loadModel(result.file); // through the native file, as the Runs tree opens it
    try {
      const got = runModel(model, meta.tokens, meta.segments);
      const dLogits = maxAbsDiff(got.logits, logits);
      const dQ = Math.max(maxAbsDiff(got.qh.flat(), meta.q_halt.flat()), maxAbsDiff(got.qc.flat(), meta.q_continue.flat()));
      let line = `${fx.name}: max |Δ logits| = ${dLogits.toExponential(2)}, max |Δ q| = ${dQ.toExponential(2)}`;
      assert.ok(dLogits <= fx.tol, `logits differ by ${dLogits}`);
      assert.ok(dQ <= fx.tol, `q differs by ${dQ}`);
      if (meta.fp32_source) {
        // The bf16 fixture's expected outputs are PyTorch's for the bf16 weights (checked above at 1e-4, tighter than the
        // issue's 2e-2). How far bf16 rounding itself moves the fp32 model's outputs is reported, loosely bounded.
        const src = expected(meta.fp32_source);
        const n = Math.min(src.logits.length, got.logits.length);
        const dSrc = maxAbsDiff(got.logits.subarray(0, n), src.logits.subarray(0, n));
        const dSrcQ = maxAbsDiff(got.qh.flat(), src.meta.q_halt.flat().slice(0, got.qh.flat().length));
        line += `; vs the fp32 model: logits ${dSrc.toExponential(2)}, q_halt ${dSrcQ.toExponential(2)}`;
        assert.ok(dSrc <= 0.25 && dSrcQ <= 0.25, `bf16 drift ${dSrc} / ${dSrcQ}`);
      }
      t.diagnostic(line);
    } finally {
      model.dispose();
    }
  });
}

test('import without all_config.yaml: the assumed fields are listed', async () => {
  const r = await importCheckpoint(path.join(FIX, 'hrm4-noyaml', 'checkpoint.pt'), { out: tmp() });
  assert.equal(r.configFile, null);
  assert.equal(r.config.positions, 'learned');
  assert.ok(r.notes.some((n) => n.startsWith('heads = 1')), r.notes.join('\n'));
  assert.ok(r.notes.some((n) => n.startsWith('H_cycles = 2')));
});

function maliciousZip(pkl: Uint8Array): Uint8Array {
  return encodeStoredZip([{ name: 'evil/data.pkl', data: pkl }, { name: 'evil/version', data: new TextEncoder().encode('3\n') }]);
}

test('a checkpoint whose pickle names os.system is refused and nothing runs', async () => {
  const dir = tmp();
  const marker = path.join(dir, 'pwned');
  // pickle.dumps of os.system('touch <marker>'), protocol 2: GLOBAL, argument tuple, REDUCE.
  const pkl = pickleBytes([0x80, 0x02], 'cos\nsystem\n', [0x58], le32(`touch ${marker}`.length), `touch ${marker}`, [0x85, 0x52, 0x2e]);
  const file = path.join(dir, 'evil.pt');
  writeFileSync(file, maliciousZip(pkl));
  await assert.rejects(() => importCheckpoint(file, { out: path.join(dir, 'out') }), (err: unknown) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /evil\.pt/);
    assert.match(err.message, /"os\.system"/);
    assert.match(err.message, /nothing was executed/);
    return true;
  });
  assert.equal(existsSync(marker), false, 'the payload must not have run');
  assert.equal(existsSync(path.join(dir, 'out')), false, 'nothing is written for a refused file');
  // The scan alone sees the global without interpreting anything.
  assert.deepEqual(scanPickle(pkl).globals, ['os.system']);
});

test('a disallowed global is refused before any opcode runs, even after allowed ones', () => {
  // OrderedDict() then builtins.eval: the pre-scan refuses before the allowed REDUCE is interpreted.
  const pkl = pickleBytes([0x80, 0x02], 'ccollections\nOrderedDict\n', [0x29, 0x52, 0x30], 'cbuiltins\neval\n', [0x58], le32(4), '1+1)', [0x85, 0x52, 0x2e]);
  assert.throws(() => unpickle(pkl, { file: 'x.pkl', allowedGlobals: TORCH_ALLOWED_GLOBALS }), /x\.pkl.*"builtins\.eval"/s);
  // Protocol 4 STACK_GLOBAL (names built from strings on the stack) is refused when formed.
  const p4 = pickleBytes([0x80, 0x04], [0x8c, 2], 'os', [0x8c, 6], 'system', [0x93], [0x8c, 4], 'true', [0x85, 0x52, 0x2e]);
  assert.throws(() => unpickle(p4, { file: 'y.pkl', allowedGlobals: TORCH_ALLOWED_GLOBALS }), /y\.pkl.*"os\.system"/s);
  // Object-building opcodes are refused by name.
  assert.throws(() => unpickle(pickleBytes([0x80, 0x02, 0x28], 'ios\nsystem\n', [0x2e]), { allowedGlobals: TORCH_ALLOWED_GLOBALS }), /INST is not allowed/);
  // Legacy non-zip torch files get a clear message.
  assert.throws(() => parseTorchCheckpoint(pickleBytes([0x80, 0x02, 0x8a, 0x0a]), 'old.pt'), /legacy/);
});

/** Pickle bytes from a list of opcodes / raw chunks. */
function pickleBytes(...parts: (string | number[])[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

test('missing and unknown keys are all listed in the error', async () => {
  const { tensors } = await readCheckpointTensors(path.join(FIX, 'hrm', 'step_100'));
  const broken = new Map(tensors);
  broken.delete('model.inner.L_level.layers.1.mlp.down_proj.weight');
  broken.delete('model.inner.H_init');
  broken.set('model.inner.L_level.layers.1.mlp.extra_proj.weight', { dtype: 'float32', shape: [2, 2], data: new Float32Array(4) });
  broken.set('model.inner.lm_head.bias', { dtype: 'float32', shape: [11], data: new Float32Array(11) });
  assert.throws(() => mapReferenceStateDict(broken, { file: 'ck.pt' }), (err: unknown) => {
    assert.ok(err instanceof DataError);
    const m = err.message;
    assert.match(m, /^ck\.pt/);
    for (const k of ['L_level.layers.1.mlp.down_proj.weight', 'H_init', 'model.inner.L_level.layers.1.mlp.extra_proj.weight', 'model.inner.lm_head.bias']) {
      assert.ok(m.includes(k), `${k} not listed in: ${m}`);
    }
    return true;
  });
  // Through a safetensors file too, and TRM-MLP keys are named as unsupported.
  const dir = tmp();
  const file = path.join(dir, 'mlp_t.safetensors');
  const withMlpT = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  withMlpT.set('model.inner.L_level.layers.0.mlp_t.gate_up_proj.weight', { shape: [2, 2], data: new Float32Array(4) });
  writeFileSync(file, encodeSafetensors(withMlpT));
  await assert.rejects(() => importCheckpoint(file, { out: path.join(dir, 'o') }), /mlp_t.*not supported/);
});

test('a wrong all_config.yaml is caught against the shapes', async () => {
  const dir = tmp();
  const yaml = path.join(dir, 'all_config.yaml');
  writeFileSync(yaml, 'arch:\n  name: hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1\n  hidden_size: 512\n  num_heads: 8\n');
  await assert.rejects(() => importCheckpoint(path.join(FIX, 'hrm', 'step_100'), { config: yaml, out: path.join(dir, 'o') }),
    /hidden size 32 disagrees with .*all_config\.yaml hidden_size 512/);
  writeFileSync(yaml, 'arch:\n  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1\n');
  await assert.rejects(() => importCheckpoint(path.join(FIX, 'hrm', 'step_100'), { config: yaml, out: path.join(dir, 'o') }),
    /names a TRM/);
});

test('hrm-lens import --json: imports, evaluates on a dataset and stores the figures beside the checkpoint', async () => {
  const { Command } = await import('commander');
  const { registerImportCommands } = await import('../../engine/cli/import');
  const dir = tmp();
  const data = path.join(dir, 'eval.txt');
  writeFileSync(data, `${expected('hrm-fp32').meta.tokens.map((row) => row.map((t) => (t === 1 ? '.' : String(t - 1))).join('')).slice(0, 2).join('\n')}\n`);
  const program = new Command().exitOverride();
  registerImportCommands(program);
  let printed = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => { printed += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'hrm-lens', 'import', path.join(FIX, 'trm', 'step_200'), '--out', path.join(dir, 'run'),
      '--eval-data', data, '--segments', '2', '--backend', 'cpu', '--json']);
  } finally {
    process.stdout.write = write;
  }
  const out = JSON.parse(printed) as { file: string; variant: string; step: number; evaluation: { puzzles: number; segments: number; savedTo: string } };
  assert.equal(out.variant, 'trm');
  assert.equal(out.step, 200);
  assert.equal(out.file, path.join(dir, 'run', 'step-000200.safetensors'));
  assert.equal(out.evaluation.puzzles, 2);
  assert.equal(out.evaluation.segments, 2);
  assert.ok(existsSync(path.join(dir, 'run', 'step-000200.eval.json')));
});
