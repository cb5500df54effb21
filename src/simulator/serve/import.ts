/**
 * `hitstate serve import --state FILE`: a `hitstate sim --state` file (SQLite, or the JSON state
 * of releases before December 2026) into a new serve database. Same engine, same records: only the owner changes. In `sim` a requester account is
 * whatever access key signed the call; in `serve` it is an account with real keys. So each
 * account of the file becomes a serve requester (named after its old access key id, new keys
 * printed once), and every record it owned is moved to it.
 *
 * Money: the file has each account's balance, what is on hold, and the approved work and bonuses
 * already paid, but no ledger. The import writes the ledger that leads to exactly that state:
 * funding of balance + everything paid, then each reward and bonus as it was paid (worker credit
 * and fee by the engine's fee rules), then the hold for open HITs. So `ledger check` balances,
 * and the workers are owed what they earned in the simulator.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { AssignmentRecord, HitRecord } from '../model.js';
import { assignmentCostCents } from '../money.js';
import { readSimStateFile } from './sim-store.js';
import type { StateRecords } from '../state.js';
import type { Db } from './db.js';
import { available, escrow, FEES, FUNDING, workerAccount, writeTxn, type LedgerTxn } from './ledger.js';
import { addRequester, type IssuedKeys } from './requesters.js';

/** What {@link importSimState} did. */
export interface ImportReport {
  /** One requester per account of the file: its old access key id and the new keys. */
  requesters: (IssuedKeys & { simAccessKeyId: string; balanceCents: number })[];
  hits: number;
  assignments: number;
  workers: number;
}

function importError(message: string, field = 'state'): HitstateError {
  return new HitstateError('HST_ERR_SERVE_IMPORT', message, { field });
}

/** A requester name from a sim access key id (`AKIDREQUESTERONE` → `sim-akidrequesterone`). */
function nameFor(accessKeyId: string, taken: Set<string>): string {
  const base = `sim-${accessKeyId.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`.slice(0, 60);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/**
 * Imports a sim state file into a serve database that has no HITs yet, in one transaction.
 *
 * @throws HitstateError `HST_ERR_SIM_STATE_CORRUPT` when the file is not a sim state,
 *   `HST_ERR_SERVE_IMPORT` when the database already holds work or the file has none.
 */
export function importSimState(db: Db, file: string, nowMs = Date.now()): ImportReport {
  const saved = readSimStateFile(file);
  if (saved === undefined)
    throw importError(`--state: ${file} does not exist; give a file written by hitstate sim --state.`);
  const has = db.prepare("SELECT 1 FROM records WHERE kind IN ('hit', 'hitType', 'account') LIMIT 1").get();
  if (has)
    throw importError(
      "The database already holds requesters' work; import into a new database (--db NEW_FILE), then add your requesters there.",
      'db',
    );
  const r = saved.records;
  if (r.accounts.length === 0) throw importError(`--state: ${file} has no requester account; nothing to import.`);
  const taken = new Set((db.prepare('SELECT name FROM requesters').pluck().all() as string[]) ?? []);
  const report: ImportReport = {
    requesters: [],
    hits: r.hits.length,
    assignments: r.assignments.length,
    workers: r.workers.length,
  };

  db.transaction(() => {
    const owner = new Map<string, string>();
    for (const a of r.accounts) {
      const keys = addRequester(db, nameFor(a.accessKeyId, taken), 0, nowMs);
      owner.set(a.accessKeyId, keys.requesterId);
      report.requesters.push({ ...keys, simAccessKeyId: a.accessKeyId, balanceCents: a.balanceCents });
    }
    const own = <T extends { account: string }>(x: T): T => ({ ...x, account: owner.get(x.account) ?? x.account });
    const moved: StateRecords = {
      ...r,
      accounts: r.accounts.map((a) => ({ ...a, accessKeyId: owner.get(a.accessKeyId)! })),
      hitTypes: r.hitTypes.map(own),
      hits: r.hits.map(own),
      assignments: r.assignments.map(own),
      qualificationTypes: r.qualificationTypes.map(own),
      qualificationRequests: (r.qualificationRequests ?? []).map(own),
      bonuses: r.bonuses.map(own),
      blocks: r.blocks.map(own),
      tokens: r.tokens.map(own),
      notifications: r.notifications.map((n) => ({ ...n, account: owner.get(n.account) ?? n.account })),
    };
    writeRecords(db, moved);
    writeOpeningLedger(db, moved, nowMs);
    const meta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    meta.run('seq', String(r.seq));
    meta.run('idPrng', String(saved.idPrngState));
    meta.run('importedFrom', JSON.stringify({ file, savedAtMs: saved.savedAtMs, importedMs: nowMs }));
  })();
  return report;
}

const seqId = (seq: number): string => String(seq).padStart(12, '0');

/** Every record as a row, as the server's writer would have written it. */
function writeRecords(db: Db, r: StateRecords): void {
  const put = db.prepare('INSERT INTO records (kind, id, data, live, hit_id, worker_id) VALUES (?, ?, ?, ?, ?, ?)');
  const row = (
    kind: string,
    id: string,
    v: unknown,
    live = 1,
    hitId: string | null = null,
    workerId: string | null = null,
  ) => put.run(kind, id, JSON.stringify(v), live, hitId, workerId);
  const disposed = new Set(r.hits.filter((h) => h.disposed).map((h) => h.hitId));
  const grantKey = (...p: string[]) => p.join('\n');
  for (const a of r.accounts) row('account', a.accessKeyId, a);
  for (const t of r.hitTypes) row('hitType', t.hitTypeId, t);
  for (const h of r.hits) row('hit', h.hitId, h, h.disposed ? 0 : 1);
  const workedFor = db.prepare('INSERT OR IGNORE INTO worked_for (account, worker_id) VALUES (?, ?)');
  for (const a of r.assignments) {
    row('assignment', a.assignmentId, a, disposed.has(a.hitId) ? 0 : 1, a.hitId, a.workerId);
    if (a.status === 'Approved' || a.status === 'Rejected') workedFor.run(a.account, a.workerId);
  }
  for (const q of r.qualificationTypes) row('qualificationType', q.qualificationTypeId, q);
  for (const g of r.grants) row('grant', grantKey(g.qualificationTypeId, g.workerId), g);
  for (const q of r.qualificationRequests ?? []) row('qualificationRequest', q.qualificationRequestId, q);
  for (const w of r.workers) row('worker', w.workerId, w);
  for (const t of r.tokens) row('token', grantKey(t.account, t.kind, t.token), t);
  for (const b of r.blocks) row('block', grantKey(b.account, b.workerId), b);
  for (const b of r.bonuses) row('bonus', seqId(b.seq), b);
  for (const n of r.notifications) row('notification', seqId(n.seq), n);
}

/** The ledger that leads from nothing to the file's balances, holds, rewards and bonuses. */
function writeOpeningLedger(db: Db, r: StateRecords, nowMs: number): void {
  const types = new Map(r.hitTypes.map((t) => [t.hitTypeId, t]));
  const hits = new Map<string, HitRecord>(r.hits.map((h) => [h.hitId, h]));
  const paid: LedgerTxn[] = [];
  const spent = new Map<string, number>();
  const spend = (account: string, cents: number) => spent.set(account, (spent.get(account) ?? 0) + cents);
  for (const a of r.assignments as AssignmentRecord[]) {
    if (a.status !== 'Approved') continue;
    const hit = hits.get(a.hitId);
    const type = hit && types.get(hit.hitTypeId);
    if (!hit || !type)
      throw importError(`--state: assignment ${a.assignmentId} names a HIT or HIT type the file does not have.`);
    const cost = assignmentCostCents(type.rewardCents, hit.maxAssignments);
    spend(a.account, cost);
    paid.push({
      atMs: a.approvalMs ?? nowMs,
      kind: 'reward',
      requester: a.account,
      worker: a.workerId,
      hitId: a.hitId,
      assignmentId: a.assignmentId,
      memo: 'imported from hitstate sim',
      entries: [
        [available(a.account), -cost],
        [workerAccount(a.workerId), type.rewardCents],
        [FEES, cost - type.rewardCents],
      ],
    });
  }
  for (const b of r.bonuses) {
    spend(b.account, b.amountCents + b.feeCents);
    paid.push({
      atMs: b.grantMs,
      kind: 'bonus',
      requester: b.account,
      worker: b.workerId,
      hitId: b.hitId,
      assignmentId: b.assignmentId,
      memo: 'imported from hitstate sim',
      entries: [
        [available(b.account), -(b.amountCents + b.feeCents)],
        [workerAccount(b.workerId), b.amountCents],
        [FEES, b.feeCents],
      ],
    });
  }
  for (const a of r.accounts) {
    const funded = a.balanceCents + (spent.get(a.accessKeyId) ?? 0);
    if (funded !== 0)
      writeTxn(db, {
        atMs: nowMs,
        kind: 'fund',
        requester: a.accessKeyId,
        memo: 'imported from hitstate sim: balance and everything paid',
        entries: [
          [FUNDING, -funded],
          [available(a.accessKeyId), funded],
        ],
      });
  }
  for (const t of paid) writeTxn(db, t);
  for (const a of r.accounts)
    if (a.onHoldCents !== 0)
      writeTxn(db, {
        atMs: nowMs,
        kind: 'hold',
        requester: a.accessKeyId,
        memo: 'imported from hitstate sim: held for open HITs',
        entries: [
          [available(a.accessKeyId), -a.onHoldCents],
          [escrow(a.accessKeyId), a.onHoldCents],
        ],
      });
}
