/**
 * The end-of-run summary printed by `hitstate run`, `resume`, `expire` and `demo`: units by final
 * state and money by kind, both read from the store, plus what became of the run's HITs.
 *
 * @module
 */
import { UNIT_STATES, type AssignmentState } from '../../machines/index.js';
import type { DisposalReport } from '../runtime/index.js';
import type { Store } from '../store/index.js';
import { moneyLines } from './money-summary.js';
import { moneyOfRun } from '../runtime/money/spent.js';
import type { Style } from './style.js';

/** Units of a run by state, every state present (0 when none). */
export function unitCounts(store: Store, runId: string): Record<AssignmentState, number> {
  const partial = store.units.statusCounts(runId);
  return Object.fromEntries(UNIT_STATES.map((s) => [s, partial[s] ?? 0])) as Record<AssignmentState, number>;
}

/** The lines of a run's summary, indented by two spaces, starting with a bold heading. */
export function runSummaryLines(store: Store, runId: string, style: Style, disposal?: DisposalReport): string[] {
  const counts = unitCounts(store, runId);
  const width = Math.max(...UNIT_STATES.map((s) => s.length));
  const units = UNIT_STATES.filter((s) => counts[s] > 0).map(
    (s) => `  ${s.replace('_', '-').padEnd(width)}  ${String(counts[s]).padStart(4)}`,
  );
  const lines = [
    style.bold('Units by final state'),
    ...units,
    style.bold("Money spent (confirmed in the store's money outbox)"),
    ...moneyLines(moneyOfRun(store, runId)).map((l) => `  ${l}`),
  ];
  if (disposal !== undefined) {
    const reasons = new Map<string, number>();
    for (const { reason } of disposal.kept) {
      const why = /awaiting review/.test(reason)
        ? 'awaiting review'
        : /^rejected/.test(reason)
          ? 'rejected, so the rejection can still be overridden'
          : reason;
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    const kept =
      disposal.kept.length === 0
        ? ''
        : `; ${disposal.kept.length} kept on MTurk, never live (${[...reasons].map(([why, n]) => `${n} ${why}`).join('; ')})`;
    lines.push(`${style.bold('HITs')}  ${disposal.disposed.length} disposed${kept}`);
  }
  return lines.map((l) => `  ${l}`);
}
