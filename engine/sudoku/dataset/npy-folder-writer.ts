/**
 * Writes datasets in the reference HRM builder's folder format (docs/model.md §Dataset formats), so that the PyTorch
 * reference can train on the same puzzles: per split, dataset.json, all__inputs.npy / all__labels.npy (uint8
 * tokens), all__puzzle_identifiers.npy (int32 zeros), all__puzzle_indices.npy and all__group_indices.npy (int32
 * 0..rows: one puzzle per example and one group per puzzle, like the builder's test split), and identifiers.json
 * at the top. Every record needs a solution. Memory: 2 bytes per cell per row (the arrays are built, then written
 * atomically).
 */
import * as path from 'node:path';
import { type GridSize, sizeFromCells } from '../geometry';
import { writeNpy } from '../../interop/npy';
import { writeFileAtomic } from '../../util/atomic-write';
import { DataError } from '../../util/errors';
import type { AnyIterable, DatasetRecord } from './record';

/** Growable byte buffer. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  length = 0;
  reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
}

export interface ReferenceSplitWritten {
  dir: string;
  rows: number;
  n: GridSize;
}

/** Write one split folder (`dir` gets dataset.json and the .npy files). */
export async function writeReferenceSplit(dir: string, records: AnyIterable<DatasetRecord>): Promise<ReferenceSplitWritten> {
  const inputs = new Bytes();
  const labels = new Bytes();
  let n: GridSize | undefined;
  let rows = 0;
  for await (const r of records) {
    const rn = sizeFromCells(r.puzzle.length);
    const where = { file: r.source ?? dir, line: r.line };
    if (rn === undefined) throw new DataError({ ...where, field: 'question' }, `grid has ${r.puzzle.length} cells`);
    if (n === undefined) n = rn;
    if (rn !== n) throw new DataError({ ...where, field: 'question' }, `a ${rn}×${rn} grid among ${n}×${n} grids`);
    if (!r.solution) throw new DataError({ ...where, field: 'answer' }, 'the reference format needs a solution for every puzzle');
    const cells = rn * rn;
    inputs.reserve(cells);
    labels.reserve(cells);
    for (let i = 0; i < cells; i++) {
      inputs.buf[inputs.length + i] = r.puzzle[i] + 1;
      labels.buf[labels.length + i] = r.solution[i] + 1;
    }
    inputs.length += cells;
    labels.length += cells;
    rows++;
  }
  const size: GridSize = n ?? 9;
  const cells = size * size;
  const range = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) range[i] = i;
  const meta = {
    pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: size + 2, seq_len: cells,
    num_puzzle_identifiers: 1, total_groups: rows, mean_puzzle_examples: 1, sets: ['all'],
  };
  await writeNpy(path.join(dir, 'all__inputs.npy'), { shape: [rows, cells], data: inputs.buf.slice(0, inputs.length) });
  await writeNpy(path.join(dir, 'all__labels.npy'), { shape: [rows, cells], data: labels.buf.slice(0, labels.length) });
  await writeNpy(path.join(dir, 'all__puzzle_identifiers.npy'), { shape: [rows], data: new Int32Array(rows) });
  await writeNpy(path.join(dir, 'all__puzzle_indices.npy'), { shape: [rows + 1], data: range });
  await writeNpy(path.join(dir, 'all__group_indices.npy'), { shape: [rows + 1], data: range.slice() });
  await writeFileAtomic(path.join(dir, 'dataset.json'), JSON.stringify(meta));
  return { dir, rows, n: size };
}

/** Write `root/train` and `root/test` (each optional) plus `root/identifiers.json`. */
export async function writeReferenceDataset(root: string, splits: { train?: AnyIterable<DatasetRecord>; test?: AnyIterable<DatasetRecord> }): Promise<ReferenceSplitWritten[]> {
  const out: ReferenceSplitWritten[] = [];
  if (splits.train) out.push(await writeReferenceSplit(path.join(root, 'train'), splits.train));
  if (splits.test) out.push(await writeReferenceSplit(path.join(root, 'test'), splits.test));
  await writeFileAtomic(path.join(root, 'identifiers.json'), JSON.stringify(['<blank>']));
  return out;
}
