/**
 * What the Interventions section may ask the engine for, checked on the host before anything is sent (a webview's
 * message is not trusted): the kick sizes' bounds, the segment of a spectrum, the sweep's scope; and the digit
 * relabeling of a "relabeling" donor. No VS Code here (unit-tested in plain Node).
 */
import type { InspectorTrace, InterventionRequest } from '../../webview/protocol';

/** Kick sizes a request may carry: at most this many, each in (0, MAX_EPSILON] (ε is relative to ‖z‖). */
export const MAX_EPSILONS = 16;
export const MAX_EPSILON = 10;
/** Puzzles of a dataset the compute sweep takes (the engine's default). */
export const SWEEP_DATASET_COUNT = 100;

/** Why a request from a webview cannot be run on `trace`, or undefined. */
export function requestProblem(r: InterventionRequest, trace: Pick<InspectorTrace, 'segments'>): string | undefined {
  switch (r?.kind) {
    case 'patch':
      return ['zH', 'zL', 'both'].includes(r.part) ? undefined : 'part must be zH, zL or both';
    case 'kick':
      return Array.isArray(r.epsilons) && r.epsilons.length >= 1 && r.epsilons.length <= MAX_EPSILONS
        && r.epsilons.every((e) => typeof e === 'number' && Number.isFinite(e) && e > 0 && e <= MAX_EPSILON)
        ? undefined : `the kick sizes must be 1 to ${MAX_EPSILONS} numbers in (0, ${MAX_EPSILON}]`;
    case 'spectrum':
      return Number.isInteger(r.atSegment) && r.atSegment >= 1 && r.atSegment <= trace.segments.length ? undefined : `the segment must be 1 to ${trace.segments.length}`;
    case 'sweep':
      return r.scope === 'puzzle' || r.scope === 'dataset' ? undefined : 'the sweep is on this puzzle or a dataset';
    case 'lens':
      return undefined;
    default:
      return 'not an intervention';
  }
}

/** The cyclic digit shift +`shift` of an n×n puzzle as a relabeling (perm[d − 1] is digit d's new digit); undefined when out of range. */
export function shiftPerm(n: number, shift: number): number[] | undefined {
  if (!Number.isInteger(n) || n < 2 || !Number.isInteger(shift) || shift < 1 || shift >= n) return undefined;
  return Array.from({ length: n }, (_, d) => ((d + shift) % n) + 1);
}
