/**
 * Row validation shared by all dataset readers. Every problem is an `InvalidRowError` (a DataError naming file, line
 * and field) with a `kind`; in `skipInvalid` mode the readers count them in a `ValidationReport` (by kind, with the
 * first few locations) and go on instead of throwing.
 *
 * Checks, in order (`validate: false` keeps only the parsing ones, marked *):
 *  - *length: 16, 36 or 81 characters (4×4, 6×6, 9×9);               - *character: digits 1..N, '.' or '0';
 *  - *size-mismatch: every grid in a file has the size of the first one, and the answer the size of its question;
 *  - clash: two givens of the question hold the same digit in a row, column or box (checked for rows without an
 *    answer, and for rows whose answer check fails: a valid answer that agrees with every given rules a clash out);
 *  - *rating: empty or a non-negative number;                          - *format: column count, quotes, tokens;
 *  - answer: the answer has no blank and is a valid solution (no digit twice in a row, column or box);
 *  - givens: every given of the question equals the answer's digit in that cell;
 *  - no-solution / multiple-solutions: `solve(…, { limit: 2 })`. Run for rows WITHOUT an answer (their solution is
 *    filled in from the solver), and for every row under `checkUnique`. With an answer and no `checkUnique`, only the
 *    answer checks run: cheap (no search) and enough to train on.
 */
import { type Geometry, type Grid, type GridSize, geometry, isValidSolution, parseGrid, sizeFromCells } from '../geometry';
import { solve } from '../solver';
import { describeClash, findGivensClash } from '../givens';
import { DataError, type DataLocation, quoted } from '../../util/errors';
import type { DatasetRecord } from './record';

export type IssueKind =
  | 'format' | 'length' | 'character' | 'size-mismatch' | 'rating' | 'token'
  | 'clash' | 'answer' | 'givens' | 'no-solution' | 'multiple-solutions';

export const ISSUE_KINDS: readonly IssueKind[] = [
  'format', 'length', 'character', 'size-mismatch', 'rating', 'token', 'clash', 'answer', 'givens', 'no-solution',
  'multiple-solutions',
];

/** A bad row: a DataError (file, line, field) with the kind of problem. */
export class InvalidRowError extends DataError {
  readonly kind: IssueKind;
  constructor(location: DataLocation, kind: IssueKind, reason: string) {
    super(location, reason);
    this.name = 'InvalidRowError';
    this.kind = kind;
  }
}

export interface ValidateOptions {
  /** Semantic checks (answer, givens, solution count). Default true; false = parse only (fastest). */
  validate?: boolean;
  /** Also count solutions (limit 2) for rows that give an answer. Default false. */
  checkUnique?: boolean;
  /** Count bad rows in the report and skip them instead of throwing. Default false. */
  skipInvalid?: boolean;
  /** Locations kept per issue kind in the report (default 3). */
  maxExamples?: number;
}

export interface IssueExample extends DataLocation {
  reason: string;
  message: string;
}

export interface IssueSummary {
  kind: IssueKind;
  count: number;
  examples: IssueExample[];
}

export interface ValidationReportJSON {
  file: string;
  rows: number;
  valid: number;
  invalid: number;
  bySize: Partial<Record<`${GridSize}`, number>>;
  uniqueChecked: number;
  unique: number;
  solvedMissing: number;
  issues: IssueSummary[];
}

/** Counts for one pass over a file. */
export class ValidationReport {
  rows = 0;
  valid = 0;
  invalid = 0;
  /** Valid rows per grid size. */
  readonly bySize = new Map<GridSize, number>();
  /** Rows whose solutions were counted (limit 2), and how many of those had exactly one. */
  uniqueChecked = 0;
  unique = 0;
  /** Rows without an answer whose solution the solver filled in. */
  solvedMissing = 0;
  private readonly issues = new Map<IssueKind, IssueSummary>();

  constructor(readonly file: string, private readonly maxExamples = 3) {}

  addInvalid(err: InvalidRowError): void {
    this.invalid++;
    let s = this.issues.get(err.kind);
    if (!s) {
      s = { kind: err.kind, count: 0, examples: [] };
      this.issues.set(err.kind, s);
    }
    s.count++;
    if (s.examples.length < this.maxExamples) s.examples.push({ ...err.location, reason: err.reason, message: err.message });
  }

  addValid(n: GridSize): void {
    this.valid++;
    this.bySize.set(n, (this.bySize.get(n) ?? 0) + 1);
  }

  /** Issues by kind, most frequent first. */
  issueSummaries(): IssueSummary[] {
    return [...this.issues.values()].sort((a, b) => b.count - a.count || ISSUE_KINDS.indexOf(a.kind) - ISSUE_KINDS.indexOf(b.kind));
  }

  toJSON(): ValidationReportJSON {
    const bySize: Partial<Record<`${GridSize}`, number>> = {};
    for (const [n, c] of [...this.bySize].sort((a, b) => a[0] - b[0])) bySize[`${n}`] = c;
    return {
      file: this.file, rows: this.rows, valid: this.valid, invalid: this.invalid, bySize,
      uniqueChecked: this.uniqueChecked, unique: this.unique, solvedMissing: this.solvedMissing,
      issues: this.issueSummaries(),
    };
  }
}

function unitName(u: number, n: number): string {
  if (u < n) return `row ${u + 1}`;
  if (u < 2 * n) return `column ${u - n + 1}`;
  return `box ${u - 2 * n + 1}`;
}

function cellName(i: number, n: number): string {
  return `cell ${i + 1} (row ${Math.floor(i / n) + 1}, column ${(i % n) + 1})`;
}

/** Why a full grid is not a valid solution ('' when it is). */
export function solutionProblem(grid: ArrayLike<number>, geo: Geometry): string {
  for (let i = 0; i < grid.length; i++) if (grid[i] === 0) return `answer has a blank at ${cellName(i, geo.n)}`;
  if (isValidSolution(grid, geo)) return '';
  for (let u = 0; u < geo.units.length; u++) {
    let seen = 0;
    for (const c of geo.units[u]) {
      const bit = 1 << grid[c];
      if (seen & bit) return `answer is not a valid solution: digit ${grid[c]} appears twice in ${unitName(u, geo.n)}`;
      seen |= bit;
    }
  }
  return 'answer is not a valid solution';
}

/**
 * Hands out grids as views into shared 4 KiB slabs: `new Int8Array(81)` costs ~10× a view on an existing buffer,
 * and readers create two grids per row. A record's grids therefore share their `.buffer` with neighbours (offsets
 * differ); `slice()` one when a standalone buffer is needed (e.g. to transfer it).
 */
export class GridSlab {
  private slab = new Int8Array(0);
  private used = 0;

  constructor(private readonly slabBytes = 4096) {}

  alloc(cells: number): Grid {
    if (this.used + cells > this.slab.length) {
      this.slab = new Int8Array(Math.max(this.slabBytes, cells));
      this.used = 0;
    }
    const g = new Int8Array(this.slab.buffer, this.used, cells);
    this.used += cells;
    return g;
  }
}

/** Per-size tables: the row, column and box of each cell. */
const unitTables = new Map<GridSize, { row: Uint8Array; col: Uint8Array; box: Uint8Array }>();
function tablesFor(geo: Geometry): { row: Uint8Array; col: Uint8Array; box: Uint8Array } {
  let t = unitTables.get(geo.n);
  if (!t) {
    const row = new Uint8Array(geo.cells);
    const col = new Uint8Array(geo.cells);
    const box = new Uint8Array(geo.cells);
    for (let c = 0; c < geo.cells; c++) {
      row[c] = geo.row(c);
      col[c] = geo.col(c);
      box[c] = geo.box(c);
    }
    t = { row, col, box };
    unitTables.set(geo.n, t);
  }
  return t;
}
const seenMasks = new Uint16Array(27);

/**
 * One pass over the answer: -1 when it is a valid solution whose digits agree with every given; otherwise -2 when
 * the answer itself is bad (see solutionProblem), or the first cell where a given contradicts it.
 */
export function answerCheck(puzzle: ArrayLike<number>, solution: ArrayLike<number>, geo: Geometry): number {
  const { row, col, box } = tablesFor(geo);
  const n = geo.n;
  seenMasks.fill(0);
  let givens = -1;
  for (let i = 0; i < geo.cells; i++) {
    const d = solution[i];
    if (d < 1 || d > n) return -2;
    const bit = 1 << d;
    const r = row[i];
    const c = n + col[i];
    const b = 2 * n + box[i];
    if ((seenMasks[r] | seenMasks[c] | seenMasks[b]) & bit) return -2;
    seenMasks[r] |= bit;
    seenMasks[c] |= bit;
    seenMasks[b] |= bit;
    const p = puzzle[i];
    if (p !== 0 && p !== d && givens < 0) givens = i;
  }
  return givens;
}

/** Field names a format uses, for error locations. */
export interface FieldNames {
  puzzle: string;
  solution: string;
  rating?: string;
}

/**
 * Turns parsed fields into records, one file at a time: keeps the file's grid size, applies the checks and records
 * the outcome in `report`. Readers call `parseGrid`/`parseRating` for text fields, then `finish`.
 */
export class RowChecker {
  readonly report: ValidationReport;
  private size: GridSize | undefined;
  private sizeLine = 0;
  private readonly validate: boolean;
  private readonly checkUnique: boolean;
  private readonly slab = new GridSlab();

  /** `report`: share one report between several checkers (e.g. the train/ and test/ splits of a folder). */
  constructor(readonly file: string, readonly fields: FieldNames, readonly opts: ValidateOptions = {}, report?: ValidationReport) {
    this.report = report ?? new ValidationReport(file, opts.maxExamples ?? 3);
    this.validate = opts.validate ?? true;
    this.checkUnique = opts.checkUnique ?? false;
  }

  fail(line: number, field: string, kind: IssueKind, reason: string): never {
    throw new InvalidRowError({ file: this.file, line, field }, kind, reason);
  }

  /** The file's grid size so far (fixed by the first grid read). */
  get gridSize(): GridSize | undefined {
    return this.size;
  }

  /** Check that a grid of `n` fits the file (the first one fixes the size). */
  checkSize(n: GridSize, line: number, field: string): void {
    if (this.size === undefined) {
      this.size = n;
      this.sizeLine = line;
    } else if (n !== this.size) {
      this.fail(line, field, 'size-mismatch', `a ${n}×${n} grid (${n * n} characters) in a file of ${this.size}×${this.size} grids (first at line ${this.sizeLine})`);
    }
  }

  /** Parse a question (`isAnswer` false) or an answer field. */
  parseGrid(text: string, line: number, field: string, isAnswer: boolean, puzzleSize?: GridSize): Grid {
    const n = sizeFromCells(text.length);
    if (n === undefined) {
      const what = text.length === 0 ? 'empty' : `${text.length} characters`;
      this.fail(line, field, 'length', `expected 16, 36 or 81 characters (a 4×4, 6×6 or 9×9 grid), got ${what}`);
    }
    if (isAnswer && puzzleSize !== undefined && n !== puzzleSize) {
      this.fail(line, field, 'size-mismatch', `answer has ${n * n} characters, the question ${puzzleSize * puzzleSize}`);
    }
    if (!isAnswer) this.checkSize(n, line, field);
    const cells = n * n;
    const g = this.slab.alloc(cells);
    const top = 48 + n;
    for (let i = 0; i < cells; i++) {
      const ch = text.charCodeAt(i);
      if (ch >= 49 && ch <= top) g[i] = ch - 48;
      else if (ch === 46 || ch === 48) g[i] = 0;
      else {
        const r = parseGrid(text, n); // the canonical message
        this.fail(line, field, 'character', 'error' in r ? r.error : `bad character at position ${i + 1}`);
      }
    }
    return g;
  }

  /** A grid for a reader to fill (from the checker's slab). */
  allocGrid(cells: number): Grid {
    return this.slab.alloc(cells);
  }

  /** Empty → undefined; otherwise a finite number >= 0. */
  parseRating(text: string | undefined, line: number): number | undefined {
    if (text === undefined || text.length === 0) return undefined;
    const v = Number(text);
    if (!/^\s*\d+(\.\d*)?([eE][+-]?\d+)?\s*$/.test(text) || !Number.isFinite(v)) {
      this.fail(line, this.fields.rating ?? 'rating', 'rating', `rating must be a non-negative number, got ${quoted(text)}`);
    }
    return v;
  }

  /** Semantic checks; returns the record (solution filled in when it was missing and validation solved it). */
  finish(rec: DatasetRecord): DatasetRecord {
    const n = sizeFromCells(rec.puzzle.length) as GridSize;
    if (this.validate) {
      const geo = geometry(n);
      const { puzzle, solution } = rec;
      const bad = solution ? answerCheck(puzzle, solution, geo) : -1;
      if (!solution || bad !== -1) {
        const clash = findGivensClash(puzzle, geo);
        if (clash) this.fail(rec.line, this.fields.puzzle, 'clash', describeClash(clash, n));
      }
      if (solution) {
        if (bad === -2) this.fail(rec.line, this.fields.solution, 'answer', solutionProblem(solution, geo) || 'answer is not a valid solution');
        if (bad >= 0) {
          this.fail(rec.line, this.fields.solution, 'givens', `givens contradict the answer at ${cellName(bad, n)}: question has ${puzzle[bad]}, answer has ${solution[bad]}`);
        }
      }
      if (!solution || this.checkUnique) {
        const r = solve(puzzle, geo, { limit: 2 });
        this.report.uniqueChecked++;
        if (r.solutions === 0) this.fail(rec.line, this.fields.puzzle, 'no-solution', 'puzzle has no solution');
        if (r.solutions > 1) this.fail(rec.line, this.fields.puzzle, 'multiple-solutions', 'puzzle has more than one solution');
        this.report.unique++;
        if (!solution && r.solution) {
          rec.solution = r.solution;
          this.report.solvedMissing++;
        }
      }
    }
    this.report.addValid(n);
    return rec;
  }

  /**
   * Run one row's parsing and checks: returns the record, or undefined when the row was invalid and skipInvalid
   * is on (it is counted). Other errors propagate.
   */
  row(build: () => DatasetRecord): DatasetRecord | undefined {
    this.report.rows++;
    try {
      return this.finish(build());
    } catch (err) {
      if (err instanceof InvalidRowError && this.opts.skipInvalid) {
        this.report.addInvalid(err);
        return undefined;
      }
      throw err;
    }
  }
}
