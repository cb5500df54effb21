// The invariants every campaign run is checked against, read from the server's own state (the
// simulator's `inspect()`, which shows what MTurk's API hides) and the store the run left behind:
//   submission-once   every submitted assignment's data is in the store exactly once, equal to what MTurk got
//   bonus-once        no assignment got more bonuses than the run paid it (one)
//   hit-once          no HIT created twice for a unit
//   nothing-live      no HIT of the run left Assignable or Unassignable once the run is done
//   units-terminal    every unit in a terminal state
//   money-settled     every money intent of the outbox confirmed (none left pending or unknown)
//   money-equal       the money `hitstate status` shows for the run equals the account's change, to the cent
//   run-done          the run ended `done`
import { parseRequesterAnnotation } from '../../src/mturk/annotation.js';
import { recoverSubmission } from '../../src/mturk/answer-xml.js';
import type { AccountView } from '../../src/simulator/index.js';
import type { Store } from '../../src/store/open-store.js';
import { moneyOfRun } from '../../src/runtime/money/spent.js';

export const INVARIANTS = [
  'submission-once',
  'bonus-once',
  'hit-once',
  'nothing-live',
  'units-terminal',
  'money-settled',
  'money-equal',
  'run-done',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  readonly invariant: Invariant;
  readonly detail: string;
}

const TERMINAL = new Set(['accepted', 'rejected', 'soft_rejected', 'expired']);
const DECIDED = new Set(['Submitted', 'Approved', 'Rejected']);

/** What MTurk holds as the worker's data (the wrapper's JSON field, or the form's fields). */
function mturkData(answer: string | undefined): { data?: unknown; problem?: string } {
  if (answer === undefined) return { problem: 'no answer on MTurk' };
  try {
    return { data: recoverSubmission(answer).data };
  } catch (err) {
    return { problem: `MTurk's answer cannot be read back (${(err as Error).message})` };
  }
}

export interface CheckOptions {
  /** Bonuses the run paid each approved assignment. @defaultValue 1 */
  readonly bonusesPerAssignment?: number;
  /** The account's balance before the run (the only run of its account), in cents. @defaultValue 1000000 (the simulator's 10,000 USD) */
  readonly startingBalanceCents?: number;
}

/** Checks one run; an empty list means every promise held. */
export function checkInvariants(
  account: AccountView | undefined,
  store: Store,
  runId: string,
  options: CheckOptions = {},
): Violation[] {
  const out: Violation[] = [];
  const add = (invariant: Invariant, detail: string): void => {
    out.push({ invariant, detail });
  };
  if (account === undefined) return [{ invariant: 'run-done', detail: 'the requester never called MTurk' }];
  const agents = store.agents.ofRun(runId);
  const hitsPerUnit = new Map<string, number>();
  const runAssignments = new Set<string>();
  for (const hit of account.hits) {
    const annotation = parseRequesterAnnotation(hit.requesterAnnotation);
    if (annotation?.runId !== runId) continue;
    const unitId = annotation.unitId ?? `(no unit: ${hit.hitId})`;
    hitsPerUnit.set(unitId, (hitsPerUnit.get(unitId) ?? 0) + 1);
    if (hit.status === 'Assignable' || hit.status === 'Unassignable')
      add('nothing-live', `HIT ${hit.hitId} of unit ${unitId} is still ${hit.status}`);
    for (const a of hit.assignments) {
      runAssignments.add(a.assignmentId);
      if (!DECIDED.has(a.status)) continue;
      const holders = agents.filter((g) => g.assignmentId === a.assignmentId && g.workerId === a.workerId);
      if (holders.length !== 1) {
        add(
          'submission-once',
          `assignment ${a.assignmentId} (${a.status} on MTurk) has ${holders.length} agents in the store`,
        );
        continue;
      }
      let stored: unknown;
      try {
        stored = store.agents.submission(holders[0]!.id);
      } catch (err) {
        add(
          'submission-once',
          `assignment ${a.assignmentId}: the stored submission of agent ${holders[0]!.id} cannot be read back (${(err as Error).message})`,
        );
        continue;
      }
      const expected = mturkData(a.answer);
      if (stored === undefined)
        add(
          'submission-once',
          `assignment ${a.assignmentId} (${a.status} on MTurk): no submission stored for agent ${holders[0]!.id}`,
        );
      else if (expected.problem === undefined && JSON.stringify(stored) !== JSON.stringify(expected.data)) {
        add(
          'submission-once',
          `agent ${holders[0]!.id}: stored ${JSON.stringify(stored)}, MTurk has ${JSON.stringify(expected.data)}`,
        );
      }
    }
  }
  for (const [unitId, n] of hitsPerUnit) if (n > 1) add('hit-once', `unit ${unitId} has ${n} HITs`);
  const bonuses = new Map<string, number>();
  for (const b of account.bonusPayments)
    if (runAssignments.has(b.assignmentId)) bonuses.set(b.assignmentId, (bonuses.get(b.assignmentId) ?? 0) + 1);
  const allowed = options.bonusesPerAssignment ?? 1;
  for (const [assignmentId, n] of bonuses)
    if (n > allowed) add('bonus-once', `assignment ${assignmentId} got ${n} bonuses, the run paid it ${allowed}`);
  for (const unit of store.units.ofRun(runId))
    if (!TERMINAL.has(unit.status)) add('units-terminal', `unit ${unit.id} ended ${unit.status}`);
  for (const intent of store.outbox.unconfirmedIntents(runId))
    add('money-settled', `intent ${intent.token} (${intent.kind}) is still ${intent.state}`);
  const spent = (options.startingBalanceCents ?? 1_000_000) - account.balanceCents;
  const shown = moneyOfRun(store, runId).totalCents;
  if (shown !== spent) add('money-equal', `status shows ${shown}¢ spent, the MTurk account paid ${spent}¢`);
  const run = store.runs.get(runId);
  if (run?.status !== 'done') add('run-done', `the run ended ${run?.status ?? 'missing from the store'}`);
  return out;
}
