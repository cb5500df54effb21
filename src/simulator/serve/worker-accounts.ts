/**
 * Worker accounts of `hitstate serve`: invitations, sign-up, sign-in, sessions and the sign-in
 * rate limit.
 *
 * - Sign-up needs an invitation code (made by `hitstate serve invite`); it may grant a
 *   qualification, and the sign-up link may carry an external participant id (`PROLIFIC_PID`).
 * - Passwords are hashed with scrypt (`node:crypto`, N=2^15, r=8, p=1, 16-byte salt), compared in
 *   constant time.
 * - A session is a random 32-byte token in an `HttpOnly; Secure; SameSite=Lax` cookie; the
 *   database keeps only its SHA-256, with the session's CSRF token. Signing out ends every session
 *   of the worker.
 * - Sign-in attempts are limited per account (5 per 15 minutes) and per address (30 per 15
 *   minutes), counted in memory: a restart forgets them, which is fine for a rate limit.
 *
 * @module
 */
import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { HitstateError } from '../../errors.js';
import type { Db } from './db.js';
import type { Statement } from 'better-sqlite3';

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 32;
/** How long a session lasts without signing in again. */
export const SESSION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LEN, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$key` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await new Promise<Buffer>((resolve, reject) =>
    scrypt(
      password,
      Buffer.from(salt, 'base64'),
      expected.length,
      { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem },
      (err, k) => (err ? reject(err) : resolve(k)),
    ),
  );
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const WORKER_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const chars = (alphabet: string, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
};

/** Options of {@link createInvites}. */
export interface InviteOptions {
  count: number;
  /** Granted on sign-up: a qualification type id and an integer value. */
  qualification?: { qualificationTypeId: string; value: number };
  expiresDays?: number;
  /** The requester account that made them (its own crowd); absent for the operator's. */
  requester?: string;
}

/**
 * Makes invitation codes (each signs up one account).
 *
 * @throws HitstateError `HST_ERR_SERVE_OPTIONS_INVALID` naming the bad option.
 */
export function createInvites(db: Db, o: InviteOptions, nowMs = Date.now()): string[] {
  if (!(Number.isInteger(o.count) && o.count >= 1 && o.count <= 10_000))
    throw new HitstateError('HST_ERR_SERVE_OPTIONS_INVALID', `--count: must be 1 to 10000, got ${String(o.count)}.`, {
      field: 'count',
    });
  if (o.expiresDays !== undefined && !(o.expiresDays > 0))
    throw new HitstateError('HST_ERR_SERVE_OPTIONS_INVALID', '--expires: must be a number of days above 0.', {
      field: 'expires',
    });
  const insert = db.prepare(
    'INSERT INTO invites (code, created_ms, expires_ms, qualification_type_id, qualification_value, requester) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const codes: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < o.count; i++) {
      const code = chars(CODE_ALPHABET, 16);
      insert.run(
        code,
        nowMs,
        o.expiresDays === undefined ? null : nowMs + o.expiresDays * 86_400_000,
        o.qualification?.qualificationTypeId ?? null,
        o.qualification?.value ?? null,
        o.requester ?? null,
      );
      codes.push(code);
    }
  })();
  return codes;
}

/** `TYPE:VALUE` of `--qualification`. */
export function parseQualificationOption(text: string): { qualificationTypeId: string; value: number } {
  const m = /^([A-Z0-9]{1,64}):(-?\d{1,9})$/.exec(text);
  if (!m)
    throw new HitstateError(
      'HST_ERR_SERVE_OPTIONS_INVALID',
      `--qualification: ${JSON.stringify(text.slice(0, 80))} must be QUALIFICATION_TYPE_ID:INTEGER, e.g. 3ZK...:1.`,
      { field: 'qualification' },
    );
  return { qualificationTypeId: m[1]!, value: Number(m[2]) };
}

/** A usable invitation, or why not. */
export function inviteStatus(
  db: Db,
  code: string,
  nowMs: number,
): { ok: true; qualification?: { qualificationTypeId: string; value: number } } | { ok: false; reason: string } {
  const row = db.prepare('SELECT * FROM invites WHERE code = ?').get(code) as
    | {
        expires_ms: number | null;
        used_by: string | null;
        qualification_type_id: string | null;
        qualification_value: number | null;
      }
    | undefined;
  if (!row) return { ok: false, reason: 'This invitation code does not exist. Check the link you were given.' };
  if (row.used_by !== null) return { ok: false, reason: 'This invitation has already been used to create an account.' };
  if (row.expires_ms !== null && row.expires_ms <= nowMs)
    return { ok: false, reason: 'This invitation has expired. Ask for a new one.' };
  return row.qualification_type_id
    ? {
        ok: true,
        qualification: { qualificationTypeId: row.qualification_type_id, value: row.qualification_value ?? 1 },
      }
    : { ok: true };
}

/** A problem with the sign-up form, naming the field. */
export class SignUpError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks a username and password as typed; undefined when fine. */
export function credentialProblem(username: string, password: string): SignUpError | undefined {
  if (!/^[A-Za-z0-9._@-]{3,64}$/.test(username))
    return new SignUpError('username', 'Use 3 to 64 letters, digits, dots, dashes, underscores or @.');
  if (password.length < 10) return new SignUpError('password', 'Use at least 10 characters.');
  if (password.length > 200) return new SignUpError('password', 'Use at most 200 characters.');
  return undefined;
}

/**
 * Creates a worker account from an invitation, in one transaction (the invitation is used once
 * even when two sign-ups race). Returns the new worker id (`A` + 13) and the invite's grant.
 */
export async function signUp(
  db: Db,
  input: { invite: string; username: string; password: string; externalId?: string; openSignUp?: boolean },
  nowMs = Date.now(),
): Promise<{ workerId: string; qualification?: { qualificationTypeId: string; value: number } }> {
  const problem = credentialProblem(input.username, input.password);
  if (problem) throw problem;
  const hash = await hashPassword(input.password);
  // Open sign-up (an operator setting) takes an empty code; a code given is still checked.
  const withInvite = input.invite !== '' || !input.openSignUp;
  return db.transaction(() => {
    const status: ReturnType<typeof inviteStatus> = withInvite ? inviteStatus(db, input.invite, nowMs) : { ok: true };
    if (!status.ok) throw new SignUpError('invite', status.reason);
    if (db.prepare('SELECT 1 FROM worker_accounts WHERE username = ?').get(input.username))
      throw new SignUpError('username', 'This username is taken; choose another.');
    let workerId: string;
    do workerId = `A${chars(WORKER_ALPHABET, 13)}`;
    while (db.prepare('SELECT 1 FROM worker_accounts WHERE worker_id = ?').get(workerId));
    db.prepare(
      'INSERT INTO worker_accounts (worker_id, username, password_hash, external_id, invite, created_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(workerId, input.username, hash, input.externalId ?? null, withInvite ? input.invite : null, nowMs);
    if (withInvite)
      db.prepare('UPDATE invites SET used_by = ?, used_ms = ? WHERE code = ?').run(workerId, nowMs, input.invite);
    return status.qualification ? { workerId, qualification: status.qualification } : { workerId };
  })();
}

/** The worker id of a username and password, or undefined (same answer for unknown name and bad password). */
export async function checkSignIn(db: Db, username: string, password: string): Promise<string | undefined> {
  const row = db
    .prepare('SELECT worker_id, password_hash, disabled FROM worker_accounts WHERE username = ?')
    .get(username) as { worker_id: string; password_hash: string; disabled: number } | undefined;
  // An unknown name costs a hash too, so timing does not tell which names exist.
  const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash()));
  return row && ok && row.disabled === 0 ? row.worker_id : undefined;
}

let dummy: Promise<string> | undefined;
const dummyHash = (): Promise<string> => {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
};

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Opens a session; the token goes in the cookie, only its hash in the database. */
export function openSession(db: Db, workerId: string, nowMs = Date.now()): { token: string; csrf: string } {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  db.prepare('INSERT INTO sessions (token_hash, worker_id, csrf, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)').run(
    sha256(token),
    workerId,
    csrf,
    nowMs,
    nowMs + SESSION_TTL_MS,
  );
  return { token, csrf };
}

/** The session lookup of each database, prepared once: every page and form of the site asks it. */
const sessionLookups = new WeakMap<Db, Statement>();

/** The session of a cookie token, if valid. */
export function sessionOf(
  db: Db,
  token: string | undefined,
  nowMs = Date.now(),
): { workerId: string; csrf: string; username: string; externalId: string | null } | undefined {
  if (!token) return undefined;
  let lookup = sessionLookups.get(db);
  if (lookup === undefined) {
    lookup = db.prepare(
      `SELECT s.worker_id, s.csrf, s.expires_ms, a.username, a.external_id, a.disabled FROM sessions s
       JOIN worker_accounts a ON a.worker_id = s.worker_id WHERE s.token_hash = ?`,
    );
    sessionLookups.set(db, lookup);
  }
  const row = lookup.get(sha256(token)) as
    | {
        worker_id: string;
        csrf: string;
        expires_ms: number;
        username: string;
        external_id: string | null;
        disabled: number;
      }
    | undefined;
  if (!row || row.expires_ms <= nowMs || row.disabled !== 0) return undefined;
  return { workerId: row.worker_id, csrf: row.csrf, username: row.username, externalId: row.external_id };
}

/** Ends every session of the worker (sign out everywhere). */
export function endSessions(db: Db, workerId: string): void {
  db.prepare('DELETE FROM sessions WHERE worker_id = ?').run(workerId);
}

/** The external participant id of each worker that has one. */
export function externalIds(db: Db): Map<string, string> {
  return new Map(
    (
      db.prepare('SELECT worker_id, external_id FROM worker_accounts WHERE external_id IS NOT NULL').all() as {
        worker_id: string;
        external_id: string;
      }[]
    ).map((r) => [r.worker_id, r.external_id]),
  );
}

/** Sliding-window limits on sign-in attempts, per account name and per client address. */
export class SignInLimiter {
  readonly #attempts = new Map<string, number[]>();
  constructor(
    readonly perAccount = 5,
    readonly perAddress = 30,
    readonly windowMs = 15 * 60 * 1000,
  ) {}

  #recent(key: string, nowMs: number): number[] {
    const list = (this.#attempts.get(key) ?? []).filter((t) => t > nowMs - this.windowMs);
    this.#attempts.set(key, list);
    return list;
  }

  /** Whether one more attempt is allowed; counts it when it is. Returns the seconds to wait otherwise. */
  take(username: string, address: string, nowMs: number): { ok: true } | { ok: false; retryAfterSec: number } {
    const a = this.#recent(`u:${username.toLowerCase()}`, nowMs);
    const b = this.#recent(`a:${address}`, nowMs);
    if (a.length >= this.perAccount || b.length >= this.perAddress) {
      const oldest = Math.min(
        a.length >= this.perAccount ? a[0]! : Infinity,
        b.length >= this.perAddress ? b[0]! : Infinity,
      );
      return { ok: false, retryAfterSec: Math.ceil((oldest + this.windowMs - nowMs) / 1000) };
    }
    a.push(nowMs);
    b.push(nowMs);
    if (this.#attempts.size > 100_000) this.#attempts.clear(); // bounded memory under a flood
    return { ok: true };
  }

  /** A successful sign-in clears the account's count. */
  reset(username: string): void {
    this.#attempts.delete(`u:${username.toLowerCase()}`);
  }
}
