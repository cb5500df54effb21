/**
 * Plain-text tables for the `hitstate` command: columns padded to their widest cell (ANSI colour
 * ignored when measuring), numbers right-aligned.
 *
 * @module
 */
import { stripAnsi } from './style.js';

/** One column: its header and whether its cells are right-aligned (numbers, money). */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/**
 * Formats rows under headers, two spaces between columns, each line indented by `indent`.
 *
 * @example
 * ```ts
 * formatTable([{ header: 'RUN' }, { header: 'UNITS', align: 'right' }], [['demo-1', '20']]);
 * // "RUN     UNITS\ndemo-1     20\n"
 * ```
 */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = columns.map((c, i) =>
    Math.max(stripAnsi(c.header).length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    indent +
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat(widths[i]! - stripAnsi(cell).length);
        return c.align === 'right' ? pad + cell : i === columns.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...rows.map(line)].join('\n')}\n`;
}
