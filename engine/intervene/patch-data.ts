/**
 * Activation patching over a dataset (docs/analyses.md §Patching over a dataset): every puzzle's receiver run is patched after
 * every k with the same puzzle's donor state (another map of the same shape, or the puzzle under a digit relabeling),
 * all puzzles batched by patchManySteps (engine/intervene/patch.ts), and summarised per k:
 * - rescued: of the puzzles the receiver gets wrong and the donor right, those whose patched run ends exact;
 * - corrupted: of the puzzles the receiver gets right and the donor wrong, those whose patched run ends not exact;
 * - endsAtReceiver: of all puzzles, those whose patched run ends at the receiver's own final grid;
 * each a proportion with its 95% Wilson interval (engine/paper/stats.ts). Over the puzzles rescued at some k, the
 * last such k (each puzzle's rescuedUpTo: its donor ends at the solution, so "ends at the donor" is "ends exact")
 * is summarised by its median and quartiles.
 */
import type { Grid } from '../sudoku/geometry';
import type { Steps } from '../util/steps';
import { proportion, quartiles } from '../paper/stats';
import type { Proportion } from '../paper/report-types';
import type { PatchDataPoint, PatchDataResult, PatchDataRow } from './intervene-protocol';
import type { RecurrentMap } from './recurrent-map';
import { type PatchOptions, patchManySteps } from './patch';

/** One puzzle of a dataset-level patch. */
export interface PatchDataItem {
  puzzle: Grid;
  solution: Grid;
  /** Where the puzzle came from ("line 12", "gen 3"). */
  id: string;
}

/** The donor of a dataset-level patch: each puzzle itself on another map (default: the receiver's), or relabeled. */
export type PatchDataDonor =
  | { kind: 'trace'; map?: RecurrentMap; label?: string }
  | { kind: 'relabel'; perm: readonly number[] };

export interface PatchDataOptions extends PatchOptions {
  /** Names the receiver in the report (e.g. its checkpoint file). */
  receiverName?: string;
  /** What the puzzles were (PatchDataResult.source; default "N puzzles"). */
  source?: string;
}

/** The dataset-level sweep as a step generator: one `yield` after every segment of every batch. */
export function* patchDataSteps(map: RecurrentMap, items: readonly PatchDataItem[], donor: PatchDataDonor, opts: PatchDataOptions = {}): Steps<PatchDataResult> {
  const t0 = performance.now();
  if (items.length === 0) throw new RangeError('patch: no puzzles to patch');
  const receiverName = opts.receiverName ?? 'receiver';
  const donorName = donor.kind === 'relabel' ? `relabel ${donor.perm.join('')}` : donor.label ?? 'donor';
  const results = yield* patchManySteps(map, items.map((it) => ({ puzzle: it.puzzle, solution: it.solution, label: receiverName })),
    donor.kind === 'relabel' ? donor : { kind: 'trace', map: donor.map, label: donorName }, opts);
  const rows: PatchDataRow[] = results.map((r, i) => ({
    id: items[i].id, receiverExact: r.receiver.exact === true, donorExact: r.donor.exact === true,
    rescuedUpTo: r.rescuedUpTo, inescapableFrom: r.inescapableFrom,
  }));
  const rescuable = rows.map((_, i) => i).filter((i) => !rows[i].receiverExact && rows[i].donorExact);
  const corruptible = rows.map((_, i) => i).filter((i) => rows[i].receiverExact && !rows[i].donorExact);
  const count = (ids: number[], at: (i: number) => boolean): number => ids.reduce((a, i) => a + (at(i) ? 1 : 0), 0);
  const all = rows.map((_, i) => i);
  const curve: PatchDataPoint[] = results[0].curve.map((p, j) => ({
    atSegment: p.atSegment,
    rescued: proportion(count(rescuable, (i) => results[i].curve[j].exact === true), rescuable.length),
    corrupted: proportion(count(corruptible, (i) => results[i].curve[j].exact !== true), corruptible.length),
    endsAtReceiver: proportion(count(all, (i) => results[i].curve[j].endsAtReceiver), all.length),
  }));
  const upTo = rescuable.map((i) => rows[i].rescuedUpTo).filter((k): k is number => k !== null);
  const q = quartiles(upTo);
  const result: PatchDataResult = {
    segments: results[0].segments, part: results[0].part, cells: results[0].cells,
    source: opts.source ?? `${items.length} puzzles`, puzzles: items.length,
    receiverExact: proportion(count(all, (i) => rows[i].receiverExact), all.length),
    donorExact: proportion(count(all, (i) => rows[i].donorExact), all.length),
    curve,
    rescuedUpTo: { puzzles: q.n, median: q.median, q1: q.q1, q3: q.q3 },
    rows,
    seconds: (performance.now() - t0) / 1000,
    text: '',
  };
  result.text = formatPatchData(result, receiverName, donorName);
  return result;
}

/** "k/n (p%, [lo, hi])", percentages to one decimal; "0/0" when there is nothing to count. */
function proportionText(p: Proportion): string {
  if (p.n === 0 || p.value === null) return '0/0';
  const pc = (x: number | null): string => (x === null ? '–' : (x * 100).toFixed(1));
  return `${p.k}/${p.n} (${pc(p.value)}%, [${pc(p.lo)}, ${pc(p.hi)}])`;
}

/** The report `hrm-lens patch --data | --generate` prints. */
export function formatPatchData(r: PatchDataResult, receiverName: string, donorName: string): string {
  const what = r.part === 'both' ? 'z_H and z_L' : r.part === 'zH' ? 'z_H' : 'z_L';
  const where = r.cells === null ? 'all positions' : `cells ${r.cells.join(',')}`;
  const rescuable = r.rows.filter((w) => !w.receiverExact && w.donorExact).length;
  const corruptible = r.rows.filter((w) => w.receiverExact && !w.donorExact).length;
  const lines = [
    `patch ${receiverName} ← ${donorName}: ${what}, ${where}, ${r.segments} segments, ${r.puzzles} puzzles (${r.source}), ${r.seconds.toFixed(2)} s`,
    `receiver exact  ${proportionText(r.receiverExact)}`,
    `donor exact     ${proportionText(r.donorExact)}`,
    `rescuable (receiver wrong, donor right) ${rescuable}; corruptible (receiver right, donor wrong) ${corruptible}`,
    '',
  ];
  const cols = r.curve.map((p) => [String(p.atSegment), proportionText(p.rescued), proportionText(p.corrupted), proportionText(p.endsAtReceiver)]);
  const head = ['k', 'rescued', 'corrupted', 'ends at receiver'];
  const widths = head.map((h, c) => Math.max(h.length, ...cols.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((x, c) => (c === 0 ? x.padStart(Math.max(4, widths[0])) : x.padEnd(widths[c]))).join('  ').trimEnd();
  lines.push(line(head));
  for (const row of cols) lines.push(line(row));
  if (r.curve.length === 0) lines.push('  (no patch points)');
  lines.push('');
  const u = r.rescuedUpTo;
  if (rescuable === 0) lines.push('no puzzle to rescue: none is answered wrong by the receiver and right by the donor');
  else if (u.puzzles === 0 || u.median === null) lines.push(`no patch rescues any of the ${rescuable} rescuable puzzles`);
  else {
    const k = (x: number | null): string => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(1));
    lines.push(`rescue possible up to k = ${k(u.median)} (median over the ${u.puzzles} of ${rescuable} rescuable puzzles rescued at some k; quartiles ${k(u.q1)}–${k(u.q3)})`);
  }
  return `${lines.join('\n')}\n`;
}
