/**
 * Shared pieces of the export tests: run folders holding a real trained checkpoint (the shipped tiny-4x4 model) or
 * seeded random weights of any config, and per-segment logits of a model from H_init / L_init.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../../../engine/tf';
import { type HrmConfig, type HrmModel, configToJson, disposeCarry, initialCarry, makeConfig, runSegment, weightSpecs } from '../../../engine/model';
import { encodeSafetensors } from '../../../engine/interop/safetensors';
import { getPreset } from '../../../engine/train/presets';
import { SHIPPED_CHECKPOINT } from './shipped-model';

/** 4×4 puzzles (0 = blank). */
export const PUZZLES_4 = ['1..4..1..3..2..3', '.2..3......4..1.', '4...........1..2'];
/** 6×6 puzzles. */
export const PUZZLES_6 = ['1.....' + '..3...' + '....5.' + '.2....' + '...4..' + '.....6', '.2.4..' + '......' + '3.....' + '.....1' + '......' + '..6.5.'];

/** Reference tokens: blank 1, digit d → d + 1. */
export function tokens(puzzles: readonly string[]): number[][] {
  return puzzles.map((p) => [...p].map((c) => (c === '.' ? 1 : Number(c) + 1)));
}

/** A run folder with the shipped trained 4×4 model as `step-002000.safetensors` and a run.json of its preset. */
export function shippedRun(root: string): string {
  const dir = path.join(root, 'tiny-run');
  mkdirSync(dir, { recursive: true });
  copyFileSync(SHIPPED_CHECKPOINT, path.join(dir, 'step-002000.safetensors'));
  const preset = getPreset('tiny-4x4');
  const spec = { preset: 'tiny-4x4', model: configToJson(preset.model), train: preset.train, seed: 1, mixing: false, augment: false, data: { kind: 'generated' }, backend: {} };
  writeFileSync(path.join(dir, 'run.json'), `${JSON.stringify({ format: 'hrm-lens-run', spec }, null, 2)}\n`);
  return dir;
}

/** Deterministic pseudo-random normals (xorshift + Box–Muller). */
function normals(seed: number, n: number, std: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** A run folder whose `step-<step>.safetensors` holds seeded random weights (every tensor, heads and prefix included). */
export function randomRun(root: string, name: string, fields: Partial<HrmConfig>, seed: number, step = 7): { dir: string; config: HrmConfig } {
  const config = makeConfig(fields);
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  weightSpecs(config).forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const std = s.name === 'H_init' || s.name === 'L_init' ? 1 : 1 / Math.sqrt(s.shape[s.shape.length - 1]);
    tensors.set(s.name, { shape: s.shape, data: normals(seed * 1000 + i, n, std) });
  });
  const bytes = encodeSafetensors(tensors, {
    format: 'hrm-lens', format_version: '1', step: String(step), config: JSON.stringify(configToJson(config)), meta: '{}',
  });
  writeFileSync(path.join(dir, `step-${String(step).padStart(6, '0')}.safetensors`), bytes);
  return { dir, config };
}

/** Per-segment logits [S·B·cells·V] of a model from H_init / L_init. */
export function segmentLogits(model: HrmModel, toks: number[][], segments: number): Float32Array {
  const B = toks.length;
  const { cells, vocab } = model.dims;
  const out = new Float32Array(segments * B * cells * vocab);
  const tok = tf.tensor2d(Int32Array.from(toks.flat()), [B, cells], 'int32');
  let carry = initialCarry(model, B);
  for (let s = 0; s < segments; s++) {
    const r = runSegment(model, carry, tok);
    disposeCarry(carry);
    carry = r.carry;
    out.set(r.logits.dataSync() as Float32Array, s * B * cells * vocab);
    r.logits.dispose();
    r.qHalt.dispose();
    r.qContinue.dispose();
  }
  disposeCarry(carry);
  tok.dispose();
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Same bits (NaN-safe, -0 ≠ +0). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
