/**
 * Reading a Sudoku puzzle out of editor text, shared by "HRM: Inspect Puzzle" (the selection, or the cursor's line)
 * and the context key that shows that command in the editor's context menu (hrmLens.selectionIsPuzzle). Accepted:
 * 16, 36 or 81 cells of digits with '.' or '0' for a blank, once comments (`//`, `#` to the end of a line),
 * whitespace and grid separators (`| + - , ;`) are stripped, every digit within the grid's range (1–4, 1–6, 1–9); or
 * a dataset line with such a field (the code lenses of puzzle-codelens.ts use that reader too). No `vscode` import:
 * unit-tested.
 */

const CELLS = /^[0-9.]+$/;
const SIZES = new Set([16, 36, 81]);

/** The puzzle text in one dataset line (a whole line, or a CSV field), or undefined. */
export function puzzleInLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (SIZES.has(trimmed.length) && CELLS.test(trimmed)) return trimmed;
  for (const field of trimmed.split(',')) {
    const f = field.trim().replace(/^"|"$/g, '');
    if (SIZES.has(f.length) && CELLS.test(f) && /[.0]/.test(f)) return f;
  }
  return undefined;
}

/** Side of the grid by cell count. */
const SIDE: Readonly<Record<number, 4 | 6 | 9>> = { 16: 4, 36: 6, 81: 9 };

/** Text longer than this is not looked at (a selection of a whole file is no puzzle; the check stays cheap). */
export const MAX_PUZZLE_TEXT = 4096;

/** The grid side of a puzzle string (4, 6 or 9), or undefined when its length is none of 16, 36, 81. */
export function puzzleSide(puzzle: string): 4 | 6 | 9 | undefined {
  return SIDE[puzzle.length];
}

/** True when `cells` is a whole puzzle: 16/36/81 characters of '.', '0' and digits within the grid's range. */
export function isPuzzleCells(cells: string): boolean {
  const side = puzzleSide(cells);
  if (!side || !/^[0-9.]+$/.test(cells)) return false;
  for (const ch of cells) if (ch !== '.' && Number(ch) > side) return false;
  return true;
}

/** Why typed cells are not a puzzle ('' when they are one): the input box's validation message. */
export function puzzleProblem(typed: string): string {
  const cells = typed.replace(/[\s|+\-,;]+/g, '');
  const side = puzzleSide(cells);
  if (!side || !/^[0-9.]+$/.test(cells)) return "expected 16, 36 or 81 cells of digits, '.' or '0' for a blank";
  return isPuzzleCells(cells) ? '' : `a ${side}×${side} puzzle uses the digits 1–${side} ('.' or '0' for a blank)`;
}

/** The puzzle in `text` (see the header), or undefined. */
export function puzzleFromText(text: string): string | undefined {
  if (text.length > MAX_PUZZLE_TEXT) return undefined;
  const cells = text.split(/\r?\n/).map((line) => line.split(/\/\/|#/)[0]).join('').replace(/[\s|+\-,;]+/g, '');
  if (isPuzzleCells(cells)) return cells;
  if (/[\r\n]/.test(text.trim())) return undefined;
  const field = puzzleInLine(text);
  return field !== undefined && isPuzzleCells(field) ? field : undefined;
}
