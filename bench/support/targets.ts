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
}

export function atMost(
  benchmark: string,
  figure: string,
  value: number,
  limit: number,
  show: (x: number) => string,
): TargetRow {
  return { benchmark, figure, value, result: show(value), target: `≤ ${show(limit)}`, pass: value <= limit };
}

export function below(
  benchmark: string,
  figure: string,
  value: number,
  limit: number,
  show: (x: number) => string,
): TargetRow {
  return { benchmark, figure, value, result: show(value), target: `< ${show(limit)}`, pass: value < limit };
}

export function atLeast(
  benchmark: string,
  figure: string,
  value: number,
  limit: number,
  show: (x: number) => string,
): TargetRow {
  return { benchmark, figure, value, result: show(value), target: `≥ ${show(limit)}`, pass: value >= limit };
}

/** `PASS  figure: result (target …)`. */
export function verdictLine(row: TargetRow): string {
  return `${row.pass ? 'PASS' : 'MISS'}  ${row.benchmark} | ${row.figure}: ${row.result} (target ${row.target})`;
}
