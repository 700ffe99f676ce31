/**
 * Open any supported dataset by path, detecting its format:
 *  - a folder → the reference builder's `.npy` folder (split folder or its parent with train/ test/);
 *  - `.csv` → CSV (Sudoku-Extreme layout or headerless question[,answer[,rating]]);
 *  - `.txt`, `.sdk`, `.lines` → one puzzle per line;
 *  - anything else: sniffed from the first line (a header naming a question/puzzle/quizzes column → CSV,
 *    otherwise one puzzle per line).
 * `opts.format` overrides detection.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../../util/errors';
import { CsvDatasetReader } from './csv-reader';
import { LinesDatasetReader } from './lines-reader';
import { NpyFolderReader, type NpyFolderOptions } from './npy-folder-reader';
import type { DatasetFormat, DatasetReader, DatasetRecord } from './record';

export interface OpenDatasetOptions extends NpyFolderOptions {
  format?: DatasetFormat;
}

const LINE_EXTENSIONS = new Set(['.txt', '.sdk', '.lines', '.sudoku']);

async function firstLine(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    return text.split(/\r\n|\r|\n/).find((l) => l.trim().length > 0) ?? '';
  } finally {
    await handle.close();
  }
}

/** The format of the dataset at `p`. Throws a DataError when it does not exist or is a bare .npy file. */
export async function detectFormat(p: string): Promise<DatasetFormat> {
  let stat;
  try {
    stat = await fs.stat(p);
  } catch {
    throw new DataError({ file: p }, 'no such file or folder');
  }
  if (stat.isDirectory()) return 'npy-folder';
  const ext = path.extname(p).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (LINE_EXTENSIONS.has(ext)) return 'lines';
  if (ext === '.npy') {
    throw new DataError({ file: p }, 'a single .npy file is not a dataset: give the folder holding dataset.json and all__inputs.npy (or its parent)');
  }
  const head = (await firstLine(p)).toLowerCase();
  return /(^|,)\s*"?(question|puzzle|quizzes|quiz)"?\s*(,|$)/.test(head) ? 'csv' : 'lines';
}

/** Open a dataset for streaming (`reader.format` says which reader was chosen). */
export async function openDataset(p: string, opts: OpenDatasetOptions = {}): Promise<DatasetReader> {
  const format = opts.format ?? await detectFormat(p);
  switch (format) {
    case 'csv': return new CsvDatasetReader(p, opts);
    case 'lines': return new LinesDatasetReader(p, opts);
    case 'npy-folder': return new NpyFolderReader(p, opts);
  }
}

/** Read a whole dataset into memory (for small files: fixtures, 1k subsets, test splits). */
export async function readAllRecords(p: string, opts: OpenDatasetOptions = {}): Promise<{ records: DatasetRecord[]; reader: DatasetReader }> {
  const reader = await openDataset(p, opts);
  const records: DatasetRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, reader };
}
