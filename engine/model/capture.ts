/**
 * run_with_cache for HRM, recursion-aware (in the spirit of TransformerLens): run S segments from the initial carry
 * and return only the activations asked for, by name, as typed arrays.
 *
 * ALL RECURSION INDICES ARE 1-BASED: segment k = 1..S (the paper's "segment 1..16"), H-cycle j = 1..H_cycles,
 * L-step i = 1..L_cycles. Only layer indices are 0-based, because they repeat the weight names (`layers.{b}`).
 *
 *   seg.{k}.h.{j}.l.{i}.zL             z_L after L-step i of H-cycle j           [B, S_total, D]
 *   seg.{k}.h.{j}.zH                   z_H after the H-update closing H-cycle j  [B, S_total, D]
 *   seg.{k}.zH, seg.{k}.zL             the carry at the end of segment k         [B, S_total, D]
 *   seg.{k}.logits                     lm_head(z_H), prefix dropped              [B, cells, vocab]
 *   seg.{k}.q                          (q_halt, q_continue) raw logits           [B, 2]
 *   seg.{k}.halted                     1/0 per row                               [B]
 *   seg.{k}.h.{j}.l.{i}.layers.{b}.attn   attention probabilities of block b in that L-update  [B, heads, S_total, S_total]
 *   seg.{k}.h.{j}.layers.{b}.attn         the same for the H-update (TRM: blocks of the shared L_level net)
 * (S_total = prefix + cells: z tensors and attention include the prefix positions.)
 *
 * Patterns: `*` matches one dotted component (`seg.*.logits`, `seg.*.h.*.zH`), `**` any run of characters
 * (`seg.3.**.attn`); RegExps are matched against whole names. An exact name that cannot be produced, or a pattern that
 * matches nothing, is an error (thrown before anything runs).
 *
 * Halting: 'off' (default, like the reference evaluation) runs every row for all S segments; `seg.{k}.halted` then
 * reports the Q rule's decision at segment k alone (would halt now). 'on' applies the ACT rule (Q rule, or
 * steps ≥ haltMaxSteps; no exploration): once a row halts it KEEPS ITS LAST OUTPUTS — every later capture of that row
 * (state, logits, q, intermediates, attention) repeats its value from the segment where it halted, and
 * `seg.{k}.halted` stays 1. When every row has halted the remaining segments are not computed.
 */
import { tf } from '../tf';
import type { HrmConfig } from './config';
import type { HrmModel } from './hrm';
import { haltDecisions, qSaysHalt } from './halting';
import { type Carry, type CaptureRequest, disposeCarry, initialCarry, runSegment, segmentSchedule } from './segment';
import { runSteps, type Steps } from '../util/steps';

export type NamePattern = string | RegExp;

export interface CapturedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface CacheOptions {
  /** Number of segments to run (≥ 1). */
  segments: number;
  halting?: 'off' | 'on';
  /** Names, wildcard patterns or RegExps (see the file comment). */
  names: readonly NamePattern[];
  /** Start state (default: initialCarry). Not disposed. */
  carry?: Carry;
}

/** Every name runWithCache can produce for a config and segment count, in computation order. */
export function captureNames(config: HrmConfig, segments: number): string[] {
  const names: string[] = [];
  const layersL = config.L_layers;
  const layersH = config.variant === 'trm' ? config.L_layers : config.H_layers;
  for (let k = 1; k <= segments; k++) {
    for (const step of segmentSchedule(config)) {
      if (step.kind === 'L') {
        const base = `seg.${k}.h.${step.h}.l.${step.l}`;
        for (let b = 0; b < layersL; b++) names.push(`${base}.layers.${b}.attn`);
        names.push(`${base}.zL`);
      } else {
        const base = `seg.${k}.h.${step.h}`;
        for (let b = 0; b < layersH; b++) names.push(`${base}.layers.${b}.attn`);
        names.push(`${base}.zH`);
      }
    }
    names.push(`seg.${k}.zH`, `seg.${k}.zL`, `seg.${k}.logits`, `seg.${k}.q`, `seg.${k}.halted`);
  }
  return names;
}

function patternRegExp(p: NamePattern): RegExp {
  if (p instanceof RegExp) return new RegExp(`^(?:${p.source})$`, p.flags.replace(/[gy]/g, ''));
  const src = p.split('**').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]+')).join('.+');
  return new RegExp(`^${src}$`);
}

/** Resolves names and patterns to concrete names (computation order); throws for unknown names / empty patterns. */
export function expandNames(config: HrmConfig, segments: number, patterns: readonly NamePattern[]): string[] {
  const all = captureNames(config, segments);
  const wanted = new Set<string>();
  const bad: string[] = [];
  for (const p of patterns) {
    const re = patternRegExp(p);
    const hits = all.filter((n) => re.test(n));
    if (hits.length === 0) bad.push(String(p));
    for (const h of hits) wanted.add(h);
  }
  if (bad.length) {
    throw new Error(`runWithCache: no such capture name(s) for ${segments} segment(s): ${bad.join(', ')} ` +
      `(segments, H-cycles and L-steps are 1-based; e.g. seg.1.h.1.l.1.zL, seg.1.zH, seg.*.logits)`);
  }
  return all.filter((n) => wanted.has(n));
}

/** `seg.{k}.rest` → `rest`. */
function suffixOf(name: string): string {
  return name.slice(name.indexOf('.', 4) + 1);
}

function tokensTensor(model: HrmModel, tokens: tf.Tensor2D | readonly ArrayLike<number>[]): tf.Tensor2D {
  if (!Array.isArray(tokens)) return tokens as tf.Tensor2D;
  const rows = tokens as readonly ArrayLike<number>[];
  const { cells, vocab } = model.dims;
  const data = new Int32Array(rows.length * cells);
  rows.forEach((r, b) => {
    if (r.length !== cells) throw new Error(`runWithCache: row ${b} has ${r.length} tokens, expected ${cells}`);
    for (let c = 0; c < cells; c++) {
      const t = r[c];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new Error(`runWithCache: row ${b} cell ${c}: token ${t} outside 0..${vocab - 1}`);
      data[b * cells + c] = t;
    }
  });
  return tf.tensor2d(data, [rows.length, cells], 'int32');
}

/** Copies row slices of halted rows from `prev` into `cur` (both [B, …] row-major). */
function freezeRows(cur: Float32Array, prev: Float32Array, halted: Uint8Array): void {
  const row = cur.length / halted.length;
  for (let b = 0; b < halted.length; b++) if (halted[b]) cur.set(prev.subarray(b * row, (b + 1) * row), b * row);
}

/**
 * Runs `segments` segments and returns the requested activations (Map in computation order). `tokens`: an int32
 * [B, cells] tensor (not disposed) or rows of token ids. Everything TF.js allocates is disposed before returning.
 */
export function runWithCache(
  model: HrmModel, tokens: tf.Tensor2D | readonly ArrayLike<number>[], opts: CacheOptions,
): Map<string, CapturedTensor> {
  return runSteps(runWithCacheSteps(model, tokens, opts));
}

/**
 * runWithCache as a step generator (engine/util/steps.ts): one `yield` after every segment. Closing it early
 * (`return()`, or a cancelled runStepsAsync) frees the carry and the tokens.
 */
export function* runWithCacheSteps(
  model: HrmModel, tokens: tf.Tensor2D | readonly ArrayLike<number>[], opts: CacheOptions,
): Steps<Map<string, CapturedTensor>> {
  if (!Number.isInteger(opts.segments) || opts.segments < 1) throw new Error(`runWithCache: segments must be an integer >= 1, got ${opts.segments}`);
  const haltingOn = (opts.halting ?? 'off') === 'on';
  const wanted = new Set(expandNames(model.config, opts.segments, opts.names));
  // With halting on, every suffix that is asked for at some segment is tracked at all segments, to freeze rows.
  const tracked = new Set(haltingOn ? [...wanted].map(suffixOf) : []);
  const tok = tokensTensor(model, tokens);
  const B = tok.shape[0];
  const result = new Map<string, CapturedTensor>();
  let last = new Map<string, CapturedTensor>();
  const halted = new Uint8Array(B);
  let carry: Carry = opts.carry
    ? { zH: tf.clone(opts.carry.zH), zL: tf.clone(opts.carry.zL) }
    : initialCarry(model, B);
  try {
    for (let k = 1; k <= opts.segments; k++) {
      const need = (name: string) => wanted.has(name) || tracked.has(suffixOf(name));
      const current = new Map<string, CapturedTensor>();
      const put = (name: string, shape: number[], data: Float32Array) => {
        const suffix = suffixOf(name);
        const prev = last.get(suffix);
        if (haltingOn && prev) freezeRows(data, prev.data, halted);
        const entry = { name, shape, data };
        current.set(suffix, entry);
        if (wanted.has(name)) result.set(name, entry);
      };
      if (haltingOn && halted.every((h) => h === 1)) {
        for (const [suffix, prev] of last) put(`seg.${k}.${suffix}`, [...prev.shape], Float32Array.from(prev.data));
        last = current;
        continue;
      }
      const sink: CaptureRequest = {
        wants: need,
        record: (name, t) => put(name, [...t.shape], Float32Array.from(t.dataSync() as Float32Array)),
      };
      const out = runSegment(model, carry, tok, { capture: sink, segmentIndex: k });
      disposeCarry(carry);
      carry = out.carry;
      const qHalt = out.qHalt.dataSync() as Float32Array;
      const qCont = out.qContinue.dataSync() as Float32Array;
      for (const t of [out.logits, out.qHalt, out.qContinue]) t.dispose();
      const decision = haltDecisions(model.config, qHalt, qCont, new Int32Array(B).fill(k), { useQ: true });
      const haltedNow = new Float32Array(B);
      if (haltingOn) {
        for (let b = 0; b < B; b++) haltedNow[b] = halted[b] || decision[b] ? 1 : 0;
      } else {
        // Off: the Q rule's decision at this segment alone (the max-steps cut does not apply).
        for (let b = 0; b < B; b++) haltedNow[b] = qSaysHalt(model.config, qHalt[b], qCont[b]) ? 1 : 0;
      }
      const haltedName = `seg.${k}.halted`;
      if (need(haltedName)) {
        const entry = { name: haltedName, shape: [B], data: haltedNow };
        current.set('halted', entry);
        if (wanted.has(haltedName)) result.set(haltedName, entry);
      }
      if (haltingOn) for (let b = 0; b < B; b++) halted[b] = haltedNow[b];
      last = current;
      if (k < opts.segments) yield;
    }
  } finally {
    disposeCarry(carry);
    if (tok !== tokens) tok.dispose();
  }
  return sortByOrder(result, [...wanted]);
}

function sortByOrder(m: Map<string, CapturedTensor>, order: readonly string[]): Map<string, CapturedTensor> {
  const out = new Map<string, CapturedTensor>();
  for (const n of order) {
    const e = m.get(n);
    if (e) out.set(n, e);
  }
  return out;
}
