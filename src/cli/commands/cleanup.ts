/**
 * `hitstate cleanup`: finds the HITs hitstate created on the account (by their
 * RequesterAnnotation) whose run is not in progress in this store (finished, failed, or unknown to
 * it), saves every submitted assignment's data, then expires and disposes them. HITs of other tools
 * (no hitstate annotation) and of runs still in progress are never touched. `--dry-run` only lists.
 *
 * @module
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  orThrow,
  recoverSubmission,
  type AssignmentInfo,
  type FailureContext,
  type HITInfo,
  type MTurkOutcome,
} from '../../mturk/index.js';
import { createRuntime } from '../../runtime/index.js';
import { environmentSlug, type Store, type TaskRunStatus } from '../../store/index.js';
import { EXIT, type CommandSpec } from '../command.js';
import { styleFor } from '../style.js';
import { formatTable } from '../table.js';
import {
  describeEnvironment,
  envOption,
  openStoreFor,
  parseEnvironment,
  REQUESTER_OPTION,
  requesterFor,
  STORE_OPTION,
  storeDirOf,
} from '../target.js';

/** Run statuses whose HITs belong to a run still in progress (a later `resume` carries them on). */
const IN_PROGRESS = new Set<TaskRunStatus>(['created', 'settingUp', 'launching', 'running', 'expiring', 'draining']);

/** A HIT cleanup acts on, and why. */
export interface OrphanHIT {
  readonly hit: HITInfo;
  readonly runId: string;
  readonly why: string;
}

/** What the account's HITs are, for cleanup. */
export interface HITSorting {
  readonly orphans: readonly OrphanHIT[];
  /** hitstate HITs of runs still in progress in this store. */
  readonly inProgress: number;
  /** HITs without hitstate's annotation (another tool's, or made by hand). */
  readonly foreign: number;
}

/** Sorts the account's HITs into orphans, HITs of runs in progress and foreign HITs. */
export function sortHITs(hits: readonly HITInfo[], store: Store): HITSorting {
  const orphans: OrphanHIT[] = [];
  let inProgress = 0;
  let foreign = 0;
  for (const hit of hits) {
    if (hit.annotation === null) {
      foreign++;
      continue;
    }
    if (hit.hitStatus === 'Disposed') continue;
    const run = store.runs.get(hit.annotation.runId);
    if (run !== undefined && IN_PROGRESS.has(run.status)) {
      inProgress++;
      continue;
    }
    orphans.push({
      hit,
      runId: hit.annotation.runId,
      why: run === undefined ? 'run unknown to this store' : `run ${run.status}`,
    });
  }
  return { orphans, inProgress, foreign };
}

interface SavedAssignment {
  readonly assignmentId: string;
  readonly workerId: string;
  readonly status: string;
  readonly submitTimeMs: number | null;
  /** The submission recovered from the answer (hitstate's JSON field, or the form fields), or null when it could not be read. */
  readonly submission: unknown;
  readonly answerXml: string | null;
  readonly error: string | null;
}

function saveAssignment(a: AssignmentInfo): SavedAssignment {
  let submission: unknown = null;
  let error: string | null = null;
  if (a.answerXml !== undefined) {
    try {
      submission = recoverSubmission(a.answerXml);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
  }
  return {
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    status: a.assignmentStatus,
    submitTimeMs: a.submitTimeMs ?? null,
    submission,
    answerXml: a.answerXml ?? null,
    error,
  };
}

/** The value of a list call; its failures thrown as `orThrow` does (a list is never "already done"). */
function listed<T>(outcome: MTurkOutcome<T>, context: FailureContext): T {
  if (outcome.status === 'ok') return outcome.value;
  orThrow(outcome, context);
  throw new Error(`${context.operation ?? 'a list call'} answered ${outcome.status}`);
}

function writeJson(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
}

export const cleanupCommand: CommandSpec = {
  name: 'cleanup',
  summary: 'Expire and dispose HITs left on the account by finished or unknown runs',
  description: [
    'Lists every HIT of the account (all pages) and keeps those hitstate created (their RequesterAnnotation',
    'names hitstate and a run) whose run is not in progress in this store: finished, failed, or unknown to',
    'it (e.g. a store that was deleted). For each it saves the submitted assignments (answers recovered',
    "losslessly from hitstate's JSON field) to <store>/exports/cleanup-ENV-TIME.json, then expires and",
    'disposes it. A HIT with submitted work awaiting review is expired but kept (MTurk disposes reviewed work',
    "only). HITs without hitstate's annotation and HITs of runs in progress are never touched. A run id",
    'unknown to this store may belong to another store using the same account: check with --dry-run first.',
  ].join('\n'),
  options: [
    envOption('sandbox'),
    REQUESTER_OPTION,
    STORE_OPTION,
    { name: 'dry-run', type: 'boolean', description: 'List the HITs that would be cleaned up; change nothing' },
    { name: 'json', type: 'boolean', description: 'Print the result as JSON' },
  ],
  examples: [
    'hitstate cleanup --dry-run',
    'hitstate cleanup --env sandbox --requester lab',
    'hitstate cleanup --env http://127.0.0.1:8787 --dry-run --json',
  ],
  async run(args, io) {
    const style = styleFor(io);
    const env = parseEnvironment(String(args.options.env));
    const storeDir = storeDirOf(args.options, io);
    const store = await openStoreFor(storeDir, env);
    try {
      const runtime = await createRuntime({ environment: env, requester: requesterFor(env, args.options, io), store });
      try {
        const gateway = runtime.gateway();
        const sorted = sortHITs(listed(await gateway.listHITs(), { operation: 'ListHITs' }), store);
        const dryRun = args.options['dry-run'] === true;
        const head = `hitstate cleanup${dryRun ? ' (dry run: nothing changed)' : ''} on ${describeEnvironment(env)}: ${sorted.orphans.length} HIT${sorted.orphans.length === 1 ? '' : 's'} to clean up; left alone: ${sorted.inProgress} of runs in progress, ${sorted.foreign} without hitstate's annotation\n`;
        const rows = sorted.orphans.map((o) => [
          o.hit.hitId,
          o.runId,
          o.why,
          o.hit.hitStatus,
          String(o.hit.assignmentsPending),
        ]);
        const columns = [
          { header: 'HIT' },
          { header: 'RUN' },
          { header: 'WHY' },
          { header: 'STATUS' },
          { header: 'PENDING', align: 'right' as const },
        ];
        if (dryRun) {
          if (args.options.json === true)
            io.out(
              `${JSON.stringify({ dryRun, environment: describeEnvironment(env), orphans: sorted.orphans.map((o) => ({ hitId: o.hit.hitId, runId: o.runId, why: o.why, hitStatus: o.hit.hitStatus })), inProgress: sorted.inProgress, foreign: sorted.foreign }, null, 2)}\n`,
            );
          else io.out(head + (rows.length > 0 ? formatTable(columns, rows, '  ') : ''));
          return EXIT.ok;
        }
        const saved = [];
        for (const o of sorted.orphans) {
          const assignments = listed(await gateway.listAssignmentsForHIT({ hitId: o.hit.hitId }), {
            operation: 'ListAssignmentsForHIT',
            hitId: o.hit.hitId,
          });
          saved.push({
            hitId: o.hit.hitId,
            hitTypeId: o.hit.hitTypeId,
            runId: o.runId,
            annotation: o.hit.annotation,
            why: o.why,
            hitStatus: o.hit.hitStatus,
            assignments: assignments.map(saveAssignment),
          });
        }
        const file = join(
          storeDir,
          'exports',
          `cleanup-${environmentSlug(env)}-${new Date(Date.now()).toISOString().replace(/[:.]/g, '-')}.json`,
        );
        const document = {
          format: 'hitstate-cleanup',
          environment: env,
          savedAt: new Date().toISOString(),
          hits: saved,
        };
        if (saved.length > 0) writeJson(file, document);
        const outcomes: { hitId: string; outcome: string }[] = [];
        for (const o of sorted.orphans) {
          const result = await gateway.expireAndDisposeHIT(o.hit.hitId);
          outcomes.push({
            hitId: o.hit.hitId,
            outcome:
              result.status === 'ok'
                ? result.value.disposed
                  ? 'disposed'
                  : `expired, kept: ${result.value.notDisposedBecause ?? 'MTurk refused to dispose it'}`
                : `failed: ${result.message}`,
          });
        }
        if (saved.length > 0) writeJson(file, { ...document, outcomes });
        const failed = outcomes.filter((o) => o.outcome.startsWith('failed')).length;
        if (args.options.json === true)
          io.out(
            `${JSON.stringify({ dryRun, environment: describeEnvironment(env), saved: saved.length > 0 ? file : null, outcomes, inProgress: sorted.inProgress, foreign: sorted.foreign }, null, 2)}\n`,
          );
        else {
          io.out(
            head +
              (rows.length > 0
                ? formatTable(
                    [...columns, { header: 'OUTCOME' }],
                    rows.map((r, i) => [
                      ...r,
                      outcomes[i]!.outcome.startsWith('failed')
                        ? style.red(outcomes[i]!.outcome)
                        : outcomes[i]!.outcome,
                    ]),
                    '  ',
                  )
                : ''),
          );
          if (saved.length > 0)
            io.out(
              `  submitted data of ${saved.reduce((n, s) => n + s.assignments.length, 0)} assignment(s) saved to ${file}\n`,
            );
        }
        return failed > 0 ? EXIT.failure : EXIT.ok;
      } finally {
        await runtime.close();
      }
    } finally {
      await store.close();
    }
  },
};
