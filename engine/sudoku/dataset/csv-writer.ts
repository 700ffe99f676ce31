/**
 * Writes datasets as Sudoku-Extreme CSV: header `source,question,answer,rating` (plus optional extra columns), '.'
 * for blanks, answer digits, rating as a number (empty when unknown). Output is streamed to a temp file beside the
 * target in 1 MiB writes, fsynced, then renamed over the target: readers never see a half-written file, memory stays
 * bounded, and an aborted write leaves no trace. The bytes depend only on the records (no timestamps).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AnyIterable, DatasetRecord } from './record';

export const SUDOKU_EXTREME_COLUMNS = ['source', 'question', 'answer', 'rating'] as const;

export interface CsvWriterOptions {
  /** Blank symbol in the question column (default '.'). */
  blank?: '.' | '0';
  /** Columns after `rating`, filled from `write(record, extra)`. */
  extraColumns?: readonly string[];
}

/** A CSV field, quoted when it holds a comma, quote or line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const codes: number[] = [];

/** Digits as text ('.' or '0' for blank); same output as geometry.gridToString, without per-cell strings. */
export function gridText(grid: ArrayLike<number>, blank: '.' | '0' = '.'): string {
  const b = blank.charCodeAt(0);
  codes.length = grid.length;
  for (let i = 0; i < grid.length; i++) codes[i] = grid[i] === 0 ? b : 48 + grid[i];
  return String.fromCharCode.apply(null, codes);
}

/** One CSV line (with '\n') for a record in the Sudoku-Extreme layout. */
export function formatCsvRow(r: DatasetRecord, blank: '.' | '0' = '.', extra: readonly (string | number)[] = []): string {
  const cols = [
    csvField(r.source ?? ''),
    gridText(r.puzzle, blank),
    r.solution ? gridText(r.solution) : '',
    r.rating !== undefined ? String(r.rating) : '',
    ...extra.map((v) => csvField(String(v))),
  ];
  return cols.join(',') + '\n';
}

const FLUSH_CHARS = 1 << 20;
let tmpCounter = 0;

export class CsvWriter {
  private parts: string[] = [];
  private pending = 0;
  private closed = false;
  /** Data rows written so far. */
  rows = 0;

  private constructor(readonly file: string, private readonly tmp: string, private readonly handle: fs.FileHandle,
    private readonly opts: CsvWriterOptions) {}

  /** Create the temp file and write the header. */
  static async create(file: string, opts: CsvWriterOptions = {}): Promise<CsvWriter> {
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.${++tmpCounter}.tmp`);
    const handle = await fs.open(tmp, 'w');
    const w = new CsvWriter(file, tmp, handle, opts);
    w.parts.push([...SUDOKU_EXTREME_COLUMNS, ...(opts.extraColumns ?? []).map(csvField)].join(',') + '\n');
    return w;
  }

  /** Append a record; `extra` fills the extra columns in order. */
  async write(r: DatasetRecord, extra: readonly (string | number)[] = []): Promise<void> {
    if (this.closed) throw new Error(`CsvWriter(${this.file}): write after close`);
    const want = this.opts.extraColumns?.length ?? 0;
    if (extra.length !== want) throw new RangeError(`CsvWriter(${this.file}): ${want} extra columns expected, got ${extra.length}`);
    const line = formatCsvRow(r, this.opts.blank, extra);
    this.parts.push(line);
    this.pending += line.length;
    this.rows++;
    if (this.pending >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    await this.handle.write(text);
  }

  /** Flush, fsync and rename the temp file over the target. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
      await this.handle.sync();
    } catch (err) {
      await this.handle.close().catch(() => undefined);
      await fs.rm(this.tmp, { force: true });
      throw err;
    }
    await this.handle.close();
    try {
      await fs.rename(this.tmp, this.file);
    } catch (err) {
      await fs.rm(this.tmp, { force: true });
      throw err;
    }
  }

  /** Drop everything written: the target is left untouched. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.tmp, { force: true });
  }
}

/** Write all records to `file` atomically; returns the row count. On error the target is left untouched. */
export async function writeCsv(file: string, records: AnyIterable<DatasetRecord>, opts: CsvWriterOptions = {}): Promise<number> {
  const w = await CsvWriter.create(file, opts);
  try {
    for await (const r of records) await w.write(r);
  } catch (err) {
    await w.abort();
    throw err;
  }
  await w.close();
  return w.rows;
}
