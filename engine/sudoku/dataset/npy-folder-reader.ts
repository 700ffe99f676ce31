/**
 * Streaming reader for the reference HRM builder's output (`dataset/build_sudoku_dataset.py`,
 * docs/model.md §Dataset formats):
 *
 *   <split>/dataset.json          { seq_len: N², vocab_size: N + 2, … }
 *   <split>/all__inputs.npy       uint8 [rows, N²]  tokens 1 = blank, 2..N+1 = digits 1..N
 *   <split>/all__labels.npy       uint8 [rows, N²]  tokens 2..N+1
 *
 * The path may be a split folder (holding dataset.json) or its parent holding `train/` and/or `test/`; the parent
 * yields train then test (or only `opts.split`), each record's `source` being the split's folder name. Other
 * integer dtypes (int32, int64) are accepted as well. Rows are read 4096 at a time (bounded memory even for the
 * 1,001,000-row augmented training split). Errors name the split folder, the 1-based row as "line" and the field
 * ("inputs" / "labels"), or dataset.json and its key.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type GridSize, sizeFromCells } from '../geometry';
import { NpyFileReader, type NpyData } from '../../interop/npy';
import { DataError, excerpt, quoted } from '../../util/errors';
import type { DatasetReader, DatasetRecord } from './record';
import { RowChecker, type ValidateOptions, ValidationReport } from './validate';

export interface NpyFolderOptions extends ValidateOptions {
  /** With a parent folder: read only this split (e.g. "train" or "test"). */
  split?: string;
  /** Rows per read (default 4096). */
  chunkRows?: number;
}

export interface ReferenceSplitInfo {
  name: string;
  dir: string;
  n: GridSize;
  rows: number;
}

const SPLITS = ['train', 'test'];

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** The split folders under `root` (itself when it holds dataset.json), in read order. */
export async function findReferenceSplits(root: string, split?: string): Promise<{ name: string; dir: string }[]> {
  if (await exists(path.join(root, 'dataset.json'))) {
    const name = path.basename(path.resolve(root));
    if (split !== undefined && split !== name) {
      throw new DataError({ file: root, field: 'split' }, `this is the split folder ${quoted(name)}; asked for split ${quoted(split)}`);
    }
    return [{ name, dir: root }];
  }
  const wanted = split !== undefined ? [split] : SPLITS;
  const found: { name: string; dir: string }[] = [];
  for (const name of wanted) {
    const dir = path.join(root, name);
    if (await exists(path.join(dir, 'dataset.json'))) found.push({ name, dir });
    else if (split !== undefined) throw new DataError({ file: root, field: 'split' }, `no split folder ${quoted(name)} with a dataset.json`);
  }
  if (found.length === 0) {
    throw new DataError({ file: root }, 'not a reference HRM dataset folder: no dataset.json here, nor in train/ or test/');
  }
  return found;
}

/** Largest dataset.json read (bytes): the reference builder writes a few hundred. */
const MAX_METADATA_BYTES = 1 << 20;

/** A JSON value as text, bounded. */
function jsonExcerpt(v: unknown): string {
  return excerpt(JSON.stringify(v) ?? String(v));
}

/** Read and check a split's dataset.json: its grid size. */
async function readMetadata(dir: string): Promise<GridSize> {
  const file = path.join(dir, 'dataset.json');
  let meta: unknown;
  try {
    const size = (await fs.stat(file)).size;
    if (size > MAX_METADATA_BYTES) throw new DataError({ file }, `is ${size} bytes; a dataset.json is at most ${MAX_METADATA_BYTES}`);
    meta = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError({ file }, `cannot read JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof meta !== 'object' || meta === null) throw new DataError({ file }, 'expected a JSON object');
  const m = meta as Record<string, unknown>;
  const seqLen = m.seq_len;
  const n = typeof seqLen === 'number' ? sizeFromCells(seqLen) : undefined;
  if (n === undefined) throw new DataError({ file, field: 'seq_len' }, `seq_len must be 16, 36 or 81 (a 4×4, 6×6 or 9×9 grid), got ${jsonExcerpt(seqLen)}`);
  if (m.vocab_size !== undefined && m.vocab_size !== n + 2) {
    throw new DataError({ file, field: 'vocab_size' }, `vocab_size must be ${n + 2} for ${n}×${n} Sudoku (PAD, blank, ${n} digits), got ${jsonExcerpt(m.vocab_size)}`);
  }
  return n;
}

async function openArray(dir: string, name: string, n: GridSize, rows?: number): Promise<NpyFileReader> {
  const file = path.join(dir, name);
  if (!(await exists(file))) throw new DataError({ file }, 'missing (a reference split folder holds all__inputs.npy and all__labels.npy)');
  const r = await NpyFileReader.open(file);
  const shape = r.header.shape;
  const bad = shape.length !== 2 || shape[1] !== n * n || (rows !== undefined && shape[0] !== rows);
  if (bad || r.header.dtype === 'float32') {
    await r.close();
    const want = `[${rows ?? 'rows'}, ${n * n}]`;
    throw new DataError({ file, field: bad ? 'shape' : 'descr' }, bad
      ? `expected shape ${want} (seq_len ${n * n} from dataset.json), got (${shape.join(', ')})`
      : 'expected integer tokens (uint8), got float32');
  }
  return r;
}

export class NpyFolderReader implements DatasetReader {
  readonly format = 'npy-folder' as const;
  private current: ValidationReport;
  private done = 0;
  private total = 0;

  constructor(readonly path: string, readonly opts: NpyFolderOptions = {}) {
    this.current = new ValidationReport(path, opts.maxExamples ?? 3);
  }

  get report(): ValidationReport {
    return this.current;
  }

  progress(): number {
    return this.total > 0 ? this.done / this.total : 0;
  }

  /** The splits this reader will read, with their size and row count (reads only headers). */
  async splits(): Promise<ReferenceSplitInfo[]> {
    const out: ReferenceSplitInfo[] = [];
    for (const s of await findReferenceSplits(this.path, this.opts.split)) {
      const n = await readMetadata(s.dir);
      const r = await openArray(s.dir, 'all__inputs.npy', n);
      out.push({ ...s, n, rows: r.rowCount });
      await r.close();
    }
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<DatasetRecord> {
    const splits = await this.splits();
    const report = new ValidationReport(this.path, this.opts.maxExamples ?? 3);
    this.current = report;
    this.done = 0;
    this.total = splits.reduce((a, s) => a + s.rows, 0);
    const chunkRows = this.opts.chunkRows ?? 4096;
    for (const s of splits) {
      const { n } = s;
      const cells = n * n;
      const ch = new RowChecker(s.dir, { puzzle: 'inputs', solution: 'labels' }, this.opts, report);
      const inputs = await openArray(s.dir, 'all__inputs.npy', n);
      let labels: NpyFileReader;
      try {
        labels = await openArray(s.dir, 'all__labels.npy', n, inputs.rowCount);
      } catch (err) {
        await inputs.close();
        throw err;
      }
      try {
        for (let start = 0; start < inputs.rowCount; start += chunkRows) {
          const count = Math.min(chunkRows, inputs.rowCount - start);
          const inTok = await inputs.readRows(start, count);
          const labTok = await labels.readRows(start, count);
          for (let k = 0; k < count; k++) {
            const line = start + k + 1;
            const rec = ch.row(() => {
              const puzzle = tokensToDigits(inTok, k * cells, cells, n, 1, (i, t) => ch.fail(line, 'inputs', 'token',
                `token ${t} at cell ${i + 1}; inputs hold 1 = blank and 2..${n + 1} = digits 1..${n}${t === 0 ? ' (0 is PAD)' : ''}`));
              ch.checkSize(n, line, 'inputs');
              const solution = tokensToDigits(labTok, k * cells, cells, n, 2, (i, t) => ch.fail(line, 'labels', 'token',
                `token ${t} at cell ${i + 1}; labels hold 2..${n + 1} = digits 1..${n}`));
              return { puzzle, solution, source: s.name, line };
            });
            this.done++;
            if (rec) yield rec;
          }
        }
      } finally {
        await inputs.close();
        await labels.close();
      }
    }
  }
}

/** Tokens [offset, offset + cells) to digits (token − 1; blank token 1 → 0); tokens below `minToken` or above N+1 are bad. */
function tokensToDigits(data: NpyData, offset: number, cells: number, n: number, minToken: number, bad: (cell: number, token: number) => never): Int8Array {
  const g = new Int8Array(cells);
  for (let i = 0; i < cells; i++) {
    const t = Number(data[offset + i]);
    if (!(t >= minToken && t <= n + 1)) bad(i, t);
    g[i] = t - 1;
  }
  return g;
}

/** Open a reference builder folder (split folder or its parent) for streaming. */
export function readNpyFolder(path: string, opts: NpyFolderOptions = {}): NpyFolderReader {
  return new NpyFolderReader(path, opts);
}
