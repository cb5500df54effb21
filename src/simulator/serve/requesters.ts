/**
 * Requester accounts of `hitstate serve`: names, AWS-style credentials, and the operator's
 * changes (funding, disabling) queued for the server.
 *
 * Secrets are stored as they are: SigV4 is an HMAC keyed by the secret, so the server needs the
 * secret itself to check a signature (a hash would not do, and encrypting it with a key kept on
 * the same machine adds no protection). The database file is mode 0600; back it up as a secret.
 *
 * Credentials live in their own table and are read on every call, so `add`, `rotate-key` and
 * `disable` work while the server runs. Funding changes the engine's account balance, which the
 * running server owns in memory: `fund` queues the change in `admin_ops`, and the server applies
 * it (with its ledger entry, in one transaction) within a second, or when it next starts.
 *
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import { HitstateError } from '../../errors.js';
import { formatCents } from '../money.js';
import type { Db } from './db.js';
import type { RequesterCredentials } from './sigv4.js';
import { readRecord } from './store.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomChars = (alphabet: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
};

/** An access key id shaped like AWS's (`AKIA` + 16), and a 40-character secret. */
function newKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: `AKIA${randomChars(BASE32, 16)}`,
    secretAccessKey: randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y'),
  };
}

function requesterError(message: string, field: string): HitstateError {
  return new HitstateError('HST_ERR_SERVE_REQUESTER', message, { field });
}

/** A requester name: what the operator types; 1-64 letters, digits, `.`, `_`, `-`. */
export function checkRequesterName(name: string): void {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name))
    throw requesterError(
      `NAME: ${JSON.stringify(name.slice(0, 80))} is not a requester name; use 1-64 letters, digits, '.', '_' or '-'.`,
      'name',
    );
}

/**
 * Dollars as typed by the operator (`25`, `12.50`) in cents.
 *
 * @throws HitstateError `HST_ERR_SERVE_REQUESTER` naming the field.
 */
export function parseUsd(text: string, field: string): number {
  if (!/^[0-9]{1,9}(\.[0-9]{1,2})?$/.test(text.trim()))
    throw requesterError(
      `${field}: ${JSON.stringify(text.slice(0, 40))} is not an amount of dollars; write it like 25 or 12.50.`,
      field,
    );
  const [whole, fraction = ''] = text.trim().split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** A row of the requesters table. */
interface RequesterRow {
  id: string;
  name: string;
  access_key_id: string;
  secret: string;
  disabled: number;
  created_ms: number;
}

function rowByName(db: Db, name: string): RequesterRow {
  const row = db.prepare('SELECT * FROM requesters WHERE name = ?').get(name) as RequesterRow | undefined;
  if (!row)
    throw requesterError(
      `No requester named ${JSON.stringify(name)}; \`hitstate serve requester list\` shows the names.`,
      'name',
    );
  return row;
}

/** What `requester add` and `rotate-key` print once. */
export interface IssuedKeys {
  requesterId: string;
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Creates a requester and its keys; a starting balance is queued as funding.
 *
 * @throws HitstateError `HST_ERR_SERVE_REQUESTER` when the name is taken or invalid.
 */
export function addRequester(db: Db, name: string, balanceCents = 0, nowMs = Date.now()): IssuedKeys {
  checkRequesterName(name);
  if (db.prepare('SELECT 1 FROM requesters WHERE name = ?').get(name))
    throw requesterError(`A requester named ${JSON.stringify(name)} already exists; choose another name.`, 'name');
  const keys = newKeyPair();
  // The engine's account id: stable across key rotations, shaped like a customer id.
  const requesterId = `R${randomChars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 13)}`;
  db.transaction(() => {
    db.prepare(
      'INSERT INTO requesters (id, name, access_key_id, secret, disabled, created_ms) VALUES (?, ?, ?, ?, 0, ?)',
    ).run(requesterId, name, keys.accessKeyId, keys.secretAccessKey, nowMs);
    if (balanceCents > 0) queueFunding(db, requesterId, balanceCents, 'starting balance', nowMs);
  })();
  return { requesterId, name, ...keys };
}

function queueFunding(db: Db, requesterId: string, cents: number, memo: string, nowMs: number): void {
  db.prepare("INSERT INTO admin_ops (kind, requester, amount_cents, memo, created_ms) VALUES ('fund', ?, ?, ?, ?)").run(
    requesterId,
    cents,
    memo,
    nowMs,
  );
}

/** Queues funding of a requester's prepaid balance (applied by the server, recorded in the ledger). */
export function fundRequester(db: Db, name: string, cents: number, nowMs = Date.now()): { opId: number } {
  const row = rowByName(db, name);
  if (!(cents > 0)) throw requesterError('USD: the amount to fund must be above 0.', 'usd');
  queueFunding(db, row.id, cents, 'funded by the operator', nowMs);
  const op = db.prepare('SELECT max(id) AS id FROM admin_ops').get() as { id: number };
  return { opId: op.id };
}

/** Whether a queued operator change has been applied by a server. */
export function opApplied(db: Db, opId: number): boolean {
  const row = db.prepare('SELECT applied_ms FROM admin_ops WHERE id = ?').get(opId) as
    | { applied_ms: number | null }
    | undefined;
  return row?.applied_ms != null;
}

/** Replaces a requester's keys; the old access key stops working at once. */
export function rotateKey(db: Db, name: string): IssuedKeys {
  const row = rowByName(db, name);
  const keys = newKeyPair();
  db.prepare('UPDATE requesters SET access_key_id = ?, secret = ? WHERE id = ?').run(
    keys.accessKeyId,
    keys.secretAccessKey,
    row.id,
  );
  return { requesterId: row.id, name, ...keys };
}

/** Disables (or enables again) a requester: its calls are refused as an unknown key is. */
export function setDisabled(db: Db, name: string, disabled: boolean): void {
  const row = rowByName(db, name);
  db.prepare('UPDATE requesters SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, row.id);
}

/** A requester as `requester list` shows it (never the secret). */
export interface RequesterSummary {
  name: string;
  requesterId: string;
  accessKeyId: string;
  disabled: boolean;
  createdMs: number;
  /** Dollars: the balance the server holds (available + on hold), and funding still queued. */
  balance: string;
  onHold: string;
  pendingFunding: string;
}

/** Every requester, by name. */
export function listRequesters(db: Db): RequesterSummary[] {
  const rows = db.prepare('SELECT * FROM requesters ORDER BY name').all() as RequesterRow[];
  const pending = db.prepare(
    "SELECT coalesce(sum(amount_cents), 0) AS c FROM admin_ops WHERE kind = 'fund' AND requester = ? AND applied_ms IS NULL",
  );
  return rows.map((r) => {
    const account = readRecord(db, 'account', r.id);
    return {
      name: r.name,
      requesterId: r.id,
      accessKeyId: r.access_key_id,
      disabled: r.disabled === 1,
      createdMs: r.created_ms,
      balance: formatCents(account?.balanceCents ?? 0),
      onHold: formatCents(account?.onHoldCents ?? 0),
      pendingFunding: formatCents((pending.get(r.id) as { c: number }).c),
    };
  });
}

/** Looks up credentials by access key id (one indexed read per call, so key changes apply at once). */
export function credentialLookup(db: Db): (accessKeyId: string) => RequesterCredentials | undefined {
  const stmt = db.prepare('SELECT id, access_key_id, secret, disabled FROM requesters WHERE access_key_id = ?');
  return (accessKeyId) => {
    const row = stmt.get(accessKeyId) as Pick<RequesterRow, 'id' | 'access_key_id' | 'secret' | 'disabled'> | undefined;
    return row
      ? {
          requesterId: row.id,
          accessKeyId: row.access_key_id,
          secretAccessKey: row.secret,
          disabled: row.disabled === 1,
        }
      : undefined;
  };
}

/** A queued operator change. */
export interface AdminOp {
  id: number;
  kind: 'fund';
  requester: string;
  amountCents: number;
  memo: string;
  createdMs: number;
}

/** Operator changes not applied yet, oldest first. */
export function pendingOps(db: Db): AdminOp[] {
  return (
    db.prepare('SELECT * FROM admin_ops WHERE applied_ms IS NULL ORDER BY id').all() as {
      id: number;
      kind: 'fund';
      requester: string;
      amount_cents: number;
      memo: string;
      created_ms: number;
    }[]
  ).map((r) => ({
    id: r.id,
    kind: r.kind,
    requester: r.requester,
    amountCents: r.amount_cents,
    memo: r.memo,
    createdMs: r.created_ms,
  }));
}
