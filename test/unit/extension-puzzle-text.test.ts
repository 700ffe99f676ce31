/**
 * The puzzle reader shared by "HRM: Inspect Puzzle" and the context key hrmLens.selectionIsPuzzle: 16/36/81 cells
 * once whitespace, grid separators and comments are stripped, digits within the grid's range; anything else is no
 * puzzle (so the editor's context menu does not offer the command on it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PUZZLE_TEXT, puzzleFromText, puzzleProblem, puzzleSide } from '../../extension/commands/puzzle-text';

const FOUR = '.1.....3..32....';
const SIX = '..4..5.6.2....5.3.4.......3.6.......';
const NINE = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';

test('whole puzzles of each size are read, blanks as . or 0', () => {
  assert.equal(puzzleFromText(FOUR), FOUR);
  assert.equal(puzzleFromText(SIX), SIX);
  assert.equal(puzzleFromText(NINE), NINE);
  assert.equal(puzzleFromText(FOUR.replace(/\./g, '0')), FOUR.replace(/\./g, '0'));
  assert.deepEqual([FOUR, SIX, NINE].map(puzzleSide), [4, 6, 9]);
});

test('whitespace, grid separators and comments are ignored', () => {
  assert.equal(puzzleFromText('.1.. ...3\n..32 ....'), FOUR);
  assert.equal(puzzleFromText('.1 | ..\n.. | .3\n---+---\n.. | 32\n.. | ..  // the shipped model solves it'), FOUR);
  assert.equal(puzzleFromText(`  ${FOUR}  # a comment`), FOUR);
  assert.equal(puzzleFromText('..4|..5\n.6.|2..\n---+---\n..5|.3.\n4..|...\n---+---\n..3|.6.\n...|...'), SIX);
});

test('a dataset line: the puzzle field of a CSV row', () => {
  assert.equal(puzzleFromText(`hrm-lens:seed=5,${SIX},324615561243615432432156243561156324,1`), SIX);
});

test('other text is no puzzle: prose, wrong lengths, digits beyond the grid, oversized text', () => {
  for (const text of ['', 'hello world', 'const x = 1234;', FOUR.slice(1), `${FOUR}.`, '9'.repeat(16), '.1.....7..32....', '1234567.', `${SIX}1`,
    'abcdefghijklmnop', `${FOUR}\n${FOUR}`, ' '.repeat(MAX_PUZZLE_TEXT) + FOUR]) {
    assert.equal(puzzleFromText(text), undefined, JSON.stringify(text.slice(0, 60)));
  }
});

test('the input box says what is wrong', () => {
  assert.equal(puzzleProblem(FOUR), '');
  assert.equal(puzzleProblem('.1.. ...3 ..32 ....'), '');
  assert.match(puzzleProblem('12345'), /16, 36 or 81 cells/);
  assert.match(puzzleProblem('.1.....7..32....'), /4×4 puzzle uses the digits 1–4/);
});
