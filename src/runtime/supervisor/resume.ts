/**
 * Bringing a restored run back in step after a crash. The actors' snapshots, the store's records
 * and the outbox are written by separate files, and a crash can land between two of them, so on
 * resume:
 *
 * - a submission on disk that the agent never heard of is told to it (`agent.submitted`);
 * - a unit whose HIT is missing from the store's pool gets it back from its confirmed intent;
 * - the supervisor's view of each unit is corrected from the unit itself (`report.unitChanged`,
 *   `report.hitCreated`), since the unit's snapshot may be newer than the supervisor's;
 * - money intents left unconfirmed whose command no actor waits on any more are replayed with
 *   their original token (MTurk answers "already done" for what happened), so every intent ends
 *   confirmed or failed.
 *
 * Commands actors still wait on were already re-issued by `RunHost.start()` (same ids, same tokens).
 *
 * @module
 */
import {
  hitOf,
  pendingCommands,
  unitEntryOf,
  type AgentCommand,
  type Command,
  type LaunchHITCommand,
} from '../../../machines/index.js';
import type { IntentRecord } from '../../store/types.js';
import { compensationOfIntent, performCompensation } from '../money/compensation.js';
import { DriftKind } from '../core/events.js';
import { recordHit } from '../commands/hit-commands.js';
import type { RunHost } from './supervisor.js';

/** What a resume repaired. */
export interface ResumeRepairs {
  readonly submissionsDelivered: number;
  readonly hitsRestored: number;
  readonly supervisorCorrections: number;
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
  let hitsRestored = 0;
  let supervisorCorrections = 0;
  let intentsReplayed = 0;

  // Only a unit whose HIT is missing from the pool needs the confirmed createHIT intents (rare: a
  // crash between two shard writes), so the outbox is not read through otherwise.
  let confirmedHits: Map<string, { hitId: string; link: string; expiresAt: number; createdAt: number }> | undefined;
  const confirmedHit = (
    hitId: string,
  ): { hitId: string; link: string; expiresAt: number; createdAt: number } | undefined => {
    if (confirmedHits === undefined) {
      confirmedHits = new Map();
      for (const intent of store.outbox.ofRun(run.runId)) {
        const result = intent.result as { hitId?: unknown } | null;
        if (intent.kind === 'createHIT' && intent.state === 'confirmed' && typeof result?.hitId === 'string')
          confirmedHits.set(result.hitId, intent.result as never);
      }
    }
    return confirmedHits.get(hitId);
  };

  const summary = run.takeRestoredSummary() ?? { units: [], awaitingData: [] };
  for (const unit of summary.units) {
    const { unitId, status, launchedHitId } = unit;
    if (launchedHitId !== null && store.hits.get(launchedHitId) === undefined) {
      const recorded = confirmedHit(launchedHitId);
      if (recorded !== undefined) {
        recordHit(run, recorded);
        hitsRestored++;
      }
    }
    const entry = unitEntryOf(run.supervisor(), unitId);
    if (entry !== undefined && entry.status !== status && entry.pending === undefined) {
      run.send({ type: 'report.unitChanged', unitId, status, at });
      supervisorCorrections++;
    }
    if (launchedHitId !== null && hitOf(run.supervisor(), launchedHitId) === undefined) {
      run.send({ type: 'report.hitCreated', unitId, hitId: launchedHitId, at });
      supervisorCorrections++;
    }
  }

  // A submission still completes an agent on the task or one that left (disconnect, timeout).
  for (const agentId of summary.awaitingData) {
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
      for (const unit of now.units) for (const c of pendingCommands(unit as never)) waitedOn.add(c.commandId);
      for (const agent of now.agents) for (const c of pendingCommands(agent as never)) waitedOn.add(c.commandId);
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
  return { submissionsDelivered, hitsRestored, supervisorCorrections, intentsReplayed };
}
