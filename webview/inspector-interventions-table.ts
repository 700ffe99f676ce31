/** Tables and text of the Interventions section: rows from plain values, and an outcome in a few words. */
import type { InterventionOutcome } from '../engine/intervene/intervene-protocol';

export type CellValue = string | number | boolean | null;

/** Replace the rows of `table`'s body with `rows` (null shows as '–', booleans as ✓ / ✗). */
export function fillTable(table: HTMLTableElement, rows: readonly CellValue[][]): void {
  const body = table.tBodies[0] ?? table.createTBody();
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    for (const v of r) {
      const td = document.createElement('td');
      td.textContent = v === null ? '–' : typeof v === 'boolean' ? (v ? '✓' : '✗') : String(v);
      tr.append(td);
    }
    return tr;
  }));
}

/** "exact at segment 3 · E 0 · non-trivial success", "5 wrong · E 4 · trivial failure". */
export function outcomeText(o: InterventionOutcome): string {
  const right = o.exact === null ? 'no solution to compare with' : o.exact ? `exact${o.segmentsToExact === null ? '' : ` from segment ${o.segmentsToExact}`}` : `${o.wrongCells ?? '?'} wrong`;
  return `${right} · E ${o.energy} · ${o.mode.replace(/-/g, ' ')}`;
}
