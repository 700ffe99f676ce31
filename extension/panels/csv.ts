/** CSV text of the panels' exports: one cell quoted when it holds a comma, a quote or a line break; null is empty. */
export const csvCell = (v: string | number | boolean | null): string => {
  const t = v === null ? '' : String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};

/** One CSV line of `cells` (no line break). */
export const csvLine = (cells: readonly (string | number | boolean | null)[]): string => cells.map(csvCell).join(',');
