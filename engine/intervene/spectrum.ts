/**
 * The local stability of the one-segment map at a state of a puzzle's run (docs/analyses.md §Interventions): the
 * leading eigenvalues of the Jacobian J = ∂F/∂z at z = the state at the end of segment k (from the initial state),
 * the spectral radius |λ₁| (below 1: the state attracts its neighbours under one more segment; above 1: some
 * direction grows), and how close z is to a fixed point, ‖F(z) − z‖ / ‖z‖.
 *
 * J is applied as vector–Jacobian products (engine/intervene/jacobian.ts), the eigenvalues found by Arnoldi on
 * v ↦ Jᵀv (engine/intervene/arnoldi.ts; same eigenvalues as J). Each reported eigenvalue's residual is measured, not
 * estimated: ‖Jᵀw − λw‖ / (|λ| ‖w‖) for its Ritz vector w (one or two more products per eigenvalue, a conjugate
 * pair shares one). `converged`: Arnoldi stopped on its tolerance (or on an invariant Krylov space) and every
 * measured residual is below `tolerance`.
 *
 * The run to the state is engine/intervene/trajectory.ts's, and `outcome` is the run's end at segment k as every
 * intervention reports it (engine/intervene/outcome.ts). Written as a step generator: one `yield` per segment of
 * the run and per product; an aborted signal stops it with an AbortError; every tensor is freed on every path.
 */
import { tf } from '../tf';
import { type Grid, gridToString, gridToTokens } from '../sudoku/geometry';
import { runSteps, runStepsAsync, type Steps, throwIfAborted } from '../util/steps';
import type { SpectrumResult, SpectrumSettings, StatePart } from './intervene-protocol';
import type { RecurrentMap } from './recurrent-map';
import { type RitzPair, arnoldiSteps } from './arnoldi';
import { mapJacobian } from './jacobian';
import { stateAt, trajectorySteps } from './trajectory';
import { interventionOutcome, outcomeLine, uniqueSolution } from './outcome';

export const SPECTRUM_DEFAULTS = Object.freeze({ count: 6, tolerance: 1e-4, maxIterations: 60, part: 'both' as StatePart, seed: 0 });

export interface SpectrumOptions extends SpectrumSettings {
  /** The puzzle's solution (default: the solver's when unique). */
  solution?: Grid;
  /** What the report's first line names (e.g. the checkpoint file). */
  label?: string;
  /** Work done of the total: segments of the run, then products. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** The options with their defaults, checked (RangeError naming the option). */
export function spectrumSettings(map: RecurrentMap, opts: SpectrumOptions): Required<Pick<SpectrumOptions, 'atSegment' | 'count' | 'tolerance' | 'maxIterations' | 'part' | 'seed'>> {
  const s = {
    atSegment: opts.atSegment ?? map.segments,
    count: opts.count ?? SPECTRUM_DEFAULTS.count,
    tolerance: opts.tolerance ?? SPECTRUM_DEFAULTS.tolerance,
    maxIterations: opts.maxIterations ?? SPECTRUM_DEFAULTS.maxIterations,
    part: opts.part ?? SPECTRUM_DEFAULTS.part,
    seed: opts.seed ?? SPECTRUM_DEFAULTS.seed,
  };
  const int = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`spectrum: ${name} must be an integer >= 1, got ${v}`);
  };
  int('atSegment', s.atSegment);
  int('count', s.count);
  int('maxIterations', s.maxIterations);
  if (!(s.tolerance > 0 && Number.isFinite(s.tolerance))) throw new RangeError(`spectrum: tolerance must be a number > 0, got ${s.tolerance}`);
  if (s.part !== 'zH' && s.part !== 'zL' && s.part !== 'both') throw new RangeError(`spectrum: part must be zH, zL or both, got ${String(s.part)}`);
  if (!Number.isInteger(s.seed) || s.seed < 0) throw new RangeError(`spectrum: seed must be an integer >= 0, got ${s.seed}`);
  return s;
}

function norm(re: Float64Array, im: Float64Array): number {
  let s = 0;
  for (let i = 0; i < re.length; i++) s += re[i] * re[i] + im[i] * im[i];
  return Math.sqrt(s);
}

/** ‖A w − λ w‖ / (|λ| ‖w‖) for the Ritz pair, with A w from `apply` (one product, two for a complex λ). */
function measuredResidual(apply: (v: Float64Array) => Float64Array, p: RitzPair): number {
  const { re: wr, im: wi } = p.vector;
  const ar = apply(wr);
  const ai = p.im !== 0 ? apply(wi) : new Float64Array(wr.length);
  let s = 0;
  for (let i = 0; i < wr.length; i++) {
    const rr = ar[i] - (p.re * wr[i] - p.im * wi[i]);
    const ri = ai[i] - (p.re * wi[i] + p.im * wr[i]);
    s += rr * rr + ri * ri;
  }
  const mod = Math.hypot(p.re, p.im);
  const r = Math.sqrt(s) / norm(wr, wi);
  return mod > 0 ? r / mod : r;
}

/** The spectrum at the state of `puzzle`'s run after `atSegment` segments (synchronously). */
export function computeSpectrum(map: RecurrentMap, puzzle: Grid, opts: SpectrumOptions = {}): SpectrumResult {
  return runSteps(spectrumSteps(map, puzzle, opts));
}

/** computeSpectrum with the event loop turning between products; an aborted signal stops it (AbortError). */
export function computeSpectrumAsync(map: RecurrentMap, puzzle: Grid, opts: SpectrumOptions = {}): Promise<SpectrumResult> {
  return runStepsAsync(spectrumSteps(map, puzzle, opts), opts.signal, 'spectrum');
}

/** computeSpectrum as a step generator. */
export function* spectrumSteps(map: RecurrentMap, puzzle: Grid, opts: SpectrumOptions = {}): Steps<SpectrumResult> {
  const t0 = performance.now();
  const s = spectrumSettings(map, opts);
  const cells = map.n * map.n;
  if (puzzle.length !== cells) throw new RangeError(`spectrum: puzzle has ${puzzle.length} cells, the map's grid ${cells}`);
  const dimension = (s.part === 'both' ? 2 : 1) * map.positions * map.hidden;
  const maxIt = Math.min(s.maxIterations, dimension);
  const total = s.atSegment + maxIt;
  throwIfAborted(opts.signal, 'spectrum');
  const traj = yield* trajectorySteps(map, [puzzle], {
    segments: s.atSegment, keep: [s.atSegment], signal: opts.signal, onProgress: (done) => opts.onProgress?.(done, total),
  });
  const solution = opts.solution ?? uniqueSolution(puzzle, map.n);
  const outcome = interventionOutcome(map.n, puzzle, solution, traj.grids[0]);
  const st = stateAt(traj, 0, s.atSegment);
  const carry = { zH: tf.tensor3d(st.zH, [1, map.positions, map.hidden]), zL: tf.tensor3d(st.zL, [1, map.positions, map.hidden]) };
  const x = tf.tidy(() => map.embed(tf.tensor2d(gridToTokens(puzzle), [1, cells], 'int32')));
  let jac: ReturnType<typeof mapJacobian>;
  try {
    jac = mapJacobian(map, carry, x, s.part);
  } finally {
    tf.dispose([carry.zH, carry.zL, x]);
  }
  try {
    const apply = (v: Float64Array): Float64Array => jac.vjp(v);
    const arn = yield* arnoldiSteps(apply, jac.dimension, {
      count: s.count, tolerance: s.tolerance, maxIterations: maxIt, seed: s.seed, signal: opts.signal,
      onIteration: (done) => opts.onProgress?.(s.atSegment + done, total),
    });
    const residuals: number[] = [];
    for (const [i, p] of arn.pairs.entries()) {
      throwIfAborted(opts.signal, 'spectrum');
      const prev = arn.pairs[i - 1];
      const conjugate = prev !== undefined && p.im !== 0 && prev.re === p.re && prev.im === -p.im;
      residuals.push(conjugate ? residuals[i - 1] : measuredResidual(apply, p));
      yield;
    }
    const eigenvalues = arn.pairs.map((p, i) => ({ re: p.re, im: p.im, residual: residuals[i] }));
    const fixedPointResidual = jac.fixedPointResidual();
    opts.onProgress?.(total, total);
    const result: SpectrumResult = {
      atSegment: s.atSegment, part: s.part, dimension: jac.dimension,
      spectralRadius: eigenvalues.length ? Math.hypot(eigenvalues[0].re, eigenvalues[0].im) : 0,
      eigenvalues, iterations: arn.iterations,
      converged: arn.converged && residuals.every((r) => r < s.tolerance),
      tolerance: s.tolerance, outcome, fixedPointResidual,
      seconds: (performance.now() - t0) / 1000, text: '',
    };
    result.text = formatSpectrum(result, puzzle, opts.label);
    return result;
  } finally {
    jac.dispose();
  }
}

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const sci = (x: number): string => (Number.isFinite(x) ? x.toExponential(1) : String(x));

/** "0.5000 + 0.2000i" / "0.7000". */
export function complexText(re: number, im: number): string {
  if (im === 0) return fmt(re);
  return `${fmt(re)} ${im < 0 ? '−' : '+'} ${fmt(Math.abs(im))}i`;
}

/** The report as `hrm-lens spectrum` prints it. */
export function formatSpectrum(r: SpectrumResult, puzzle: Grid, label?: string): string {
  const lines = [
    `${label ? `${label}: ` : ''}Jacobian spectrum of the one-segment map at segment ${r.atSegment} (part ${r.part}, dimension ${r.dimension}), ${r.seconds.toFixed(2)} s`,
    `puzzle   ${gridToString(puzzle)}`,
    `state    ${r.outcome.grid}  ${outcomeLine(r.outcome)}`,
    `spectral radius ${fmt(r.spectralRadius)}  (${r.spectralRadius < 1 ? 'contracting' : 'not contracting'}; `
      + `${r.converged ? 'converged' : 'not converged'} after ${r.iterations} products, tolerance ${sci(r.tolerance)})`,
    `fixed-point residual ‖F(z) − z‖ / ‖z‖ = ${sci(r.fixedPointResidual)}`,
    '',
    '   #  eigenvalue                    |λ|   residual',
  ];
  r.eigenvalues.forEach((e, i) => {
    lines.push(`${String(i + 1).padStart(4)}  ${complexText(e.re, e.im).padEnd(24)} ${fmt(Math.hypot(e.re, e.im)).padStart(8)}   ${sci(e.residual)}`);
  });
  return `${lines.join('\n')}\n`;
}
