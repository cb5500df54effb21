/**
 * The double-entry ledger of `hitstate serve`. Every movement of money is a transaction whose
 * entries sum to zero, over these accounts:
 *
 * | Account | Holds |
 * |---|---|
 * | `outside:funding` | money the operator put in (negative: what came in) |
 * | `requester:ID:available` | a requester's balance not held for HIT slots |
 * | `requester:ID:escrow` | what is held for slots that may still be paid (MTurk's prepaid model) |
 * | `worker:ID` | what a worker has earned and not been paid out yet |
 * | `platform:fees` | the commission (MTurk's fee rules, `money.ts`) |
 * | `outside:payouts` | what was paid out to workers through the lab's own channel |
 *
 * Transaction kinds: `fund`, `hold` (available → escrow when a HIT is created or extended),
 * `refund` (escrow → available for slots no longer needed: expiry, rejection, return of unused
 * slots), `reward` (escrow, or available for an overridden rejection → worker + fees), `bonus`
 * (available → worker + fees), `payout` (worker → outside).
 *
 * The engine reports movements through its `onMoney` hook; they are written in the same
 * transaction as the records they change.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { HitstateError } from '../../errors.js';
import type { MoneyMovement } from '../engine.js';
import type { AccountRecord, AssignmentRecord, BonusRecord, HitRecord, HitTypeRecord } from '../model.js';
import { assignmentCostCents, formatCents } from '../money.js';
import type { Db } from './db.js';
import type { RecordWriter } from './store.js';

export const FUNDING = 'outside:funding';
export const PAYOUTS = 'outside:payouts';
export const FEES = 'platform:fees';
export const available = (requester: string): string => `requester:${requester}:available`;
export const escrow = (requester: string): string => `requester:${requester}:escrow`;
export const workerAccount = (worker: string): string => `worker:${worker}`;

/** One ledger transaction before it is written. */
export interface LedgerTxn {
  atMs: number;
  kind: 'fund' | 'hold' | 'refund' | 'reward' | 'bonus' | 'payout';
  requester?: string;
  worker?: string;
  hitId?: string;
  assignmentId?: string;
  memo?: string;
  /** Account → cents; sums to zero. */
  entries: [string, number][];
}

/** Writes a transaction; the caller runs it inside a database transaction. */
export function writeTxn(db: Db, t: LedgerTxn): void {
  const sum = t.entries.reduce((s, [, c]) => s + c, 0);
  if (sum !== 0) throw new Error(`Ledger transaction ${t.kind} does not balance (sum ${sum} cents).`);
  const { lastInsertRowid } = db
    .prepare(
      'INSERT INTO ledger_txn (at_ms, kind, requester, worker, hit_id, assignment_id, memo) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    .run(
      t.atMs,
      t.kind,
      t.requester ?? null,
      t.worker ?? null,
      t.hitId ?? null,
      t.assignmentId ?? null,
      t.memo ?? null,
    );
  const entry = db.prepare('INSERT INTO ledger_entry (txn_id, account, amount_cents) VALUES (?, ?, ?)');
  for (const [account, cents] of t.entries) if (cents !== 0) entry.run(lastInsertRowid, account, cents);
}

/** Turns the engine's money movements into ledger transactions written with the next flush. */
export class Ledger {
  readonly #writer: RecordWriter;
  /** Cents a reward took from a HIT's escrow that the HIT's next escrow decrease accounts for. */
  readonly #consumed = new Map<string, number>();
  #bonusesPosted: number;

  constructor(writer: RecordWriter, bonusesAlreadyPosted: number) {
    this.#writer = writer;
    this.#bonusesPosted = bonusesAlreadyPosted;
  }

  post(t: LedgerTxn): void {
    this.#writer.include((db) => writeTxn(db, t));
  }

  /** The engine's hook. */
  onMoney = (m: MoneyMovement): void => {
    if (m.kind === 'reward') {
      const cost = m.rewardCents + m.feeCents;
      if (m.fromEscrow) this.#consumed.set(m.hitId, (this.#consumed.get(m.hitId) ?? 0) + cost);
      this.post({
        atMs: m.atMs,
        kind: 'reward',
        requester: m.account,
        worker: m.workerId,
        hitId: m.hitId,
        assignmentId: m.assignmentId,
        entries: [
          [m.fromEscrow ? escrow(m.account) : available(m.account), -cost],
          [workerAccount(m.workerId), m.rewardCents],
          [FEES, m.feeCents],
        ],
      });
      return;
    }
    if (m.deltaCents > 0) {
      this.post({
        atMs: m.atMs,
        kind: 'hold',
        requester: m.account,
        hitId: m.hitId,
        entries: [
          [available(m.account), -m.deltaCents],
          [escrow(m.account), m.deltaCents],
        ],
      });
      return;
    }
    const released = -m.deltaCents;
    const used = Math.min(released, this.#consumed.get(m.hitId) ?? 0);
    if (used > 0) {
      const left = (this.#consumed.get(m.hitId) ?? 0) - used;
      if (left > 0) this.#consumed.set(m.hitId, left);
      else this.#consumed.delete(m.hitId);
    }
    if (released - used > 0)
      this.post({
        atMs: m.atMs,
        kind: 'refund',
        requester: m.account,
        hitId: m.hitId,
        entries: [
          [escrow(m.account), -(released - used)],
          [available(m.account), released - used],
        ],
      });
  };

  /** Posts the bonuses granted since the last call (the engine appends them to its bonus log). */
  postBonuses(bonuses: readonly BonusRecord[]): void {
    for (; this.#bonusesPosted < bonuses.length; this.#bonusesPosted++) {
      const b = bonuses[this.#bonusesPosted]!;
      this.post({
        atMs: b.grantMs,
        kind: 'bonus',
        requester: b.account,
        worker: b.workerId,
        hitId: b.hitId,
        assignmentId: b.assignmentId,
        entries: [
          [available(b.account), -(b.amountCents + b.feeCents)],
          [workerAccount(b.workerId), b.amountCents],
          [FEES, b.feeCents],
        ],
      });
    }
  }
}

/** Balances of every ledger account. */
export function balances(db: Db): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of db.prepare('SELECT account, sum(amount_cents) AS c FROM ledger_entry GROUP BY account').all() as {
    account: string;
    c: number;
  }[])
    out.set(r.account, r.c);
  return out;
}

/** Totals of the ledger and what the invariant check found. */
export interface LedgerReport {
  /** Everything taken from requesters: holds plus rewards of overridden rejections plus bonuses with fees. */
  requesterDebitsCents: number;
  workerCreditsCents: number;
  feesCents: number;
  refundsCents: number;
  /** Still held for open slots. */
  heldCents: number;
  fundedCents: number;
  paidOutCents: number;
  /** Empty when the invariant holds. */
  problems: string[];
}

/**
 * The invariant check: every transaction balances; requester debits = worker credits + fees +
 * refunds + what is still held, to the cent; each requester's ledger balances equal its account
 * record; each worker's credits equal the rewards of its approved assignments plus its bonuses;
 * the fees equal what the fee rules charge on them.
 */
export function checkLedger(db: Db): LedgerReport {
  const problems: string[] = [];
  for (const r of db
    .prepare('SELECT txn_id, sum(amount_cents) AS s FROM ledger_entry GROUP BY txn_id HAVING s != 0')
    .all() as { txn_id: number; s: number }[])
    problems.push(`transaction ${r.txn_id} does not balance: its entries sum to ${r.s} cents`);
  const sumOf = (sql: string): number => (db.prepare(sql).get() as { c: number | null }).c ?? 0;
  const entriesOf = (kinds: string, accountLike: string, sign: '>' | '<'): number =>
    sumOf(
      `SELECT sum(e.amount_cents) AS c FROM ledger_entry e JOIN ledger_txn t ON t.id = e.txn_id WHERE t.kind IN (${kinds}) AND e.account LIKE '${accountLike}' AND e.amount_cents ${sign} 0`,
    );
  const report: LedgerReport = {
    requesterDebitsCents:
      -entriesOf("'hold'", 'requester:%:available', '<') - entriesOf("'reward','bonus'", 'requester:%:available', '<'),
    workerCreditsCents: entriesOf("'reward','bonus'", 'worker:%', '>'),
    feesCents: entriesOf("'reward','bonus'", FEES, '>'),
    refundsCents: entriesOf("'refund'", 'requester:%:available', '>'),
    heldCents: sumOf("SELECT sum(amount_cents) AS c FROM ledger_entry WHERE account LIKE 'requester:%:escrow'"),
    fundedCents: -sumOf(`SELECT sum(amount_cents) AS c FROM ledger_entry WHERE account = '${FUNDING}'`),
    paidOutCents: sumOf(`SELECT sum(amount_cents) AS c FROM ledger_entry WHERE account = '${PAYOUTS}'`),
    problems,
  };
  const rhs = report.workerCreditsCents + report.feesCents + report.refundsCents + report.heldCents;
  if (report.requesterDebitsCents !== rhs)
    problems.push(
      `requester debits $${formatCents(report.requesterDebitsCents)} != worker credits + fees + refunds + held $${formatCents(rhs)}`,
    );

  const bal = balances(db);
  const records = <T>(kind: string): T[] =>
    (db.prepare('SELECT data FROM records WHERE kind = ?').raw().all(kind) as [string][]).map(
      ([d]) => JSON.parse(d) as T,
    );
  for (const a of records<AccountRecord>('account')) {
    const avail = bal.get(available(a.accessKeyId)) ?? 0;
    const held = bal.get(escrow(a.accessKeyId)) ?? 0;
    if (held !== a.onHoldCents)
      problems.push(
        `requester ${a.accessKeyId}: ledger escrow $${formatCents(held)} != on hold $${formatCents(a.onHoldCents)}`,
      );
    if (avail + held !== a.balanceCents)
      problems.push(
        `requester ${a.accessKeyId}: ledger available + escrow $${formatCents(avail + held)} != balance $${formatCents(a.balanceCents)}`,
      );
  }
  const types = new Map(records<HitTypeRecord>('hitType').map((t) => [t.hitTypeId, t]));
  const hits = new Map(records<HitRecord>('hit').map((h) => [h.hitId, h]));
  const expectCredit = new Map<string, number>();
  let expectFees = 0;
  for (const a of records<AssignmentRecord>('assignment')) {
    if (a.status !== 'Approved') continue;
    const hit = hits.get(a.hitId);
    const type = hit && types.get(hit.hitTypeId);
    if (!hit || !type) {
      problems.push(`assignment ${a.assignmentId}: its HIT or HIT type is missing`);
      continue;
    }
    expectCredit.set(a.workerId, (expectCredit.get(a.workerId) ?? 0) + type.rewardCents);
    expectFees += assignmentCostCents(type.rewardCents, hit.maxAssignments) - type.rewardCents;
  }
  for (const b of records<BonusRecord>('bonus')) {
    expectCredit.set(b.workerId, (expectCredit.get(b.workerId) ?? 0) + b.amountCents);
    expectFees += b.feeCents;
  }
  const paid = new Map<string, number>();
  for (const r of db
    .prepare(
      "SELECT e.account, sum(e.amount_cents) AS c FROM ledger_entry e JOIN ledger_txn t ON t.id = e.txn_id WHERE t.kind = 'payout' GROUP BY e.account",
    )
    .all() as { account: string; c: number }[])
    paid.set(r.account, r.c);
  const workers = new Set([
    ...expectCredit.keys(),
    ...[...bal.keys()].filter((k) => k.startsWith('worker:')).map((k) => k.slice(7)),
  ]);
  for (const w of workers) {
    const credited = (bal.get(workerAccount(w)) ?? 0) - (paid.get(workerAccount(w)) ?? 0);
    const expected = expectCredit.get(w) ?? 0;
    if (credited !== expected)
      problems.push(
        `worker ${w}: ledger credits $${formatCents(credited)} != approved rewards + bonuses $${formatCents(expected)}`,
      );
  }
  if (report.feesCents !== expectFees)
    problems.push(
      `fees: ledger $${formatCents(report.feesCents)} != fee rules on approved work and bonuses $${formatCents(expectFees)}`,
    );
  return report;
}

// --- payouts ---------------------------------------------------------------------------------

/** One worker's line in a payout batch. */
export interface PayoutLine {
  workerId: string;
  /** The worker's account (username) on the site; empty for a worker without one. */
  account: string;
  /** The participant id on another platform (e.g. PROLIFIC_PID from the sign-up link), or empty. */
  externalId: string;
  amountCents: number;
  items: number;
}

/** A payout batch: credits grouped per worker, to be paid through the lab's own channel. */
export interface PayoutBatch {
  batchId: string;
  createdMs: number;
  sinceMs: number;
  paidMs: number | null;
  lines: PayoutLine[];
}

function payoutError(message: string, field: string): HitstateError {
  return new HitstateError('HST_ERR_SERVE_PAYOUT', message, { field });
}

/**
 * Parses `--since` (an ISO date or date-time) to epoch ms.
 *
 * @throws HitstateError `HST_ERR_SERVE_PAYOUT` naming `since`.
 */
export function parseSince(text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(/T/.test(text) ? text : `${text}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(ms))
    throw payoutError(
      `--since: ${JSON.stringify(text.slice(0, 40))} is not a date; write it like 2026-12-01.`,
      'since',
    );
  return ms;
}

function readBatch(db: Db, batchId: string): PayoutBatch | undefined {
  const b = db.prepare('SELECT * FROM payout_batch WHERE id = ?').get(batchId) as
    | { id: string; created_ms: number; since_ms: number; paid_ms: number | null }
    | undefined;
  if (!b) return undefined;
  const lines = (
    db
      .prepare(
        `SELECT p.worker, p.amount_cents, p.items, a.username, a.external_id FROM payout_item p
         LEFT JOIN worker_accounts a ON a.worker_id = p.worker WHERE p.batch_id = ? ORDER BY p.worker`,
      )
      .all(batchId) as {
      worker: string;
      amount_cents: number;
      items: number;
      username: string | null;
      external_id: string | null;
    }[]
  ).map((r) => ({
    workerId: r.worker,
    account: r.username ?? '',
    externalId: r.external_id ?? '',
    amountCents: r.amount_cents,
    items: r.items,
  }));
  return { batchId: b.id, createdMs: b.created_ms, sinceMs: b.since_ms, paidMs: b.paid_ms, lines };
}

/**
 * Groups every worker credit made since `sinceMs` and not in a batch yet into a new batch, and
 * returns it (undefined when nothing is owed). The credits are marked as batched in the same
 * transaction, so running it twice never lists a credit twice.
 */
export function makePayoutBatch(db: Db, sinceMs: number, nowMs = Date.now()): PayoutBatch | undefined {
  return db.transaction(() => {
    const rows = db
      .prepare(
        `SELECT t.id, e.account, e.amount_cents FROM ledger_txn t JOIN ledger_entry e ON e.txn_id = t.id
         WHERE t.kind IN ('reward', 'bonus') AND t.batch_id IS NULL AND t.at_ms >= ? AND e.account LIKE 'worker:%'`,
      )
      .all(sinceMs) as { id: number; account: string; amount_cents: number }[];
    if (rows.length === 0) return undefined;
    const batchId = `B${new Date(nowMs).toISOString().slice(0, 10).replace(/-/g, '')}-${String(randomInt(1e6)).padStart(6, '0')}`;
    db.prepare('INSERT INTO payout_batch (id, created_ms, since_ms) VALUES (?, ?, ?)').run(batchId, nowMs, sinceMs);
    const per = new Map<string, { cents: number; items: number }>();
    const mark = db.prepare('UPDATE ledger_txn SET batch_id = ? WHERE id = ?');
    for (const r of rows) {
      const w = r.account.slice('worker:'.length);
      const p = per.get(w) ?? { cents: 0, items: 0 };
      p.cents += r.amount_cents;
      p.items++;
      per.set(w, p);
      mark.run(batchId, r.id);
    }
    const item = db.prepare('INSERT INTO payout_item (batch_id, worker, amount_cents, items) VALUES (?, ?, ?, ?)');
    for (const [w, p] of per) item.run(batchId, w, p.cents, p.items);
    return readBatch(db, batchId);
  })();
}

/** Batches made and not marked paid yet. */
export function openPayoutBatches(db: Db): PayoutBatch[] {
  return (
    db.prepare('SELECT id FROM payout_batch WHERE paid_ms IS NULL ORDER BY created_ms').all() as { id: string }[]
  ).map((r) => readBatch(db, r.id)!);
}

/**
 * Records that a batch was paid: one `payout` transaction per worker. Idempotent: a batch already
 * marked paid is left as it is and reported with `already: true`.
 *
 * @throws HitstateError `HST_ERR_SERVE_PAYOUT` when the batch does not exist.
 */
export function markBatchPaid(db: Db, batchId: string, nowMs = Date.now()): { batch: PayoutBatch; already: boolean } {
  return db.transaction(() => {
    const batch = readBatch(db, batchId);
    if (!batch)
      throw payoutError(
        `No payout batch ${JSON.stringify(batchId.slice(0, 40))}; \`hitstate serve payouts\` prints the open batches.`,
        'batch',
      );
    if (batch.paidMs !== null) return { batch, already: true };
    for (const line of batch.lines)
      writeTxn(db, {
        atMs: nowMs,
        kind: 'payout',
        worker: line.workerId,
        memo: `batch ${batchId}`,
        entries: [
          [workerAccount(line.workerId), -line.amountCents],
          [PAYOUTS, line.amountCents],
        ],
      });
    db.prepare('UPDATE payout_batch SET paid_ms = ? WHERE id = ?').run(nowMs, batchId);
    return { batch: { ...batch, paidMs: nowMs }, already: false };
  })();
}

/** Funding as the server applies it: balance and ledger in the caller's transaction. */
export function fundingTxn(requester: string, cents: number, atMs: number, memo: string): LedgerTxn {
  return {
    atMs,
    kind: 'fund',
    requester,
    memo,
    entries: [
      [FUNDING, -cents],
      [available(requester), cents],
    ],
  };
}
