/**
 * Exponential moving average of the weights (TRM `models/ema.py`; docs/model.md §EMA). After every optimizer step:
 *
 *   shadow ← decay · shadow + (1 − decay) · param        decay 0.999, i.e. shadow = 0.001·param + 0.999·shadow
 *
 * The shadow starts as a copy of the weights. Only trainable weights are averaged: by default every Variable with
 * `trainable` set, except the puzzle embedding (`puzzle_emb.*`, a buffer trained by sign-SGD in the reference, which
 * the reference EMA does not see). H_init/L_init should be non-trainable Variables, so they are skipped too.
 *
 * Evaluation and checkpoints use the EMA copy: `swapIn()` puts the shadow into the model variables (and keeps the
 * raw weights aside) until `swapOut()`; `averaged(weights)` gives a map with the shadow substituted, without copies,
 * for saveCheckpoint; `copyTo(target)` assigns the shadow into another model's variables.
 */
import { tf } from '../tf';
import type { StateArray, StateDict } from './checkpoint';

export interface EmaOptions {
  /** Default 0.999. */
  decay?: number;
  /** Which weights to average; default: trainable Variables except `puzzle_emb.*`. */
  names?: Iterable<string>;
}

export class Ema {
  readonly decay: number;
  private readonly shadow = new Map<string, tf.Tensor>();
  private swapped = false;

  constructor(private readonly weights: ReadonlyMap<string, tf.Variable>, options: EmaOptions = {}) {
    this.decay = options.decay ?? 0.999;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new RangeError(`Ema: decay must be in [0, 1], got ${this.decay}`);
    const names = options.names !== undefined ? [...options.names]
      : [...weights.entries()].filter(([n, v]) => v.trainable && !n.startsWith('puzzle_emb.')).map(([n]) => n);
    for (const name of names) {
      const w = weights.get(name);
      if (w === undefined) throw new Error(`Ema: unknown weight "${name}"`);
      this.shadow.set(name, tf.keep(tf.clone(w)));
    }
  }

  /** The averaged weight names. */
  get names(): string[] {
    return [...this.shadow.keys()];
  }

  /** Whether the shadow is currently in the model variables. */
  get isSwappedIn(): boolean {
    return this.swapped;
  }

  /** Fold the current weights into the average (call after every optimizer step). */
  update(): void {
    if (this.swapped) throw new Error('Ema.update: the shadow is swapped in; call swapOut() first');
    const d = this.decay;
    for (const [name, s] of this.shadow) {
      const w = this.weights.get(name) as tf.Variable;
      const next = tf.tidy(() => tf.add(tf.mul(s, d), tf.mul(w, 1 - d)));
      s.dispose();
      this.shadow.set(name, next);
    }
  }

  /** Exchange model weights and shadow: afterwards the model holds the average. */
  swapIn(): void {
    if (this.swapped) throw new Error('Ema.swapIn: already swapped in');
    this.exchange();
    this.swapped = true;
  }

  /** Undo swapIn: the model gets its raw weights back. */
  swapOut(): void {
    if (!this.swapped) throw new Error('Ema.swapOut: not swapped in');
    this.exchange();
    this.swapped = false;
  }

  private exchange(): void {
    for (const [name, s] of this.shadow) {
      const w = this.weights.get(name) as tf.Variable;
      const raw = tf.keep(tf.clone(w));
      w.assign(s);
      s.dispose();
      this.shadow.set(name, raw);
    }
  }

  /** `weights` with the averaged tensors substituted (no copies; valid until the next update/swap/dispose). */
  averaged(weights: ReadonlyMap<string, tf.Tensor> = this.weights): Map<string, tf.Tensor> {
    if (this.swapped) return new Map(weights);
    const out = new Map<string, tf.Tensor>(weights);
    for (const [name, s] of this.shadow) if (out.has(name)) out.set(name, s);
    return out;
  }

  /** Assign the averaged weights into `target` (e.g. an evaluation copy of the model). */
  copyTo(target: ReadonlyMap<string, tf.Variable>): void {
    const src = this.averaged();
    for (const name of this.shadow.keys()) {
      const t = target.get(name);
      if (t === undefined) throw new Error(`Ema.copyTo: target has no weight "${name}"`);
      t.assign(src.get(name) as tf.Tensor);
    }
  }

  /** The shadow tensors as arrays `ema.<name>` (for resuming), plus decay and swap flag. */
  getState(): StateDict {
    const arrays: Record<string, StateArray> = {};
    for (const [name, s] of this.shadow) arrays[`ema.${name}`] = { shape: [...s.shape], data: s.dataSync() as Float32Array };
    return { arrays, json: { kind: 'ema', decay: this.decay, swapped: this.swapped } };
  }

  /** Restore the shadow from getState (names must match this Ema's). */
  setState(state: StateDict): void {
    if (state.json.swapped === true) throw new Error('Ema.setState: state was saved while swapped in');
    if (this.swapped) throw new Error('Ema.setState: swap out first');
    const fresh = new Map<string, tf.Tensor>();
    for (const [name, s] of this.shadow) {
      const a = state.arrays[`ema.${name}`];
      if (a === undefined || !(a.data instanceof Float32Array) || a.data.length !== s.size) {
        for (const t of fresh.values()) t.dispose();
        throw new Error(`Ema.setState: missing or mis-sized float32 array "ema.${name}" (expected ${s.size} elements)`);
      }
      fresh.set(name, tf.keep(tf.tensor(a.data, s.shape, 'float32')));
    }
    for (const [name, t] of fresh) {
      this.shadow.get(name)?.dispose();
      this.shadow.set(name, t);
    }
  }

  dispose(): void {
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
  }
}
