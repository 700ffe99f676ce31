/**
 * The Interventions section's exports, formatted on the host: JSON (the engine's result as the section shows it, with
 * the donor or the sweep's puzzles) or CSV (one row per point: the patching curve per k, the kick curve per ε then the
 * escape grids, the eigenvalues, the sweep's settings, the lens's updates). A result that does not have its kind's
 * shape (it came from a webview's saved state) is refused with a message, never half written.
 */
import type { InterventionOutcome } from '../../engine/intervene/intervene-protocol';
import type { InterventionView } from '../../webview/protocol';
import { csvLine } from './csv';

const outcomeCells = (o: InterventionOutcome): (string | number | boolean | null)[] => [o.grid, o.exact, o.wrongCells, o.energy, o.mode, o.segmentsToExact];
const OUTCOME_HEAD = ['grid', 'exact', 'wrong', 'energy', 'mode', 'exact_from'];

function lines(rows: (string | number | boolean | null)[][]): string {
  return `${rows.map(csvLine).join('\n')}\n`;
}

/** CSV text of a result; throws a TypeError naming what is missing when `v` is not a result of its kind. */
export function interventionCsv(v: InterventionView): string {
  switch (v.kind) {
    case 'patch': {
      const r = v.result;
      return lines([
        ['k', 'ends_at_donor', 'ends_at_receiver', ...OUTCOME_HEAD],
        ...r.curve.map((p) => [p.atSegment, p.endsAtDonor, p.endsAtReceiver, ...outcomeCells(p)]),
        [], ['run', 'donor', 'part', ...OUTCOME_HEAD],
        ['receiver', '', r.part, ...outcomeCells(r.receiver)], ['donor', v.donor.label, r.part, ...outcomeCells(r.donor)],
        [], ['rescued_up_to', 'inescapable_from', 'segments'], [r.rescuedUpTo, r.inescapableFrom, r.segments],
      ]);
    }
    case 'kick': {
      const r = v.result;
      return lines([
        ['epsilon', 'random_returned', 'random_total', 'principal_returned', 'principal_total'],
        ...r.curve.map((p) => [p.epsilon, p.random.returned, p.random.total, p.principal.returned, p.principal.total]),
        [], ['epsilon', 'escape_grid', 'count', 'energy', 'exact'],
        ...r.curve.flatMap((p) => p.escapes.map((e) => [p.epsilon, e.grid, e.count, e.energy, e.exact])),
        [], ['basin_radius', 'basin_level', 'state_norm'], [r.basinRadius, r.basinLevel, r.stateNorm],
      ]);
    }
    case 'spectrum': {
      const r = v.result;
      return lines([
        ['index', 're', 'im', 'modulus', 'residual'],
        ...r.eigenvalues.map((e, i) => [i + 1, e.re, e.im, Math.hypot(e.re, e.im), e.residual]),
        [], ['at_segment', 'part', 'dimension', 'spectral_radius', 'iterations', 'converged', 'tolerance', 'fixed_point_residual'],
        [r.atSegment, r.part, r.dimension, r.spectralRadius, r.iterations, r.converged, r.tolerance, r.fixedPointResidual],
      ]);
    }
    case 'sweep': {
      const r = v.result;
      const modes = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'] as const;
      return lines([
        ['h_cycles', 'l_cycles', 'segments', 'compute', 'exact', 'cell', 'trained', ...modes],
        ...r.cells.map((c) => [c.hCycles, c.lCycles, c.segments, c.compute, c.exact, c.cell, c.trained, ...modes.map((m) => c.modes[m] ?? 0)]),
      ]);
    }
    case 'lens': {
      const r = v.result;
      return lines([
        ['step', 'segment', 'h', 'l', 'state', 'wrong', 'energy', 'confidence', 'jump', 'grid'],
        ...r.steps.map((s, i) => [i, s.segment, s.h, s.l, s.state, s.wrongCells, s.energy, s.confidence, r.jump === i, s.grid]),
      ]);
    }
    default:
      throw new TypeError('not an intervention result');
  }
}

/** JSON text of a result (the view: its kind, the engine's result, and the donor or the sweep's puzzles). */
export function interventionJson(v: InterventionView): string {
  return `${JSON.stringify(v, null, 1)}\n`;
}

/** A file-name part for a result: 'patch', 'spectrum-s3', … */
export function interventionStem(v: InterventionView): string {
  return v.kind === 'spectrum' ? `spectrum-s${Number(v.result.atSegment) || 0}` : v.kind;
}
