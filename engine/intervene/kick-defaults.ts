/**
 * The kicks' defaults and their count, free of TF.js: shared by the kicks themselves (kick.ts), the engine's request
 * checks (engine/rpc/patch-kick-handlers.ts) and the command line (engine/cli/kick.ts).
 */
import type { StatePart } from './intervene-protocol';

export const KICK_DEFAULTS = Object.freeze({
  epsilons: Object.freeze([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]) as readonly number[],
  directions: 16,
  pcs: 2,
  part: 'both' as StatePart,
  seed: 0,
});

/**
 * The share of kicks that must come back at an ε for it to lie inside the basin: 0.9, so that one or two unlucky
 * directions of the default 20 kicks per ε (16 random + 2 principal × 2 signs) do not shrink the radius, while a
 * basin that loses a tenth of its kicks does not count as one.
 */
export const BASIN_LEVEL = 0.9;

/** Kicked copies of the state: sizes × (random directions + 2 · principal directions), defaults filled in. */
export function kickCount(p: { epsilons?: readonly number[]; directions?: number; pcs?: number }): number {
  return (p.epsilons?.length ?? KICK_DEFAULTS.epsilons.length) * ((p.directions ?? KICK_DEFAULTS.directions) + 2 * (p.pcs ?? KICK_DEFAULTS.pcs));
}
