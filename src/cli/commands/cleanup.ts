/**
 * `hitstate cleanup`: finds the HITs this store created on the account (their RequesterAnnotation
 * names its store id, or, for older annotations, a run it knows) whose run is not in progress
 * (finished, failed, or gone from the store), saves every submitted assignment's data, then
 * expires and disposes them. HITs of other hitstate stores are listed with their store id and
 * touched only with `--other-stores`; HITs without hitstate's annotation only with `--foreign`;
 * HITs of runs in progress never. `--dry-run` only lists.
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
  localDirOf,
} from '../target.js';

/** Run statuses whose HITs belong to a run still in progress (a later `resume` carries them on). */
const IN_PROGRESS = new Set<TaskRunStatus>(['created', 'settingUp', 'launching', 'running', 'expiring', 'draining']);

/** A HIT cleanup acts on (or lists), and why. */
export interface OrphanHIT {
  readonly hit: HITInfo;
  /** The run its annotation names; null for a HIT without hitstate's annotation. */
  readonly runId: string | null;
  /** The store its annotation names; null for a foreign HIT or an annotation of an older hitstate. */
  readonly storeId: string | null;
  readonly why: string;
}

/** What the account's HITs are, for cleanup. */
export interface HITSorting {
  /** The HITs cleanup acts on. */
  readonly orphans: readonly OrphanHIT[];
  /** hitstate HITs of runs still in progress in this store. */
  readonly inProgress: number;
  /** HITs of other hitstate stores (their annotation names another store, or no store and a run unknown here), left alone. */
  readonly otherStores: readonly OrphanHIT[];
  /** HITs without hitstate's annotation (another tool's, or made by hand), left alone. */
  readonly foreign: readonly OrphanHIT[];
}

/** What cleanup may touch beyond its own store's HITs. */
export interface CleanupScope {
  /** Also HITs of other hitstate stores (`--other-stores`). */
  readonly otherStores?: boolean;
  /** Also HITs without hitstate's annotation (`--foreign`). */
  readonly foreign?: boolean;
}

/**
 * Sorts the account's HITs. A HIT is this store's when its annotation names this store's id, or
 * (annotations of older hitstate versions name no store) when it names a run this store knows.
 * Only this store's HITs that no run in progress owns are cleaned up, unless `scope` widens it.
 */
export function sortHITs(hits: readonly HITInfo[], store: Store, scope: CleanupScope = {}): HITSorting {
  const orphans: OrphanHIT[] = [];
  const otherStores: OrphanHIT[] = [];
  const foreign: OrphanHIT[] = [];
  let inProgress = 0;
  for (const hit of hits) {
    if (hit.hitStatus === 'Disposed') continue;
    if (hit.annotation === null) {
      const entry = { hit, runId: null, storeId: null, why: "no hitstate annotation (another tool's, or by hand)" };
      (scope.foreign === true ? orphans : foreign).push(entry);
      continue;
    }
    const { runId } = hit.annotation;
    const owner = hit.annotation.storeId ?? null;
    const run = store.runs.get(runId);
    const own = owner === null ? run !== undefined : owner === store.storeId;
    if (!own) {
      const entry = {
        hit,
        runId,
        storeId: owner,
        why:
          owner === null
            ? 'no store id (older hitstate) and a run unknown to this store'
            : `another hitstate store (${owner})`,
      };
      (scope.otherStores === true ? orphans : otherStores).push(entry);
      continue;
    }
    if (run !== undefined && IN_PROGRESS.has(run.status)) {
      inProgress++;
      continue;
    }
    orphans.push({
      hit,
      runId,
      storeId: owner,
      why: run === undefined ? 'run unknown to this store' : `run ${run.status}`,
    });
  }
  return { orphans, inProgress, otherStores, foreign };
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
    'Lists every HIT of the account (all pages) and keeps those this store created: their RequesterAnnotation',
    "names this store's id (or, for annotations of older hitstate versions, a run this store knows), whose run is",
    'not in progress: finished, failed, or gone from the store. For each it saves the submitted assignments',
    "(answers recovered losslessly from hitstate's JSON field) to <store>/exports/cleanup-ENV-TIME.json, then",
    'expires and disposes it. A HIT with submitted work awaiting review is expired but kept (MTurk disposes',
    'reviewed work only). HITs of runs in progress are never touched. HITs of other hitstate stores on the same',
    'account (another store id, or an older annotation naming a run unknown here) are listed with their store id',
    "and touched only with --other-stores; HITs without hitstate's annotation only with --foreign. A live run of",
    'another store loses its HITs to --other-stores: check with --dry-run first.',
  ].join('\n'),
  options: [
    envOption('sandbox'),
    REQUESTER_OPTION,
    STORE_OPTION,
    { name: 'dry-run', type: 'boolean', description: 'List the HITs that would be cleaned up; change nothing' },
    {
      name: 'other-stores',
      type: 'boolean',
      description: 'Also clean up HITs of other hitstate stores (they may belong to a live run elsewhere)',
    },
    { name: 'foreign', type: 'boolean', description: "Also clean up HITs without hitstate's annotation" },
    { name: 'json', type: 'boolean', description: 'Print the result as JSON' },
  ],
  examples: [
    'hitstate cleanup --dry-run',
    'hitstate cleanup --env sandbox --requester lab',
    'hitstate cleanup --env http://127.0.0.1:8787 --dry-run --json',
    'hitstate cleanup --other-stores --dry-run',
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
        const scope = { otherStores: args.options['other-stores'] === true, foreign: args.options.foreign === true };
        const sorted = sortHITs(listed(await gateway.listHITs(), { operation: 'ListHITs' }), store, scope);
        const dryRun = args.options['dry-run'] === true;
        const head = `hitstate cleanup${dryRun ? ' (dry run: nothing changed)' : ''} on ${describeEnvironment(env)} (store ${store.storeId ?? 'without runs'}): ${sorted.orphans.length} HIT${sorted.orphans.length === 1 ? '' : 's'} to clean up; left alone: ${sorted.inProgress} of runs in progress, ${sorted.otherStores.length} of other hitstate stores${scope.otherStores ? '' : ' (--other-stores)'}, ${sorted.foreign.length} without hitstate's annotation${scope.foreign ? '' : ' (--foreign)'}\n`;
        const rows = sorted.orphans.map((o) => [
          o.hit.hitId,
          o.runId ?? '-',
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
        const others =
          sorted.otherStores.length === 0
            ? ''
            : `  HITs of other hitstate stores, not touched (--other-stores to include them):\n${formatTable(
                [{ header: 'HIT' }, { header: 'STORE' }, { header: 'RUN' }, { header: 'STATUS' }],
                sorted.otherStores.map((o) => [
                  o.hit.hitId,
                  o.storeId ?? '(none: older hitstate)',
                  o.runId ?? '-',
                  o.hit.hitStatus,
                ]),
                '    ',
              )}`;
        const listedJson = (list: readonly OrphanHIT[]) =>
          list.map((o) => ({
            hitId: o.hit.hitId,
            runId: o.runId,
            storeId: o.storeId,
            why: o.why,
            hitStatus: o.hit.hitStatus,
          }));
        if (dryRun) {
          if (args.options.json === true)
            io.out(
              `${JSON.stringify({ dryRun, environment: describeEnvironment(env), storeId: store.storeId, orphans: listedJson(sorted.orphans), inProgress: sorted.inProgress, otherStores: listedJson(sorted.otherStores), foreign: sorted.foreign.length }, null, 2)}\n`,
            );
          else io.out(head + (rows.length > 0 ? formatTable(columns, rows, '  ') : '') + others);
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
            storeId: o.storeId,
            annotation: o.hit.annotation,
            why: o.why,
            hitStatus: o.hit.hitStatus,
            assignments: assignments.map(saveAssignment),
          });
        }
        const file = join(
          localDirOf(storeDir, io),
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
                : '') +
              others,
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
