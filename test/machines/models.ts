// Event models of the unit and agent machines for xstate/graph traversals: for a snapshot, the
// events worth trying (results carry the pending command's id, times fall on the deadlines the
// guards compare), and a state key that keeps only what the guards read, so the walk is finite.
import type { AnyMachineSnapshot } from 'xstate';
import { agentMachine } from '../../machines/agent.js';
import type { UnitReport } from '../../machines/unit-types.js';
import type { AgentContext, AgentEvent, AgentInput } from '../../machines/agent-types.js';
import { pendingCommands } from '../../machines/inspect.js';
import { unitMachine } from '../../machines/unit.js';
import { taskRunMachine } from '../../machines/task-run.js';
import { tablesOf } from '../../machines/task-run-tables.js';
import { unitGroupMachine, type UnitGroupEvent, type UnitGroupInput } from '../../machines/unit-group.js';
import { setupCommandOf } from '../../machines/task-run-setup.js';
import type { TaskRunContext, TaskRunEvent, TaskRunInput } from '../../machines/task-run-types.js';
import { launchCommandOf } from '../../machines/unit-commands.js';
import type { UnitContext, UnitEvent, UnitInput } from '../../machines/unit-types.js';

/** Units in the models retry once, so the retry paths are short. */
export const MODEL_UNIT_INPUT: UnitInput = {
  unitId: 'u1',
  runId: 'r1',
  retry: { maxAttempts: 2, baseDelayMs: 1000, maxDelayMs: 1000 },
};
export const MODEL_AGENT_INPUT: AgentInput = {
  agentId: 'A1-W1',
  unitId: 'u1',
  runId: 'r1',
  workerId: 'W1',
  assignmentId: 'A1',
  hitId: 'HIT1',
  deadlineAt: 10_000,
};

const FAR = 1e12;

function unitEventsFor(snapshot: AnyMachineSnapshot): UnitEvent[] {
  const c = snapshot.context as UnitContext;
  const [pending] = pendingCommands({ value: snapshot.value, context: c });
  const id = pending?.commandId ?? launchCommandOf(c).commandId;
  const later = Math.max(c.returnSuspectedAt ?? 0, 100) + 1;
  const hit = c.hitId ?? 'HIT1';
  const events: UnitEvent[] = [
    { type: 'unit.launch', at: 1 },
    { type: 'launch.succeeded', commandId: id, hitId: 'HIT1', at: 2 },
    { type: 'launch.failed', commandId: id, reason: 'throttled', retryable: true, at: 2 },
    { type: 'launch.failed', commandId: id, reason: 'refused', retryable: false, at: 2 },
    { type: 'unit.releaseAgent', reason: 'left', at: 4 },
    { type: 'unit.expire', hitId: null, at: 5 },
    { type: 'unit.expire', hitId: 'HIT2', at: 5 },
    { type: 'expire.succeeded', commandId: id, at: 6 },
    { type: 'expire.failed', commandId: id, reason: 'throttled', retryable: true, at: 6 },
    { type: 'expire.failed', commandId: id, reason: 'refused', retryable: false, at: 6 },
    { type: 'unit.abandon', reason: 'drain deadline', at: 7 },
    { type: 'reconcile.succeeded', commandId: id, at: 8 },
    { type: 'reconcile.succeeded', commandId: id, assignmentId: 'A9', workerId: 'W9', at: 8 },
    { type: 'reconcile.succeeded', commandId: id, assignmentId: 'A1', workerId: 'W1', at: 8 },
    { type: 'reconcile.failed', commandId: id, reason: 'not listed yet', retryable: true, at: 8 },
    { type: 'reconcile.failed', commandId: id, reason: 'malformed', retryable: false, at: 8 },
    { type: 'unit.retryReconcile', at: 9 },
    { type: 'agent.submitted', at: 9 },
    { type: 'agent.reviewed', agentId: c.agentId ?? 'A1-W1', status: 'approved', at: 9 },
    { type: 'agent.reviewed', agentId: c.agentId ?? 'A1-W1', status: 'rejected', at: 9 },
    { type: 'agent.reviewed', agentId: c.agentId ?? 'A1-W1', status: 'soft_rejected', at: 9 },
    { type: 'agent.reviewed', agentId: 'someone-else', status: 'approved', at: 9 },
    { type: 'unit.adoptAgent', agentId: 'A9-W9', assignmentId: 'A9', workerId: 'W9', existing: false, at: 9 },
    { type: 'xstate.error.actor.agent:A1-W1', actorId: 'agent:A1-W1', error: new Error('handler threw') },
    { type: 'hit.notFound', hitId: hit, at: 9 },
    { type: 'hit.lookupFailed', hitId: hit, reason: 'throttled', at: 9 },
    { type: 'deadline.reached', at: FAR },
  ];
  for (const [status, available] of [
    ['Assignable', 1],
    ['Unassignable', 0],
    ['Reviewable', 0],
    ['Reviewable', 1],
    ['Disposed', 0],
  ] as const) {
    events.push({ type: 'hit.observed', hitId: hit, status, available, at: later });
  }
  if (c.retryAt !== null) events.push({ type: 'deadline.reached', at: c.retryAt });
  // The supervisor binds an agent id once: A1 on a free unit, then A2 (a free unit, or displacing A1).
  const children = snapshot.children as Record<string, unknown>;
  for (const n of [1, 2]) {
    if (children[`agent:A${n}-W${n}`] === undefined) {
      events.push({
        type: 'unit.bindAgent',
        hitId: 'HIT1',
        assignmentId: `A${n}`,
        agentId: `A${n}-W${n}`,
        workerId: `W${n}`,
        deadlineAt: 10_000 * n,
        at: 3,
      });
      // MTurk confirmed it (displaces stored data too) or could not be asked (binds unconfirmed).
      events.push({
        type: 'unit.bindAgent',
        hitId: 'HIT1',
        assignmentId: `A${n}`,
        agentId: `A${n}-W${n}`,
        workerId: `W${n}`,
        deadlineAt: 10_000 * n,
        confirmed: n === 2,
        at: 3,
      });
    }
  }
  if (c.assignmentId !== null) {
    events.push({ type: 'unit.confirmBinding', assignmentId: c.assignmentId, at: 3 });
    events.push({ type: 'unit.bindingGone', assignmentId: c.assignmentId, at: 3 });
    events.push({ type: 'unit.submissionRefuted', assignmentId: c.assignmentId, reason: 'does not exist', at: 9 });
  }
  // The supervisor adopts an existing agent only for a worker who registered on this very unit.
  if (children['agent:A1-W1'] !== undefined) {
    events.push({
      type: 'unit.adoptAgent',
      agentId: 'A1-W1',
      assignmentId: 'A1',
      workerId: 'W1',
      existing: true,
      at: 9,
    });
  }
  return events;
}

/** A bonus request id the agent has not seen (not paid, queued or pending). */
function unusedBonusId(c: AgentContext): string {
  const used = new Set([...c.paidBonuses, ...c.bonusQueue.map((b) => b.requestId), c.review?.requestId]);
  let n = 1;
  while (used.has(`b${n}`)) n++;
  return `b${n}`;
}

function agentEventsFor(snapshot: AnyMachineSnapshot): AgentEvent[] {
  const c = snapshot.context as AgentContext;
  const [pending] = pendingCommands({ value: snapshot.value, context: c });
  const id = pending?.commandId ?? 'none';
  return [
    { type: 'agent.accepted', at: 1 },
    { type: 'agent.onboardingStarted', at: 1 },
    { type: 'agent.waitingStarted', at: 1 },
    { type: 'agent.taskStarted', at: 1 },
    { type: 'agent.submitted', at: 2 },
    { type: 'assignment.submitted', at: 2 },
    { type: 'agent.disconnected', at: 2 },
    { type: 'agent.timedOut', at: 2 },
    { type: 'agent.partnerDisconnected', at: 2 },
    { type: 'agent.returned', at: 2 },
    { type: 'agent.expired', at: 2 },
    { type: 'agent.released', at: 2 },
    { type: 'assignment.overruled', at: 2 },
    { type: 'assignment.notSubmitted', at: 2 },
    { type: 'submission.confirmed', at: 2 },
    { type: 'deadline.reached', at: c.deadlineAt },
    { type: 'review.approve', requestId: 'q1', at: 3 },
    { type: 'review.reject', requestId: 'q2', feedback: 'incomplete', at: 3 },
    { type: 'review.softReject', requestId: 'q3', at: 3 },
    { type: 'review.bonus', requestId: unusedBonusId(c), amountUsd: '0.10', reason: 'thanks', at: 3 },
    { type: 'review.succeeded', commandId: id, at: 4 },
    { type: 'review.alreadyDone', commandId: id, at: 4 },
    { type: 'review.failed', commandId: id, reason: 'refused', retryable: false, at: 4 },
  ];
}

/** What the unit's guards read, without counters that would make the walk infinite. */
function unitKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as UnitContext;
  return JSON.stringify([
    snapshot.value,
    c.hitId !== null,
    c.agentId !== null,
    c.submitted,
    c.hitExpired,
    c.returnSuspectedAt !== null,
    c.retryAt !== null,
    c.failures,
    c.reviewOutcome,
    c.displacedAssignmentId !== null,
    c.submissionConfirmed === true,
  ]);
}

function agentKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as AgentContext;
  return JSON.stringify([
    snapshot.value,
    c.dataStored,
    c.review?.kind ?? null,
    Math.min(c.bonusQueue.length, 2),
    Math.min(c.paidBonuses.length, 1),
    c.submissionConfirmed,
  ]);
}

/** A machine with what a graph walk needs. */
export interface Model<M> {
  readonly name: string;
  readonly machine: M;
  readonly input: unknown;
  readonly events: (snapshot: AnyMachineSnapshot) => Array<{ type: string }>;
  readonly serializeState: (snapshot: AnyMachineSnapshot) => string;
}

export const unitModel: Model<typeof unitMachine> = {
  name: 'unit',
  machine: unitMachine,
  input: MODEL_UNIT_INPUT,
  events: unitEventsFor,
  serializeState: unitKey,
};
export const agentModel: Model<typeof agentMachine> = {
  name: 'agent',
  machine: agentMachine,
  input: MODEL_AGENT_INPUT,
  events: agentEventsFor,
  serializeState: agentKey,
};

/**
 * The supervisor whose groups never relay (the plain group's `relay` does nothing): the walk
 * supplies the units' reports as events, so the supervisor's own graph is what is walked.
 */
export const walkableTaskRun = taskRunMachine.provide({ actors: { group: unitGroupMachine } });

function taskRunEventsFor(snapshot: AnyMachineSnapshot): TaskRunEvent[] {
  const c = snapshot.context as TaskRunContext;
  const setupId = setupCommandOf(c).commandId;
  const unitId = 'u1';
  const agentId = 'A1-W1';
  const events: TaskRunEvent[] = [
    { type: 'setup.succeeded', commandId: setupId, hitTypeId: 'HT1', at: 1 },
    { type: 'setup.failed', commandId: setupId, reason: 'refused', at: 1 },
    { type: 'run.retrySetup', at: 1 },
    { type: 'run.addUnits', unitIds: ['u2'], at: 2 },
    { type: 'run.resumeLaunching', at: 2 },
    { type: 'run.expire', at: 2 },
    { type: 'worker.arrived', hitId: 'HIT1', assignmentId: 'A1', workerId: 'W1', at: 3 },
    { type: 'worker.arrived', hitId: 'HIT1', assignmentId: 'A2', workerId: 'W2', at: 3 },
    { type: 'worker.arrived', hitId: 'HIT1', assignmentId: 'A3', workerId: 'W3', confirmed: false, at: 3 },
    { type: 'worker.arrived', hitId: 'HIT1', assignmentId: 'A4', workerId: 'W4', confirmed: true, at: 3 },
    { type: 'deadline.reached', at: FAR },
    { type: 'deadline.reached', unitId, at: FAR },
    { type: 'deadline.reached', agentId, at: FAR },
    { type: 'hit.observed', hitId: 'HIT1', status: 'Reviewable', available: 1, at: 4 },
    { type: 'hit.notFound', hitId: 'HIT1', at: 4 },
    { type: 'hit.lookupFailed', hitId: 'HIT1', reason: 'throttled', at: 4 },
    { type: 'launch.succeeded', unitId, commandId: 'x', hitId: 'HIT1', at: 4 },
    { type: 'launch.failed', unitId, commandId: 'x', reason: 'r', retryable: true, at: 4 },
    { type: 'expire.succeeded', unitId, commandId: 'x', at: 4 },
    { type: 'expire.failed', unitId, commandId: 'x', reason: 'r', retryable: true, at: 4 },
    { type: 'reconcile.succeeded', unitId, commandId: 'x', at: 4 },
    { type: 'reconcile.failed', unitId, commandId: 'x', reason: 'r', retryable: true, at: 4 },
    { type: 'unit.releaseAgent', unitId, reason: 'left', at: 4 },
    { type: 'unit.retryReconcile', unitId, at: 4 },
    { type: 'unit.confirmBinding', unitId, assignmentId: 'A1', at: 4 },
    { type: 'unit.bindingGone', unitId, assignmentId: 'A1', at: 4 },
    { type: 'unit.submissionRefuted', unitId, assignmentId: 'A1', reason: 'does not exist', at: 4 },
    { type: 'agent.onboardingStarted', agentId, at: 5 },
    { type: 'agent.waitingStarted', agentId, at: 5 },
    { type: 'agent.taskStarted', agentId, at: 5 },
    { type: 'agent.submitted', agentId, at: 5 },
    { type: 'agent.disconnected', agentId, at: 5 },
    { type: 'agent.timedOut', agentId, at: 5 },
    { type: 'agent.partnerDisconnected', agentId, at: 5 },
    { type: 'review.approve', agentId, requestId: 'q1', at: 5 },
    { type: 'review.reject', agentId, requestId: 'q2', feedback: 'f', at: 5 },
    { type: 'review.softReject', agentId, requestId: 'q3', at: 5 },
    { type: 'review.bonus', agentId, requestId: 'b1', amountUsd: '0.10', reason: 'r', at: 5 },
    { type: 'review.succeeded', agentId, commandId: 'x', at: 5 },
    { type: 'review.alreadyDone', agentId, commandId: 'x', at: 5 },
    { type: 'review.failed', agentId, commandId: 'x', reason: 'r', retryable: false, at: 5 },
    { type: 'report.hitCreated', unitId, hitId: 'HIT1', at: 6 },
    { type: 'report.hitReleased', unitId, hitId: 'HIT1', assignmentId: 'A1', at: 6 },
    {
      type: 'report.bindingReplaced',
      unitId,
      hitId: 'HIT1',
      assignmentId: 'A2',
      displacedAssignmentId: 'A1',
      agentId: 'A2-W2',
      at: 6,
    },
    { type: 'report.launchFailed', unitId, reason: 'refused', retryable: false, at: 6 },
    { type: 'report.childFailed', unitId, actorId: `agent:${agentId}`, message: 'handler threw' },
    { type: 'report.reconciledWithoutAgent', unitId, hitId: 'HIT1', assignmentId: 'A9', workerId: 'W9', at: 6 },
    { type: 'xstate.error.actor.unit:u1', actorId: 'unit:u1', error: new Error('boom') },
  ];
  for (const status of ['launched', 'assigned', 'completed', 'expired'] as const)
    events.push({ type: 'report.unitChanged', unitId, status, at: 6 });
  return events;
}

/** What the supervisor's guards read (its anomaly log and pool details left out). */
function taskRunKey(snapshot: AnyMachineSnapshot): string {
  const c = snapshot.context as TaskRunContext;
  return JSON.stringify([
    snapshot.value,
    c.counts,
    c.launchesInFlight,
    c.launchHalt !== null,
    tablesOf(c).freeCount,
    c.setupAttempt > 1,
    tablesOf(c).unitCount,
    c.drainDeadlineAt !== null,
  ]);
}

export const taskRunModel: Model<typeof walkableTaskRun> = {
  name: 'taskRun',
  machine: walkableTaskRun,
  input: {
    runId: 'r1',
    unitIds: ['u1'],
    settings: { assignmentDurationSec: 1, drainGraceSec: 0 },
  } satisfies TaskRunInput,
  events: taskRunEventsFor,
  serializeState: taskRunKey,
};

const groupEvents = (snapshot: AnyMachineSnapshot): UnitGroupEvent[] => {
  const members = (snapshot.context as { unitIds: string[] }).unitIds;
  const reports: UnitReport[] = [
    { type: 'report.unitChanged', unitId: 'u1', status: 'launched', at: 1 },
    { type: 'report.hitCreated', unitId: 'u1', hitId: 'HIT1', at: 1 },
    { type: 'report.hitReleased', unitId: 'u1', hitId: 'HIT1', assignmentId: 'A1', at: 1 },
    {
      type: 'report.bindingReplaced',
      unitId: 'u1',
      hitId: 'HIT1',
      assignmentId: 'A2',
      displacedAssignmentId: 'A1',
      agentId: 'A2-W2',
      at: 1,
    },
    { type: 'report.launchFailed', unitId: 'u1', reason: 'refused', retryable: false, at: 1 },
    { type: 'report.childFailed', unitId: 'u1', actorId: 'agent:A1-W1', message: 'boom' },
    { type: 'report.reconciledWithoutAgent', unitId: 'u1', hitId: 'HIT1', assignmentId: 'A1', workerId: 'W1', at: 1 },
  ];
  return [
    ...reports,
    { type: 'group.addUnits', unitIds: [`u${members.length + 1}`] },
    { type: 'group.forward', unitId: 'u1', event: { type: 'unit.launch', at: 1 } },
    { type: 'xstate.error.actor.unit:u1', actorId: 'unit:u1', error: new Error('boom') },
  ];
};

export const groupModel: Model<typeof unitGroupMachine> = {
  name: 'unitGroup',
  machine: unitGroupMachine,
  input: { groupId: 'group:0', runId: 'r1', unitIds: ['u1'] } satisfies UnitGroupInput,
  events: groupEvents,
  serializeState: (snapshot) =>
    JSON.stringify([snapshot.value, (snapshot.context as { unitIds: string[] }).unitIds.length > 1]),
};
