/**
 * `hitstate serve`: runs the self-hosted MTurk-compatible platform, and the operator's commands
 * on its database (requesters, payouts, ledger check, backup).
 *
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HitstateError } from '../../errors.js';
import { formatCents } from '../../simulator/money.js';
import { backupDatabase, lockDatabase, openDatabase, type Db } from '../../simulator/serve/db.js';
import {
  checkLedger,
  makePayoutBatch,
  markBatchPaid,
  openPayoutBatches,
  parseSince,
  type PayoutBatch,
} from '../../simulator/serve/ledger.js';
import {
  addRequester,
  fundRequester,
  listRequesters,
  opApplied,
  parseUsd,
  rotateKey,
  setDisabled,
} from '../../simulator/serve/requesters.js';
import { createInvites, parseQualificationOption } from '../../simulator/serve/worker-accounts.js';
import { credentialProvider } from '../../mturk/credentials.js';
import { importSimState } from '../../simulator/serve/import.js';
import { callServeApi } from '../../simulator/serve/invitations-api.js';
import { createServe, type ServeOptions } from '../../simulator/serve/index.js';
import { EXIT, usageError, type CliIO, type CommandSpec, type OptionValues } from '../command.js';

/** Settings a `--config` JSON file may hold (flags win over it). */
const CONFIG_KEYS = [
  'db',
  'publicUrl',
  'port',
  'host',
  'controlApiToken',
  'durability',
  'maxBodyBytes',
  'contentPort',
  'contentUrl',
  'externalIdParams',
  'trustProxy',
  'trustedProxies',
  'openSignUp',
] as const;

function configError(file: string, message: string, field?: string): HitstateError {
  return new HitstateError('HST_ERR_SERVE_OPTIONS_INVALID', `--config ${file}: ${message}`, field ? { field } : {});
}

/** Reads the operator's config file: a JSON object with the keys of {@link CONFIG_KEYS}. */
export function readServeConfig(file: string): Partial<ServeOptions> {
  if (!existsSync(file)) throw configError(file, 'the file does not exist.');
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw configError(file, `is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw configError(file, 'must be a JSON object.');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k))
      throw configError(file, `unknown setting "${k}"; the settings are ${CONFIG_KEYS.join(', ')}.`, k);
    out[k] = v;
  }
  if (out.durability !== undefined && out.durability !== 'normal' && out.durability !== 'full')
    throw configError(file, `"durability" must be "normal" or "full".`, 'durability');
  return out as Partial<ServeOptions>;
}

function dbPath(o: OptionValues, config: Partial<ServeOptions>, io: CliIO): string {
  const file = typeof o.db === 'string' && o.db !== '' ? o.db : config.db;
  if (!file)
    throw usageError('hitstate serve: --db FILE is required (or "db" in --config, or HITSTATE_SERVE_DB).', 'db');
  return resolve(io.cwd, file);
}

const showKeys = (io: CliIO, k: { name: string; accessKeyId: string; secretAccessKey: string }): void => {
  io.out(
    [
      `Requester ${k.name}`,
      `  Access key id:     ${k.accessKeyId}`,
      `  Secret access key: ${k.secretAccessKey}`,
      '  The secret is shown this once; store it now (e.g. in ~/.aws/credentials under a profile).',
      '',
    ].join('\n'),
  );
};

function batchText(b: PayoutBatch): string {
  const total = b.lines.reduce((s, l) => s + l.amountCents, 0);
  return [
    `Batch ${b.batchId}: ${b.lines.length} worker(s), $${formatCents(total)}${b.paidMs ? ` (paid ${new Date(b.paidMs).toISOString()})` : ''}`,
    ...b.lines.map(
      (l) =>
        `  ${l.workerId.padEnd(16)} ${(l.account || '-').padEnd(16)} ${(l.externalId || '-').padEnd(12)} $${formatCents(l.amountCents).padStart(10)}  ${l.items} item(s)`,
    ),
  ].join('\n');
}

/** Waits (a few seconds at most) for a running server to apply a queued change. */
async function waitApplied(db: Db, file: string, opId: number, io: CliIO): Promise<void> {
  let running = false;
  try {
    lockDatabase(db, file).release();
  } catch {
    running = true;
  }
  if (!running) {
    io.out('No server is running: the funding is applied (with its ledger entry) when `hitstate serve` starts.\n');
    return;
  }
  for (let i = 0; i < 50; i++) {
    if (opApplied(db, opId)) {
      io.out('Applied by the running server.\n');
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  io.out('Queued; the running server applies it within seconds (check with `hitstate serve requester list`).\n');
}

/** `invite --endpoint URL --profile NAME`: a requester's invitations, through the signed API (no database access). */
async function requesterInvite(o: OptionValues, io: CliIO): Promise<number> {
  const profile = typeof o.profile === 'string' ? o.profile : 'default';
  let input: Record<string, unknown> = { Count: typeof o.count === 'number' ? o.count : 1 };
  if (typeof o.qualification === 'string') {
    const q = parseQualificationOption(o.qualification);
    input = { ...input, QualificationTypeId: q.qualificationTypeId, IntegerValue: q.value };
  }
  if (typeof o.expires === 'number') input.ExpiresInDays = o.expires;
  const credentials = await credentialProvider({ kind: 'profile', profile }, profile)();
  let out: Record<string, unknown>;
  try {
    out = await callServeApi(String(o.endpoint), credentials, 'CreateWorkerInvitations', input);
  } catch (err) {
    throw new HitstateError(
      'HST_ERR_SERVE_OPTIONS_INVALID',
      `hitstate serve invite --endpoint ${String(o.endpoint)}: the server refused (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}).`,
      { field: 'endpoint', cause: err },
    );
  }
  const invitations = out.Invitations as { SignUpUrl: string }[];
  for (const i of invitations) io.out(`${i.SignUpUrl}\n`);
  io.err(`${invitations.length} invitation(s) of requester profile ${profile}, each for one account.\n`);
  return EXIT.ok;
}

async function operatorCommand(action: string, rest: readonly string[], o: OptionValues, io: CliIO): Promise<number> {
  if (action === 'invite' && typeof o.endpoint === 'string') return requesterInvite(o, io);
  const config = typeof o.config === 'string' ? readServeConfig(resolve(io.cwd, o.config)) : {};
  const file = dbPath(o, config, io);
  const db = openDatabase(file);
  try {
    if (action === 'requester') {
      const [sub, name, amount] = rest;
      if (sub === 'add') {
        if (!name) throw usageError('hitstate serve requester add NAME [--balance USD]: NAME is missing.', 'name');
        const cents = typeof o.balance === 'string' ? parseUsd(o.balance, '--balance') : 0;
        showKeys(io, addRequester(db, name, cents));
        if (cents > 0) io.out(`Starting balance $${formatCents(cents)} queued for the server.\n`);
        return EXIT.ok;
      }
      if (sub === 'list') {
        const rows = listRequesters(db);
        if (rows.length === 0) io.out('No requesters yet: `hitstate serve requester add NAME --balance USD`.\n');
        for (const r of rows)
          io.out(
            `${r.name.padEnd(20)} ${r.accessKeyId}  balance $${r.balance} (on hold $${r.onHold}${r.pendingFunding !== '0.00' ? `, funding queued $${r.pendingFunding}` : ''})${r.disabled ? '  DISABLED' : ''}\n`,
          );
        return EXIT.ok;
      }
      if (sub === 'rotate-key') {
        if (!name) throw usageError('hitstate serve requester rotate-key NAME: NAME is missing.', 'name');
        showKeys(io, rotateKey(db, name));
        io.out('The previous key no longer works.\n');
        return EXIT.ok;
      }
      if (sub === 'disable' || sub === 'enable') {
        if (!name) throw usageError(`hitstate serve requester ${sub} NAME: NAME is missing.`, 'name');
        setDisabled(db, name, sub === 'disable');
        io.out(`Requester ${name} ${sub === 'disable' ? 'disabled: its calls are refused' : 'enabled'}.\n`);
        return EXIT.ok;
      }
      if (sub === 'fund') {
        if (!name || !amount)
          throw usageError('hitstate serve requester fund NAME USD: NAME and USD are needed.', 'usd');
        const cents = parseUsd(amount, 'USD');
        const { opId } = fundRequester(db, name, cents);
        io.out(`Funding of $${formatCents(cents)} for ${name} recorded.\n`);
        await waitApplied(db, file, opId, io);
        return EXIT.ok;
      }
      throw usageError(
        `hitstate serve requester: unknown action ${JSON.stringify(sub ?? '')}; use add, list, rotate-key, disable, enable or fund.`,
      );
    }
    if (action === 'payouts') {
      const [sub, batchId] = rest;
      if (sub === 'mark-paid') {
        if (!batchId) throw usageError('hitstate serve payouts mark-paid BATCH: BATCH is missing.', 'batch');
        const { batch, already } = markBatchPaid(db, batchId);
        io.out(
          already
            ? `Batch ${batch.batchId} was already marked paid on ${new Date(batch.paidMs!).toISOString()}; nothing changed.\n`
            : `${batchText(batch)}\nMarked paid.\n`,
        );
        return EXIT.ok;
      }
      if (sub !== undefined) throw usageError(`hitstate serve payouts: unknown action ${JSON.stringify(sub)}.`);
      const sinceMs = typeof o.since === 'string' ? parseSince(o.since) : 0;
      const batch = makePayoutBatch(db, sinceMs);
      const open = openPayoutBatches(db);
      if (open.length === 0) io.out('Nothing is owed to workers.\n');
      for (const b of open) io.out(`${batchText(b)}\n`);
      if (batch) io.out(`After paying batch ${batch.batchId}: hitstate serve payouts mark-paid ${batch.batchId}\n`);
      if (typeof o.csv === 'string') {
        // Quoted when needed, and a leading = + - @ defused, so a spreadsheet never runs a cell.
        const cell = (v: string) => {
          const safe = /^[=+\-@]/.test(v) ? `'${v}` : v;
          return /[",\n\r]/.test(safe) || safe !== v ? `"${safe.replace(/"/g, '""')}"` : safe;
        };
        const lines = ['batch,worker_id,account,external_id,amount_usd,items'];
        for (const b of open)
          for (const l of b.lines)
            lines.push(
              `${b.batchId},${l.workerId},${cell(l.account)},${cell(l.externalId)},${formatCents(l.amountCents)},${l.items}`,
            );
        writeFileSync(resolve(io.cwd, o.csv), `${lines.join('\n')}\n`, { mode: 0o600 });
        io.out(`Wrote ${o.csv}.\n`);
      }
      return EXIT.ok;
    }
    if (action === 'ledger') {
      if (rest[0] !== 'check') throw usageError('hitstate serve ledger check: the only ledger action is check.');
      const r = checkLedger(db);
      io.out(
        [
          `Funded $${formatCents(r.fundedCents)}; requester debits $${formatCents(r.requesterDebitsCents)}`,
          `  = worker credits $${formatCents(r.workerCreditsCents)} + fees $${formatCents(r.feesCents)} + refunds $${formatCents(r.refundsCents)} + held $${formatCents(r.heldCents)}`,
          `Paid out $${formatCents(r.paidOutCents)}.`,
          r.problems.length === 0 ? 'The ledger is consistent.' : `${r.problems.length} problem(s):`,
          ...r.problems.map((p) => `  - ${p}`),
          '',
        ].join('\n'),
      );
      if (r.problems.length > 0)
        throw new HitstateError('HST_ERR_SERVE_LEDGER', `The ledger check found ${r.problems.length} problem(s).`, {});
      return EXIT.ok;
    }
    if (action === 'invite') {
      const publicUrl = typeof o['public-url'] === 'string' ? o['public-url'] : config.publicUrl;
      if (!publicUrl)
        throw usageError('hitstate serve invite: --public-url URL is needed to print the sign-up links.', 'public-url');
      const codes = createInvites(db, {
        count: typeof o.count === 'number' ? o.count : 1,
        ...(typeof o.qualification === 'string' ? { qualification: parseQualificationOption(o.qualification) } : {}),
        ...(typeof o.expires === 'number' ? { expiresDays: o.expires } : {}),
      });
      const base = publicUrl.replace(/\/$/, '');
      for (const code of codes) io.out(`${base}/signup?invite=${code}\n`);
      io.err(
        `${codes.length} invitation(s), each for one account. Append &PROLIFIC_PID=... to record a participant id.\n`,
      );
      return EXIT.ok;
    }
    if (action === 'import') {
      if (typeof o.state !== 'string' || o.state === '')
        throw usageError(
          'hitstate serve import --state FILE: give the state file written by hitstate sim --state.',
          'state',
        );
      // The server holds its records in memory: importing under it would be overwritten.
      const lock = lockDatabase(db, file);
      try {
        const report = importSimState(db, resolve(io.cwd, o.state));
        io.out(
          `Imported ${report.hits} HIT(s), ${report.assignments} assignment(s) and ${report.workers} worker(s) from ${o.state}.\n\n`,
        );
        for (const r of report.requesters) {
          showKeys(io, r);
          io.out(`  (was access key ${r.simAccessKeyId} in hitstate sim; balance $${formatCents(r.balanceCents)})\n\n`);
        }
      } finally {
        lock.release();
      }
      return EXIT.ok;
    }
    if (action === 'backup') {
      const target = rest[0];
      if (!target) throw usageError('hitstate serve backup FILE: FILE is missing.', 'file');
      await backupDatabase(db, resolve(io.cwd, target));
      io.out(`Backed up ${file} to ${target}.\n`);
      return EXIT.ok;
    }
    throw usageError(
      `hitstate serve: unknown action ${JSON.stringify(action)}; use requester, invite, payouts, ledger, import, backup, or no action to run the server.`,
    );
  } finally {
    db.close();
  }
}

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Run the self-hosted MTurk-compatible platform, and manage its requesters and payouts',
  positionals: [
    {
      name: 'action',
      description: 'requester | invite | payouts | ledger | import | backup (none: run the server)',
      required: false,
    },
    { name: 'arg1', description: "the action's sub-action or argument", required: false },
    { name: 'arg2', description: 'NAME, BATCH, ...', required: false },
    { name: 'arg3', description: 'USD for `requester fund`', required: false },
  ],
  description: [
    'Without an action: serves the MTurk Requester API (POST /, AWS Signature V4 with the keys of',
    '`requester add`), /healthz, and the control API only with --control-api TOKEN. Data in one SQLite',
    'file (--db); one server per file. Run it behind a TLS reverse proxy (docs/serve.md).',
    '',
    'Actions:',
    '  requester add NAME [--balance USD]   create a requester; prints its keys once',
    '  requester list | rotate-key NAME | disable NAME | enable NAME | fund NAME USD',
    '  payouts [--since DATE] [--csv FILE]  group what workers are owed into a batch',
    '  payouts mark-paid BATCH              record that you paid a batch (idempotent)',
    '  ledger check                         check the ledger invariant, to the cent',
    '  invite [--count N] [--qualification TYPE:VALUE] [--expires DAYS]   sign-up links for workers',
    '  invite --endpoint URL --profile NAME [...]   the same, as a requester (its own crowd and qualifications)',
    '  import --state FILE                  a `hitstate sim --state` file into a new database',
    '  backup FILE                          online backup of the database',
  ].join('\n'),
  options: [
    { name: 'db', type: 'string', value: 'FILE', description: 'The database file', env: 'HITSTATE_SERVE_DB' },
    {
      name: 'public-url',
      type: 'string',
      value: 'URL',
      description: 'The https URL the site is reached at',
      env: 'HITSTATE_SERVE_PUBLIC_URL',
    },
    { name: 'port', type: 'number', value: 'N', description: 'Port to listen on (default 8443)' },
    { name: 'host', type: 'string', value: 'ADDR', description: 'Interface to listen on (default 127.0.0.1)' },
    { name: 'config', type: 'string', value: 'FILE', description: 'JSON file with the operator settings' },
    {
      name: 'control-api',
      type: 'string',
      value: 'TOKEN',
      description: 'Turn on /_sim/* behind Authorization: Bearer TOKEN',
      env: 'HITSTATE_SERVE_CONTROL_TOKEN',
    },
    {
      name: 'content-port',
      type: 'number',
      value: 'N',
      description: 'Port of the content origin for requester HTML (default --port + 1)',
    },
    {
      name: 'content-url',
      type: 'string',
      value: 'URL',
      description: 'Public URL of the content origin (its own host name), e.g. https://content.crowd.example.org',
    },
    { name: 'balance', type: 'string', value: 'USD', description: 'requester add: starting balance' },
    { name: 'count', type: 'number', value: 'N', description: 'invite: how many invitations (default 1)' },
    {
      name: 'qualification',
      type: 'string',
      value: 'TYPE:VALUE',
      description: 'invite: grant this qualification on sign-up',
    },
    { name: 'expires', type: 'number', value: 'DAYS', description: 'invite: the invitations expire after DAYS' },
    { name: 'since', type: 'string', value: 'DATE', description: 'payouts: only credits from this date (ISO)' },
    { name: 'csv', type: 'string', value: 'FILE', description: 'payouts: also write the open batches as CSV' },
    { name: 'state', type: 'string', value: 'FILE', description: 'import: the hitstate sim state file' },
    {
      name: 'endpoint',
      type: 'string',
      value: 'URL',
      description: "invite: as a requester, through the server's signed API (with --profile)",
    },
    { name: 'profile', type: 'string', value: 'NAME', description: "invite --endpoint: the requester's AWS profile" },
  ],
  examples: [
    'hitstate serve requester add lab --balance 500 --db ./crowd.db',
    'hitstate serve --db ./crowd.db --public-url https://crowd.example.org --port 8443',
    'hitstate serve payouts --since 2026-12-01 --csv payouts.csv --db ./crowd.db',
    'hitstate serve payouts mark-paid B20261206-123456 --db ./crowd.db',
    'hitstate serve backup ./crowd-2026-12-06.db --db ./crowd.db',
  ],
  async run(args, io) {
    const [action, ...rest] = args.positionals;
    const o = args.options;
    if (action !== undefined) return operatorCommand(action, rest, o, io);
    const config = typeof o.config === 'string' ? readServeConfig(resolve(io.cwd, o.config)) : {};
    const publicUrl = typeof o['public-url'] === 'string' ? o['public-url'] : config.publicUrl;
    if (!publicUrl)
      throw usageError(
        'hitstate serve: --public-url URL is required (the https address workers and requesters use).',
        'public-url',
      );
    const options: ServeOptions = {
      ...config,
      db: dbPath(o, config, io),
      publicUrl,
      port: typeof o.port === 'number' ? o.port : (config.port ?? 8443),
      host: typeof o.host === 'string' ? o.host : (config.host ?? '127.0.0.1'),
      log: (line) => io.out(`${JSON.stringify(line)}\n`),
    };
    if (typeof o['control-api'] === 'string') options.controlApiToken = o['control-api'];
    const contentPort = typeof o['content-port'] === 'number' ? o['content-port'] : config.contentPort;
    options.contentPort = contentPort ?? (options.port === 0 ? 0 : (options.port ?? 8443) + 1);
    if (typeof o['content-url'] === 'string') options.contentUrl = o['content-url'];
    let failed: unknown;
    let stopOnFatal: () => void = () => {};
    const server = await createServe({
      ...options,
      onFatal: (err) => {
        failed = err;
        stopOnFatal();
      },
    });
    io.err(
      [
        `hitstate serve listening on ${server.url} (public ${server.publicUrl}), database ${options.db}`,
        `  SDK: new MTurkClient({ endpoint: '${server.publicUrl}', region: 'us-east-1', credentials: { accessKeyId, secretAccessKey } })`,
        `  Worker site: ${server.publicUrl}/work; requester HTML from ${options.contentUrl ?? server.contentListenUrl}`,
        `  Control API: ${options.controlApiToken ? 'on (Bearer token)' : 'off'}. Press Ctrl-C to stop.`,
        '',
      ].join('\n'),
    );
    if (!io.signal.aborted)
      await new Promise<void>((done) => {
        stopOnFatal = done;
        io.signal.addEventListener('abort', () => done(), { once: true });
      });
    await server.close();
    io.err('hitstate serve stopped\n');
    if (failed !== undefined)
      throw new HitstateError(
        'HST_ERR_SERVE_DB',
        `The database write failed (${failed instanceof Error ? failed.message : String(failed)}); the server stopped. Nothing unacknowledged was lost; fix the disk and start it again.`,
        { cause: failed },
      );
    return EXIT.ok;
  },
};
