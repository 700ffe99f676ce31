/**
 * Activation patching on the latent state (docs/analyses.md §Interventions): the receiver's run is stopped at the
 * end of segment k, part of its state (z_H, z_L or both; all positions or chosen cells) is replaced by the donor's
 * state at the end of segment k, and the run goes on to the last segment from there. The sweep over k answers "until
 * when can the donor's state still move this run to the donor's answer?" and "from when is the receiver's own
 * answer sealed?".
 *
 * Donors (PatchSource, engine/intervene/intervene-protocol.ts), all run like the receiver from the initial state:
 * - trace: another puzzle and/or another map (checkpoint) with the same state shape (positions, hidden, grid);
 * - relabel: the receiver's puzzle under a digit relabeling; positions are the same, so the state is patched
 *   position by position; the donor's decoded grids are mapped back through perm⁻¹ (its outcome is judged in the
 *   receiver's frame);
 * - state: one fixed state (a saved latents file, engine/intervene/latents-source.ts), patched at every k; its
 *   outcome is the file's own decoded grids up to the state's segment.
 *
 * One patch point per k (1 ≤ k ≤ segments): segments 1..k−1 are the receiver's own, segment k is the patched state
 * decoded (what the state now reads out as), segments k+1..S are the patched run; so k = S is the patched state's
 * own read-out. All patched copies run as one batch of rows of different lengths (engine/intervene/trajectory.ts).
 * - rescuedUpTo: when the receiver's own run ends elsewhere than the donor's, the last k whose patch still ends at
 *   the donor's final grid (null if none, or when both runs end at the same grid);
 * - inescapableFrom: the first k such that the patch at k and at every later k in the sweep ends at the receiver's
 *   own final grid (null when the last one does not).
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { gridToString } from '../sudoku/geometry';
import { applyTransform, mapBack, relabeling } from '../sudoku/symmetry';
import { type Steps, throwIfAborted } from '../util/steps';
import { tf } from '../tf';
import type { InterventionOutcome, PatchPoint, PatchResult, StatePart } from './intervene-protocol';
import { interventionOutcome, outcomeLine, sameGrid, uniqueSolution } from './outcome';
import type { RecurrentMap } from './recurrent-map';
import { type RowState, type Trajectories, decodeStates, stateAt, trajectorySteps } from './trajectory';

/** The donor of a patch, resolved (maps opened, files read). */
export type ResolvedPatchDonor =
  | {
    kind: 'trace';
    /** Default: the receiver's map. Must have the receiver's state shape. */
    map?: RecurrentMap;
    /** Default: the receiver's puzzle. */
    puzzle?: Grid;
    /** The donor puzzle's solution (default: the solver's when unique; the receiver's for the receiver's puzzle). */
    solution?: Grid;
    /** Names the donor in the report and in errors (e.g. its checkpoint and puzzle). */
    label?: string;
  }
  | { kind: 'relabel'; perm: readonly number[] }
  | {
    kind: 'state';
    state: RowState;
    /** The donor's decoded grids up to the state's segment, row-major [segment][cell]. */
    grids: Grid;
    puzzle: Grid;
    solution?: Grid;
    label: string;
  };

export interface PatchReceiver {
  puzzle: Grid;
  /** Default: the solver's when unique. */
  solution?: Grid;
  /** Names the receiver in the report and in errors (e.g. its checkpoint). */
  label?: string;
}

export interface PatchOptions {
  /** Segments of every run (default: the map's). */
  segments?: number;
  part?: StatePart;
  /** 0-based cells to patch (position prefix + c); default all positions, the prefix included. */
  cells?: readonly number[];
  /** Segments k after which the state is patched (default 1..segments − 1). */
  atSegments?: readonly number[];
  /** Rows per forward batch (default 128). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const PARTS: readonly StatePart[] = ['zH', 'zL', 'both'];

/** The receiver map's state shape as text: "[P positions × D hidden, n×n grid]". */
function shapeText(map: RecurrentMap): string {
  return `[${map.positions} positions × ${map.hidden} hidden, ${map.n}×${map.n} grid]`;
}

/** Throws unless `donor` has the receiver map's state shape; the message names both. */
export function checkSameShape(receiver: RecurrentMap, donor: RecurrentMap, receiverName: string, donorName: string): void {
  if (receiver.positions !== donor.positions || receiver.hidden !== donor.hidden || receiver.n !== donor.n) {
    throw new RangeError(`patch: the donor ${donorName} has the state shape ${shapeText(donor)}, the receiver ${receiverName} ${shapeText(receiver)}: `
      + 'a state can only be patched between models of the same shape');
  }
}

/** Checked sweep settings. */
function plan(map: RecurrentMap, opts: PatchOptions): { S: number; part: StatePart; cells: number[] | null; ks: number[] } {
  const S = opts.segments ?? map.segments;
  if (!Number.isInteger(S) || S < 1) throw new RangeError(`patch: segments must be an integer >= 1, got ${S}`);
  const part = opts.part ?? 'both';
  if (!PARTS.includes(part)) throw new RangeError(`patch: part must be zH, zL or both, got ${String(part)}`);
  const cellCount = map.n * map.n;
  let cells: number[] | null = null;
  if (opts.cells !== undefined) {
    cells = [...new Set(opts.cells)].sort((a, b) => a - b);
    if (cells.length === 0) throw new RangeError('patch: cells must name at least one cell');
    for (const c of cells) if (!Number.isInteger(c) || c < 0 || c >= cellCount) throw new RangeError(`patch: cells must be in 0..${cellCount - 1}, got ${c}`);
  }
  const ks = opts.atSegments !== undefined
    ? [...new Set(opts.atSegments)].sort((a, b) => a - b)
    : Array.from({ length: S - 1 }, (_, i) => i + 1);
  for (const k of ks) if (!Number.isInteger(k) || k < 1 || k > S) throw new RangeError(`patch: atSegments must be in 1..${S}, got ${k}`);
  return { S, part, cells, ks };
}

/** `target` with the donor's part / cells written in (a new state). */
export function patchedState(map: RecurrentMap, target: RowState, donor: RowState, part: StatePart, cells: readonly number[] | null): RowState {
  const D = map.hidden;
  const out: RowState = { zH: target.zH.slice(), zL: target.zL.slice() };
  const halves: ('zH' | 'zL')[] = part === 'both' ? ['zH', 'zL'] : [part];
  for (const h of halves) {
    if (cells === null) out[h].set(donor[h]);
    else for (const c of cells) { const p = (map.prefix + c) * D; out[h].set(donor[h].subarray(p, p + D), p); }
  }
  return out;
}

function rowsOf(states: readonly RowState[]): { rows: number; zH: Float32Array; zL: Float32Array } {
  const w = states[0]?.zH.length ?? 0;
  const zH = new Float32Array(states.length * w);
  const zL = new Float32Array(states.length * w);
  states.forEach((s, i) => { zH.set(s.zH, i * w); zL.set(s.zL, i * w); });
  return { rows: states.length, zH, zL };
}

/** The sweep as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* patchSteps(map: RecurrentMap, receiver: PatchReceiver, donor: ResolvedPatchDonor, opts: PatchOptions = {}): Steps<PatchResult> {
  const t0 = performance.now();
  const { S, part, cells, ks } = plan(map, opts);
  const n = map.n as GridSize;
  const cellCount = n * n;
  if (receiver.puzzle.length !== cellCount) throw new RangeError(`patch: the puzzle has ${receiver.puzzle.length} cells, the model's grid ${cellCount}`);
  const recSolution = receiver.solution ?? uniqueSolution(receiver.puzzle, n);
  const recName = receiver.label ?? 'receiver';

  // The donor's map, puzzle and how its grids read in the receiver's frame.
  let donorMap: RecurrentMap | undefined;
  let donorPuzzle: Grid;
  let donorSolution: Grid | undefined;
  let toReceiverFrame = (g: Grid): Grid => g;
  let donorName: string;
  if (donor.kind === 'trace') {
    donorMap = donor.map ?? map;
    donorPuzzle = donor.puzzle ?? receiver.puzzle;
    donorName = donor.label ?? 'donor';
    checkSameShape(map, donorMap, recName, donorName);
    if (donorPuzzle.length !== cellCount) throw new RangeError(`patch: the donor puzzle has ${donorPuzzle.length} cells, the model's grid ${cellCount}`);
    donorSolution = donor.solution ?? (donor.puzzle === undefined ? recSolution : uniqueSolution(donorPuzzle, n));
  } else if (donor.kind === 'relabel') {
    const t = relabeling(n, donor.perm);
    donorMap = map;
    donorPuzzle = applyTransform(receiver.puzzle, t);
    donorSolution = recSolution ? applyTransform(recSolution, t) : undefined;
    toReceiverFrame = (g) => mapBack(g, t);
    donorName = `relabel ${donor.perm.join('')}`;
  } else {
    const w = map.positions * map.hidden;
    if (donor.state.zH.length !== w || donor.state.zL.length !== w) {
      throw new RangeError(`patch: the donor state ${donor.label} has ${donor.state.zH.length} values per half, the receiver ${recName} ${w} ${shapeText(map)}`);
    }
    donorPuzzle = donor.puzzle;
    donorSolution = donor.solution ?? uniqueSolution(donorPuzzle, n);
    donorName = donor.label;
  }

  const patched = ks.filter((k) => k < S);
  const sameMap = donorMap === map;
  const recRows = donorMap && sameMap ? 2 : 1;
  const total = recRows * S + (donorMap && !sameMap ? S : 0) + patched.reduce((a, k) => a + S - k, 0);
  let base = 0;
  const progress = (done: number): void => opts.onProgress?.(base + done, total);
  const run = function* (m: RecurrentMap, puzzles: Grid[], o: Parameters<typeof trajectorySteps>[2]): Steps<Trajectories> {
    const r = yield* trajectorySteps(m, puzzles, { ...o, batch: opts.batch, signal: opts.signal, onProgress: progress });
    base += r.segments.reduce((a, b) => a + b, 0);
    return r;
  };

  // Receiver (and a donor on the same map) in one batch; a donor on another map in its own.
  const keep = ks;
  const own = yield* run(map, donorMap && sameMap ? [receiver.puzzle, donorPuzzle] : [receiver.puzzle], { segments: S, keep });
  let donorStateAt: (k: number) => RowState;
  let donorGrids: Grid;
  if (donor.kind === 'state') {
    donorStateAt = () => donor.state;
    donorGrids = donor.grids;
  } else {
    const dt = sameMap ? own : yield* run(donorMap as RecurrentMap, [donorPuzzle], { segments: S, keep });
    const row = sameMap ? 1 : 0;
    donorStateAt = (k) => stateAt(dt, row, k);
    donorGrids = new Int8Array(S * cellCount);
    for (let k = 0; k < S; k++) donorGrids.set(toReceiverFrame(dt.grids[row].subarray(k * cellCount, (k + 1) * cellCount)), k * cellCount);
  }
  const recGrids = own.grids[0];
  const recOutcome = interventionOutcome(n, receiver.puzzle, recSolution, recGrids);
  const donorOutcome: InterventionOutcome = donor.kind === 'relabel'
    ? interventionOutcome(n, receiver.puzzle, recSolution, donorGrids)
    : interventionOutcome(n, donorPuzzle, donorSolution, donorGrids);
  const recFinal = recGrids.subarray((S - 1) * cellCount);
  const donorFinal = donorGrids.subarray(donorGrids.length - cellCount);

  // The patched states, their read-out (segment k), and the runs on from them in one batch.
  throwIfAborted(opts.signal, 'patch');
  const states = ks.map((k) => patchedState(map, stateAt(own, 0, k), donorStateAt(k), part, cells));
  const readouts = new Int8Array(ks.length * cellCount);
  if (ks.length > 0) {
    const all = rowsOf(states);
    const d = tf.tidy(() => decodeStates(map, tf.tensor3d(all.zH, [ks.length, map.positions, map.hidden])).dataSync());
    readouts.set(d);
  }
  const runIdx = ks.map((k, i) => (k < S ? i : -1)).filter((i) => i >= 0);
  const on = runIdx.length > 0
    ? yield* run(map, runIdx.map(() => receiver.puzzle), { segments: runIdx.map((i) => S - ks[i]), from: rowsOf(runIdx.map((i) => states[i])) })
    : undefined;

  const curve: PatchPoint[] = ks.map((k, i) => {
    const grids = new Int8Array(S * cellCount);
    grids.set(recGrids.subarray(0, (k - 1) * cellCount));
    grids.set(readouts.subarray(i * cellCount, (i + 1) * cellCount), (k - 1) * cellCount);
    const j = runIdx.indexOf(i);
    if (j >= 0 && on) grids.set(on.grids[j], k * cellCount);
    const o = interventionOutcome(n, receiver.puzzle, recSolution, grids);
    const final = grids.subarray((S - 1) * cellCount);
    return { atSegment: k, ...o, endsAtDonor: sameGrid(final, donorFinal), endsAtReceiver: sameGrid(final, recFinal) };
  });
  const split = !sameGrid(recFinal, donorFinal);
  const rescued = split ? curve.filter((p) => p.endsAtDonor).map((p) => p.atSegment) : [];
  let inescapableFrom: number | null = null;
  for (let i = curve.length - 1; i >= 0 && curve[i].endsAtReceiver; i--) inescapableFrom = curve[i].atSegment;
  const result: PatchResult = {
    segments: S, part, cells, receiver: recOutcome, donor: donorOutcome, curve,
    rescuedUpTo: rescued.length > 0 ? Math.max(...rescued) : null,
    inescapableFrom,
    seconds: (performance.now() - t0) / 1000,
    text: '',
  };
  result.text = formatPatch(result, recName, donorName, gridToString(receiver.puzzle));
  return result;
}

/** The report `hrm-lens patch` prints. */
export function formatPatch(r: PatchResult, receiverName: string, donorName: string, puzzle: string): string {
  const where = r.cells === null ? 'all positions' : `cells ${r.cells.join(',')}`;
  const lines = [
    `patch ${receiverName} ← ${donorName}: ${r.part === 'both' ? 'z_H and z_L' : r.part === 'zH' ? 'z_H' : 'z_L'}, ${where}, ${r.segments} segments, ${r.seconds.toFixed(2)} s`,
    `puzzle    ${puzzle}`,
    `receiver  ${r.receiver.grid}  ${outcomeLine(r.receiver)}`,
    `donor     ${r.donor.grid}  ${outcomeLine(r.donor)}`,
    '',
    `   k  ${'end grid'.padEnd(r.receiver.grid.length)}  wrong    E  ends at`,
  ];
  for (const p of r.curve) {
    const at = p.endsAtDonor && p.endsAtReceiver ? 'both' : p.endsAtDonor ? 'donor' : p.endsAtReceiver ? 'receiver' : 'elsewhere';
    lines.push(`${String(p.atSegment).padStart(4)}  ${p.grid}  ${String(p.wrongCells ?? '-').padStart(5)}  ${String(p.energy).padStart(3)}  ${at}`);
  }
  if (r.curve.length === 0) lines.push('  (no patch points)');
  lines.push('');
  const same = r.receiver.grid === r.donor.grid;
  lines.push(same ? 'the receiver and the donor end at the same grid: nothing to rescue'
    : r.rescuedUpTo === null ? 'no patch moves the run to the donor\'s answer' : `rescued up to k = ${r.rescuedUpTo}: a patch after segment ${r.rescuedUpTo} still ends at the donor's answer`);
  lines.push(r.inescapableFrom === null ? 'the last patch leaves the receiver\'s own answer'
    : `inescapable from k = ${r.inescapableFrom}: every patch from segment ${r.inescapableFrom} on ends at the receiver's own answer`);
  return `${lines.join('\n')}\n`;
}
