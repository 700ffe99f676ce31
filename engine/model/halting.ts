/**
 * The ACT halting rule (docs/model.md §ACT halting and Q-learning targets), on plain arrays.
 *
 * - Q rule: HRM halts when q_halt > q_continue; TRM ("halt-only", no continue target) when q_halt > 0, and so does an
 *   HRM trained without the continue target (the training setting `actContinue: false`, the reference's later
 *   `no_ACT_continue`).
 * - A slot always halts once steps ≥ haltMaxSteps.
 * - Training exploration (optional): per slot, with probability haltExplorationProb a minimum halt step is drawn
 *   uniformly from [2, haltMaxSteps]; the slot cannot halt before it (is_last always survives). Both draws are made
 *   for every slot so the random stream does not depend on the Q-values.
 * Evaluation in the reference disables the Q rule entirely (every example runs haltMaxSteps segments): pass
 * `useQ: false` for that.
 */
import type { Rng } from '../util/rng';
import type { HrmConfig } from './config';

/** The Q rule alone for one slot; `haltOnly` applies the halt-only rule (q_halt > 0) to an HRM too. */
export function qSaysHalt(config: HrmConfig, qHalt: number, qContinue: number, haltOnly = false): boolean {
  return config.variant === 'trm' || haltOnly ? qHalt > 0 : qHalt > qContinue;
}

export interface HaltOptions {
  /** Apply the Q rule (default true; false = reference evaluation: halt only at haltMaxSteps). */
  useQ?: boolean;
  /** Exploration stream (training only); omitted = no exploration. */
  exploration?: Rng;
  /** Halt-only Q rule (q_halt > 0) for an HRM too: training without the continue target. Default false. */
  haltOnly?: boolean;
}

/**
 * Halt decision per slot after a segment; `steps` are the segment counts *including* the one just run (1-based).
 * Returns 1 = halted, 0 = continue.
 */
export function haltDecisions(
  config: HrmConfig, qHalt: ArrayLike<number>, qContinue: ArrayLike<number>, steps: ArrayLike<number>, opts: HaltOptions = {},
): Uint8Array {
  const B = steps.length;
  const out = new Uint8Array(B);
  const useQ = opts.useQ ?? true;
  const floors = opts.exploration ? explorationFloors(config, B, opts.exploration) : undefined;
  for (let b = 0; b < B; b++) {
    const isLast = steps[b] >= config.haltMaxSteps;
    let halted = isLast || (useQ && qSaysHalt(config, qHalt[b], qContinue[b], opts.haltOnly));
    if (floors && steps[b] < floors[b] && !isLast) halted = false;
    out[b] = halted ? 1 : 0;
  }
  return out;
}

/**
 * The exploration draws of one training step for `slots` slots, in haltDecisions' order: per slot the minimum halt
 * step drawn (2…haltMaxSteps) when the slot explores, else 0. A function of the stream alone (not of the Q-values).
 */
export function explorationFloors(config: HrmConfig, slots: number, exploration: Rng): Int32Array {
  const out = new Int32Array(slots);
  for (let b = 0; b < slots; b++) {
    const explore = exploration.float() < config.haltExplorationProb;
    const minHalt = exploration.range(2, Math.max(2, config.haltMaxSteps));
    out[b] = explore ? minHalt : 0;
  }
  return out;
}
