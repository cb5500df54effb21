/**
 * The PostgreSQL {@link StoreBackend}: for teams whose runs live on several machines. Records,
 * audit lines, run leases and run requests live in four tables of one schema (`hitstate` unless
 * told otherwise), each keyed by environment first. See docs/postgres.md.
 *
 * - A commit is one SQL statement (data-modifying CTEs over `unnest` arrays): one round trip and
 *   one transaction, whatever its size.
 * - A run is taken with one `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired` on a lease row.
 * - Expiry is decided by the database server's clock unless a clock is given (tests), so the
 *   machines sharing a database need not agree on the time.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import pg from 'pg';
import type { Clock } from '../../clock.js';
import { HitstateError } from '../../errors.js';
import type {
  AuditLine,
  CollectionName,
  Commit,
  LeaseHolder,
  LeaseResult,
  LoadedImage,
  RunLease,
  RunRequest,
  ScopeImage,
  StoreBackend,
} from '../backend.js';
import { normalizeEnvironment, type StoreEnvironment } from '../environment.js';
import { type ConnectionTarget, isConnectionFailure, parseConnectionUrl, postgresError } from './errors.js';
import { migrate, SCHEMA_NAME } from './schema.js';
import type { ForeignChange, StoreReconciler } from '../lowdb/backend.js';
import { holderProcessGone } from '../lowdb/lease.js';

/** Options of {@link openPostgresBackend}. */
export interface PostgresBackendOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (`postgresql://` too; `?sslmode=require` etc. are passed to pg). */
  readonly url: string;
  /** The MTurk environment whose data this backend reads and writes. */
  readonly environment: StoreEnvironment;
  /**
   * The PostgreSQL schema holding hitstate's tables; created when missing.
   * @defaultValue `'hitstate'`
   */
  readonly schema?: string;
  /**
   * Connections kept open at most.
   * @defaultValue 4
   */
  readonly poolSize?: number;
  /**
   * Milliseconds to wait for a connection before failing with HST_ERR_STORE_PG_UNREACHABLE.
   * @defaultValue 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * The time used for lease expiry and request settlement. Default: the database server's clock,
   * one clock for every machine. Tests pass a virtual clock.
   */
  readonly clock?: Clock;
  /**
   * Hears errors of idle connections (the server restarted or dropped them); the pool replaces
   * them. Default: a process warning.
   */
  readonly onConnectionError?: (error: HitstateError) => void;
}

/** The store-wide collections, which have no run. */
const STORE_COLLECTIONS: ReadonlySet<string> = new Set(['meta', 'requesters', 'runs', 'qualifications', 'workers']);
const RUN_COLLECTIONS: ReadonlySet<string> = new Set(['units', 'agents', 'hits', 'snapshots', 'submissions', 'outbox']);
/** The run column's value for the store-wide scope. */
const STORE_SCOPE = '';
/** What a commit that failed with the connection is known to have done. */
const UNKNOWN_OUTCOME =
  'whether this commit is durable is unknown (the connection broke while it ran): reopen the store and read it';
/** Audit lines read per query by {@link PostgresBackend.auditLines}. */
const AUDIT_PAGE = 2_000;

/** The environment as stored in every row: its canonical form, so two spellings never split a store. */
export function environmentKey(environment: StoreEnvironment): string {
  const env = normalizeEnvironment(environment);
  return env.kind === 'custom' ? `custom ${env.endpoint}` : env.kind;
}

/** Code-unit order: the same in every process, which is all the lock order needs. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalid(field: string, message: string): HitstateError {
  return new HitstateError('HST_ERR_STORE_INVALID_RECORD', `${field} ${message}`, { field });
}

function checkRunId(runId: unknown, field: string): string {
  if (typeof runId !== 'string' || runId.length === 0)
    throw invalid(field, `must be a non-empty run id, got ${JSON.stringify(runId)}`);
  return runId;
}

/** Opens the PostgreSQL backend: connects, migrates the schema, and checks the database can hold JSON text. */
export async function openPostgresBackend(options: PostgresBackendOptions): Promise<PostgresBackend> {
  const target = parseConnectionUrl(options.url);
  const environment = normalizeEnvironment(options.environment);
  const schema = options.schema ?? 'hitstate';
  if (!SCHEMA_NAME.test(schema))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `schema must be lower-case letters, digits and _ (at most 63, not starting with a digit), got ${JSON.stringify(schema)}`,
      { field: 'schema' },
    );
  const poolSize = options.poolSize ?? 4;
  if (!Number.isInteger(poolSize) || poolSize < 1)
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `poolSize must be a whole number ≥ 1, got ${poolSize}`, {
      field: 'poolSize',
    });
  const pool = new pg.Pool({
    connectionString: options.url,
    max: poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // An idle pool must not keep a finished command alive.
    allowExitOnIdle: true,
    application_name: 'hitstate',
  });
  const report =
    options.onConnectionError ??
    ((error: HitstateError) => process.emitWarning(error.message, { code: error.code, type: 'HitstateWarning' }));
  pool.on('error', (error) => report(postgresError(error, target, 'an idle connection')));
  let notes: string[];
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw postgresError(error, target, 'open');
    });
    try {
      const encoding = await client.query<{ server_encoding: string }>('SHOW server_encoding');
      const serverEncoding = encoding.rows[0]?.server_encoding ?? '';
      // Records are JSON text stored byte for byte; a LATIN1 database would refuse an emoji.
      if (serverEncoding !== 'UTF8' && serverEncoding !== 'SQL_ASCII') {
        throw new HitstateError(
          'HST_ERR_STORE_PG_FAILED',
          `database "${target.database}" uses the encoding ${serverEncoding}; hitstate stores JSON text and needs UTF8. ` +
            `Create the database with \`CREATE DATABASE ${target.database} ENCODING 'UTF8' TEMPLATE template0\``,
          { operation: 'open', field: 'store' },
        );
      }
      notes = await migrate(client, schema, target);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {
      // The pool is being dropped because opening failed; that failure is the one reported.
    });
    throw postgresError(error, target, 'open');
  }
  return new PostgresBackend(pool, target, environment, schema, options.clock, notes);
}

/** The PostgreSQL backend. Open it with {@link openPostgresBackend}. */
export class PostgresBackend implements StoreBackend {
  readonly kind = 'postgres' as const;
  /** This process's lease owner id: `host:pid:random`. */
  readonly owner: string;
  readonly #pool: pg.Pool;
  readonly #target: ConnectionTarget;
  readonly #env: string;
  readonly #clock: Clock | undefined;
  readonly #t: { records: string; audit: string; leases: string; requests: string; seq: string; marks: string };
  /** Per store-wide record (`collection\nkey`): its text as this backend last read or wrote it. */
  readonly #synced = new Map<string, string>();
  /** The highest commit sequence number of store-wide rows this backend has read. */
  #seen = 0;
  /** Whether a load has set {@link PostgresBackend.#synced} (later loads leave it). */
  #loaded = false;
  /** Per run: its mark (`run_marks.seq`) when the first load read it; what a store's memory holds. */
  readonly #openedMarks = new Map<string, number>();
  /** Runs this backend held or wrote: its memory of them is its own. */
  readonly #ownView = new Set<string>();
  /**
   * Set by a store that writes through this backend: merges other writers' store-wide changes
   * into its memory and returns this commit's store-wide changes merged with them, or throws
   * HST_ERR_STORE_CONFLICT (the commit is then refused whole). Null: this commit's text wins.
   */
  reconcile: StoreReconciler | null = null;
  readonly #openNotes: string[];
  readonly environment: StoreEnvironment;
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  #closed = false;

  /** @internal use {@link openPostgresBackend} */
  constructor(
    pool: pg.Pool,
    target: ConnectionTarget,
    environment: StoreEnvironment,
    schema: string,
    clock: Clock | undefined,
    notes: string[],
  ) {
    this.environment = environment;
    this.schema = schema;
    this.#pool = pool;
    this.#target = target;
    this.#env = environmentKey(environment);
    this.#clock = clock;
    this.#openNotes = notes;
    this.owner = `${osHostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const q = `"${schema}"`;
    this.#t = {
      records: `${q}.records`,
      audit: `${q}.audit`,
      leases: `${q}.leases`,
      requests: `${q}.requests`,
      seq: `${q}.store_seq`,
      marks: `${q}.run_marks`,
    };
  }

  /** SQL for "now" in epoch ms: the given clock's time (parameter `$n`) or else the server's. */
  #now(n: number): string {
    return `coalesce($${n}::bigint, (extract(epoch from clock_timestamp()) * 1000)::bigint)`;
  }

  #clockValue(): number | null {
    return this.#clock ? Math.floor(this.#clock.now()) : null;
  }

  #open(operation: string): void {
    if (this.#closed)
      throw new HitstateError(
        'HST_ERR_STORE_CLOSED',
        `${operation}: the PostgreSQL backend was closed; open it again with openPostgresBackend()`,
        { operation },
      );
  }

  async #query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    operation: string,
    config: pg.QueryConfig | pg.QueryArrayConfig,
    outcome = '',
  ): Promise<pg.QueryResult<R>> {
    this.#open(operation);
    try {
      // Array rows (rowMode 'array') come back typed by the caller's R.
      return (await this.#pool.query(config as pg.QueryConfig)) as unknown as pg.QueryResult<R>;
    } catch (error) {
      throw postgresError(error, this.#target, operation, outcome);
    }
  }

  async load(options: { readonly runs?: readonly string[] } = {}): Promise<LoadedImage> {
    const runs = options.runs?.map((r, i) => checkRunId(r, `runs[${i}]`));
    this.#open('load');
    const store = new Map<CollectionName, Map<string, string>>();
    const byRun = new Map<string, Map<CollectionName, Map<string, string>>>();
    let scopeRun: string | undefined;
    let scope = store;
    let scopeCollection: string | undefined;
    let records = new Map<string, string>();
    // Rows go into the image as they arrive instead of into a result array first: at 100,000
    // units (700,000 rows) the array made most of the garbage collector's work.
    const onRow = (row: [string, string, string, string]) => {
      const [run, collection, key, json] = row;
      if (run !== scopeRun) {
        scopeRun = run;
        scopeCollection = undefined;
        if (run === STORE_SCOPE) scope = store;
        else {
          let image = byRun.get(run);
          if (!image) byRun.set(run, (image = new Map()));
          scope = image;
        }
      }
      if (collection !== scopeCollection) {
        scopeCollection = collection;
        let found = scope.get(collection as CollectionName);
        if (!found) scope.set(collection as CollectionName, (found = new Map()));
        records = found;
      }
      records.set(key, json);
    };
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw postgresError(error, this.#target, 'load');
    }
    try {
      // Read first: a store-wide row committed while the records are read is then read again by
      // the first pull, which finds it unchanged; one read after could skip it.
      const seen = this.#loaded
        ? null
        : Number(
            (
              await client.query<{ seq: string }>(
                `SELECT coalesce(max(seq), 0) AS seq FROM ${this.#t.records} WHERE env = $1 AND run = ''`,
                [this.#env],
              )
            ).rows[0]?.seq ?? 0,
          );
      // Read before the records too: a run written meanwhile then looks changed (refused on take).
      const marks =
        seen === null
          ? null
          : (
              await client.query<[string, string]>({
                text: `SELECT run, seq FROM ${this.#t.marks} WHERE env = $1`,
                values: [this.#env],
                rowMode: 'array',
              })
            ).rows.map(([run, seq]) => [run, Number(seq)] as const);
      // No ORDER BY: sorting 250 MB would cost the server more than the map lookups it saves here.
      // A row without json is a store-wide record deleted (kept for the other writers to read).
      const config: pg.QueryArrayConfig = {
        text:
          `SELECT run, collection, key, json FROM ${this.#t.records} WHERE env = $1 AND json IS NOT NULL` +
          (runs ? ' AND run = ANY($2::text[])' : ''),
        values: runs ? [this.#env, [STORE_SCOPE, ...runs]] : [this.#env],
        rowMode: 'array',
      };
      // pg's Query honours rowMode; its type declaration omits it.
      const query = new pg.Query(config as unknown as pg.QueryConfig);
      query.on('row', onRow);
      await new Promise<void>((resolve, reject) => {
        query.on('end', () => resolve());
        query.on('error', reject);
        client.query(query as unknown as pg.Submittable);
      });
      client.release();
      if (seen !== null) {
        // What this backend (and the store built from this load) has read of the store-wide records.
        this.#loaded = true;
        for (const [run, seq] of marks ?? []) this.#openedMarks.set(run, seq);
        this.#seen = seen;
        for (const [collection, records] of store)
          for (const [key, json] of records) this.#remember(collection, key, json);
      }
    } catch (error) {
      // A connection that failed mid-result is not given back to the pool.
      client.release(error instanceof Error ? error : true);
      throw postgresError(error, this.#target, 'load');
    }
    return { store, runs: byRun as ReadonlyMap<string, ScopeImage>, notes: this.#openNotes.splice(0) };
  }

  async commit(commit: Commit): Promise<void> {
    this.#open('commit');
    // Last change per record wins (a record written then deleted in one commit is deleted): one
    // INSERT ... ON CONFLICT may not touch a row twice.
    const last = new Map<string, { run: string; collection: string; key: string; json: string | null }>();
    commit.changes.forEach((change, i) => {
      const field = `changes[${i}]`;
      const collection = change?.collection;
      let run: string;
      if (STORE_COLLECTIONS.has(collection)) {
        if (change.runId !== null)
          throw invalid(`${field}.runId`, `must be null for the store-wide collection ${collection}`);
        run = STORE_SCOPE;
      } else if (RUN_COLLECTIONS.has(collection)) {
        run = checkRunId(change.runId, `${field}.runId`);
      } else {
        throw invalid(
          `${field}.collection`,
          `must be one of the store's collections, got ${JSON.stringify(collection)}`,
        );
      }
      if (typeof change.key !== 'string' || change.key.length === 0)
        throw invalid(`${field}.key`, `must be a non-empty string, got ${JSON.stringify(change.key)}`);
      if (change.json !== null && typeof change.json !== 'string')
        throw invalid(`${field}.json`, 'must be JSON text (a string) or null for a delete');
      last.set(JSON.stringify([run, collection, change.key]), { run, collection, key: change.key, json: change.json });
    });
    const audit = commit.audit.map((line: AuditLine, i) => {
      if (typeof line?.json !== 'string') throw invalid(`audit[${i}].json`, 'must be JSON text (a string)');
      return { run: line.runId === null ? STORE_SCOPE : checkRunId(line.runId, `audit[${i}].runId`), json: line.json };
    });
    if (last.size === 0 && audit.length === 0) return;
    // Runs whose records this commit writes: refused whole if another live process holds one.
    const runs = [...new Set([...last.values()].filter((c) => c.run !== STORE_SCOPE).map((c) => c.run))].sort(compare);
    const mine = [...last.values()].filter((c) => c.run === STORE_SCOPE);
    if (mine.length === 0) {
      await this.#retrying(() => this.#write([...last.values()], audit, runs, null));
      return;
    }
    // Store-wide records are shared by every writer of the environment: merged with what the
    // others committed since this backend read them, one such commit at a time.
    // Not run again on a deadlock: memory may have merged other writers' changes meanwhile, so the
    // store's next write (which serializes memory again) is the retry.
    return this.#retrying(async () => {
      const client = await this.#connect('commit');
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        // Held to the end of the transaction: store-wide commits go one after the other, so their
        // sequence numbers are given in commit order and a reader never skips one still in flight.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `hitstate commit:${this.schema}:${this.#env}`,
        ]);
        const foreign = await this.#pull(client);
        const merged =
          this.reconcile === null
            ? mine.map((c) => [c.collection as CollectionName, c.key, c.json] as const)
            : this.reconcile(
                foreign,
                mine.map((c) => [c.collection as CollectionName, c.key, c.json] as const),
              );
        const changes = [
          ...merged.map(([collection, key, json]) => ({ run: STORE_SCOPE, collection, key, json })),
          ...[...last.values()].filter((c) => c.run !== STORE_SCOPE),
        ];
        const seq = await this.#write(changes, audit, runs, client);
        await client.query('COMMIT');
        for (const [collection, key, json] of merged) this.#remember(collection, key, json);
        if (seq !== null && seq > this.#seen) this.#seen = seq;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          // The connection is gone or unusable: the server rolls back; the pool must not reuse it.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
        throw error instanceof HitstateError ? error : postgresError(error, this.#target, 'commit', UNKNOWN_OUTCOME);
      } finally {
        client.release(broken);
      }
    }, 1);
  }

  /** Runs a commit again after a deadlock (rolled back whole), and says when nothing of it was written. */
  async #retrying<T>(attempt: () => Promise<T>, attempts = 3): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const failure = error as HitstateError;
        if (failure.code === 'HST_ERR_RUN_OWNED' || failure.code === 'HST_ERR_STORE_CONFLICT') throw failure;
        // A deadlock or serialization failure rolled the statement back whole: safe to run again.
        const sqlState = (failure.details?.cause as { code?: unknown } | undefined)?.code;
        if ((sqlState === '40P01' || sqlState === '40001') && n < attempts) continue;
        // A statement the server refused was rolled back whole; only a broken connection leaves doubt.
        if (!isConnectionFailure(failure.details?.cause))
          throw new HitstateError(
            failure.code,
            `${failure.message} Nothing of this commit was written.`,
            failure.details,
          );
        throw failure;
      }
    }
  }

  async #connect(operation: string): Promise<pg.PoolClient> {
    this.#open(operation);
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw postgresError(error, this.#target, operation);
    }
  }

  /**
   * The store-wide records other writers committed since this backend last read them (called
   * holding the commit lock), with what this backend had read of each; remembered as read.
   */
  async #pull(client: pg.PoolClient): Promise<ForeignChange[]> {
    const found = await client.query<[string, string, string | null, string]>({
      text: `SELECT collection, key, json, seq FROM ${this.#t.records}
             WHERE env = $1 AND run = '' AND seq > $2 ORDER BY seq`,
      values: [this.#env, this.#seen],
      rowMode: 'array',
    });
    const foreign: ForeignChange[] = [];
    for (const [collection, key, json, seq] of found.rows) {
      const base = this.#synced.get(`${collection}\n${key}`) ?? null;
      if (Number(seq) > this.#seen) this.#seen = Number(seq);
      if (base === json) continue;
      foreign.push({ collection: collection as CollectionName, key, json, base });
      this.#remember(collection as CollectionName, key, json);
    }
    return foreign;
  }

  #remember(collection: CollectionName, key: string, json: string | null): void {
    if (json === null) this.#synced.delete(`${collection}\n${key}`);
    else this.#synced.set(`${collection}\n${key}`, json);
  }

  /**
   * Writes records and audit lines in one statement (one round trip; one transaction unless
   * `client` is inside one), unless another live process holds one of `runs`: then nothing.
   * Store-wide rows get the next commit sequence number, and a store-wide delete leaves a row with
   * no json, so other writers read it in their next pull.
   *
   * @returns the highest sequence number given to a store-wide row (null: none written).
   * @throws HST_ERR_RUN_OWNED naming the run and its holder.
   */
  async #write(
    changes: readonly { run: string; collection: string; key: string; json: string | null }[],
    audit: readonly { run: string; json: string }[],
    runs: readonly string[],
    client: pg.PoolClient | null,
  ): Promise<number | null> {
    const up = { run: [] as string[], collection: [] as string[], key: [] as string[], json: [] as (string | null)[] };
    const del = { run: [] as string[], collection: [] as string[], key: [] as string[] };
    // Every process writes rows in one order (run, collection, key), so two commits touching the
    // same rows wait for each other instead of deadlocking.
    const ordered = [...changes].sort(
      (a, b) => compare(a.run, b.run) || compare(a.collection, b.collection) || compare(a.key, b.key),
    );
    for (const c of ordered) {
      if (c.json === null && c.run !== STORE_SCOPE) {
        del.run.push(c.run);
        del.collection.push(c.collection);
        del.key.push(c.key);
      } else {
        up.run.push(c.run);
        up.collection.push(c.collection);
        up.key.push(c.key);
        up.json.push(c.json);
      }
    }
    const config: pg.QueryConfig = {
      name: 'hitstate_commit',
      // The lease rows of the runs written are locked FOR SHARE first: a takeover waits for this
      // commit, and one committed before it is seen (the row is read again once it is unlocked).
      text: `WITH held AS (
               SELECT run, owner, pid, hostname, expires_at FROM ${this.#t.leases}
                WHERE env = $1 AND run = ANY($11::text[]) FOR SHARE),
             blocked AS (
               SELECT run, owner, pid, hostname, expires_at FROM held
                WHERE owner <> $12 AND expires_at > ${this.#now(13)}),
             go AS (SELECT NOT EXISTS (SELECT 1 FROM blocked) AS ok),
             up AS (
               INSERT INTO ${this.#t.records} (env, run, collection, key, json, seq)
               SELECT $1, u.run, u.collection, u.key, u.json,
                      CASE WHEN u.run = '' THEN nextval('${this.#t.seq}') ELSE 0 END
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(run, collection, key, json), go
                WHERE go.ok
               ON CONFLICT (env, run, collection, key) DO UPDATE SET json = excluded.json, seq = excluded.seq
               RETURNING seq),
             del AS (
               DELETE FROM ${this.#t.records} r
                USING unnest($6::text[], $7::text[], $8::text[]) AS d(run, collection, key), go
                WHERE go.ok AND r.env = $1 AND r.run = d.run AND r.collection = d.collection AND r.key = d.key
               RETURNING 1),
             mk AS (
               INSERT INTO ${this.#t.marks} AS m (env, run, seq)
               SELECT $1, r.run, nextval('${this.#t.seq}') FROM unnest($11::text[]) AS r(run), go WHERE go.ok
               ON CONFLICT (env, run) DO UPDATE SET seq = excluded.seq
               RETURNING 1),
             au AS (
               INSERT INTO ${this.#t.audit} (env, run, json)
               SELECT $1, a.run, a.json FROM unnest($9::text[], $10::text[]) WITH ORDINALITY AS a(run, json, ord), go
                WHERE go.ok
                ORDER BY a.ord
               RETURNING 1)
             SELECT (SELECT max(seq) FROM up) AS seq, (SELECT count(*) FROM del) AS deleted,
                    (SELECT count(*) FROM mk) AS marked,
                    (SELECT count(*) FROM au) AS audited,
                    (SELECT json_agg(json_build_array(run, owner, pid, hostname, expires_at)) FROM blocked) AS blocked`,
      values: [
        this.#env,
        up.run,
        up.collection,
        up.key,
        up.json,
        del.run,
        del.collection,
        del.key,
        audit.map((a) => a.run),
        audit.map((a) => a.json),
        runs,
        this.owner,
        this.#clockValue(),
      ],
    };
    let result: pg.QueryResult<{ seq: string | null; blocked: [string, string, number, string, string][] | null }>;
    if (client === null) result = await this.#query('commit', config, UNKNOWN_OUTCOME);
    else {
      try {
        result = await client.query(config);
      } catch (error) {
        throw postgresError(error, this.#target, 'commit', UNKNOWN_OUTCOME);
      }
    }
    const row = result.rows[0];
    const blocked = row?.blocked?.[0];
    if (blocked) {
      const [runId, , pid, host, expiresAt] = blocked;
      throw new HitstateError(
        'HST_ERR_RUN_OWNED',
        `run ${runId} is owned by hitstate pid ${pid} on ${host} (its lease runs to ${new Date(Number(expiresAt)).toISOString()}); ` +
          "only the owner writes a run's records, so this commit was refused and nothing of it was written. " +
          'Send the change to the owner as a request, or wait until it lets the run go and take it.',
        { runId, operation: 'commit' },
      );
    }
    for (const run of runs) this.#ownView.add(run);
    return row?.seq === null || row?.seq === undefined ? null : Number(row.seq);
  }

  async *auditLines(runId: string | null): AsyncIterable<string> {
    const run = runId === null ? STORE_SCOPE : checkRunId(runId, 'runId');
    let after = '0';
    for (;;) {
      const page = await this.#query<[string, string]>('auditLines', {
        text: `SELECT id, json FROM ${this.#t.audit} WHERE env = $1 AND run = $2 AND id > $3 ORDER BY id LIMIT ${AUDIT_PAGE}`,
        values: [this.#env, run, after],
        rowMode: 'array',
      });
      for (const [, json] of page.rows) yield json;
      if (page.rows.length < AUDIT_PAGE) return;
      after = page.rows[page.rows.length - 1]?.[0] ?? after;
    }
  }

  async acquireRun(runId: string, ttlMs: number): Promise<LeaseResult> {
    const result = await this.#take(runId, ttlMs);
    if (!result.ok || this.reconcile === null || this.#ownView.has(runId)) {
      if (result.ok) this.#ownView.add(runId);
      return result;
    }
    // The store's memory holds the run as it was when the store was opened: taking a run another
    // process wrote since then would write over its newer records from a stale view.
    const found = await this.#query<{ seq: string }>('acquireRun', {
      text: `SELECT seq FROM ${this.#t.marks} WHERE env = $1 AND run = $2`,
      values: [this.#env, runId],
    });
    const now = found.rows[0] === undefined ? undefined : Number(found.rows[0].seq);
    if (now !== this.#openedMarks.get(runId)) {
      await result.lease.release();
      const by = result.tookOverFrom;
      throw new HitstateError(
        'HST_ERR_RUN_OWNED',
        `run ${runId} was written by another process${by === null ? '' : ` (pid ${by.pid} on ${by.hostname})`} after this one opened the store, so this process's view of it is out of date; open the store again (run the command again) to take it`,
        { runId },
      );
    }
    this.#ownView.add(runId);
    return result;
  }

  async #take(runId: string, ttlMs: number): Promise<LeaseResult> {
    checkRunId(runId, 'runId');
    if (!Number.isInteger(ttlMs) || ttlMs <= 0)
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `ttlMs must be a whole number of milliseconds > 0, got ${ttlMs}`,
        {
          field: 'ttlMs',
        },
      );
    // Rarely the row changes between the failed take and the read of its holder (released,
    // or expired meanwhile): then take again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.#query<{
        expires_at: string;
        prev_owner: string | null;
        prev_pid: number | null;
        prev_hostname: string | null;
        prev_expires_at: string | null;
      }>('acquireRun', {
        name: 'hitstate_acquire',
        text: `INSERT INTO ${this.#t.leases} AS l (env, run, owner, pid, hostname, expires_at)
               VALUES ($1, $2, $3, $4, $5, ${this.#now(6)} + $7::bigint)
               ON CONFLICT (env, run) DO UPDATE SET
                 owner = excluded.owner, pid = excluded.pid, hostname = excluded.hostname,
                 expires_at = excluded.expires_at,
                 prev_owner = l.owner, prev_pid = l.pid, prev_hostname = l.hostname, prev_expires_at = l.expires_at
               WHERE l.owner = excluded.owner OR l.expires_at <= ${this.#now(6)}
               RETURNING expires_at, prev_owner, prev_pid, prev_hostname, prev_expires_at`,
        values: [this.#env, runId, this.owner, process.pid, osHostname(), this.#clockValue(), ttlMs],
      });
      const row = taken.rows[0];
      if (row) {
        const tookOverFrom =
          row.prev_owner !== null && row.prev_owner !== this.owner
            ? {
                owner: row.prev_owner,
                pid: row.prev_pid ?? 0,
                hostname: row.prev_hostname ?? '',
                expiresAt: Number(row.prev_expires_at),
              }
            : null;
        return { ok: true, lease: new PostgresLease(this, runId, ttlMs, Number(row.expires_at)), tookOverFrom };
      }
      const holder = await this.#leaseHolder(runId);
      if (holder === null) continue;
      if (!holderProcessGone(holder)) return { ok: false, heldBy: holder };
      // Its process died on this host before the lease ran out: take it from exactly that owner,
      // so of several takers racing for the run only one wins.
      const stolen = await this.#query<{ expires_at: string }>('acquireRun', {
        text: `UPDATE ${this.#t.leases} SET owner = $3, pid = $4, hostname = $5,
                 expires_at = ${this.#now(6)} + $7::bigint,
                 prev_owner = owner, prev_pid = pid, prev_hostname = hostname, prev_expires_at = expires_at
               WHERE env = $1 AND run = $2 AND owner = $8
               RETURNING expires_at`,
        values: [this.#env, runId, this.owner, process.pid, osHostname(), this.#clockValue(), ttlMs, holder.owner],
      });
      const row2 = stolen.rows[0];
      if (row2)
        return {
          ok: true,
          lease: new PostgresLease(this, runId, ttlMs, Number(row2.expires_at)),
          tookOverFrom: holder,
        };
    }
    throw new HitstateError(
      'HST_ERR_STORE_PG_FAILED',
      `acquireRun: the lease of run ${runId} kept changing hands while it was being taken; try again`,
      { runId, operation: 'acquireRun' },
    );
  }

  async runHolder(runId: string): Promise<LeaseHolder | null> {
    checkRunId(runId, 'runId');
    const holder = await this.#leaseHolder(runId);
    return holder === null || holderProcessGone(holder) ? null : holder;
  }

  /** The holder of an unexpired lease of the run, dead process or not. */
  async #leaseHolder(runId: string): Promise<LeaseHolder | null> {
    const result = await this.#query<{ owner: string; pid: number; hostname: string; expires_at: string }>(
      'runHolder',
      {
        text: `SELECT owner, pid, hostname, expires_at FROM ${this.#t.leases}
               WHERE env = $1 AND run = $2 AND expires_at > ${this.#now(3)}`,
        values: [this.#env, runId, this.#clockValue()],
      },
    );
    const row = result.rows[0];
    return row ? { owner: row.owner, pid: row.pid, hostname: row.hostname, expiresAt: Number(row.expires_at) } : null;
  }

  async liveRuns(): Promise<ReadonlyMap<string, LeaseHolder>> {
    const result = await this.#query<{ run: string; owner: string; pid: number; hostname: string; expires_at: string }>(
      'liveRuns',
      {
        text: `SELECT run, owner, pid, hostname, expires_at FROM ${this.#t.leases}
               WHERE env = $1 AND expires_at > ${this.#now(2)} ORDER BY run`,
        values: [this.#env, this.#clockValue()],
      },
    );
    return new Map(
      result.rows.map((row) => [
        row.run,
        { owner: row.owner, pid: row.pid, hostname: row.hostname, expiresAt: Number(row.expires_at) },
      ]),
    );
  }

  /** @internal extends a lease this backend holds; the new expiry, or null when it was taken. */
  async renewLease(runId: string, ttlMs: number): Promise<number | null> {
    const result = await this.#query<{ expires_at: string }>('renew', {
      text: `UPDATE ${this.#t.leases} SET expires_at = ${this.#now(4)} + $5::bigint
             WHERE env = $1 AND run = $2 AND owner = $3 RETURNING expires_at`,
      values: [this.#env, runId, this.owner, this.#clockValue(), ttlMs],
    });
    const row = result.rows[0];
    return row ? Number(row.expires_at) : null;
  }

  /** @internal gives a lease back (nothing happens if another owner took it meanwhile). */
  async releaseLease(runId: string): Promise<void> {
    if (this.#closed) return;
    await this.#query('release', {
      text: `DELETE FROM ${this.#t.leases} WHERE env = $1 AND run = $2 AND owner = $3`,
      values: [this.#env, runId, this.owner],
    });
  }

  async postRequest(request: Omit<RunRequest, 'result' | 'settledAt'>): Promise<void> {
    const runId = checkRunId(request?.runId, 'request.runId');
    for (const field of ['id', 'kind', 'body'] as const) {
      if (typeof request[field] !== 'string' || (field !== 'body' && request[field].length === 0))
        throw invalid(`request.${field}`, `must be a${field === 'body' ? '' : ' non-empty'} string`);
    }
    if (!Number.isFinite(request.postedAt)) throw invalid('request.postedAt', 'must be epoch milliseconds');
    // Posting again (a retry after a crash) keeps the first request.
    await this.#query('postRequest', {
      text: `INSERT INTO ${this.#t.requests} (env, run, id, kind, body, posted_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (env, run, id) DO NOTHING`,
      values: [this.#env, runId, request.id, request.kind, request.body, Math.floor(request.postedAt)],
    });
  }

  async pendingRequests(runId: string): Promise<readonly RunRequest[]> {
    checkRunId(runId, 'runId');
    const result = await this.#query<RequestRow>('pendingRequests', {
      text: `SELECT id, run, kind, body, posted_at, result, settled_at FROM ${this.#t.requests}
             WHERE env = $1 AND run = $2 AND result IS NULL ORDER BY posted_at, seq`,
      values: [this.#env, runId],
    });
    return result.rows.map(toRequest);
  }

  async settleRequest(runId: string, id: string, result: string): Promise<void> {
    checkRunId(runId, 'runId');
    if (typeof result !== 'string') throw invalid('result', 'must be JSON text (a string)');
    const settled = await this.#query('settleRequest', {
      text: `UPDATE ${this.#t.requests} SET result = $4, settled_at = ${this.#now(5)}
             WHERE env = $1 AND run = $2 AND id = $3 AND result IS NULL`,
      values: [this.#env, runId, id, result, this.#clockValue()],
    });
    if (settled.rowCount === 0 && (await this.request(runId, id)) === null)
      throw new HitstateError(
        'HST_ERR_STORE_NOT_FOUND',
        `run ${runId} has no request ${JSON.stringify(id)} to settle`,
        {
          runId,
          operation: 'settleRequest',
        },
      );
  }

  async request(runId: string, id: string): Promise<RunRequest | null> {
    checkRunId(runId, 'runId');
    const result = await this.#query<RequestRow>('request', {
      text: `SELECT id, run, kind, body, posted_at, result, settled_at FROM ${this.#t.requests}
             WHERE env = $1 AND run = $2 AND id = $3`,
      values: [this.#env, runId, id],
    });
    const row = result.rows[0];
    return row ? toRequest(row) : null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      // The leases this process holds end with it, so another process need not wait out their expiry.
      await this.#query('close', {
        text: `DELETE FROM ${this.#t.leases} WHERE env = $1 AND owner = $2`,
        values: [this.#env, this.owner],
      });
    } finally {
      this.#closed = true;
      await this.#pool.end();
    }
  }
}

interface RequestRow {
  id: string;
  run: string;
  kind: string;
  body: string;
  posted_at: string;
  result: string | null;
  settled_at: string | null;
}

function toRequest(row: RequestRow): RunRequest {
  return {
    id: row.id,
    runId: row.run,
    kind: row.kind,
    body: row.body,
    postedAt: Number(row.posted_at),
    result: row.result,
    settledAt: row.settled_at === null ? null : Number(row.settled_at),
  };
}

/** A run held through a lease row. */
class PostgresLease implements RunLease {
  readonly runId: string;
  readonly #backend: PostgresBackend;
  readonly #ttlMs: number;
  #expiresAt: number;

  constructor(backend: PostgresBackend, runId: string, ttlMs: number, expiresAt: number) {
    this.#backend = backend;
    this.runId = runId;
    this.#ttlMs = ttlMs;
    this.#expiresAt = expiresAt;
  }

  get holder(): LeaseHolder {
    return { owner: this.#backend.owner, pid: process.pid, hostname: osHostname(), expiresAt: this.#expiresAt };
  }

  async renew(): Promise<boolean> {
    const expiresAt = await this.#backend.renewLease(this.runId, this.#ttlMs);
    if (expiresAt === null) return false;
    this.#expiresAt = expiresAt;
    return true;
  }

  release(): Promise<void> {
    return this.#backend.releaseLease(this.runId);
  }
}
