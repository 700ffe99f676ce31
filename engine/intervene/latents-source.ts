/**
 * One saved state from a latents export (engine/analysis/latents-export.ts, `--save-latents`): z_H and z_L of batch
 * row `row` at the end of segment `segment`, with that row's puzzle, solution and decoded grids up to the segment —
 * the donor of a `latents` patch. Reads only what it needs (the header, then the row's bytes at their offsets), so a
 * large export is not loaded whole.
 *
 * Layouts, as the export writes them (the target name given to --save-latents picks one):
 *   FILE.safetensors   one file: z_H, z_L F32 [puzzles, segments, seq, hidden], logits F32 [puzzles, segments, cells,
 *                      vocab], puzzles / solutions I32 [puzzles, cells];
 *   FILE.npy           FILE.z_H.npy, FILE.z_L.npy, FILE.logits.npy, FILE.puzzles.npy, FILE.solutions.npy;
 *   FOLDER             FOLDER/z_H.npy, … .
 * Bad input is a DataError naming the file and the tensor (field): a missing tensor, a wrong dtype or shape, a state of
 * another model's shape, a row or segment outside the file, non-finite values, digits outside 0..n.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MAX_HEADER_BYTES } from '../interop/safetensors';
import { NpyFileReader } from '../interop/npy';
import { DataError } from '../util/errors';
import type { Grid, GridSize } from '../sudoku/geometry';
import { latentsKind } from '../analysis/latents-export';
import type { RowState } from './trajectory';

export interface LatentsState {
  /** The state at the end of `segment` (1-based). */
  state: RowState;
  segment: number;
  row: number;
  /** Segments and puzzles the file holds. */
  segments: number;
  puzzles: number;
  puzzle: Grid;
  /** Undefined where the file holds −1 (no unique solution when it was written). */
  solution: Grid | undefined;
  /** Decoded digits (argmax over the digit tokens) of segments 1..segment, row-major [segment][cell]. */
  grids: Grid;
  /** The file that holds z_H (for reports). */
  file: string;
}

/** What the state must fit: the receiver's map. */
export interface LatentsExpect {
  n: GridSize;
  positions: number;
  hidden: number;
}

type Name = 'z_H' | 'z_L' | 'logits' | 'puzzles' | 'solutions';
const NAMES: readonly Name[] = ['z_H', 'z_L', 'logits', 'puzzles', 'solutions'];

/** One tensor of the export: its dtype, shape and a reader of a contiguous element range. */
interface TensorAccess {
  file: string;
  dtype: 'float32' | 'int32' | string;
  shape: number[];
  read(start: number, count: number): Promise<Float32Array | Int32Array>;
  close(): Promise<void>;
}

function typed(dtype: string, bytes: Uint8Array): Float32Array | Int32Array {
  const copy = bytes.slice();
  return dtype === 'int32' ? new Int32Array(copy.buffer, 0, copy.length / 4) : new Float32Array(copy.buffer, 0, copy.length / 4);
}

async function readExact(handle: fs.FileHandle, file: string, field: string, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await handle.read(bytes, done, bytes.length - done, position + done);
    if (bytesRead === 0) throw new DataError({ file, field }, 'the file ends before the tensor\'s data');
    done += bytesRead;
  }
}

async function openSafetensors(file: string): Promise<Map<Name, TensorAccess>> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw new DataError({ file }, `cannot read: ${(err as Error).message}`);
  }
  try {
    const size = (await handle.stat()).size;
    if (size < 8) throw new DataError({ file, field: 'header' }, `too short for a safetensors file (${size} bytes)`);
    const head = new Uint8Array(8);
    await readExact(handle, file, 'header', head, 0);
    const view = new DataView(head.buffer);
    const len = view.getUint32(4, true) * 2 ** 32 + view.getUint32(0, true);
    if (len < 2 || len > MAX_HEADER_BYTES || len > size - 8) throw new DataError({ file, field: 'header' }, `header length ${len} does not fit the ${size}-byte file`);
    const text = new Uint8Array(len);
    await readExact(handle, file, 'header', text, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text)) as Record<string, unknown>;
    } catch {
      throw new DataError({ file, field: 'header' }, 'the header is not valid JSON');
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new DataError({ file, field: 'header' }, 'the header is not a JSON object');
    const dataStart = 8 + len;
    const out = new Map<Name, TensorAccess>();
    for (const name of NAMES) {
      const e = header[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | undefined;
      if (!e || typeof e !== 'object') continue;
      const shape = e.shape;
      const offsets = e.data_offsets;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new DataError({ file, field: name }, 'shape must be a list of non-negative integers');
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) throw new DataError({ file, field: name }, 'data_offsets must be [begin, end]');
      const dtype = e.dtype === 'F32' ? 'float32' : e.dtype === 'I32' ? 'int32' : String(e.dtype);
      const [begin, end] = offsets as number[];
      const count = (shape as number[]).reduce((a, b) => a * b, 1);
      if (end - begin !== count * 4 || dataStart + end > size) {
        throw new DataError({ file, field: name }, `data_offsets [${begin}, ${end}] do not hold shape [${(shape as number[]).join(', ')}] of 4-byte values inside the file`);
      }
      out.set(name, {
        file, dtype, shape: shape as number[],
        async read(start, n) {
          const bytes = new Uint8Array(n * 4);
          await readExact(handle, file, name, bytes, dataStart + begin + start * 4);
          return typed(dtype, bytes);
        },
        close: async () => undefined,
      });
    }
    const close = (): Promise<void> => handle.close();
    const first = out.values().next().value;
    if (first) first.close = close;
    else await close();
    return out;
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function openNpy(target: string, kind: 'npy-files' | 'npy-folder'): Promise<Map<Name, TensorAccess>> {
  const out = new Map<Name, TensorAccess>();
  const stem = target.replace(/\.npy$/i, '');
  for (const name of NAMES) {
    const file = kind === 'npy-files' ? `${stem}.${name}.npy` : path.join(target, `${name}.npy`);
    let reader: NpyFileReader;
    try {
      reader = await NpyFileReader.open(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      for (const t of out.values()) await t.close();
      throw err instanceof DataError ? err : new DataError({ file }, `cannot read: ${(err as Error).message}`);
    }
    const { header } = reader;
    const rowSize = reader.rowSize;
    out.set(name, {
      file, dtype: header.dtype, shape: header.shape,
      async read(start, n) {
        // Whole rows (first axis) around the range, then the range.
        const r0 = Math.floor(start / rowSize);
        const r1 = Math.ceil((start + n) / rowSize);
        const data = await reader.readRows(r0, r1 - r0);
        if (!(data instanceof Float32Array || data instanceof Int32Array)) throw new DataError({ file, field: name }, `expected float32 or int32 data, found ${header.dtype}`);
        return data.slice(start - r0 * rowSize, start - r0 * rowSize + n);
      },
      close: () => reader.close(),
    });
  }
  return out;
}

function need(tensors: Map<Name, TensorAccess>, name: Name, target: string, dtype: 'float32' | 'int32', rank: number): TensorAccess {
  const t = tensors.get(name);
  if (!t) throw new DataError({ file: target, field: name }, `no ${name} tensor: not a latents export (save one with --save-latents)`);
  if (t.dtype !== dtype) throw new DataError({ file: t.file, field: name }, `expected ${dtype} values, found ${t.dtype}`);
  if (t.shape.length !== rank) throw new DataError({ file: t.file, field: name }, `expected ${rank} dimensions, found [${t.shape.join(', ')}]`);
  return t;
}

/**
 * Reads the state of batch row `row` (0-based, default 0) at the end of `segment` (1-based, default the last) from a
 * latents export, checked against the receiver's state shape.
 */
export async function readLatentsState(target: string, expect: LatentsExpect, opts: { segment?: number; row?: number } = {}): Promise<LatentsState> {
  const kind = latentsKind(target);
  const tensors = kind === 'safetensors' ? await openSafetensors(target) : await openNpy(target, kind);
  try {
    const zH = need(tensors, 'z_H', target, 'float32', 4);
    const zL = need(tensors, 'z_L', target, 'float32', 4);
    const logits = need(tensors, 'logits', target, 'float32', 4);
    const puzzles = need(tensors, 'puzzles', target, 'int32', 2);
    const solutions = need(tensors, 'solutions', target, 'int32', 2);
    const [P, S, seq, hidden] = zH.shape;
    const cells = expect.n * expect.n;
    const vocab = expect.n + 2;
    if (seq !== expect.positions || hidden !== expect.hidden) {
      throw new DataError({ file: zH.file, field: 'z_H' }, `the saved state is [${seq} positions × ${hidden} hidden], the model's [${expect.positions} × ${expect.hidden}]: saved with a model of another shape`);
    }
    const same = (t: TensorAccess, want: number[]): void => {
      const name = NAMES.find((k) => tensors.get(k) === t) as Name;
      if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
        throw new DataError({ file: t.file, field: name }, `shape [${t.shape.join(', ')}], expected [${want.join(', ')}] to go with z_H [${zH.shape.join(', ')}] on a ${expect.n}×${expect.n} grid`);
      }
    };
    same(zL, [P, S, seq, hidden]);
    same(logits, [P, S, cells, vocab]);
    same(puzzles, [P, cells]);
    same(solutions, [P, cells]);
    const row = opts.row ?? 0;
    const segment = opts.segment ?? S;
    if (!Number.isInteger(row) || row < 0 || row >= P) throw new DataError({ file: zH.file, field: 'z_H' }, `row ${row} is outside the ${P} puzzle${P === 1 ? '' : 's'} saved (0…${P - 1})`);
    if (!Number.isInteger(segment) || segment < 1 || segment > S) throw new DataError({ file: zH.file, field: 'z_H' }, `segment ${segment} is outside the ${S} segments saved (1…${S})`);
    const w = seq * hidden;
    const at = (row * S + segment - 1) * w;
    const state: RowState = { zH: await zH.read(at, w) as Float32Array, zL: await zL.read(at, w) as Float32Array };
    for (const [name, data] of [['z_H', state.zH], ['z_L', state.zL]] as const) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new DataError({ file: tensors.get(name)?.file ?? target, field: name }, `a non-finite value (${data[bad]}) in row ${row}, segment ${segment}`);
    }
    const puzzleData = await puzzles.read(row * cells, cells);
    const solutionData = await solutions.read(row * cells, cells);
    const puzzle = Int8Array.from(puzzleData);
    if (puzzleData.some((d) => !(d >= 0 && d <= expect.n))) throw new DataError({ file: puzzles.file, field: 'puzzles' }, `row ${row} holds digits outside 0…${expect.n}`);
    const unknown = solutionData.every((d) => d === -1);
    if (!unknown && solutionData.some((d) => !(d >= 1 && d <= expect.n))) throw new DataError({ file: solutions.file, field: 'solutions' }, `row ${row} holds digits outside 1…${expect.n} (−1 throughout: unknown)`);
    const lg = await logits.read(row * S * cells * vocab, segment * cells * vocab) as Float32Array;
    const grids = new Int8Array(segment * cells);
    for (let c = 0; c < segment * cells; c++) {
      let best = 2;
      for (let v = 3; v < vocab; v++) if (lg[c * vocab + v] > lg[c * vocab + best]) best = v;
      grids[c] = best - 1;
    }
    return { state, segment, row, segments: S, puzzles: P, puzzle, solution: unknown ? undefined : Int8Array.from(solutionData), grids, file: zH.file };
  } finally {
    const closed = new Set<TensorAccess['close']>();
    for (const t of tensors.values()) if (!closed.has(t.close)) { closed.add(t.close); await t.close(); }
  }
}
