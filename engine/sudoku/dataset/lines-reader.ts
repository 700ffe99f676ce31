/**
 * Streaming reader for one-puzzle-per-line text files (the dimitri/sudoku sets in test/fixtures/puzzles/):
 *
 *   <puzzle> [<solution>] [// comment]
 *
 * The puzzle (16, 36 or 81 characters, '.' or '0' blank) may be followed by its solution, separated by whitespace
 * or a comma. Anything from `//` or `#` to the end of the line is a comment; blank and comment-only lines are
 * skipped. Errors name the file, the 1-based line and the field ("puzzle" or "solution").
 */
import type { DatasetRecord } from './record';
import { TextDatasetReader } from './text-reader';
import { LineSource } from './text-lines';
import { RowChecker, type ValidateOptions } from './validate';

const SEPARATOR = /[\s,]+/;

/** The line without its comment, trimmed. */
function stripComment(text: string): string {
  let end = text.length;
  const slash = text.indexOf('//');
  if (slash >= 0) end = slash;
  const hash = text.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  return (end < text.length ? text.slice(0, end) : text).trim();
}

export class LinesDatasetReader extends TextDatasetReader {
  readonly format = 'lines' as const;

  async *[Symbol.asyncIterator](): AsyncGenerator<DatasetRecord> {
    const src = new LineSource(this.path);
    this.source = src;
    const ch = new RowChecker(this.path, { puzzle: 'puzzle', solution: 'solution' }, this.opts);
    this.current = ch.report;
    for await (const { firstLine, lines } of src.batches()) {
      for (let k = 0; k < lines.length; k++) {
        const body = stripComment(lines[k]);
        if (body.length === 0) continue;
        const line = firstLine + k;
        const rec = ch.row(() => {
          const parts = body.split(SEPARATOR);
          if (parts.length > 2) ch.fail(line, 'line', 'format', `expected a puzzle and optionally its solution, got ${parts.length} fields (comments start with // or #)`);
          const r: DatasetRecord = { puzzle: ch.parseGrid(parts[0], line, 'puzzle', false), line };
          if (parts.length === 2) r.solution = ch.parseGrid(parts[1], line, 'solution', true, ch.gridSize);
          return r;
        });
        if (rec) yield rec;
      }
    }
  }
}

/** Open a one-puzzle-per-line file for streaming. */
export function readLines(path: string, opts: ValidateOptions = {}): LinesDatasetReader {
  return new LinesDatasetReader(path, opts);
}
