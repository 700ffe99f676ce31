/**
 * Streams a text file as batches of lines with their line numbers, never holding more than one chunk (1 MiB) plus a
 * partial line in memory. Handles '\n', '\r\n' and lone '\r' (old Mac) endings and a UTF-8 byte-order mark. A line longer
 * than MAX_LINE_CHARS ends the read with a DataError naming the file and line, as soon as the partial line passes
 * the bound (a 2 GiB file without a line break fails after its first chunk, not after reading it all).
 *
 * Why not csv-parse's stream or node:readline: measured on a 1M-row Sudoku-Extreme-shaped file (Node 20, 2 shared
 * cores), csv-parse streaming with line info read ~90k rows/s (~133k without info), readline + split ~1.28M
 * lines/s, and this chunk splitter ~1.55M lines/s (bench/dataset-bench.ts repeats the csv-parse / readline
 * comparison). csv-parse alone would take ~40 s for Sudoku-Extreme's 3.8M rows before any validation. Sudoku CSVs
 * are plain (no quotes, no embedded newlines), so the CSV reader splits lines here and hands only lines containing
 * a quote to csv-parse's sync parser (see csv-reader.ts).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { DataError } from '../../util/errors';

/**
 * Longest line a dataset may hold (characters). A Sudoku row is at most a few hundred characters; a longer line
 * means the file is not a puzzle list (a binary file, a file without line breaks), and reading on would hold it all.
 */
export const MAX_LINE_CHARS = 64 * 1024;

export interface LineBatch {
  /** Line number (1-based) of lines[0]. */
  firstLine: number;
  lines: string[];
}

export interface LineSourceOptions {
  /** Characters read per chunk (default 1 MiB). */
  chunkBytes?: number;
  /** Longest line accepted (default MAX_LINE_CHARS). */
  maxLineChars?: number;
}

export class LineSource {
  private read = 0;
  private total = 0;
  private readonly chunkBytes: number;
  private readonly maxLineChars: number;

  constructor(readonly file: string, opts: LineSourceOptions = {}) {
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.maxLineChars = opts.maxLineChars ?? MAX_LINE_CHARS;
  }

  /** Bytes consumed so far / file size (0 before the first batch). */
  progress(): number {
    return this.total > 0 ? Math.min(1, this.read / this.total) : 0;
  }

  private tooLong(line: number, length: number, complete: boolean): DataError {
    const size = complete ? `${length} characters` : `more than ${length} characters without a line break`;
    return new DataError({ file: this.file, line },
      `line is too long: ${size} (at most ${this.maxLineChars}; a puzzle row is a few hundred at most; is this a puzzle file?)`);
  }

  async *batches(): AsyncGenerator<LineBatch> {
    try {
      const stat = await fs.stat(this.file);
      if (stat.isDirectory()) throw new DataError({ file: this.file }, 'is a folder, not a text file');
      this.total = stat.size;
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError({ file: this.file }, `cannot read: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.read = 0;
    const max = this.maxLineChars;
    const stream = createReadStream(this.file, { encoding: 'utf8', highWaterMark: this.chunkBytes });
    // `rest`: the text after the last complete line. It holds no '\n', and at most one '\r', at its end (a line
    // ended by '\r' whose '\n' may start the next chunk).
    let rest = '';
    let line = 1;
    let first = true;
    try {
      for await (const chunk of stream as AsyncIterable<string>) {
        this.read = stream.bytesRead;
        let text = rest + chunk;
        if (first) {
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          first = false;
        }
        let lines = text.split('\n');
        rest = lines.pop() ?? '';
        if (text.indexOf('\r') >= 0) {
          lines = splitCarriageReturns(lines);
          const tail = rest.split('\r');
          if (tail.length > 1) {
            rest = tail.pop() ?? '';
            // A '\r' at the very end: keep that line (with its '\r') until the next chunk says whether '\n' follows.
            if (rest.length === 0) rest = `${tail.pop() ?? ''}\r`;
            for (const l of tail) lines.push(l);
          }
        }
        if (text.length > max) {
          for (let i = 0; i < lines.length; i++) if (lines[i].length > max) throw this.tooLong(line + i, lines[i].length, true);
          if (rest.length - (rest.endsWith('\r') ? 1 : 0) > max) throw this.tooLong(line + lines.length, max, false);
        }
        if (lines.length === 0) continue;
        yield { firstLine: line, lines };
        line += lines.length;
      }
      this.read = this.total;
      if (rest.length > 0) yield { firstLine: line, lines: [rest.endsWith('\r') ? rest.slice(0, -1) : rest] };
    } finally {
      stream.destroy();
    }
  }
}

/** Lines split on '\n' → lines split on '\n', '\r\n' and a lone '\r' (old Mac endings). */
function splitCarriageReturns(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const body = l.length > 0 && l.charCodeAt(l.length - 1) === 13 ? l.slice(0, -1) : l;
    if (body.indexOf('\r') < 0) out.push(body);
    else for (const part of body.split('\r')) out.push(part);
  }
  return out;
}
