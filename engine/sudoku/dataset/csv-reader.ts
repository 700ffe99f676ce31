/**
 * Streaming reader for Sudoku CSV files, with bounded memory (one 1 MiB chunk at a time; see text-lines.ts for why
 * lines are split here rather than by csv-parse's stream: ~10× faster on Sudoku-Extreme).
 *
 * Accepted layouts:
 *  - with a header (recognised when a column is named question/puzzle/quizzes): the Sudoku-Extreme layout
 *    `source,question,answer,rating`, in any column order and with extra columns ignored. Aliases: question =
 *    puzzle | quizzes | quiz; answer = solution | solutions; rating = difficulty. Only `question` is required
 *    (so the Kaggle `quizzes,solutions` files read too);
 *  - without a header (the first field is a 16/36/81-character grid): `question[,answer[,rating]]`.
 * Blank lines are skipped. A line with a double quote is parsed by csv-parse (RFC 4180 quoting); a quoted field may
 * not span lines. Errors name the file, the 1-based line (the header is line 1) and the column name.
 */
import { parse as parseCsvSync } from 'csv-parse/sync';
import { DataError, quoted } from '../../util/errors';
import type { DatasetRecord } from './record';
import { TextDatasetReader } from './text-reader';
import { LineSource } from './text-lines';
import { InvalidRowError, RowChecker, type ValidateOptions } from './validate';

const ALIASES: Record<'question' | 'answer' | 'rating' | 'source', readonly string[]> = {
  question: ['question', 'puzzle', 'quizzes', 'quiz'],
  answer: ['answer', 'solution', 'solutions'],
  rating: ['rating', 'difficulty'],
  source: ['source'],
};

interface Columns {
  count: number;
  question: number;
  answer: number;
  rating: number;
  source: number;
  names: { question: string; answer: string; rating: string; source: string };
}

/** Split one CSV line: plain split on ',' unless it holds a quote (then csv-parse). */
export function splitCsvLine(text: string, file: string, line: number): string[] {
  if (text.indexOf('"') < 0) return text.split(',');
  try {
    const rows = parseCsvSync(text, { relax_column_count: true }) as string[][];
    if (rows.length !== 1) throw new Error(`expected one record, got ${rows.length}`);
    return rows[0];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InvalidRowError({ file, line, field: 'row' }, 'format', `cannot parse the quoted CSV line (quoted fields may not span lines): ${why}`);
  }
}

/** Trim only when an end is whitespace (the common case allocates nothing). */
function tidy(s: string): string {
  return s.length > 0 && s.charCodeAt(0) > 32 && s.charCodeAt(s.length - 1) > 32 ? s : s.trim();
}

function looksLikeGrid(field: string): boolean {
  const t = field.trim();
  return (t.length === 16 || t.length === 36 || t.length === 81) && /^[0-9.]+$/.test(t);
}

function headerColumns(fields: string[], file: string): Columns | undefined {
  const lower = fields.map((f) => f.trim().toLowerCase());
  const find = (key: keyof typeof ALIASES) => lower.findIndex((f) => ALIASES[key].includes(f));
  const question = find('question');
  if (question < 0) {
    if (looksLikeGrid(fields[0])) return undefined;
    throw new DataError({ file, line: 1, field: 'header' },
      `no 'question' column in the header ${quoted(fields.join(','))} (expected source,question,answer,rating or a headerless question[,answer[,rating]] file)`);
  }
  const col = (i: number, dflt: string) => (i >= 0 ? fields[i].trim() : dflt);
  const answer = find('answer');
  const rating = find('rating');
  const source = find('source');
  return {
    count: fields.length, question, answer, rating, source,
    names: { question: col(question, 'question'), answer: col(answer, 'answer'), rating: col(rating, 'rating'), source: col(source, 'source') },
  };
}

function headerlessColumns(count: number): Columns {
  if (count > 3) throw new RangeError('headerless CSV has at most 3 columns');
  return {
    count, question: 0, answer: count > 1 ? 1 : -1, rating: count > 2 ? 2 : -1, source: -1,
    names: { question: 'question', answer: 'answer', rating: 'rating', source: 'source' },
  };
}

export class CsvDatasetReader extends TextDatasetReader {
  readonly format = 'csv' as const;

  async *[Symbol.asyncIterator](): AsyncGenerator<DatasetRecord> {
    const file = this.path;
    const src = new LineSource(file);
    this.source = src;
    let cols: Columns | undefined;
    let checker: RowChecker | undefined;
    for await (const { firstLine, lines } of src.batches()) {
      for (let k = 0; k < lines.length; k++) {
        const text = lines[k];
        const line = firstLine + k;
        if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim().length === 0)) continue;
        if (!cols || !checker) {
          const fields = splitCsvLine(text, file, line);
          const header = headerColumns(fields, file);
          if (header === undefined && fields.length > 3) {
            throw new DataError({ file, line, field: 'header' }, `headerless CSV rows have 1 to 3 columns (question[,answer[,rating]]), got ${fields.length}`);
          }
          cols = header ?? headerlessColumns(fields.length);
          checker = new RowChecker(file, { puzzle: cols.names.question, solution: cols.names.answer, rating: cols.names.rating }, this.opts);
          this.current = checker.report;
          if (header) continue;
        }
        const c = cols;
        const ch = checker;
        const rec = ch.row(() => {
          const f = splitCsvLine(text, file, line);
          if (f.length !== c.count) ch.fail(line, 'row', 'format', `expected ${c.count} columns, got ${f.length}`);
          const puzzle = ch.parseGrid(tidy(f[c.question]), line, c.names.question, false);
          const answerText = c.answer >= 0 ? tidy(f[c.answer]) : '';
          const r: DatasetRecord = { puzzle, line };
          if (answerText.length > 0) r.solution = ch.parseGrid(answerText, line, c.names.answer, true, ch.gridSize);
          const rating = c.rating >= 0 ? ch.parseRating(tidy(f[c.rating]), line) : undefined;
          if (rating !== undefined) r.rating = rating;
          if (c.source >= 0) r.source = f[c.source];
          return r;
        });
        if (rec) yield rec;
      }
    }
  }
}

/** Open a CSV dataset for streaming (nothing is read until iteration). */
export function readCsv(path: string, opts: ValidateOptions = {}): CsvDatasetReader {
  return new CsvDatasetReader(path, opts);
}
