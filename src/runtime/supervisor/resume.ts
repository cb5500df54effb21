/**
 * Bringing a restored run back in step after a crash. Actor snapshots, the store's records and the
 * outbox change together in one journal commit (all or nothing), and a unit's snapshot goes into
 * the same commit as the supervisor's state that took its reports (`ActorCells.drain`), so they
 * never disagree after a crash and nothing is repaired between them. What remains spans two
 * commits by design, or compares with MTurk:
 *
 * - a submission on disk that the agent never heard of is told to it (`agent.submitted`): the task
 *   server commits the data before the agent hears of it;
 * - money intents left unconfirmed whose command no actor waits on any more are replayed with
 *   their original token (MTurk answers "already done" for what happened), so every intent ends
 *   confirmed or failed.
 *
 * Commands actors still wait on were already re-issued by `RunHost.start()` (same ids, same tokens).
 *
 * @module
 */
import { pendingCommands, type AgentCommand, type Command, type LaunchHITCommand } from '../../../machines/index.js';
import type { IntentRecord } from '../../store/types.js';
import { compensationOfIntent, performCompensation } from '../money/compensation.js';
import { DriftKind } from '../core/events.js';
import type { RunHost } from './supervisor.js';

/** What a resume repaired. */
export interface ResumeRepairs {
  /** Stored submissions delivered to agents that had not heard of them. */
  readonly submissionsDelivered: number;
  /** Money intents no actor waits on, replayed with their original token. */
  readonly intentsReplayed: number;
}

/** Rebuilds the command an orphaned intent was made for, from what the intent recorded. */
export function commandOfIntent(intent: IntentRecord): Command | undefined {
  const args = intent.args as Record<string, unknown>;
  if (intent.kind === 'createHIT' && intent.unitId !== null && typeof args.attempt === 'number') {
    const command: LaunchHITCommand = {
      kind: 'launchHIT',
      commandId: `${intent.runId}/${intent.unitId}/launchHIT/${args.attempt}`,
      runId: intent.runId,
      unitId: intent.unitId,
      attempt: args.attempt,
    };
    return command;
  }
  if (intent.agentId === null || intent.unitId === null || intent.assignmentId === null || intent.workerId === null)
    return undefined;
  if (typeof args.commandId !== 'string' || typeof args.requestId !== 'string') return undefined;
  const base = {
    commandId: args.commandId,
    runId: intent.runId,
    agentId: intent.agentId,
    unitId: intent.unitId,
    assignmentId: intent.assignmentId,
    workerId: intent.workerId,
    requestId: args.requestId,
  };
  const feedback = typeof args.feedback === 'string' ? args.feedback : null;
  const overrideRejection = args.overrideRejection === true;
  let command: AgentCommand | undefined;
  switch (intent.kind) {
    case 'approve':
      command = { kind: 'approveAssignment', ...base, feedback, overrideRejection };
      break;
    case 'reject':
      command = { kind: 'rejectAssignment', ...base, feedback: feedback ?? '' };
      break;
    case 'softReject':
      command = { kind: 'softRejectAssignment', ...base, feedback, overrideRejection };
      break;
    case 'bonus':
      command = {
        kind: 'sendBonus',
        ...base,
        amountUsd: intent.amountUsd ?? '0.00',
        reason: typeof args.reason === 'string' ? args.reason : '',
      };
      break;
  }
  return command;
}

/** Repairs a freshly restored (and started) run; see the module comment. */
export function repairRestoredRun(run: RunHost): ResumeRepairs {
  const { store, clock, events } = run.services;
  const at = clock.now();
  let submissionsDelivered = 0;
  let intentsReplayed = 0;

  // A submission still completes an agent on the task or one that left (disconnect, timeout):
  // the task server commits the data before the agent hears of it, in an earlier commit.
  const summary = run.takeRestoredSummary();
  for (const agentId of summary?.awaitingData ?? []) {
    if (store.agents.get(agentId) !== undefined && store.agents.submission(agentId) !== undefined) {
      run.send({ type: 'agent.submitted', agentId, at });
      submissionsDelivered++;
    }
  }

  // The commands actors wait on now (after the events above), read only when an intent is open.
  let waitedOn: Set<string> | undefined;
  const isWaitedOn = (commandId: string): boolean => {
    if (waitedOn === undefined) {
      waitedOn = new Set();
      const now = run.unitsAndAgents();
      for (const unit of now.units) for (const c of pendingCommands(unit)) waitedOn.add(c.commandId);
      for (const agent of now.agents) for (const c of pendingCommands(agent)) waitedOn.add(c.commandId);
    }
    return waitedOn.has(commandId);
  };
  for (const intent of store.outbox.unconfirmedIntents(run.runId)) {
    if (intent.state === 'failed') continue;
    const compensation = compensationOfIntent(intent);
    if (compensation !== undefined) {
      events.emit('drift.found', {
        runId: run.runId,
        kind: DriftKind.intentUnconfirmed,
        message: `compensation intent ${intent.token} was ${intent.state} when the process stopped; replayed with its original token`,
        workerId: compensation.workerId,
        action: 'replayed',
      });
      void run.services
        .track(performCompensation(run.services, compensation))
        .catch((err: unknown) => run.services.reportError(err));
      intentsReplayed++;
      continue;
    }
    const command = commandOfIntent(intent);
    if (command === undefined || run.executor.has(command.commandId) || isWaitedOn(command.commandId)) continue;
    events.emit('drift.found', {
      runId: run.runId,
      kind: DriftKind.intentUnconfirmed,
      message: `money intent ${intent.token} (${intent.kind}) was ${intent.state} when the process stopped and no actor waits on it; replayed with its original token`,
      ...(intent.unitId === null ? {} : { unitId: intent.unitId }),
      ...(intent.assignmentId === null ? {} : { assignmentId: intent.assignmentId }),
      action: 'replayed',
    });
    run.executor.enqueue(command);
    intentsReplayed++;
  }
  run.persistNow();
  return { submissionsDelivered, intentsReplayed };
}
