// A target and its verdict: every benchmark states what it must reach and prints PASS or MISS.

export interface TargetRow {
  /** `1. Status-sync cost`. */
  readonly benchmark: string;
  readonly figure: string;
  /** The measured value the verdict is about (in the unit the `result` text shows). */
  readonly value: number;
  /** The value as printed. */
  readonly result: string;
  /** The target as printed, e.g. `≤ 12`. */
  readonly target: string;
  readonly pass: boolean;
  /** A benchmark that gave no figure: the watchdog stopped it, or it failed. */
  readonly status?: IncompleteStatus;
}

export type IncompleteStatus = 'STALLED' | 'FAILED';

type Comparison = (value: number, limit: number) => boolean;

function rowOf(sign: string, holds: Comparison) {
  return (benchmark: string, figure: string, value: number, limit: number, show: (x: number) => string): TargetRow => ({
    benchmark,
    figure,
    value,
    result: show(value),
    target: `${sign} ${show(limit)}`,
    pass: holds(value, limit),
  });
}

/** The value must be at most the limit. */
export const atMost = rowOf('≤', (v, l) => v <= l);
/** The value must be below the limit. */
export const below = rowOf('<', (v, l) => v < l);
/** The value must be at least the limit. */
export const atLeast = rowOf('≥', (v, l) => v >= l);

/** The row of a benchmark that gave no figure, with why (a miss). */
export function incompleteRow(benchmark: string, status: IncompleteStatus, reason: string): TargetRow {
  // One line, no table separators: the row goes into the summary table (the whole reason is in its own section).
  const line = reason.split('\n')[0]!.replace(/\|/g, '/');
  const figure = line.length > 240 ? `${line.slice(0, 240)}…` : line;
  return { benchmark, figure, value: Number.NaN, result: status, target: 'a figure', pass: false, status };
}

/** `PASS  figure: result (target …)`. */
export function verdictLine(row: TargetRow): string {
  return `${row.status ?? (row.pass ? 'PASS' : 'MISS')}  ${row.benchmark} | ${row.figure}: ${row.result} (target ${row.target})`;
}
