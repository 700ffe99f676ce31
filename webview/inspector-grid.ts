/** The Sudoku grid at one segment: givens, predictions, wrong cells, cells changed since the previous segment. */
import type { InspectorTrace } from './protocol';

export function renderGrid(root: HTMLElement, trace: InspectorTrace, k: number, showSolution: boolean): void {
  const cells = trace.puzzle.length;
  const n = Math.round(Math.sqrt(cells));
  const [bh, bw] = n === 4 ? [2, 2] : n === 6 ? [2, 3] : [3, 3];
  const seg = trace.segments[k];
  const prev = k > 0 ? trace.segments[k - 1].grid : undefined;
  const shown = showSolution && trace.solution ? trace.solution : seg.grid;
  root.style.setProperty('--n', String(n));
  root.replaceChildren();
  for (let i = 0; i < cells; i++) {
    const r = Math.floor(i / n);
    const c = i % n;
    const cell = document.createElement('div');
    cell.className = 'cell';
    cell.textContent = shown[i] === '0' || shown[i] === '.' ? '' : shown[i];
    const given = trace.puzzle[i] !== '.' && trace.puzzle[i] !== '0';
    if (given) cell.classList.add('given');
    if (!showSolution && trace.solution && seg.grid[i] !== trace.solution[i]) cell.classList.add('wrong');
    if (!showSolution && prev && prev[i] !== seg.grid[i]) cell.classList.add('changed');
    if (c % bw === bw - 1 && c < n - 1) cell.classList.add('box-right');
    if (r % bh === bh - 1 && r < n - 1) cell.classList.add('box-bottom');
    cell.setAttribute('role', 'gridcell');
    cell.setAttribute('aria-label', `row ${r + 1} column ${c + 1}: ${cell.textContent || 'blank'}${cell.classList.contains('wrong') ? ', wrong' : ''}${given ? ', given' : ''}`);
    root.append(cell);
  }
}
