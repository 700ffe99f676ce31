/**
 * The forward pass, one ACT segment at a time (docs/model.md §Forward pass of one segment, §One-step gradient):
 *
 *   x  = √D · [puzzle prefix | one-hot(tokens) @ E]   (+ learned positions, ×1/√2, before the √D scale)
 *   for h in 1..H_cycles: { for l in 1..L_cycles: zL ← L_net(zL + zH + x);  zH ← H_net(zH + zL) }
 *   logits = lm_head(zH)[:, prefix:],  (q_halt, q_continue) = q_head(zH[:, 0])
 *
 * TRM uses the shared `L_level` net for both updates. Gradient (training) path:
 * - HRM, one-step gradient: everything but the last L call and the last H call runs off the tape
 *   (`runSegmentNoTapePart`); the last two calls, the heads and the embedding run on it (`runSegmentTapedPart`).
 * - TRM: everything but the last full H-cycle runs off the tape; the last cycle (L_cycles L-updates + 1 H-update)
 *   runs on it.
 * `segmentGradients` wires both parts around tf.variableGrads and returns gradients keyed by weight name.
 *
 * Memory convention: every function returns NEW tensors and never disposes its inputs (use disposeCarry /
 * disposeSegmentOutput). Carries are plain values, never connected to a tape ("detached").
 * Capture names produced here (indices 1-based, see capture.ts): `seg.{k}.h.{j}.l.{i}.zL`, `seg.{k}.h.{j}.zH`,
 * `seg.{k}.zH`, `seg.{k}.zL`, `seg.{k}.logits`, `seg.{k}.q`, and attention probabilities
 * `seg.{k}.h.{j}.l.{i}.layers.{b}.attn` / `seg.{k}.h.{j}.layers.{b}.attn` ([B, heads, S, S], b 0-based as in the
 * weight names).
 */
import { tf } from '../tf';
import type { HrmConfig } from './config';
import type { HrmModel } from './hrm';
import { type BlockContext, moduleForward, moduleForwardFirstRows, type ProbsSink } from './block';
import { linear } from './linear';
import { gradientWeightNames, type Level, puzzleEmbeddingName } from './weights';

/** The recurrent state z = (z_H, z_L), each [B, S_total, D]. */
export interface Carry {
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
}

export interface SegmentOutput {
  carry: Carry;
  /** [B, cells, vocab] (prefix positions dropped). */
  logits: tf.Tensor3D;
  /** [B] raw logits. */
  qHalt: tf.Tensor1D;
  qContinue: tf.Tensor1D;
}

/** What the taped part returns: the new state plus the heads, all on the tape while inside tf.variableGrads. */
export interface TapedOutput {
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
  logits: tf.Tensor3D;
  qHalt: tf.Tensor1D;
  qContinue: tf.Tensor1D;
}

/**
 * A capture sink (capture.ts builds one for runWithCache). `record` gets a tensor that is disposed right after the
 * call: copy what you need synchronously (dataSync).
 */
export interface CaptureRequest {
  wants(name: string): boolean;
  record(name: string, value: tf.Tensor): void;
}

export interface SegmentOptions {
  capture?: CaptureRequest;
  /** Index used in capture names (1-based, default 1). */
  segmentIndex?: number;
}

/** One update of a segment: an L-update (H-cycle h, L-step l) or the H-update closing H-cycle h (1-based). */
export type UpdateStep = { kind: 'L'; h: number; l: number } | { kind: 'H'; h: number };

/** The updates of one segment, in order: H_cycles × (L_cycles L-updates, then 1 H-update). */
export function segmentSchedule(c: HrmConfig): UpdateStep[] {
  const steps: UpdateStep[] = [];
  for (let h = 1; h <= c.H_cycles; h++) {
    for (let l = 1; l <= c.L_cycles; l++) steps.push({ kind: 'L', h, l });
    steps.push({ kind: 'H', h });
  }
  return steps;
}

/** How many updates at the end of a segment are on the tape: HRM 2 (last L, last H), TRM L_cycles + 1. */
export function tapedStepCount(c: HrmConfig): number {
  return c.variant === 'trm' ? c.L_cycles + 1 : 2;
}

export function disposeCarry(carry: Carry): void {
  carry.zH.dispose();
  carry.zL.dispose();
}

export function disposeSegmentOutput(out: SegmentOutput | TapedOutput): void {
  if ('carry' in out) disposeCarry(out.carry);
  else { out.zH.dispose(); out.zL.dispose(); }
  out.logits.dispose();
  out.qHalt.dispose();
  out.qContinue.dispose();
}

function assertNoTape(what: string): void {
  if (tf.engine().state.gradientDepth > 0) {
    throw new Error(`${what} must run outside tf.variableGrads / tf.grads: it is the off-tape part of the segment`);
  }
}

/** The initial state: H_init / L_init broadcast to every batch row and position. */
export function initialCarry(model: HrmModel, batch: number): Carry {
  const { totalLen: S } = model.dims;
  const D = model.config.hidden;
  const [zH, zL] = tf.tidy(() => [
    tf.tile(tf.reshape(model.weight('H_init'), [1, 1, D]), [batch, S, 1]) as tf.Tensor3D,
    tf.tile(tf.reshape(model.weight('L_init'), [1, 1, D]), [batch, S, 1]) as tf.Tensor3D,
  ]);
  return { zH, zL };
}

/** Resets the rows with resetMask[b] = 1 to the initial state (float-mask blend m·init + (1−m)·z). */
export function resetCarry(model: HrmModel, carry: Carry, resetMask: Float32Array): Carry {
  const [B] = carry.zH.shape;
  if (resetMask.length !== B) throw new Error(`resetCarry: mask has ${resetMask.length} entries for batch ${B}`);
  const D = model.config.hidden;
  const [zH, zL] = tf.tidy(() => {
    const m = tf.tensor3d(resetMask, [B, 1, 1]);
    const keep = tf.sub(1, m);
    const blend = (init: tf.Tensor, z: tf.Tensor3D) => tf.add(tf.mul(m, tf.reshape(init, [1, 1, D])), tf.mul(keep, z)) as tf.Tensor3D;
    return [blend(model.weight('H_init'), carry.zH), blend(model.weight('L_init'), carry.zL)];
  });
  return { zH, zL };
}

function checkTokens(model: HrmModel, tokens: tf.Tensor2D): void {
  if (tokens.rank !== 2 || tokens.shape[1] !== model.dims.cells) {
    throw new Error(`tokens must be [batch, ${model.dims.cells}] for a ${model.config.gridSize}×${model.config.gridSize} model, got [${tokens.shape}]`);
  }
}

/**
 * Input embedding x [B, S_total, D]. The token lookup is one-hot @ table (tf.gather's gradient is missing on wasm).
 * The prefix is folded into the same product: the table is [E; puzzle vector; zero row] and prefix position 0 uses
 * the puzzle row, positions 1..P−1 the zero row. Gradients reach E, the puzzle vector and the position table.
 */
export function embedInput(model: HrmModel, tokens: tf.Tensor2D): tf.Tensor3D {
  checkTokens(model, tokens);
  return tf.tidy(() => {
    const { vocab: V, prefix: P, totalLen: S } = model.dims;
    const D = model.config.hidden;
    const B = tokens.shape[0];
    const ids = tokens.dtype === 'int32' ? tokens : tf.cast(tokens, 'int32');
    let table: tf.Tensor2D = model.weight('embed_tokens.embedding_weight') as tf.Tensor2D;
    let allIds: tf.Tensor2D = ids;
    if (P > 0) {
      table = tf.concat([table, model.weight(puzzleEmbeddingName) as tf.Tensor2D, model.consts.zeroRow], 0);
      const prefixIds = Int32Array.from({ length: P }, (_, p) => (p === 0 ? V : V + 1));
      allIds = tf.concat([tf.tile(tf.tensor2d(prefixIds, [1, P], 'int32'), [B, 1]), ids], 1);
    }
    // int32 one-hot, then cast: wasm's OneHot writes integer bits when asked for float32 directly (tfjs 4.22).
    const oneHot = tf.cast(tf.oneHot(tf.reshape(allIds, [B * S]), table.shape[0]), 'float32') as tf.Tensor2D;
    let x: tf.Tensor = tf.reshape(linear(oneHot, table), [B, S, D]);
    let scale = Math.sqrt(D);
    if (model.config.positions === 'learned') {
      x = tf.add(x, model.weight('embed_pos.embedding_weight'));
      scale *= Math.SQRT1_2;
    }
    return tf.mul(x, scale) as tf.Tensor3D;
  });
}

function levelOf(c: HrmConfig, kind: 'L' | 'H'): { level: Level; layers: number } {
  if (kind === 'L' || c.variant === 'trm') return { level: 'L_level', layers: c.L_layers };
  return { level: 'H_level', layers: c.H_layers };
}

/** Runs updates on a carry; returns the new carry. Each update runs in its own tidy, each block in its own too. */
function runSteps(model: HrmModel, carry: Carry, x: tf.Tensor3D, steps: readonly UpdateStep[], capture?: CaptureRequest, seg = 1): Carry {
  const [B, S, D] = carry.zH.shape;
  const ctx: BlockContext = { batch: B, seqLen: S, heads: model.config.heads, eps: model.config.rmsEps, rope: model.consts.rope };
  const N = B * S;
  const x2 = tf.reshape(x, [N, D]) as tf.Tensor2D;
  let zH = tf.reshape(carry.zH, [N, D]) as tf.Tensor2D;
  let zL = tf.reshape(carry.zL, [N, D]) as tf.Tensor2D;
  for (const step of steps) {
    const base = step.kind === 'L' ? `seg.${seg}.h.${step.h}.l.${step.l}` : `seg.${seg}.h.${step.h}`;
    // Attention probabilities are a separate pass (the output never depends on them): only for the layers asked for.
    const onProbs: ProbsSink | undefined = capture ? {
      wants: (layer) => capture.wants(`${base}.layers.${layer}.attn`),
      record: (layer, p) => capture.record(`${base}.layers.${layer}.attn`, p),
    } : undefined;
    const { level, layers } = levelOf(model.config, step.kind);
    if (step.kind === 'L') {
      const hIn = zH;
      const lIn = zL;
      zL = tf.tidy(() => moduleForward(model.weights, level, layers, lIn, tf.add(hIn, x2) as tf.Tensor2D, ctx, onProbs));
      lIn.dispose();
      const name = `${base}.zL`;
      if (capture?.wants(name)) tf.tidy(() => capture.record(name, tf.reshape(zL, [B, S, D])));
    } else {
      const hIn = zH;
      const lIn = zL;
      zH = tf.tidy(() => moduleForward(model.weights, level, layers, hIn, lIn, ctx, onProbs));
      hIn.dispose();
      const name = `${base}.zH`;
      if (capture?.wants(name)) tf.tidy(() => capture.record(name, tf.reshape(zH, [B, S, D])));
    }
  }
  x2.dispose();
  const out = { zH: tf.reshape(zH, [B, S, D]) as tf.Tensor3D, zL: tf.reshape(zL, [B, S, D]) as tf.Tensor3D };
  zH.dispose();
  zL.dispose();
  return out;
}

/**
 * One segment's state update from the input embedding x [B, S_total, D] (what runSegment does after embedding its
 * tokens): the interventions run it from states they patch or push (engine/intervene/recurrent-map.ts).
 */
export function segmentStateUpdate(model: HrmModel, carry: Carry, x: tf.Tensor3D, opts: SegmentOptions = {}): Carry {
  return runSteps(model, carry, x, segmentSchedule(model.config), opts.capture, opts.segmentIndex ?? 1);
}

/** Output heads on z_H [B, S_total, D]: logits [B, cells, V] (prefix dropped) and q = q_head(z_H[:, 0]) → [B, 2]. */
export function outputHeads(model: HrmModel, zH: tf.Tensor3D): { logits: tf.Tensor3D; q: tf.Tensor2D } {
  return tf.tidy(() => {
    const [B, S, D] = zH.shape;
    const { vocab: V, prefix: P, cells } = model.dims;
    const all = tf.reshape(linear(tf.reshape(zH, [B * S, D]) as tf.Tensor2D, model.weight('lm_head.weight') as tf.Tensor2D), [B, S, V]);
    const logits = (P > 0 ? tf.slice(all, [0, P, 0], [B, cells, V]) : all) as tf.Tensor3D;
    const first = tf.reshape(tf.slice(zH, [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
    const q = tf.add(linear(first, model.weight('q_head.weight') as tf.Tensor2D), model.weight('q_head.bias')) as tf.Tensor2D;
    return { logits, q };
  });
}

function splitQ(q: tf.Tensor2D): { qHalt: tf.Tensor1D; qContinue: tf.Tensor1D } {
  const B = q.shape[0];
  const [qHalt, qContinue] = tf.tidy(() => [
    tf.reshape(tf.slice(q, [0, 0], [B, 1]), [B]) as tf.Tensor1D,
    tf.reshape(tf.slice(q, [0, 1], [B, 1]), [B]) as tf.Tensor1D,
  ]);
  return { qHalt, qContinue };
}

/** One full segment, for inference (no gradient is intended; under a tape it would record everything). */
export function runSegment(model: HrmModel, carry: Carry, tokens: tf.Tensor2D, opts: SegmentOptions = {}): SegmentOutput {
  const seg = opts.segmentIndex ?? 1;
  const cap = opts.capture;
  const x = embedInput(model, tokens);
  const next = runSteps(model, carry, x, segmentSchedule(model.config), cap, seg);
  x.dispose();
  const { logits, q } = outputHeads(model, next.zH);
  if (cap) {
    if (cap.wants(`seg.${seg}.zH`)) cap.record(`seg.${seg}.zH`, next.zH);
    if (cap.wants(`seg.${seg}.zL`)) cap.record(`seg.${seg}.zL`, next.zL);
    if (cap.wants(`seg.${seg}.logits`)) cap.record(`seg.${seg}.logits`, logits);
    if (cap.wants(`seg.${seg}.q`)) cap.record(`seg.${seg}.q`, q);
  }
  const { qHalt, qContinue } = splitQ(q);
  q.dispose();
  return { carry: next, logits, qHalt, qContinue };
}

/**
 * Only the halting head's output of one full segment (what runSegment's qHalt and qContinue hold, the same bits): every
 * update but the last in full, the last H-update through moduleForwardFirstRows (q reads z_H at position 0 alone), no
 * logits. The training step's continue target (docs/model.md §ACT halting and Q-learning targets) needs no more.
 */
export function runSegmentQ(model: HrmModel, carry: Carry, tokens: tf.Tensor2D): { qHalt: tf.Tensor1D; qContinue: tf.Tensor1D } {
  const steps = segmentSchedule(model.config);
  const last = steps[steps.length - 1];
  const x = embedInput(model, tokens);
  const mid = runSteps(model, carry, x, steps.slice(0, -1));
  x.dispose();
  const [B, S, D] = mid.zH.shape;
  const ctx: BlockContext = { batch: B, seqLen: S, heads: model.config.heads, eps: model.config.rmsEps, rope: model.consts.rope };
  const { level, layers } = levelOf(model.config, last.kind);
  const q = tf.tidy(() => {
    const first = moduleForwardFirstRows(model.weights, level, layers,
      tf.reshape(mid.zH, [B * S, D]) as tf.Tensor2D, tf.reshape(mid.zL, [B * S, D]) as tf.Tensor2D, ctx);
    return tf.add(linear(first, model.weight('q_head.weight') as tf.Tensor2D), model.weight('q_head.bias')) as tf.Tensor2D;
  });
  disposeCarry(mid);
  const out = splitQ(q);
  q.dispose();
  return out;
}

/** The off-tape part of a segment (HRM: all but the last L and H call; TRM: all but the last H-cycle). */
export function runSegmentNoTapePart(model: HrmModel, carry: Carry, x: tf.Tensor3D): Carry {
  assertNoTape('runSegmentNoTapePart');
  const steps = segmentSchedule(model.config);
  return runSteps(model, carry, x, steps.slice(0, steps.length - tapedStepCount(model.config)));
}

/** The on-tape part of a segment plus the heads; call inside tf.variableGrads with x computed there too. */
export function runSegmentTapedPart(model: HrmModel, carry: Carry, x: tf.Tensor3D): TapedOutput {
  const steps = segmentSchedule(model.config);
  const next = runSteps(model, carry, x, steps.slice(steps.length - tapedStepCount(model.config)));
  const { logits, q } = outputHeads(model, next.zH);
  const { qHalt, qContinue } = splitQ(q);
  q.dispose();
  return { zH: next.zH, zL: next.zL, logits, qHalt, qContinue };
}

export interface SegmentGradients {
  /** The scalar lossFn returned. */
  loss: tf.Scalar;
  /** Gradient per weight name (TF.js layout); weights the loss does not reach are absent. */
  grads: Map<string, tf.Tensor>;
  /** The segment's outputs (the new carry is detached). */
  output: SegmentOutput;
}

/**
 * One training segment: the off-tape part, then the taped part inside tf.variableGrads with `lossFn` on its outputs.
 * `names` limits the weights differentiated (default: gradientWeightNames — trainable weights + puzzle embedding;
 * H_init/L_init never get a gradient). Dispose `loss`, the grads and `output` when done.
 */
export function segmentGradients(
  model: HrmModel, carry: Carry, tokens: tf.Tensor2D, lossFn: (out: TapedOutput) => tf.Scalar,
  opts: { names?: readonly string[] } = {},
): SegmentGradients {
  assertNoTape('segmentGradients');
  const mid = tf.tidy(() => {
    const c = runSegmentNoTapePart(model, carry, embedInput(model, tokens));
    return [c.zH, c.zL];
  });
  const midCarry: Carry = { zH: mid[0], zL: mid[1] };
  let kept: TapedOutput | undefined;
  let result: { value: tf.Scalar; grads: tf.NamedTensorMap };
  try {
    result = tf.variableGrads(() => {
      const out = runSegmentTapedPart(model, midCarry, embedInput(model, tokens));
      kept = out;
      for (const t of [out.zH, out.zL, out.logits, out.qHalt, out.qContinue]) tf.keep(t);
      return lossFn(out);
    }, model.variables(opts.names ?? gradientWeightNames(model.config)));
  } catch (e) {
    if (kept) disposeSegmentOutput(kept);
    throw e;
  } finally {
    disposeCarry(midCarry);
  }
  const out = kept as TapedOutput;
  const grads = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(result.grads)) grads.set(model.nameOfVariable(varName) ?? varName, g);
  return {
    loss: result.value,
    grads,
    output: { carry: { zH: out.zH, zL: out.zL }, logits: out.logits, qHalt: out.qHalt, qContinue: out.qContinue },
  };
}
