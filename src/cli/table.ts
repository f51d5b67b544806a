/**
 * Plain-text tables for the terminal: each column as wide as its widest cell or header, two spaces
 * between columns, text left-aligned and numbers right-aligned under their headers.
 */
export interface Column<T> {
  header: string;
  align: 'left' | 'right';
  cell: (row: T) => string;
}

/**
 * The header line and one line per row. A row with a `note` shows its first cell, then the note
 * from the second column on (a refused path, a skipped run). Trailing spaces are trimmed.
 */
export function formatTable<T>(cols: Array<Column<T>>, rows: Array<{ row: T; note?: string }>): string[] {
  const cells = rows.map(({ row, note }) => (note === undefined ? cols.map((c) => c.cell(row)) : [cols[0].cell(row)]));
  const width = cols.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r.length > i ? r[i].length : 0))));
  const pad = (s: string, i: number): string => (cols[i].align === 'left' ? s.padEnd(width[i]) : s.padStart(width[i]));
  const line = (parts: string[]): string => parts.map(pad).join('  ').trimEnd();
  return [
    line(cols.map((c) => c.header)),
    ...rows.map(({ note }, k) => (note === undefined ? line(cells[k]) : `${pad(cells[k][0], 0)}  ${note}`)),
  ];
}
