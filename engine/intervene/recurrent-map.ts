/**
 * The one-segment map z(i+1) = F(z(i), x) as the interventions see it (docs/analyses.md §Interventions): a state
 * (z_H, z_L), one segment from a state, and the read-out of a grid from z_H. The HRM (and TRM) is one such map
 * (`hrmMap`); hand-built maps whose fixed points and Jacobian are known in closed form are others, which is how the
 * interventions are tested against exact answers.
 *
 * Memory convention as engine/model/segment.ts: every method returns NEW tensors and never disposes its inputs.
 */
import { tf } from '../tf';
import type { GridSize } from '../sudoku/geometry';
import { type Carry, type HrmModel, embedInput, initialCarry, outputHeads, segmentStateUpdate } from '../model';
import type { TorchModel } from '../torch/torch-model';

export type { Carry } from '../model';

export interface RecurrentMap {
  /** The grid the read-out decodes (cells = n²; tokens 1 + digit, 0 blank). */
  readonly n: GridSize;
  /** Positions of the state per puzzle (the prefix included) and width: z_H and z_L are each [B, positions, hidden]. */
  readonly positions: number;
  readonly hidden: number;
  /** Positions before the first cell (the puzzle prefix); cell c is position prefix + c. */
  readonly prefix: number;
  /** Segments the map is meant to run (a model's haltMaxSteps). */
  readonly segments: number;
  /** The initial state for a batch. */
  initial(batch: number): Carry;
  /** The input embedding for a batch of puzzles (tokens [B, cells], int32), computed once per trajectory. */
  embed(tokens: tf.Tensor2D): tf.Tensor3D;
  /** One segment F(z, x): the new state. */
  step(carry: Carry, x: tf.Tensor3D): Carry;
  /** Logits [B, cells, vocab] read from a state (z_H for the HRM; any tensor shaped like z_H). */
  readout(zH: tf.Tensor3D): tf.Tensor3D;
  /**
   * Set when the segments run on the PyTorch worker (engine/torch/torch-map.ts): trajectories and read-outs then go
   * through this model (trajectory.ts), and the tensor methods above, which only the TF.js analyses need, throw.
   */
  readonly torch?: TorchModel;
}

/** The HRM (or TRM) of `model` as a RecurrentMap: `step` is runSegment's state update, `readout` its lm_head. */
export function hrmMap(model: HrmModel): RecurrentMap {
  const { totalLen, prefix } = model.dims;
  return {
    n: model.config.gridSize as GridSize,
    positions: totalLen,
    hidden: model.config.hidden,
    prefix,
    segments: model.config.haltMaxSteps,
    initial: (batch) => initialCarry(model, batch),
    embed: (tokens) => embedInput(model, tokens),
    step: (carry, x) => segmentStateUpdate(model, carry, x),
    readout: (zH) => tf.tidy(() => {
      const { logits, q } = outputHeads(model, zH);
      q.dispose();
      return logits;
    }),
  };
}
