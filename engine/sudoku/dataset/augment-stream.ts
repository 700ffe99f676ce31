/**
 * On-the-fly augmentation and data mixing over record streams.
 *
 *  - `augmentStream(records, { seed, epoch })`: a fresh random Sudoku symmetry per record (randomTransform, drawn
 *    like the reference `shuffle_sudoku`), applied to the puzzle and its solution together, so the pair stays
 *    consistent and the solution stays unique. Record i of epoch k uses Rng(deriveSeed(seed, ·, epoch, i)) only:
 *    epoch k is reproducible on its own, whatever was consumed before.
 *  - `withHintTwins(records, { seed })`: each record followed by its hint twin (r ~ U[1, n−1] of its n blanks filled
 *    from the solution; same solution; docs/model.md §Data mixing with hint twins), the 1:1 mix. Record i's twin uses
 *    Rng(deriveSeed(seed, ·, i)). A puzzle with fewer than 2 blanks has no twin and is yielded alone. The reference
 *    draws twins once at build time; to get that, pass the same seed every epoch (to draw new twins each epoch, derive
 *    the seed from it).
 * Records need a solution for both (a DataError naming the record's line otherwise).
 */
import { geometry } from '../geometry';
import { applyTransform, randomTransform, type RandomTransformOptions, type SudokuTransform } from '../symmetry';
import { hintTwin } from '../hint-twins';
import { Rng } from '../../util/rng';
import { deriveSeed } from '../../util/hash-seed';
import { DataError } from '../../util/errors';
import { type AnyIterable, type DatasetRecord, recordSize } from './record';

const PURPOSE_AUGMENT = 0xa06;
const PURPOSE_HINT = 0x7117;

export interface AugmentOptions {
  seed: number;
  epoch: number;
  /** Which parts of the symmetry to draw (default: all, as the reference). */
  transform?: RandomTransformOptions;
  /** Name for errors (default "<records>"). */
  label?: string;
}

export interface AugmentedRecord extends DatasetRecord {
  solution: DatasetRecord['puzzle'];
  /** The symmetry applied (map predictions back with symmetry.mapBack). */
  transform: SudokuTransform;
}

function needSolution(r: DatasetRecord, label: string | undefined, what: string): NonNullable<DatasetRecord['solution']> {
  if (!r.solution) throw new DataError({ file: r.source ?? label ?? '<records>', line: r.line, field: 'answer' }, `${what} needs the puzzle's solution`);
  return r.solution;
}

/** Augment record number `index` of epoch `opts.epoch` (random access; what augmentStream yields at that index). */
export function augmentAt(r: DatasetRecord, index: number, opts: AugmentOptions): AugmentedRecord {
  const solution = needSolution(r, opts.label, 'augmentation');
  const rng = new Rng(deriveSeed(opts.seed, PURPOSE_AUGMENT, opts.epoch, index));
  const t = randomTransform(geometry(recordSize(r)), rng, opts.transform);
  const out: AugmentedRecord = { ...r, puzzle: applyTransform(r.puzzle, t), solution: applyTransform(solution, t), transform: t };
  return out;
}

/** One epoch of augmented records. */
export async function* augmentStream(records: AnyIterable<DatasetRecord>, opts: AugmentOptions): AsyncGenerator<AugmentedRecord> {
  let i = 0;
  for await (const r of records) yield augmentAt(r, i++, opts);
}

export interface MixedRecord extends DatasetRecord {
  /** True for a hint twin (it directly follows its parent). */
  twin: boolean;
}

export interface HintMixOptions {
  seed: number;
  label?: string;
}

/** The hint twin of record number `index` (undefined when the puzzle has fewer than 2 blanks). */
export function hintTwinAt(r: DatasetRecord, index: number, opts: HintMixOptions): MixedRecord | undefined {
  const solution = needSolution(r, opts.label, 'a hint twin');
  const twin = hintTwin(r.puzzle, solution, new Rng(deriveSeed(opts.seed, PURPOSE_HINT, index)));
  if (!twin) return undefined;
  const out: MixedRecord = { puzzle: twin, solution, line: r.line, twin: true };
  if (r.source !== undefined) out.source = r.source;
  return out;
}

/** Each record, then its hint twin. */
export async function* withHintTwins(records: AnyIterable<DatasetRecord>, opts: HintMixOptions): AsyncGenerator<MixedRecord> {
  let i = 0;
  for await (const r of records) {
    const twin = hintTwinAt(r, i++, opts);
    yield { ...r, twin: false };
    if (twin) yield twin;
  }
}
