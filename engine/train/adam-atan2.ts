/**
 * AdamATan2, the main optimizer of the reference HRM (pip `adam-atan2`; docs/model.md §AdamATan2). Per parameter and
 * step t (its own counter, starting at 1; m and v start at 0):
 *
 *   p ← p · (1 − lr · wd)                                      decoupled weight decay, on the parameter, first
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr · atan2( m / (1 − β1^t), sqrt(v) / sqrt(1 − β2^t) )
 *
 * No ε and no extra scale: every element moves by at most lr·π/2. A parameter without a gradient in a step is left
 * alone (no decay, no counter increment), as PyTorch does for `p.grad is None`.
 * All tensor work runs inside tf.tidy; the previous m/v tensors are disposed when replaced. On wasm one fused kernel
 * (HrmLensAdamATan2, engine/kernels/wasm-ops.ts) does the update in one pass, to the same bits as the composition
 * (tested); HRM_LENS_FUSED_ADAM=0 keeps the composition.
 */
import { tf } from '../tf';
import { ADAM_ATAN2, type AdamAtan2Attrs, wasmOpsInstalled } from '../kernels/wasm-ops';
import type { StateArray, StateDict } from './checkpoint';

export interface AdamATan2Options {
  beta1?: number;
  beta2?: number;
  /** Decoupled weight decay (reference Sudoku recipe: 1.0). */
  weightDecay?: number;
}

interface Slot { m: tf.Tensor; v: tf.Tensor; t: number }

export class AdamATan2 {
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly params: ReadonlyMap<string, tf.Variable>, options: AdamATan2Options = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.weightDecay = options.weightDecay ?? 0;
  }

  /** Steps taken by a parameter (0 before its first gradient). */
  stepCount(name: string): number {
    return this.slots.get(name)?.t ?? 0;
  }

  /** One update of every parameter named in `grads`, with learning rate `lr`. Does not dispose the gradients. */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const { beta1: b1, beta2: b2, weightDecay: wd } = this;
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (p === undefined) throw new Error(`AdamATan2: gradient for unknown parameter "${name}"`);
      if (!tf.util.arraysEqual(g.shape, p.shape)) {
        throw new Error(`AdamATan2: gradient for "${name}" has shape [${g.shape.join(', ')}], parameter has [${p.shape.join(', ')}]`);
      }
      let slot = this.slots.get(name);
      if (slot === undefined) {
        slot = { m: tf.keep(tf.zerosLike(p)), v: tf.keep(tf.zerosLike(p)), t: 0 };
        this.slots.set(name, slot);
      }
      const t = slot.t + 1;
      const bc1 = 1 - b1 ** t;
      const bc2Sqrt = Math.sqrt(1 - b2 ** t);
      const prevM = slot.m;
      const prevV = slot.v;
      const [m, v, next] = fusedHere(p) ? fusedUpdate(p, g, prevM, prevV, {
        b1, c1: 1 - b1, b2, c2: 1 - b2, decay: wd !== 0 ? 1 - lr * wd : 1, bc1, bc2: bc2Sqrt, lr,
      }) : tf.tidy(() => {
        const decayed = wd !== 0 ? tf.mul(p, 1 - lr * wd) : p;
        const m = tf.add(tf.mul(prevM, b1), tf.mul(g, 1 - b1));
        const v = tf.add(tf.mul(prevV, b2), tf.mul(tf.square(g), 1 - b2));
        const update = tf.atan2(tf.div(m, bc1), tf.div(tf.sqrt(v), bc2Sqrt));
        return [m, v, tf.sub(decayed, tf.mul(update, lr))];
      });
      p.assign(next);
      next.dispose();
      prevM.dispose();
      prevV.dispose();
      slot.m = m;
      slot.v = v;
      slot.t = t;
    }
  }

  /**
   * m and v of every parameter stepped so far (arrays `m.<name>`, `v.<name>`) and the per-parameter step counters
   * (JSON `steps`). The arrays are read-only snapshots (on cpu they alias tensor storage: do not write to them).
   */
  getState(): StateDict {
    const arrays: Record<string, StateArray> = {};
    const steps: Record<string, number> = {};
    for (const [name, s] of this.slots) {
      arrays[`m.${name}`] = { shape: [...s.m.shape], data: s.m.dataSync() as Float32Array };
      arrays[`v.${name}`] = { shape: [...s.v.shape], data: s.v.dataSync() as Float32Array };
      steps[name] = s.t;
    }
    return { arrays, json: { kind: 'adam-atan2', beta1: this.beta1, beta2: this.beta2, weightDecay: this.weightDecay, steps } };
  }

  /** Restore what getState returned (hyper-parameters stay those of the constructor). Validates names and sizes. */
  setState(state: StateDict): void {
    const steps = state.json.steps;
    if (steps === null || typeof steps !== 'object' || Array.isArray(steps)) throw new Error('AdamATan2.setState: missing "steps" object');
    const fresh = new Map<string, Slot>();
    try {
      for (const [name, tv] of Object.entries(steps)) {
        const p = this.params.get(name);
        if (p === undefined) throw new Error(`AdamATan2.setState: state for unknown parameter "${name}"`);
        if (typeof tv !== 'number' || !Number.isSafeInteger(tv) || tv < 0) throw new Error(`AdamATan2.setState: bad step count for "${name}"`);
        const load = (key: string): tf.Tensor => {
          const a = state.arrays[key];
          if (a === undefined) throw new Error(`AdamATan2.setState: missing array "${key}"`);
          if (!(a.data instanceof Float32Array) || a.data.length !== p.size) {
            throw new Error(`AdamATan2.setState: "${key}" must be float32 with ${p.size} elements (parameter shape [${p.shape.join(', ')}])`);
          }
          return tf.keep(tf.tensor(a.data, p.shape, 'float32'));
        };
        const m = load(`m.${name}`);
        let v: tf.Tensor;
        try {
          v = load(`v.${name}`);
        } catch (err) {
          m.dispose();
          throw err;
        }
        fresh.set(name, { m, v, t: tv });
      }
    } catch (err) {
      for (const s of fresh.values()) {
        s.m.dispose();
        s.v.dispose();
      }
      throw err;
    }
    this.dispose();
    for (const [k, s] of fresh) this.slots.set(k, s);
  }

  /** Free the m/v tensors (the optimizer can still step: it starts again from zero state). */
  dispose(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }
}

/** Float32 tensors whose size is a multiple of 4 on wasm with the fused kernels (others: the composition). */
function fusedHere(p: tf.Tensor): boolean {
  return p.dtype === 'float32' && p.size % 4 === 0 && wasmOpsInstalled() && tf.getBackend() === 'wasm' && process.env.HRM_LENS_FUSED_ADAM !== '0';
}

/** The update as one kernel: [m', v', p'] like the composition. A decay of 1 leaves p as it is (p · 1 = p). */
function fusedUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: AdamAtan2Attrs): tf.Tensor[] {
  const [next, m2, v2] = tf.engine().runKernel(ADAM_ATAN2, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return [m2, v2, next];
}
