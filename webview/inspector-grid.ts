/**
 * The Sudoku grid at one segment: givens, predictions shaded by their confidence, wrong cells, cells changed since the
 * previous segment (or the solution, toggled); and a small grid of "segments since the cell last changed".
 */
import type { InspectorTrace } from './protocol';

function boxOf(n: number): [number, number] {
  return n === 4 ? [2, 2] : n === 6 ? [2, 3] : [3, 3];
}

function cellBase(i: number, n: number): HTMLDivElement {
  const [bh, bw] = boxOf(n);
  const r = Math.floor(i / n);
  const c = i % n;
  const cell = document.createElement('div');
  cell.className = 'cell';
  if (c % bw === bw - 1 && c < n - 1) cell.classList.add('box-right');
  if (r % bh === bh - 1 && r < n - 1) cell.classList.add('box-bottom');
  cell.setAttribute('role', 'gridcell');
  return cell;
}

export function renderGrid(root: HTMLElement, trace: InspectorTrace, k: number, showSolution: boolean): void {
  const cells = trace.puzzle.length;
  const n = Math.round(Math.sqrt(cells));
  const seg = trace.segments[k];
  const prev = k > 0 ? trace.segments[k - 1].grid : undefined;
  const shown = showSolution && trace.solution ? trace.solution : seg.grid;
  root.style.setProperty('--n', String(n));
  const out: HTMLElement[] = [];
  for (let i = 0; i < cells; i++) {
    const cell = cellBase(i, n);
    cell.textContent = shown[i] === '0' || shown[i] === '.' ? '' : shown[i];
    const given = trace.puzzle[i] !== '.' && trace.puzzle[i] !== '0';
    const conf = trace.confidence[k * cells + i] ?? 0;
    if (given) cell.classList.add('given');
    // Confidence shading (CSSOM custom property, allowed under the CSP): blanks only, givens keep their own fill.
    else if (!showSolution) cell.style.setProperty('--conf', `${Math.round(Math.max(0, Math.min(1, conf)) * 100)}%`);
    const wrong = !showSolution && trace.solution !== null && seg.grid[i] !== trace.solution[i];
    if (wrong) cell.classList.add('wrong');
    if (!showSolution && prev && prev[i] !== seg.grid[i]) cell.classList.add('changed');
    cell.setAttribute('aria-label', `row ${Math.floor(i / n) + 1} column ${(i % n) + 1}: ${cell.textContent || 'blank'}${wrong ? ', wrong' : ''}${given ? ', given' : `, confidence ${conf.toFixed(2)}`}`);
    cell.title = given ? 'given' : `confidence ${conf.toFixed(3)}`;
    out.push(cell);
  }
  root.replaceChildren(...out);
}

/** Per cell: segments since its decoded digit last changed, up to segment k (0 = changed at k; givens blank). */
export function renderSinceChange(root: HTMLElement, trace: InspectorTrace, k: number): void {
  const cells = trace.puzzle.length;
  const n = Math.round(Math.sqrt(cells));
  root.style.setProperty('--n', String(n));
  const out: HTMLElement[] = [];
  for (let i = 0; i < cells; i++) {
    const cell = cellBase(i, n);
    const given = trace.puzzle[i] !== '.' && trace.puzzle[i] !== '0';
    if (given) cell.classList.add('given');
    else {
      let last = 0;
      for (let j = 1; j <= k; j++) if (trace.segments[j].grid[i] !== trace.segments[j - 1].grid[i]) last = j;
      const age = k - last;
      cell.textContent = String(age);
      if (age === 0 && k > 0 && trace.segments[k].grid[i] !== trace.segments[k - 1].grid[i]) cell.classList.add('changed');
    }
    out.push(cell);
  }
  root.replaceChildren(...out);
}
