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
 * own read-out. All patched copies run as one batch of rows of different lengths (engine/intervene/trajectory.ts);
 * patchManySteps patches many receivers (e.g. the puzzles of a dataset, engine/intervene/patch-data.ts) in the same
 * batches, and patchSteps is its one-receiver case.
 * - rescuedUpTo: when the receiver's own run ends elsewhere than the donor's, the last k whose patch still ends at
 *   the donor's final grid (null if none, or when both runs end at the same grid);
 * - inescapableFrom: the first k such that the patch at k and at every later k in the sweep ends at the receiver's
 *   own final grid (null when the last one does not).
 */
import type { Grid, GridSize } from '../sudoku/geometry';
import { gridToString } from '../sudoku/geometry';
import { applyTransform, mapBack, relabeling } from '../sudoku/symmetry';
import { type Steps, throwIfAborted } from '../util/steps';
import type { InterventionOutcome, PatchPoint, PatchResult, StatePart } from './intervene-protocol';
import { interventionOutcome, outcomeLine, sameGrid, uniqueSolution } from './outcome';
import type { RecurrentMap } from './recurrent-map';
import { type RowState, type StateRows, type Trajectories, decodeRowsSteps, stateAt, trajectorySteps } from './trajectory';

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
  /**
   * patchManySteps: patched states held at once at most (default MAX_PATCH_ROWS; fewer where a state is wide);
   * the receivers are patched in chunks that fit.
   */
  chunkRows?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const PARTS: readonly StatePart[] = ['zH', 'zL', 'both'];

/** Patched states a chunk of receivers holds at most in patchManySteps (and kept states per run, as many). */
export const MAX_PATCH_ROWS = 4096;
/** State values per half a chunk holds at most (64 MB of float32): fewer patched rows where the state is wide. */
const MAX_PATCH_VALUES = 1 << 24;

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
function plan(map: RecurrentMap, opts: PatchOptions): { S: number; part: StatePart; cells: number[] | null; ks: number[]; batch: number; chunkRows: number } {
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
  const batch = opts.batch ?? 128;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`patch: batch must be an integer >= 1, got ${batch}`);
  const chunkRows = opts.chunkRows ?? MAX_PATCH_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new RangeError(`patch: chunkRows must be an integer >= 1, got ${chunkRows}`);
  return { S, part, cells, ks, batch, chunkRows };
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

function rowsOf(states: readonly RowState[]): StateRows {
  const w = states[0]?.zH.length ?? 0;
  const zH = new Float32Array(states.length * w);
  const zL = new Float32Array(states.length * w);
  states.forEach((s, i) => { zH.set(s.zH, i * w); zL.set(s.zL, i * w); });
  return { rows: states.length, zH, zL };
}

/** The sweep as a step generator (engine/util/steps.ts): one `yield` after every segment of every batch. */
export function* patchSteps(map: RecurrentMap, receiver: PatchReceiver, donor: ResolvedPatchDonor, opts: PatchOptions = {}): Steps<PatchResult> {
  const [r] = yield* patchManySteps(map, [receiver], donor, opts);
  return r;
}

/** The donor of every receiver of patchManySteps, resolved against the receivers. */
interface DonorPlan {
  /** The map the donor runs on; undefined for a fixed state. */
  map: RecurrentMap | undefined;
  /** One donor puzzle for every receiver (a trace with a puzzle, a fixed state): run once per chunk. */
  shared: Grid | undefined;
  /** Per receiver: the donor's puzzle and its solution. */
  puzzles: Grid[];
  solutions: (Grid | undefined)[];
  /** A donor grid read in the receiver's frame. */
  toReceiverFrame: (g: Grid) => Grid;
  name: string;
}

function donorPlan(map: RecurrentMap, receivers: readonly PatchReceiver[], recSolutions: (Grid | undefined)[], donor: ResolvedPatchDonor): DonorPlan {
  const n = map.n as GridSize;
  const cellCount = n * n;
  const recName = receivers[0]?.label ?? 'receiver';
  if (donor.kind === 'trace') {
    const donorMap = donor.map ?? map;
    const name = donor.label ?? 'donor';
    checkSameShape(map, donorMap, recName, name);
    if (donor.puzzle === undefined) {
      return {
        map: donorMap, shared: undefined, puzzles: receivers.map((r) => r.puzzle), solutions: recSolutions.map((s) => donor.solution ?? s),
        toReceiverFrame: (g) => g, name,
      };
    }
    const puzzle = donor.puzzle;
    if (puzzle.length !== cellCount) throw new RangeError(`patch: the donor puzzle has ${puzzle.length} cells, the model's grid ${cellCount}`);
    const solution = donor.solution ?? uniqueSolution(puzzle, n);
    return { map: donorMap, shared: puzzle, puzzles: receivers.map(() => puzzle), solutions: receivers.map(() => solution), toReceiverFrame: (g) => g, name };
  }
  if (donor.kind === 'relabel') {
    const t = relabeling(n, donor.perm);
    return {
      map, shared: undefined,
      puzzles: receivers.map((r) => applyTransform(r.puzzle, t)),
      solutions: recSolutions.map((s) => (s ? applyTransform(s, t) : undefined)),
      toReceiverFrame: (g) => mapBack(g, t), name: `relabel ${donor.perm.join('')}`,
    };
  }
  const w = map.positions * map.hidden;
  if (donor.state.zH.length !== w || donor.state.zL.length !== w) {
    throw new RangeError(`patch: the donor state ${donor.label} has ${donor.state.zH.length} values per half, the receiver ${recName} ${w} ${shapeText(map)}`);
  }
  const solution = donor.solution ?? uniqueSolution(donor.puzzle, n);
  return {
    map: undefined, shared: donor.puzzle, puzzles: receivers.map(() => donor.puzzle), solutions: receivers.map(() => solution),
    toReceiverFrame: (g) => g, name: donor.label,
  };
}

/**
 * The sweep of many receivers on one map with one donor (a trace of each receiver's own puzzle or of one puzzle, on
 * this map or another; a relabeling of each receiver's puzzle; a fixed state), batched: per chunk of receivers, the
 * receivers and the donors on the same map run as rows of one run, donors on another map as rows of another, and all
 * patched copies of the chunk as rows of a third (engine/intervene/trajectory.ts, `batch` rows per forward). A chunk
 * holds at most `chunkRows` patched states (and as many kept states per run), fewer where the state is wide, so the
 * memory held is bounded whatever the number of receivers. Each result equals patchSteps on that receiver alone;
 * `seconds` is the whole batch's.
 */
export function* patchManySteps(map: RecurrentMap, receivers: readonly PatchReceiver[], donor: ResolvedPatchDonor, opts: PatchOptions = {}): Steps<PatchResult[]> {
  const t0 = performance.now();
  const { S, part, cells, ks, batch, chunkRows } = plan(map, opts);
  const n = map.n as GridSize;
  const cellCount = n * n;
  receivers.forEach((r, i) => {
    if (r.puzzle.length !== cellCount) throw new RangeError(`patch: ${receivers.length > 1 ? `puzzle ${i} has` : 'the puzzle has'} ${r.puzzle.length} cells, the model's grid ${cellCount}`);
  });
  const recSolutions = receivers.map((r) => r.solution ?? uniqueSolution(r.puzzle, n));
  const d = donorPlan(map, receivers, recSolutions, donor);
  const sameMap = d.map === map;

  // Receivers per chunk, and the total row-segments of every run of every chunk (for progress).
  const width = map.positions * map.hidden;
  const perChunk = Math.max(1, Math.floor(Math.min(chunkRows, MAX_PATCH_VALUES / width) / Math.max(1, ks.length)));
  const donorRows = (m: number): number => (d.map === undefined ? 0 : d.shared ? 1 : m);
  const patchedLength = ks.reduce((a, k) => a + S - k, 0);
  let total = 0;
  for (let c0 = 0; c0 < receivers.length; c0 += perChunk) {
    const m = Math.min(perChunk, receivers.length - c0);
    total += (m + donorRows(m)) * S + m * patchedLength;
  }
  let base = 0;
  const progress = (done: number): void => opts.onProgress?.(base + done, total);
  const run = function* (m: RecurrentMap, puzzles: Grid[], o: Parameters<typeof trajectorySteps>[2]): Steps<Trajectories> {
    const r = yield* trajectorySteps(m, puzzles, { ...o, batch, signal: opts.signal, onProgress: progress });
    base += r.segments.reduce((a, b) => a + b, 0);
    return r;
  };

  // A fixed or shared donor's outcome is the same for every receiver: computed once.
  let sharedOutcome: InterventionOutcome | undefined;
  const results: Omit<PatchResult, 'seconds' | 'text'>[] = [];
  for (let c0 = 0; c0 < receivers.length; c0 += perChunk) {
    const ids = Array.from({ length: Math.min(perChunk, receivers.length - c0) }, (_, q) => c0 + q);
    const m = ids.length;
    const donorPuzzles = d.map === undefined ? [] : d.shared ? [d.shared] : ids.map((i) => d.puzzles[i]);
    const recPuzzles = ids.map((i) => receivers[i].puzzle);
    const own = yield* run(map, sameMap ? [...recPuzzles, ...donorPuzzles] : recPuzzles, { segments: S, keep: ks });
    const dt = d.map === undefined ? undefined : sameMap ? own : yield* run(d.map, donorPuzzles, { segments: S, keep: ks });
    const donorRow = (q: number): number => (sameMap ? m : 0) + (d.shared ? 0 : q);
    const donorStateAt = (q: number, k: number): RowState => (donor.kind === 'state' ? donor.state : stateAt(dt as Trajectories, donorRow(q), k));
    const donorGridsOf = (q: number): Grid => {
      if (donor.kind === 'state') return donor.grids;
      const g = (dt as Trajectories).grids[donorRow(q)];
      if (donor.kind !== 'relabel') return g;
      const out = new Int8Array(S * cellCount);
      for (let k = 0; k < S; k++) out.set(d.toReceiverFrame(g.subarray(k * cellCount, (k + 1) * cellCount)), k * cellCount);
      return out;
    };

    // The patched states (receiver q's at ks[j] is row q·|ks| + j), their read-out (segment k), and the runs on from
    // them as rows of one run.
    throwIfAborted(opts.signal, 'patch');
    const states: RowState[] = [];
    for (let q = 0; q < m; q++) for (const k of ks) states.push(patchedState(map, stateAt(own, q, k), donorStateAt(q, k), part, cells));
    own.states.forEach((s) => s.clear());
    dt?.states.forEach((s) => s.clear());
    const readouts = yield* decodeRowsSteps(map, rowsOf(states), batch);
    const runRows = states.map((_, r) => r).filter((r) => ks[r % ks.length] < S);
    const onRow = new Int32Array(states.length).fill(-1);
    runRows.forEach((r, j) => { onRow[r] = j; });
    const from = rowsOf(runRows.map((r) => states[r]));
    states.length = 0;
    const on = runRows.length > 0
      ? yield* run(map, runRows.map((r) => recPuzzles[Math.floor(r / ks.length)]), { segments: runRows.map((r) => S - ks[r % ks.length]), from })
      : undefined;

    for (let q = 0; q < m; q++) {
      const receiver = receivers[ids[q]];
      const recSolution = recSolutions[ids[q]];
      const recGrids = own.grids[q];
      const donorGrids = donorGridsOf(q);
      const recOutcome = interventionOutcome(n, receiver.puzzle, recSolution, recGrids);
      let donorOutcome: InterventionOutcome;
      if (donor.kind === 'relabel') donorOutcome = interventionOutcome(n, receiver.puzzle, recSolution, donorGrids);
      else if (d.shared) donorOutcome = sharedOutcome ??= interventionOutcome(n, d.shared, d.solutions[ids[q]], donorGrids);
      else donorOutcome = interventionOutcome(n, d.puzzles[ids[q]], d.solutions[ids[q]], donorGrids);
      const recFinal = recGrids.subarray((S - 1) * cellCount);
      const donorFinal = donorGrids.subarray(donorGrids.length - cellCount);
      const curve: PatchPoint[] = ks.map((k, j) => {
        const r = q * ks.length + j;
        const grids = new Int8Array(S * cellCount);
        grids.set(recGrids.subarray(0, (k - 1) * cellCount));
        grids.set(readouts.subarray(r * cellCount, (r + 1) * cellCount), (k - 1) * cellCount);
        if (onRow[r] >= 0 && on) grids.set(on.grids[onRow[r]], k * cellCount);
        const o = interventionOutcome(n, receiver.puzzle, recSolution, grids);
        const final = grids.subarray((S - 1) * cellCount);
        return { atSegment: k, ...o, endsAtDonor: sameGrid(final, donorFinal), endsAtReceiver: sameGrid(final, recFinal) };
      });
      const split = !sameGrid(recFinal, donorFinal);
      const rescued = split ? curve.filter((p) => p.endsAtDonor).map((p) => p.atSegment) : [];
      let inescapableFrom: number | null = null;
      for (let i = curve.length - 1; i >= 0 && curve[i].endsAtReceiver; i--) inescapableFrom = curve[i].atSegment;
      results.push({
        segments: S, part, cells, receiver: recOutcome, donor: donorOutcome, curve,
        rescuedUpTo: rescued.length > 0 ? Math.max(...rescued) : null,
        inescapableFrom,
      });
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return results.map((r, i) => {
    const result: PatchResult = { ...r, seconds, text: '' };
    result.text = formatPatch(result, receivers[i].label ?? 'receiver', d.name, gridToString(receivers[i].puzzle));
    return result;
  });
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
