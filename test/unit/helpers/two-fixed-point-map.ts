// A hand-built recurrent map with two stable fixed points, for the patching tests: on a 4×4 grid (16 positions, no
// prefix, hidden width 2, only coordinate 0 used), every position carries a latch s = z_H[·, 0] and a drive
// d = z_L[·, 0]:
//   d' = d + x,          s' = clamp(2·s + d', −1, 1)
// from s = d = 0, where the input x is +strong when the puzzle's cell 0 holds the digit 1, else −weak. s = ±1 are the
// two stable fixed points while |d| < 1; the read-out decodes s > 0 to the grid `plus` and s < 0 to the grid `minus`
// (logits s at plus's digit token, −s at minus's, 0 elsewhere). With strong = 1/16 and weak = 1/256 every value is a
// small multiple of 1/256, so float32 computes the map exactly and the tests can predict every run in closed form.
import { tf } from '../../../engine/tf';
import type { Carry, RecurrentMap } from '../../../engine/intervene/recurrent-map';
import type { Grid } from '../../../engine/sudoku/geometry';
import { grid } from './grids';

/** Two valid 4×4 solutions the tests use as the fixed points' grids (`plus`, `minus`). */
export const PLUS = grid('1234341221434321');
export const MINUS = grid('2341412332141432');

export interface TwoFixedPointSpec {
  /** The grids the fixed points s = +1 and s = −1 decode to (16 digits 1..4). */
  plus: Grid;
  minus: Grid;
  /** Drive per segment of a puzzle whose cell 0 is 1 (default 1/16), and of any other (−weak, default 1/256). */
  strong?: number;
  weak?: number;
  /** The map's segments (default 12). */
  segments?: number;
}

export interface TwoFixedPointMap {
  map: RecurrentMap;
  strong: number;
  weak: number;
  /** The drive x of a puzzle. */
  drive(puzzle: Grid): number;
  dispose(): void;
}

const P = 16;
const D = 2;
const V = 6;

export function twoFixedPointMap(spec: TwoFixedPointSpec): TwoFixedPointMap {
  const strong = spec.strong ?? 1 / 16;
  const weak = spec.weak ?? 1 / 256;
  const w = new Float32Array(P * V);
  for (let c = 0; c < P; c++) {
    w[c * V + spec.plus[c] + 1] += 1;
    w[c * V + spec.minus[c] + 1] -= 1;
  }
  const wT = tf.keep(tf.tensor3d(w, [1, P, V]));
  const map: RecurrentMap = {
    n: 4,
    positions: P,
    hidden: D,
    prefix: 0,
    segments: spec.segments ?? 12,
    initial: (batch) => ({ zH: tf.zeros([batch, P, D]) as tf.Tensor3D, zL: tf.zeros([batch, P, D]) as tf.Tensor3D }),
    embed: (tokens) => tf.tidy(() => {
      const B = tokens.shape[0];
      const one = tf.cast(tf.equal(tf.slice(tokens, [0, 0], [B, 1]), 2), 'float32');
      const x0 = tf.sub(tf.mul(one, strong + weak), weak);
      return tf.concat([tf.tile(tf.reshape(x0, [B, 1, 1]), [1, P, 1]), tf.zeros([B, P, D - 1])], 2) as tf.Tensor3D;
    }),
    step: (carry: Carry, x: tf.Tensor3D) => tf.tidy(() => {
      const zL = tf.add(carry.zL, x) as tf.Tensor3D;
      const zH = tf.clipByValue(tf.add(tf.mul(carry.zH, 2), zL), -1, 1) as tf.Tensor3D;
      return { zH, zL };
    }),
    readout: (zH) => tf.tidy(() => tf.mul(tf.slice(zH, [0, 0, 0], [zH.shape[0], P, 1]), wT) as tf.Tensor3D),
  };
  return {
    map, strong, weak,
    drive: (puzzle) => (puzzle[0] === 1 ? strong : -weak),
    dispose: () => wT.dispose(),
  };
}
