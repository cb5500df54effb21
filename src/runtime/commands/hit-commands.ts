/**
 * The commands about HITs: set up a run's resources, create a unit's HIT (through the money
 * outbox), expire a HIT, re-read a HIT to confirm an observation, and recover a submission MTurk
 * has but the store does not.
 *
 * @module
 */
import {
  agentIdFor,
  type ConfirmHITCommand,
  type ExpireHITCommand,
  type LaunchHITCommand,
  type ReconcileSubmissionCommand,
  type SetUpResourcesCommand,
} from '../../../machines/index.js';
import { isHitstateError } from '../../errors.js';
import { answerFields, parseAnswers, recoverSubmission } from '../../mturk/answer-xml.js';
import { previewUrl } from '../../mturk/environment.js';
import { hitToken } from '../../mturk/tokens.js';
import type { CommandExecutor, CommandResult } from './command-executor.js';
import { reportCommandFailure } from './command-executor.js';
import { DriftKind } from '../core/events.js';
import { performIntent } from '../money/outbox.js';
import { setUpRunResources } from '../core/resources.js';
import type { RunPort } from '../core/run-port.js';

const SETUP_ATTEMPTS = 5;
const SETUP_BACKOFF_MS = 30_000;

const ok = (commandId: string): CommandResult => ({ commandId, status: 'ok' });
const failed = (commandId: string, reason: string, retryable: boolean): CommandResult => ({
  commandId,
  status: 'failed',
  reason,
  retryable,
});

/** Qualifications and HIT type; a retryable failure is tried again with backoff before the run is told. */
export async function performSetup(
  run: RunPort,
  command: SetUpResourcesCommand,
  executor: CommandExecutor,
): Promise<CommandResult> {
  const { store, clock, options } = run.services;
  for (let attempt = 1; ; attempt++) {
    const result = await setUpRunResources(store, run.gateway, run.requesterName, run.config, options.environment);
    if ('hitTypeId' in result) {
      store.runs.setHitType(run.runId, result.hitTypeId);
      run.send({ type: 'setup.succeeded', commandId: command.commandId, hitTypeId: result.hitTypeId, at: clock.now() });
      return ok(command.commandId);
    }
    if (!result.retryable || attempt >= SETUP_ATTEMPTS || executor.closed) {
      reportCommandFailure(run, command, result.reason, result.retryable);
      run.send({ type: 'setup.failed', commandId: command.commandId, reason: result.reason, at: clock.now() });
      return failed(command.commandId, result.reason, result.retryable);
    }
    await executor.sleep(SETUP_BACKOFF_MS * 2 ** (attempt - 1));
  }
}

interface RecordedHit {
  readonly hitId: string;
  readonly link: string;
  readonly expiresAt: number;
  readonly createdAt: number;
}

/** Adds a created HIT to the store's pool unless it is there. */
export function recordHit(run: RunPort, hit: RecordedHit): void {
  const { store } = run.services;
  if (store.hits.get(hit.hitId) !== undefined) return;
  store.hits.add({
    hitId: hit.hitId,
    runId: run.runId,
    link: hit.link,
    assignmentDurationSec: run.config.assignmentDurationSec,
    expiresAt: hit.expiresAt,
    createdAt: hit.createdAt,
    status: 'Assignable',
  });
}

/** CreateHITWithHITType through the outbox: intent on disk, token from run, unit and attempt. */
export async function performLaunch(run: RunPort, command: LaunchHITCommand): Promise<CommandResult> {
  const { clock } = run.services;
  const hitTypeId = run.supervisor().context.hitTypeId;
  if (hitTypeId === null) {
    run.send({
      type: 'launch.failed',
      unitId: command.unitId,
      commandId: command.commandId,
      reason: 'the run has no HIT type yet',
      retryable: true,
      at: clock.now(),
    });
    return failed(command.commandId, 'no HIT type', true);
  }
  const token = hitToken(run.runId, command.unitId, command.attempt);
  const taskUrl = run.taskUrl();
  const lifetimeSec = run.config.lifetimeSec;
  run.persistNow();
  const outcome = await performIntent(run.services, {
    money: 'createHIT',
    intent: {
      kind: 'createHIT',
      runId: run.runId,
      unitId: command.unitId,
      token,
      amountUsd: run.config.reward,
      args: {
        HITTypeId: hitTypeId,
        ExternalURL: taskUrl,
        FrameHeight: run.config.frameHeight,
        LifetimeInSeconds: lifetimeSec,
        attempt: command.attempt,
      },
    },
    call: () =>
      run.gateway.createHITWithHITType({
        hitTypeId,
        runId: run.runId,
        unitId: command.unitId,
        attempt: command.attempt,
        lifetimeSec,
        uniqueRequestToken: token,
        question: { externalUrl: taskUrl, frameHeight: run.config.frameHeight },
        // The annotation names this store, so another store's cleanup never takes the HIT for its own.
        storeId: run.services.store.ensureStoreId(),
      }),
    record: (value, outcome) => {
      const now = clock.now();
      if (value !== undefined) {
        return {
          hitId: value.hit.hitId,
          link: value.previewUrl,
          expiresAt: value.hit.expiresAtMs ?? now + lifetimeSec * 1000,
          createdAt: value.hit.createdAtMs ?? now,
        };
      }
      const hitId = outcome.status === 'alreadyDone' ? (outcome.hitId ?? null) : null;
      return {
        hitId,
        link: previewUrl(run.gateway.workerSite, hitTypeId),
        expiresAt: now + lifetimeSec * 1000,
        createdAt: now,
      };
    },
    checkOld: () => findLaunchedHit(run, hitTypeId, command.unitId),
  });
  if (outcome.status === 'failed') {
    reportCommandFailure(run, command, outcome.reason, outcome.retryable);
    run.send({
      type: 'launch.failed',
      unitId: command.unitId,
      commandId: command.commandId,
      reason: outcome.reason,
      retryable: outcome.retryable,
      at: clock.now(),
    });
    return failed(command.commandId, outcome.reason, outcome.retryable);
  }
  let recorded = outcome.recorded as RecordedHit | { hitId: null };
  // MTurk said the HIT exists without naming it: find it by its annotation (run and unit).
  if (recorded.hitId === null) recorded = (await findLaunchedHit(run, hitTypeId, command.unitId)) ?? recorded;
  if (recorded.hitId === null) {
    const reason =
      "MTurk says this unit's HIT exists but neither named it nor lists it yet; the launch is retried with the same token";
    run.send({
      type: 'launch.failed',
      unitId: command.unitId,
      commandId: command.commandId,
      reason,
      retryable: true,
      at: clock.now(),
    });
    return failed(command.commandId, reason, true);
  }
  recordHit(run, recorded as RecordedHit);
  run.send({
    type: 'launch.succeeded',
    unitId: command.unitId,
    commandId: command.commandId,
    hitId: recorded.hitId,
    at: clock.now(),
  });
  return ok(command.commandId);
}

/** A HIT of the run's HIT type annotated with this run and unit that the store does not know yet. */
async function findLaunchedHit(run: RunPort, hitTypeId: string, unitId: string): Promise<RecordedHit | undefined> {
  const { clock, store } = run.services;
  const listed = await run.gateway.listHITsForHITType({ hitTypeId });
  if (listed.status !== 'ok') return undefined;
  const known = new Set(store.hits.ofRun(run.runId).map((h) => h.id));
  const hit = listed.value.find(
    (h) => h.annotation?.runId === run.runId && h.annotation.unitId === unitId && !known.has(h.hitId),
  );
  if (hit === undefined) return undefined;
  return {
    hitId: hit.hitId,
    link: previewUrl(run.gateway.workerSite, hitTypeId),
    expiresAt: hit.expiresAtMs ?? clock.now(),
    createdAt: hit.createdAtMs ?? clock.now(),
  };
}

/** Expires a HIT now; a HIT already expired, reviewable, disposed or gone counts as expired. */
export async function performExpire(run: RunPort, command: ExpireHITCommand): Promise<CommandResult> {
  const { clock } = run.services;
  const outcome = await run.gateway.expireHIT(command.hitId);
  const gone = outcome.status === 'notFound' || (outcome.status === 'invalid' && /Disposed/i.test(outcome.message));
  if (outcome.status === 'ok' || outcome.status === 'alreadyDone' || gone) {
    run.send({ type: 'expire.succeeded', unitId: command.unitId, commandId: command.commandId, at: clock.now() });
    return ok(command.commandId);
  }
  reportCommandFailure(run, command, outcome.message, outcome.retryable);
  run.send({
    type: 'expire.failed',
    unitId: command.unitId,
    commandId: command.commandId,
    reason: outcome.message,
    retryable: outcome.retryable,
    at: clock.now(),
  });
  return failed(command.commandId, outcome.message, outcome.retryable);
}

/** GetHIT to confirm an ambiguous observation; answers with a fresh observation naming the command (so it confirms even within the same millisecond). */
export async function performConfirm(run: RunPort, command: ConfirmHITCommand): Promise<CommandResult> {
  const { clock } = run.services;
  const outcome = await run.gateway.getHIT(command.hitId);
  const at = clock.now();
  if (outcome.status === 'ok') {
    const hit = outcome.value;
    run.noteObservation(hit.hitId, hit.hitStatus, hit.assignmentsAvailable, hit.assignmentsCompleted);
    if (run.services.store.hits.get(hit.hitId) !== undefined)
      run.services.store.hits.observe(hit.hitId, hit.hitStatus, at);
    run.send({
      type: 'hit.observed',
      hitId: command.hitId,
      status: hit.hitStatus,
      available: hit.assignmentsAvailable,
      commandId: command.commandId,
      at,
    });
    return ok(command.commandId);
  }
  if (outcome.status === 'notFound') {
    run.send({ type: 'hit.notFound', hitId: command.hitId, at });
    return ok(command.commandId);
  }
  run.send({ type: 'hit.lookupFailed', hitId: command.hitId, reason: outcome.message, at });
  return failed(command.commandId, outcome.message, true);
}

/** The key of a submission kept as MTurk's raw answer (see {@link RawAnswerSubmission}). */
export const RAW_ANSWER_KEY = 'hitstateRawAnswer';

/**
 * A submission recovered from MTurk's answer when the task wrapper's JSON field could not be read
 * (not JSON, repeated, or the answer XML itself unreadable): what MTurk holds is kept as it is, so
 * the data is not lost and the unit can be reviewed, and the one top-level key tells it from
 * anything the wrapper posted. `fields` are the answer's fields as text (MTurk's reserved fields
 * dropped); `xml` is the raw answer when even its fields cannot be parsed.
 */
export interface RawAnswerSubmission {
  readonly [RAW_ANSWER_KEY]: {
    /** Why the wrapper's data could not be recovered. */
    readonly reason: string;
    readonly fields?: Readonly<Record<string, string | readonly string[]>>;
    readonly xml?: string;
  };
}

/** True when a stored submission is MTurk's raw answer rather than the data the task wrapper posted. */
export function isRawAnswerSubmission(data: unknown): data is RawAnswerSubmission {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    Object.keys(data).length === 1 &&
    RAW_ANSWER_KEY in data
  );
}

/** MTurk's answer kept raw: its fields as text when the XML parses, else the XML itself. */
function rawAnswerOf(xml: string, reason: string): RawAnswerSubmission {
  let answers: ReturnType<typeof parseAnswers>;
  try {
    answers = parseAnswers(xml);
  } catch (err) {
    if (!isHitstateError(err)) throw err;
    return { [RAW_ANSWER_KEY]: { reason, xml } };
  }
  return { [RAW_ANSWER_KEY]: { reason, fields: { ...answerFields(answers) } } };
}

/**
 * MTurk shows the assignment submitted and the store has no data, or the unit's binding came from
 * a registration that displaced another (a registration cannot be verified): read MTurk's
 * submitted assignment, store its answer (one JSON field, so nothing is lost; MTurk's raw answer,
 * flagged as such, when that field cannot be read) under the agent of
 * the assignment and worker MTurk names unless that agent's data is stored already (creating the
 * agent's record for a worker who never reached the task server), flush what it recorded, then
 * tell the unit which assignment it was. MTurk's answer is parsed only when it is stored.
 */
export async function performReconcile(run: RunPort, command: ReconcileSubmissionCommand): Promise<CommandResult> {
  const { clock, store, events } = run.services;
  const fail = (reason: string, retryable: boolean): CommandResult => {
    reportCommandFailure(run, command, reason, retryable);
    run.send({
      type: 'reconcile.failed',
      unitId: command.unitId,
      commandId: command.commandId,
      reason,
      retryable,
      at: clock.now(),
    });
    return failed(command.commandId, reason, retryable);
  };
  const listed = await run.gateway.listAssignmentsForHIT({ hitId: command.hitId });
  if (listed.status === 'notFound') {
    // The HIT is gone and MTurk holds no submission for it: the unit expires, and whatever its
    // agent stored on the task server stays under that agent, never reviewed (issue 13 F1).
    run.send({ type: 'hit.notFound', hitId: command.hitId, at: clock.now() });
    return ok(command.commandId);
  }
  if (listed.status !== 'ok') return fail(listed.message, listed.retryable);
  // The run's HITs take one assignment, so MTurk lists at most one submitted: when it is not the
  // bound one, the binding came from a registration MTurk does not back, and MTurk's record wins.
  const assignment =
    listed.value.find((a) => a.assignmentId === command.assignmentId) ??
    (listed.value.length === 1 ? listed.value[0] : undefined);
  if (assignment === undefined) {
    return fail(`MTurk lists no submitted assignment ${command.assignmentId ?? ''} for HIT ${command.hitId} yet`, true);
  }
  const overruled = command.assignmentId !== null && assignment.assignmentId !== command.assignmentId;
  if (assignment.answerXml === undefined)
    return fail(`assignment ${assignment.assignmentId} has no answer on MTurk`, true);
  const agentId =
    !overruled && command.agentId !== null ? command.agentId : agentIdFor(assignment.assignmentId, assignment.workerId);
  // The task server usually stored the agent's data already: MTurk's answer is parsed only when
  // it is the data to keep (parsing it for nothing was most of a reconcile's CPU).
  const known = store.agents.get(agentId) !== undefined;
  const missing = !known || store.agents.submission(agentId) === undefined;
  let data: unknown;
  let unreadable: string | null = null;
  if (missing) {
    try {
      data = recoverSubmission(assignment.answerXml).data;
    } catch (err) {
      if (!isHitstateError(err)) throw err;
      // Giving up would leave the unit unreviewable and the run unfinished: keep what MTurk has.
      unreadable = err.message;
      data = rawAnswerOf(assignment.answerXml, err.message);
    }
  }
  if (!known) {
    store.agents.create({
      agentId,
      unitId: command.unitId,
      workerId: assignment.workerId,
      assignmentId: assignment.assignmentId,
      hitId: command.hitId,
      status: 'completed',
    });
  }
  if (missing) {
    store.agents.recordSubmission(agentId, data, assignment.submitTimeMs ?? clock.now());
    events.emit('drift.found', {
      runId: run.runId,
      kind: DriftKind.submissionMissing,
      message:
        unreadable === null
          ? `assignment ${assignment.assignmentId} was submitted on MTurk but its data never reached the task server; recovered from MTurk's answer`
          : `assignment ${assignment.assignmentId} was submitted on MTurk but its data never reached the task server, and MTurk's answer does not hold the task wrapper's data (${unreadable}); the raw answer is stored under "${RAW_ANSWER_KEY}" for review by hand`,
      hitId: command.hitId,
      unitId: command.unitId,
      assignmentId: assignment.assignmentId,
      workerId: assignment.workerId,
      action: 'adopted',
    });
  }
  if (overruled) {
    events.emit('drift.found', {
      runId: run.runId,
      kind: DriftKind.bindingOverruled,
      message: `HIT ${command.hitId} was bound to assignment ${command.assignmentId} by a registration that displaced another, but MTurk shows assignment ${assignment.assignmentId} submitted; the unit takes that submission and nothing is paid for ${command.assignmentId}`,
      hitId: command.hitId,
      unitId: command.unitId,
      assignmentId: assignment.assignmentId,
      workerId: assignment.workerId,
      action: 'adopted',
    });
  }
  // What this recorded is on disk before the unit moves on. When it recorded nothing, the data is
  // the task server's, flushed before the worker was answered, and the unit's next state goes to
  // disk with the next write: a write per submission was most of a sync cycle's store work.
  if (missing || overruled) {
    run.persistNow();
    await store.flush();
  }
  run.send({
    type: 'reconcile.succeeded',
    unitId: command.unitId,
    commandId: command.commandId,
    assignmentId: assignment.assignmentId,
    workerId: assignment.workerId,
    at: clock.now(),
  });
  return ok(command.commandId);
}
