/**
 * The one table of hitstate's error codes, and the error class that carries them.
 *
 * Codes follow `HST_ERR_<AREA>_<PROBLEM>`, are stable across minor versions and are never
 * reused. Every code here has a row in `docs/errors.md` (a test checks both directions).
 *
 * @module
 */

/** What a code means and how a user fixes it; `httpStatus` is used when a server answers with it. */
export interface ErrorCodeInfo {
  readonly meaning: string;
  readonly fix: string;
  readonly httpStatus?: number;
}

/**
 * Every error code hitstate raises. Add new codes inside the section of their area, and add the
 * same row to `docs/errors.md`.
 */
export const ERROR_CODES = {
  // --- configuration -------------------------------------------------------------------------
  HST_ERR_CONFIG_INVALID: {
    meaning:
      'A configuration object or file has one or more invalid fields; the message lists every problem with its field path.',
    fix: 'Correct each listed field as the message says, then run the command again.',
  },

  // --- credentials ---------------------------------------------------------------------------
  HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND: {
    meaning: 'The named AWS profile does not exist in ~/.aws/credentials or ~/.aws/config.',
    fix: 'Create the profile with `aws configure --profile NAME`, or pass another profile name.',
  },
  HST_ERR_CREDENTIALS_UNUSABLE: {
    meaning:
      'The AWS credential chain produced no usable credentials (missing keys, expired session token, broken SSO login).',
    fix: 'Refresh the credentials (e.g. `aws sso login`, new session token) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
  },

  // --- MTurk gateway -------------------------------------------------------------------------
  HST_ERR_MTURK_THROTTLED: {
    meaning: 'MTurk kept answering ThrottlingException after every retry the rate governor allows.',
    fix: 'Lower the request rate (governor ratePerSecond) or retry later; nothing was done twice.',
  },
  HST_ERR_MTURK_UNAVAILABLE: {
    meaning: 'MTurk (or the endpoint) answered a ServiceFault, dropped the connection or timed out after every retry.',
    fix: 'Check the endpoint and network, then retry; calls with money or HIT creation are idempotent.',
  },
  HST_ERR_MTURK_REQUEST_INVALID: {
    meaning: 'MTurk refused a request as invalid (RequestError); the message carries its TurkErrorCode.',
    fix: 'Read the MTurk message; it names the field or the state that made the call invalid.',
  },
  HST_ERR_MTURK_NOT_FOUND: {
    meaning: 'The HIT, assignment, qualification type or worker does not exist on this MTurk endpoint.',
    fix: 'Check the id and that it belongs to this environment (live, sandbox or custom endpoint).',
  },
  HST_ERR_MTURK_FEEDBACK_REQUIRED: {
    meaning: 'A rejection was asked for without RequesterFeedback, which MTurk requires.',
    fix: 'Pass a feedback text (1 to 1024 characters) telling the worker why the work was rejected.',
  },
  HST_ERR_MTURK_QUALIFICATION_NOT_OWNED: {
    meaning: 'A qualification type with that exact name exists but belongs to another requester.',
    fix: 'Use another qualification name, or reference the type by its QualificationTypeId.',
  },
  HST_ERR_MTURK_INSUFFICIENT_FUNDS: {
    meaning: 'The requester account balance does not cover the reward or bonus plus MTurk fees.',
    fix: 'Add funds to the MTurk account, or lower the reward, bonus or number of units.',
  },

  // --- question and answer XML ---------------------------------------------------------------
  HST_ERR_XML_MALFORMED: {
    meaning: 'An MTurk answer or question document is not well-formed XML or lacks the expected elements.',
    fix: 'Inspect the raw XML kept in the error; the worker data is not lost, it can be reconciled by hand.',
  },
  HST_ERR_XML_TOO_LARGE: {
    meaning: 'An XML document is larger than the accepted limit, or nests too deeply.',
    fix: 'MTurk answers and questions are limited to 65,535 bytes; shrink the submitted data.',
  },
  HST_ERR_XML_ENTITY: {
    meaning: 'An XML document declares or expands entities beyond the safe limits (entity expansion attack).',
    fix: 'Refuse the document; genuine MTurk answers never declare entities.',
  },

  // --- datastore -----------------------------------------------------------------------------
  HST_ERR_STORE_CORRUPT: {
    meaning: 'A datastore file is truncated or is not valid JSON; hitstate refuses to open it and leaves it untouched.',
    fix: 'Restore the backup named in the message (copy it over the file), or move the file away to start empty.',
  },
  HST_ERR_STORE_LOCKED: {
    meaning: 'Another live process holds the datastore lock.',
    fix: 'Stop the process named by the pid in the message, or use another store directory.',
  },
  HST_ERR_STORE_VERSION_NEWER: {
    meaning: 'The datastore file was written by a newer hitstate with a schema this version does not know.',
    fix: 'Upgrade hitstate to the version that wrote the file.',
  },
  HST_ERR_STORE_MIGRATION_FAILED: {
    meaning: 'Migrating an older datastore file to the current schema failed; the original file is kept.',
    fix: 'Report the message; the pre-migration backup named in it holds the untouched data.',
  },
  HST_ERR_STORE_WRITE_FAILED: {
    meaning: 'Writing the datastore to disk failed (disk full, permissions).',
    fix: 'Free disk space or fix the directory permissions; the in-memory state is written again on the next flush.',
  },
  HST_ERR_STORE_ENVIRONMENT_MISMATCH: {
    meaning: "An id from one MTurk environment was used with another environment's datastore.",
    fix: 'Open the datastore of the environment the id belongs to (live, sandbox or the custom endpoint).',
  },
  HST_ERR_STORE_CLOSED: {
    meaning: 'The datastore was closed; it accepts no more reads or writes.',
    fix: 'Open the store again with openStore() (or restart the command) before using it.',
  },
  HST_ERR_STORE_INVALID_RECORD: {
    meaning:
      'A record given to the datastore is invalid: a malformed id, a value that is not plain JSON, a bad dollar amount.',
    fix: 'Correct the field the message names; ids are letters, digits, `.`, `_`, `-` (and `:` where allowed), data must be plain JSON.',
  },
  HST_ERR_STORE_NOT_FOUND: {
    meaning: 'The datastore has no HIT, requester, worker, money intent or snapshot with that id.',
    fix: 'Check the id and the environment (live, sandbox or custom endpoint) the store was opened for.',
  },
  HST_ERR_STORE_DUPLICATE: {
    meaning:
      'A record with that id (or that money-intent token, or that assignment and worker) already exists with other content.',
    fix: 'Use a new id, or read the existing record instead of creating it again.',
  },
  HST_ERR_STORE_BINDING_CONFLICT: {
    meaning:
      'A HIT cannot be bound to that unit: it belongs to another task run, is bound to another unit, or the unit already holds another HIT.',
    fix: 'Unbind the unit first (unbindUnit), or pick an unbound HIT of the same run.',
  },
  HST_ERR_STORE_INTENT_STATE: {
    meaning: 'A money intent cannot make that move (its states go pending, sent, then confirmed or failed).',
    fix: 'Read the intent with intentByToken() and act on its current state; a confirmed intent is never sent again.',
  },
  HST_ERR_STORE_READ_ONLY: {
    meaning:
      'A change was asked of a datastore opened read-only (openStore with readOnly: true), which never changes anything.',
    fix: 'Open the store without readOnly to change it; that takes its lock, so stop the process holding it first.',
  },

  // --- PostgreSQL datastore -----------------------------------------------------------------
  HST_ERR_STORE_PG_UNREACHABLE: {
    meaning:
      'The PostgreSQL server of the store URL cannot be reached (refused, unknown host, timed out, connection dropped).',
    fix: 'Start the server, or fix the host and port in the store URL (--store or HITSTATE_DATABASE_URL); a commit cut off this way may or may not be durable, so reopen and read it.',
  },
  HST_ERR_STORE_PG_AUTH_FAILED: {
    meaning: 'The PostgreSQL server refused the login (wrong user or password, or no pg_hba.conf line allows it).',
    fix: "Check the user and password in the store URL, or ask the database's administrator to allow the login in pg_hba.conf.",
  },
  HST_ERR_STORE_PG_DATABASE_MISSING: {
    meaning: 'The database named in the store URL does not exist on the PostgreSQL server.',
    fix: 'Create it (`createdb NAME` or CREATE DATABASE NAME), or name an existing database in the URL.',
  },
  HST_ERR_STORE_PG_FAILED: {
    meaning:
      'A PostgreSQL statement of the store failed (missing privilege, database not UTF8, server out of space); the message carries the SQLSTATE.',
    fix: 'Do what the message says (grant the privilege, create a UTF8 database, free space); a refused commit wrote nothing.',
  },

  // --- runtime -------------------------------------------------------------------------------
  HST_ERR_RUN_NOT_FOUND: {
    meaning: 'No task run with that id exists in the datastore.',
    fix: 'List the runs with `hitstate status` and use one of their ids.',
  },
  HST_ERR_RUN_STATE: {
    meaning: 'The task run is not in a state that allows this operation (e.g. launching a finished run).',
    fix: 'Check the run with `hitstate status RUN`; resume, expire or review it as the message suggests.',
  },
  HST_ERR_RUN_OWNED: {
    meaning:
      "Another live process owns the task run (it holds the run's lease: host and pid in the message), or wrote it since this process opened the store.",
    fix: "Work on the run through its owner (`hitstate review` posts to it), wait for that process to end, or stop it; a crashed owner's lease expires and `hitstate resume RUN` takes the run over.",
  },
  HST_ERR_STORE_CONFLICT: {
    meaning:
      'Another process sharing the store changed the same store-wide record (a requester, a run record, a qualification mapping) in a way this change cannot be merged with; the change was refused and the other one kept.',
    fix: "Read the record again (the store now holds the other process's version) and repeat the change if it still applies.",
  },
  HST_ERR_UNIT_NOT_FOUND: {
    meaning: 'No unit with that id exists in the task run.',
    fix: 'Check the unit id with `hitstate status RUN`.',
  },
  HST_ERR_AGENT_NOT_FOUND: {
    meaning: 'No agent matches that id, or that assignment and worker.',
    fix: 'Check the ids; an agent exists only once a worker has registered through the task page.',
  },
  HST_ERR_NO_UNIT_AVAILABLE: {
    meaning: 'A worker arrived but no unit of the run can take them (all assigned, completed or expired).',
    fix: 'The worker should return the HIT; launch more units if more work is wanted.',
  },
  HST_ERR_BUDGET_EXCEEDED: {
    meaning:
      'A launch, added units, a bonus or an approval of rejected work would take the run beyond its budget (spent + held + to launch); nothing was sent.',
    fix: 'Raise the budget with `hitstate budget RUN USD` (or `--budget USD` on `hitstate run`), or ask for less; `hitstate status RUN` shows spent, held and left.',
  },
  HST_ERR_REVIEW_STATE: {
    meaning: 'The agent cannot be reviewed this way in its current state (e.g. approving work never submitted).',
    fix: 'Wait for the unit to complete, or check the agent state with `hitstate status RUN`.',
  },
  HST_ERR_RUNTIME_CLOSED: {
    meaning: 'The runtime was closed; it accepts no more work.',
    fix: 'Create a new runtime (or run `hitstate resume RUN`) to continue.',
  },

  // --- task server ---------------------------------------------------------------------------
  HST_ERR_SERVER_BAD_REQUEST: {
    meaning: 'A request to the task server is malformed (bad JSON, missing or invalid fields).',
    fix: 'Send the fields the message names, as JSON.',
    httpStatus: 400,
  },
  HST_ERR_SERVER_BODY_TOO_LARGE: {
    meaning: 'A request body is larger than the task server accepts.',
    fix: 'Send less data, or raise the server option maxBodyBytes.',
    httpStatus: 413,
  },
  HST_ERR_SERVER_TOKEN_INVALID: {
    meaning: 'The agent token is missing, forged, expired or belongs to another agent.',
    fix: 'Reload the task page from MTurk so the wrapper registers again and gets a fresh token.',
    httpStatus: 401,
  },
  HST_ERR_SERVER_ASSIGNMENT_MISMATCH: {
    meaning: 'The assignment, HIT and worker ids do not belong together, or do not belong to this run.',
    fix: 'Open the task from the MTurk HIT page; ids typed by hand are refused.',
    httpStatus: 403,
  },
  HST_ERR_SERVER_ASSIGNMENT_UNCONFIRMED: {
    meaning:
      'MTurk could not be asked whether the worker holds this assignment, and the HIT is bound to another one: the arrival is neither bound nor refused for good.',
    fix: 'Keep the HIT and reload the task page after the time in Retry-After; the wrapper retries by itself.',
    httpStatus: 503,
  },
  HST_ERR_SERVER_RATE_LIMITED: {
    meaning: 'Too many registrations from this address or on this HIT in a short time.',
    fix: 'Wait the seconds in the Retry-After header, then reload; raise the registrationLimits option if honest workers hit it.',
    httpStatus: 429,
  },
  HST_ERR_SERVER_ALREADY_SUBMITTED: {
    meaning: 'This agent has already submitted; a second submit changes nothing.',
    fix: 'Nothing to do: the first submission is stored.',
    httpStatus: 409,
  },
  HST_ERR_SERVER_NOT_FOUND: {
    meaning: 'The task server has no route or resource at that path.',
    fix: 'Check the route prefix configured in createTaskServer.',
    httpStatus: 404,
  },
  HST_ERR_SERVER_METHOD_NOT_ALLOWED: {
    meaning:
      'The task server route exists but does not answer this HTTP method (the Allow header lists those it does).',
    fix: 'Use the method named in the message and the Allow header.',
    httpStatus: 405,
  },
  HST_ERR_SERVER_INTERNAL: {
    meaning: 'The task server failed unexpectedly; the worker gets no detail, the server log (onError) has it.',
    fix: 'Read the error passed to the onError option of createTaskServer; the worker can retry.',
    httpStatus: 500,
  },

  // --- simulator -----------------------------------------------------------------------------
  HST_ERR_SIM_OPTIONS_INVALID: {
    meaning: 'An option of `hitstate sim` / createSimulator is invalid.',
    fix: 'Correct the option as the message says; `hitstate sim --help` lists them.',
  },
  HST_ERR_SIM_STATE_CORRUPT: {
    meaning:
      'The simulator state file (--state) is neither an SQLite database nor a JSON simulator state, or a record in it cannot be read.',
    fix: 'Move the file away to start with an empty simulator, or restore it from a copy.',
  },
  HST_ERR_SIM_BAD_REQUEST: {
    meaning:
      'A request to the simulator control API or worker pages is malformed (bad JSON, missing or invalid fields).',
    fix: 'Send the fields the message names; docs/simulator.md lists every control API route and its body.',
    httpStatus: 400,
  },
  HST_ERR_SIM_NOT_FOUND: {
    meaning:
      'The HIT, HIT type, assignment or route named in a simulator control API call or worker page does not exist.',
    fix: 'Check the id (HIT and assignment ids are 30 characters) and the route in docs/simulator.md.',
    httpStatus: 404,
  },
  HST_ERR_SIM_WORKER_NOT_ALLOWED: {
    meaning:
      'The simulated worker may not take this HIT: the requester blocked them, or they do not meet a qualification requirement.',
    fix: 'Use another worker, unblock the worker (DeleteWorkerBlock), grant the qualification or set the worker locale (POST /_sim/workers/{id}).',
    httpStatus: 403,
  },
  HST_ERR_SIM_HIT_UNAVAILABLE: {
    meaning:
      'The HIT (or every HIT of the group) has no slot the worker can accept: not Assignable, expired, full, or already held by this worker.',
    fix: 'Create more HITs or assignments, extend the expiration, or accept with another worker.',
    httpStatus: 409,
  },
  HST_ERR_SIM_QUALIFICATION_REQUEST_REFUSED: {
    meaning:
      'The simulated worker cannot request this qualification now: it is inactive, already held, a request is pending, or the retry delay after a rejection has not passed.',
    fix: 'Wait for the requester to accept or reject the pending request, or for RetryDelayInSeconds to pass; a type without a retry delay can be requested once.',
    httpStatus: 409,
  },
  HST_ERR_SIM_ASSIGNMENT_STATE: {
    meaning:
      'The assignment is not in a state that allows this worker action (e.g. returning or submitting work already submitted, returned or abandoned).',
    fix: 'Only an accepted, unsubmitted assignment can be submitted, returned or abandoned; accept the HIT again for a new assignment.',
    httpStatus: 409,
  },

  // --- hitstate serve -----------------------------------------------------------------------
  HST_ERR_SERVE_OPTIONS_INVALID: {
    meaning: 'An option or config file setting of `hitstate serve` is invalid.',
    fix: 'Correct the option as the message says; `hitstate serve --help` lists them.',
  },
  HST_ERR_SERVE_DB: {
    meaning:
      'The `hitstate serve` database cannot be opened, created or upgraded (missing folder, not an SQLite file, written by a newer release).',
    fix: 'Do what the message says: create the folder, restore a backup, or upgrade hitstate.',
  },
  HST_ERR_SERVE_LOCKED: {
    meaning: 'Another `hitstate serve` process already uses this database (one server per database file).',
    fix: 'Stop the other server (the message names its pid), or give this one its own --db.',
  },
  HST_ERR_SERVE_REQUESTER: {
    meaning:
      'A `hitstate serve requester` command names a requester that does not exist, or one that already exists, or a bad amount.',
    fix: 'Run `hitstate serve requester list` for the names; amounts are dollars with at most two decimals.',
  },
  HST_ERR_SERVE_PAYOUT: {
    meaning: 'A `hitstate serve payouts` command names a batch that does not exist, or a bad date.',
    fix: 'Run `hitstate serve payouts` to make a batch and print its id; dates are ISO (2026-12-01).',
  },
  HST_ERR_SERVE_IMPORT: {
    meaning:
      "`hitstate serve import --state FILE` cannot import: the database already holds requesters' work, or the file has no requester account.",
    fix: 'Import into a new database (--db NEW_FILE) a file written by `hitstate sim --state FILE`.',
  },
  HST_ERR_SERVE_LEDGER: {
    meaning:
      'The ledger invariant check found a difference between the ledger and the requester accounts (`hitstate serve ledger check`).',
    fix: 'Keep the database (make a backup) and report the listed differences; they mean money was moved without a ledger entry.',
  },

  // --- command line --------------------------------------------------------------------------
  HST_ERR_CLI_USAGE: {
    meaning: 'A command was called with an unknown command, unknown option or missing argument.',
    fix: 'Run `hitstate COMMAND --help` for the usage and examples.',
  },
  HST_ERR_CLI_LIVE_NOT_CONFIRMED: {
    meaning:
      'A command would spend real money on live MTurk and the amount was not confirmed (no --yes-live=AMOUNT, or AMOUNT below its total).',
    fix: 'Read the amount the message names, then run again with --yes-live=AMOUNT (at least that amount).',
  },
  HST_ERR_CLI_PORT_UNAVAILABLE: {
    meaning:
      'The task server of `hitstate run`, `resume` or `expire` cannot listen on the port (in use or not permitted).',
    fix: 'Pass another --port or stop the process using it; a resumed run on a local endpoint needs the port its HITs point at.',
  },
  HST_ERR_CLI_DEMO_FAILED: {
    meaning:
      '`hitstate demo` did not reach the state it expected (a worker was refused, the run stalled); the message says which step.',
    fix: 'Run the demo again; if it fails the same way, report the message and the seed (--seed) it printed.',
  },
  HST_ERR_CLI_INIT_DIR_NOT_EMPTY: {
    meaning: '`hitstate init DIR` was given a folder that already holds files; it never writes over a project.',
    fix: 'Pick a new or empty folder (`hitstate init my-task`), or move the files away first.',
  },
  HST_ERR_CLI_OUTPUT_PATH: {
    meaning:
      'A command could not write its output file (`--out FILE`): the folder does not exist, is not writable, or FILE is a folder.',
    fix: 'Pass a file path in an existing, writable folder (e.g. `--out answers.csv`), or create the folder first.',
  },
  HST_ERR_CLI_WORKER_ID: {
    meaning:
      '`hitstate worker` was given a WORKER that is not an MTurk worker id ("A" then 1 to 63 capital letters or digits).',
    fix: 'Copy the id from `hitstate status RUN`, `hitstate export RUN` or the MTurk requester site (e.g. A1B2C3D4E5F6G7); several ids are separated by commas.',
  },
  HST_ERR_CLI_UNKNOWN_QUALIFICATION: {
    meaning:
      '`hitstate worker revoke` named a qualification (by name or QualificationTypeId) this store never granted or mapped for the requester.',
    fix: 'Use one of the names the message lists (`hitstate worker show WORKER` lists what was granted), or grant it first with `hitstate worker qualify`.',
  },
  HST_ERR_CLI_NOT_CONFIRMED: {
    meaning:
      'A command that needs confirmation was not confirmed: `hitstate review` (its total and the budget left), a bonus above the threshold, `hitstate worker block` or `notify` of more than 10 workers.',
    fix: 'Check what the message names, then answer yes on a terminal or run again with --yes (a large bonus also needs --allow-large-bonus).',
  },
  HST_ERR_CLI_STORE_RESTORE_INCOMPLETE: {
    meaning:
      '`hitstate store restore` could not put back every damaged file (no good backup, or a run folder with no record anywhere); what it could restore is restored and a copy of the whole store was saved first.',
    fix: 'Read the `not restored` lines: repair those files by hand from the saved copy, or move them away to accept the loss, then run `hitstate store check`.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** One of hitstate's stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Ids and details an error can carry, so callers never have to parse the message. */
export interface ErrorDetails {
  readonly field?: string;
  readonly runId?: string;
  readonly unitId?: string;
  readonly agentId?: string;
  readonly hitId?: string;
  readonly assignmentId?: string;
  readonly workerId?: string;
  readonly file?: string;
  readonly operation?: string;
  readonly turkErrorCode?: string;
  /** Seconds after which the same request may succeed (a server sends it as `Retry-After`). */
  readonly retryAfterSec?: number;
  /** Every problem found, for errors that report several at once (config validation). */
  readonly problems?: readonly { readonly field: string; readonly message: string }[];
  /** Where the run's money stood against its budget, in cents (`HST_ERR_BUDGET_EXCEEDED`). */
  readonly budget?: {
    readonly budgetCents: number | null;
    readonly spentCents: number;
    readonly heldCents: number;
    readonly toLaunchCents: number;
    readonly leftCents: number | null;
  };
  readonly cause?: unknown;
}

const HITSTATE_ERROR = Symbol.for('hitstate.error');

/**
 * The error every hitstate module throws for expected failures.
 *
 * `instanceof HitstateError` works across duplicate copies of the package (a `Symbol.for`
 * marker), and `code` is stable: branch on it, not on the message.
 *
 * @example
 * ```ts
 * throw new HitstateError('HST_ERR_CONFIG_INVALID',
 *   `task.reward must be a dollar string like "0.50", got ${JSON.stringify(v)}`, { field: 'task.reward' });
 * ```
 */
export class HitstateError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HitstateError';
    this.code = code;
    this.details = details;
  }

  /** The HTTP status a server should answer with for this error (500 when the code has none). */
  get httpStatus(): number {
    const info: ErrorCodeInfo = ERROR_CODES[this.code];
    return info.httpStatus ?? 500;
  }

  /** What is safe to send to a client: code and message, never the cause or stack. */
  toJSON(): { error: { code: ErrorCode; message: string; field?: string } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details.field ? { field: this.details.field } : {}) },
    };
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HITSTATE_ERROR] === true;
  }
}
Object.defineProperty(HitstateError.prototype, HITSTATE_ERROR, { value: true });

/** True when `value` is a HitstateError, optionally with the given code. */
export function isHitstateError(value: unknown, code?: ErrorCode): value is HitstateError {
  return value instanceof HitstateError && (code === undefined || value.code === code);
}
