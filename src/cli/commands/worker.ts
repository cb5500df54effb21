/**
 * `hitstate worker ACTION WORKER`: manages workers from the command line through the runtime's
 * provider facade (`MTurkWorker`), so every call goes through the gateway and lands in the store's
 * audit trail like the calls of any other command: block, unblock, qualify, revoke, notify, and
 * `show` (what this store knows of a worker, read from the store only). Bonuses are not here: they
 * move money and go through `hitstate review --bonus` (the money outbox).
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { pseudonymizeWorkerId } from '../../mturk/audit.js';
import { formatUsd, toCents } from '../../mturk/money.js';
import { createRuntime } from '../../runtime/index.js';
import { MTurkWorker } from '../../runtime/provider/worker.js';
import type { ProviderResult } from '../../runtime/provider/result.js';
import type { Store, StoreEnvironment } from '../../store/index.js';
import { EXIT, usageError, type CliIO, type CommandSpec, type OptionValues } from '../command.js';
import { styleFor } from '../style.js';
import { formatTable } from '../table.js';
import {
  describeEnvironment,
  envOption,
  locateRun,
  openStoreFor,
  parseEnvironment,
  REQUESTER_OPTION,
  requesterFor,
  STORE_OPTION,
  storeDirOf,
  describeStore,
  storeEnvironments,
} from '../target.js';

/** The actions of `hitstate worker`. */
export const WORKER_ACTIONS = ['block', 'unblock', 'qualify', 'revoke', 'notify', 'show'] as const;
export type WorkerAction = (typeof WORKER_ACTIONS)[number];

/** Above this many workers, `block` and `notify` ask for confirmation (or `--yes`). */
export const CONFIRM_ABOVE = 10;

/**
 * An MTurk worker id: `A` then 1 to 63 capitals or digits. The simulator issues (and accepts) the
 * same shape (`A` + 13 characters for its accounts), so one check serves both.
 */
export const WORKER_ID = /^A[A-Z0-9]{1,63}$/;

/**
 * Checks a worker id.
 *
 * @throws HitstateError `HST_ERR_CLI_WORKER_ID` naming the id and the expected shape.
 */
export function checkWorkerId(id: string): string {
  if (!WORKER_ID.test(id)) {
    const hint =
      id.toUpperCase() !== id && WORKER_ID.test(id.toUpperCase())
        ? ` Worker ids are upper case: did you mean ${id.toUpperCase()}?`
        : '';
    throw new HitstateError(
      'HST_ERR_CLI_WORKER_ID',
      `${JSON.stringify(id)} is not an MTurk worker id: a worker id is "A" followed by 1 to 63 capital letters or digits (e.g. A1B2C3D4E5F6G7, as shown in \`hitstate status RUN\` or \`hitstate worker show\`).${hint}`,
      { field: 'worker' },
    );
  }
  return id;
}

/** The worker ids of the WORKER argument: one id, or several separated by commas. */
export function parseWorkerIds(raw: string): string[] {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0)
    throw usageError('hitstate worker: WORKER is empty; pass a worker id such as A1B2C3D4E5F6G7.', 'worker');
  return [...new Set(ids.map(checkWorkerId))];
}

function text(options: OptionValues, name: string): string | undefined {
  const v = options[name];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function need(options: OptionValues, name: string, action: WorkerAction, example: string): string {
  const v = text(options, name);
  if (v === undefined) throw usageError(`hitstate worker ${action}: --${name} is required (e.g. ${example}).`, name);
  return v;
}

/** The environment the command works on: --env, else the run's (--run), else the store's only one. */
async function environmentOf(storeDir: string, options: OptionValues): Promise<StoreEnvironment> {
  const run = text(options, 'run');
  if (run !== undefined) return locateRun(storeDir, run, options);
  if (text(options, 'env') !== undefined) return parseEnvironment(String(options.env));
  const all = await storeEnvironments(storeDir);
  if (all.length === 1) return all[0]!.environment;
  throw usageError(
    all.length === 0
      ? `hitstate worker: no store under ${describeStore(storeDir)}; pass --env live|sandbox|URL (and --store DIR if the store is elsewhere).`
      : `hitstate worker: the store under ${describeStore(storeDir)} has ${all.length} environments (${all.map((h) => describeEnvironment(h.environment)).join(', ')}); pass --env to choose one.`,
    'env',
  );
}

/** Asks on a terminal; without one, only `--yes` confirms. */
async function confirmMany(io: CliIO, action: WorkerAction, count: number, yes: boolean): Promise<void> {
  if (count <= CONFIRM_ABOVE || yes) return;
  const answer = await io.ask(`${action} ${count} workers? Type yes to go on: `);
  if (answer?.toLowerCase() === 'yes') return;
  throw new HitstateError(
    'HST_ERR_CLI_NOT_CONFIRMED',
    `hitstate worker ${action} would act on ${count} workers (more than ${CONFIRM_ABOVE}) and was not confirmed; check the list, then run again with --yes (or answer yes on a terminal).`,
    { field: 'yes' },
  );
}

/** `ok`, `already done` or `refused: reason`, as printed. */
function outcomeText(result: ProviderResult<unknown>): string {
  if (result.ok) return result.alreadyDone ? 'already done' : 'ok';
  return `refused: ${result.message} [${result.code}]`;
}

/** Finds a qualification by local name or by its QualificationTypeId among those this store mapped. */
function knownQualification(store: Store, requester: string, nameOrId: string): string | undefined {
  const mapped = store.qualifications.ofRequester(requester);
  return (mapped.find((q) => q.name === nameOrId) ?? mapped.find((q) => q.qualificationTypeId === nameOrId))?.name;
}

function unknownQualification(store: Store, requester: string, nameOrId: string): HitstateError {
  const names = store.qualifications.ofRequester(requester).map((q) => q.name);
  return new HitstateError(
    'HST_ERR_CLI_UNKNOWN_QUALIFICATION',
    `this store knows no qualification ${JSON.stringify(nameOrId)} of requester ${requester} (by name or QualificationTypeId); ${names.length === 0 ? 'it has none yet: grant one first with `hitstate worker qualify WORKER --qualification NAME`' : `known: ${names.join(', ')}`}.`,
    { field: 'qualification' },
  );
}

/** What the store knows of one worker: units per run, reviews, time, bonuses, blocks, qualifications. */
export interface WorkerSummary {
  readonly workerId: string;
  readonly firstSeenAt: number | null;
  readonly runs: readonly {
    readonly runId: string;
    readonly units: number;
    readonly submitted: number;
    readonly approved: number;
    readonly rejected: number;
    readonly secondsWorked: number;
    readonly bonusUsd: string;
  }[];
  /** Approved among reviewed, 0..1; null before any review. */
  readonly approvalRate: number | null;
  readonly blocks: readonly { readonly requester: string; readonly reason: string; readonly blockedAt: number }[];
  /** Qualification grants and revocations this store's calls made, from the audit trail. */
  readonly qualifications: readonly {
    readonly at: number;
    readonly operation: string;
    readonly qualificationTypeId: string;
    readonly outcome: string;
  }[];
}

/** Reads the store (and its audit trail) for {@link WorkerSummary}. */
export async function summarizeWorker(
  store: Store,
  workerId: string,
  options: { readonly runId?: string; readonly salt: string },
): Promise<WorkerSummary> {
  const runs = [];
  let approved = 0;
  let reviewed = 0;
  const runIds = options.runId !== undefined ? [options.runId] : store.runs.list().map((r) => r.id);
  for (const runId of runIds) {
    const agents = store.agents.ofRun(runId).filter((a) => a.workerId === workerId);
    const bonuses = store.outbox
      .ofRun(runId)
      .filter((i) => i.kind === 'bonus' && i.workerId === workerId && i.state === 'confirmed' && i.amountUsd !== null);
    if (agents.length === 0 && bonuses.length === 0) continue;
    const ok = agents.filter((a) => a.review?.decision === 'approved').length;
    const bad = agents.filter((a) => a.review !== null && a.review.decision !== 'approved').length;
    approved += ok;
    reviewed += ok + bad;
    runs.push({
      runId,
      units: new Set(agents.map((a) => a.unitId)).size,
      submitted: agents.filter((a) => a.submittedAt !== null).length,
      approved: ok,
      rejected: bad,
      secondsWorked: Math.round(
        agents.reduce((s, a) => s + (a.submittedAt === null ? 0 : Math.max(0, a.submittedAt - a.createdAt)), 0) / 1000,
      ),
      bonusUsd: formatUsd(bonuses.reduce((s, i) => s + toCents(i.amountUsd!), 0)),
    });
  }
  const record = store.workers.get(workerId);
  const pseudonym = pseudonymizeWorkerId(workerId, options.salt);
  const qualifications = [];
  const trails = [undefined, ...runIds];
  for (const runId of trails) {
    for await (const entry of store.audit.entries(runId === undefined ? {} : { runId })) {
      if (
        entry.operation !== 'AssociateQualificationWithWorker' &&
        entry.operation !== 'DisassociateQualificationFromWorker'
      )
        continue;
      // The audit keeps the request as sent to MTurk: SDK field names, the worker id pseudonymised.
      const args = (entry.details?.arguments ?? {}) as { WorkerId?: unknown; QualificationTypeId?: unknown };
      if (args.WorkerId !== pseudonym) continue;
      qualifications.push({
        at: entry.at,
        operation: entry.operation,
        qualificationTypeId: String(args.QualificationTypeId ?? '?'),
        outcome: entry.outcome,
      });
    }
  }
  return {
    workerId,
    firstSeenAt: record?.firstSeenAt ?? null,
    runs,
    approvalRate: reviewed === 0 ? null : approved / reviewed,
    blocks: Object.entries(record?.blocks ?? {}).map(([requester, b]) => ({ requester, ...b })),
    qualifications: qualifications.sort((a, b) => a.at - b.at),
  };
}

function showLines(s: WorkerSummary, env: StoreEnvironment): string {
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const lines = [
    `worker ${s.workerId} on ${describeEnvironment(env)}${s.firstSeenAt === null ? ' (never seen by this store)' : `, first seen ${iso(s.firstSeenAt)}`}`,
    `  approval rate: ${s.approvalRate === null ? 'no review yet' : `${Math.round(s.approvalRate * 100)}%`}`,
  ];
  if (s.runs.length === 0) lines.push('  no unit in this store');
  else
    lines.push(
      formatTable(
        [
          { header: 'RUN' },
          { header: 'UNITS', align: 'right' },
          { header: 'SUBMITTED', align: 'right' },
          { header: 'APPROVED', align: 'right' },
          { header: 'REJECTED', align: 'right' },
          { header: 'TIME', align: 'right' },
          { header: 'BONUS', align: 'right' },
        ],
        s.runs.map((r) => [
          r.runId,
          String(r.units),
          String(r.submitted),
          String(r.approved),
          String(r.rejected),
          `${Math.floor(r.secondsWorked / 60)}m${String(r.secondsWorked % 60).padStart(2, '0')}s`,
          `$${r.bonusUsd}`,
        ]),
        '  ',
      ).trimEnd(),
    );
  lines.push(
    s.blocks.length === 0
      ? '  blocks: none'
      : `  blocks: ${s.blocks.map((b) => `by ${b.requester} since ${iso(b.blockedAt)} (${b.reason})`).join('; ')}`,
  );
  lines.push(
    s.qualifications.length === 0
      ? '  qualifications granted or revoked by this store: none'
      : `  qualifications granted or revoked by this store:\n${s.qualifications
          .map(
            (q) =>
              `    ${iso(q.at)}  ${q.operation === 'AssociateQualificationWithWorker' ? 'granted' : 'revoked'} ${q.qualificationTypeId} (${q.outcome})`,
          )
          .join('\n')}`,
  );
  return `${lines.join('\n')}\n`;
}

async function act(
  action: Exclude<WorkerAction, 'show'>,
  worker: MTurkWorker,
  store: Store,
  options: OptionValues,
  requester: string,
): Promise<ProviderResult<unknown>> {
  switch (action) {
    case 'block':
      return worker.block(need(options, 'reason', action, '--reason "copied answers"'), { requester });
    case 'unblock': {
      const reason = text(options, 'reason');
      return worker.unblock({ requester, ...(reason === undefined ? {} : { reason }) });
    }
    case 'qualify': {
      const asked = need(options, 'qualification', action, '--qualification trained');
      const name = knownQualification(store, requester, asked) ?? asked;
      const value = options.value === undefined ? 1 : Number(options.value);
      if (!Number.isInteger(value) || value < 0)
        throw usageError(
          `hitstate worker qualify: --value must be a whole number of 0 or more, got ${String(options.value)}.`,
          'value',
        );
      return worker.grantQualification(name, { requester, value });
    }
    case 'revoke': {
      const asked = need(options, 'qualification', action, '--qualification trained');
      const name = knownQualification(store, requester, asked);
      if (name === undefined) throw unknownQualification(store, requester, asked);
      const reason = text(options, 'reason');
      return worker.revokeQualification(name, { requester, ...(reason === undefined ? {} : { reason }) });
    }
    case 'notify': {
      const subject = need(options, 'subject', action, '--subject "About your HITs"');
      const message = need(options, 'message', action, '--message "Thank you for your work"');
      return worker.sendFeedback(message, { requester, subject });
    }
  }
}

export const workerCommand: CommandSpec = {
  name: 'worker',
  summary: 'Block, unblock, qualify, revoke, message or look up a worker',
  description: [
    'Actions:',
    '  block WORKER --reason TEXT      block the worker from your HITs (recorded in the store)',
    '  unblock WORKER [--reason TEXT]  remove your block',
    '  qualify WORKER --qualification NAME|ID [--value N]   grant a qualification (created by name if new)',
    '  revoke WORKER --qualification NAME|ID [--reason TEXT] revoke one this store knows',
    '  notify WORKER --subject S --message M               send the worker a message',
    '  show WORKER                     what this store knows: units per run, approval rate, time, bonuses,',
    '                                  blocks, qualifications it granted (reads the store only)',
    'WORKER is a worker id (A + capitals/digits) or several separated by commas; `block` and `notify` of',
    `more than ${CONFIRM_ABOVE} workers ask on a terminal and need --yes otherwise. Each worker's outcome is printed:`,
    '`ok`, `already done` or `refused: reason`. Bonuses are paid with `hitstate review RUN --worker W --bonus`.',
  ].join('\n'),
  positionals: [
    { name: 'action', description: `One of ${WORKER_ACTIONS.join(', ')}`, required: true },
    { name: 'worker', description: 'A worker id, or several separated by commas', required: true },
  ],
  options: [
    envOption(),
    REQUESTER_OPTION,
    STORE_OPTION,
    {
      name: 'run',
      type: 'string',
      value: 'RUN',
      description: 'The run whose store (and, for show, whose units) to use',
    },
    {
      name: 'reason',
      type: 'string',
      value: 'TEXT',
      description: 'Why (block: required; shown to MTurk, kept in the store)',
    },
    { name: 'qualification', type: 'string', value: 'NAME|ID', description: 'The qualification (qualify, revoke)' },
    { name: 'value', type: 'number', description: 'The qualification value to grant (default 1)' },
    { name: 'subject', type: 'string', value: 'S', description: 'Subject of the message (notify)' },
    { name: 'message', type: 'string', value: 'M', description: 'Text of the message (notify)' },
    { name: 'yes', type: 'boolean', description: `Confirm block or notify of more than ${CONFIRM_ABOVE} workers` },
    { name: 'json', type: 'boolean', description: 'Print the outcomes (or show) as JSON' },
  ],
  examples: [
    'hitstate worker block A1B2C3D4E5F6G7 --reason "copied answers"',
    'hitstate worker qualify A1B2C3D4E5F6G7 --qualification trained --value 2',
    'hitstate worker notify A1B2C3D4E5F6G7,A7G6F5E4D3C2B1 --subject "New batch" --message "Round 2 is up"',
    'hitstate worker show A1B2C3D4E5F6G7 --run pilot-3',
  ],
  async run(args, io) {
    const [rawAction, rawWorkers] = args.positionals as [string, string];
    if (!(WORKER_ACTIONS as readonly string[]).includes(rawAction))
      throw usageError(
        `hitstate worker: unknown action ${JSON.stringify(rawAction)}; use one of ${WORKER_ACTIONS.join(', ')}${rawAction === 'bonus' ? ' (bonuses: `hitstate review RUN --worker W --bonus USD --reason TEXT`)' : ''}.`,
        'action',
      );
    const action = rawAction as WorkerAction;
    const workerIds = parseWorkerIds(rawWorkers);
    const storeDir = storeDirOf(args.options, io);
    const env = await environmentOf(storeDir, args.options);
    const runId = text(args.options, 'run');
    const style = styleFor(io);
    const store = await openStoreFor(storeDir, env);
    try {
      const requester = requesterFor(env, args.options, io);
      if (action === 'show') {
        const salt = `hitstate:${requester.name}`;
        const summaries = [];
        for (const id of workerIds)
          summaries.push(await summarizeWorker(store, id, { salt, ...(runId === undefined ? {} : { runId }) }));
        if (args.options.json === true) io.out(`${JSON.stringify(summaries, null, 2)}\n`);
        else io.out(summaries.map((s) => showLines(s, env)).join('\n'));
        return EXIT.ok;
      }
      if (action === 'block' || action === 'notify')
        await confirmMany(io, action, workerIds.length, args.options.yes === true);
      const runtime = await createRuntime({ environment: env, requester, store });
      try {
        // Qualifications and blocks are recorded under the requester: a fresh store must know it.
        runtime.registerRequester(requester);
        const results = [];
        for (const id of workerIds) {
          const result = await act(action, new MTurkWorker(runtime, id), store, args.options, requester.name);
          results.push({ workerId: id, outcome: outcomeText(result), result });
        }
        await store.flush();
        if (args.options.json === true)
          io.out(
            `${JSON.stringify(
              results.map((r) => ({
                workerId: r.workerId,
                outcome: r.result.ok ? (r.result.alreadyDone ? 'alreadyDone' : 'ok') : 'refused',
                ...(r.result.ok ? {} : { code: r.result.code, reason: r.result.message }),
              })),
              null,
              2,
            )}\n`,
          );
        else
          for (const r of results)
            io.out(
              `hitstate worker ${action} ${r.workerId} on ${describeEnvironment(env)}: ${r.result.ok ? r.outcome : style.red(r.outcome)}\n`,
            );
        return results.every((r) => r.result.ok) ? EXIT.ok : EXIT.failure;
      } finally {
        await runtime.close();
      }
    } finally {
      await store.close();
    }
  },
};
