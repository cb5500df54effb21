/**
 * `hitstate dashboard`: serves the run dashboard for the runs of one environment's store, read
 * read-only (the same look `hitstate status` takes, so it works while a `hitstate run` holds the
 * store) and read again every `--refresh` ms. Review actions are shown disabled there: the
 * process that owns a run reviews it (`runtime.dashboard()`, `hitstate review`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../clock.js';
import { createDashboard, type Dashboard } from '../../dashboard/dashboard.js';
import { storeSource } from '../../dashboard/source.js';
import { HitstateError } from '../../errors.js';
import type { Runtime } from '../../runtime/core/runtime.js';
import { sameEnvironment, type StoreEnvironment } from '../../store/index.js';
import { EXIT, usageError, type CliIO, type CommandSpec, type OptionValues } from '../command.js';
import {
  describeEnvironment,
  envOption,
  parseEnvironment,
  STORE_OPTION,
  storeDirOf,
  describeStore,
  storeEnvironments,
} from '../target.js';

/** The port `hitstate dashboard` listens on unless told. */
export const DASHBOARD_PORT = 8090;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** The dashboard's access token: `--token`, else a fresh one when the host is not loopback. */
export function dashboardToken(options: OptionValues, host: string): string | undefined {
  const given = typeof options.token === 'string' && options.token !== '' ? options.token : undefined;
  if (given !== undefined && given.length < 16)
    throw usageError(
      'hitstate dashboard: --token must be at least 16 characters (or leave it out to get one printed)',
      'token',
    );
  if (given !== undefined) return given;
  return LOOPBACK.test(host) ? undefined : randomBytes(24).toString('base64url');
}

/**
 * Listens with the dashboard on host:port and resolves with the server and the URL to open
 * (with `?token=` when a token guards it).
 *
 * @throws HitstateError `HST_ERR_CLI_PORT_UNAVAILABLE`
 */
export async function listenDashboard(
  dashboard: Dashboard,
  host: string,
  port: number,
  token: string | undefined,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void dashboard.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HitstateError(
          'HST_ERR_CLI_PORT_UNAVAILABLE',
          `the dashboard cannot listen on ${host}:${port} (${err.code ?? err.message}); pass another --port, or stop the process using it`,
          { field: 'port', cause: err },
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shown}:${address.port}${dashboard.prefix}/${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`;
  return { server, url };
}

/** Waits for Ctrl-C, then closes the server (and its live connections) and the dashboard. */
export async function serveUntilStopped(io: CliIO, server: Server, dashboard: Dashboard): Promise<void> {
  if (!io.signal.aborted)
    await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
  await dashboard.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function environmentOf(storeDir: string, options: OptionValues): Promise<StoreEnvironment> {
  const wanted = typeof options.env === 'string' && options.env !== '' ? parseEnvironment(options.env) : undefined;
  const all = (await storeEnvironments(storeDir)).map((h) => h.environment);
  if (wanted !== undefined) {
    if (!all.some((e) => sameEnvironment(e, wanted)))
      throw new HitstateError(
        'HST_ERR_RUN_NOT_FOUND',
        `there is no ${describeEnvironment(wanted)} store under ${describeStore(storeDir)}; pass --store DIR where it is, or another --env`,
        { field: 'env' },
      );
    return wanted;
  }
  if (all.length === 1) return all[0]!;
  if (all.length === 0)
    throw new HitstateError(
      'HST_ERR_RUN_NOT_FOUND',
      `no store under ${describeStore(storeDir)}; pass --store DIR, or try \`npm run demo -- --dashboard\``,
      { field: 'store' },
    );
  throw usageError(
    `the store under ${describeStore(storeDir)} holds ${all.map(describeEnvironment).join(', ')}; pass --env to choose one`,
    'env',
  );
}

/**
 * The review templates of `--review-template`: `FILE` (every run), or `RUN=FILE` entries
 * separated by commas, each file read now.
 *
 * @throws HitstateError `HST_ERR_CLI_USAGE` naming the entry that could not be read.
 */
export function reviewTemplatesOption(raw: unknown, cwd: string): Record<string, string> | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const out: Record<string, string> = {};
  for (const entry of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    // A run id has no slash; a path with "=" in it and no run before it is a file of every run.
    const [runId, file] =
      eq > 0 && !entry.slice(0, eq).includes('/') ? [entry.slice(0, eq), entry.slice(eq + 1)] : ['*', entry];
    let text: string;
    try {
      text = readFileSync(resolve(cwd, file), 'utf8');
    } catch (err) {
      throw usageError(
        `hitstate dashboard: --review-template ${entry}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give an HTML file, or RUN=FILE for one run`,
        'review-template',
      );
    }
    out[runId] = text;
  }
  return out;
}

export const dashboardCommand: CommandSpec = {
  name: 'dashboard',
  summary: 'Serve the run dashboard of a store (read-only; works while runs are live)',
  description: [
    'Serves the web dashboard for every run of one environment of the store: runs, each run with its live unit',
    'state chart, unit table and money, each unit with its MTurk calls and submission. The store is read',
    'read-only (no lock, nothing written), as `hitstate status` reads it, and read again every --refresh ms,',
    'so it works while `hitstate run` holds the store. Reviewing is done by the process that owns the run.',
    'Listens on 127.0.0.1 by default; on any other --host a token is required (--token, or one is printed).',
  ].join('\n'),
  options: [
    envOption(),
    STORE_OPTION,
    {
      name: 'port',
      type: 'number',
      value: 'N',
      description: 'Port to listen on; 0 picks a free one',
      default: DASHBOARD_PORT,
    },
    { name: 'host', type: 'string', value: 'H', description: 'Interface to listen on', default: '127.0.0.1' },
    {
      name: 'token',
      type: 'string',
      value: 'T',
      description: 'Access token (16+ characters); required off loopback, printed when generated',
      env: 'HITSTATE_DASHBOARD_TOKEN',
    },
    { name: 'refresh', type: 'number', value: 'MS', description: 'How often the store is read again', default: 2000 },
    {
      name: 'review-template',
      type: 'string',
      value: '[RUN=]FILE',
      description:
        'HTML showing each submission ({{submission.FIELD}} placeholders, escaped, in a sandboxed frame); RUN=FILE for one run, comma-separated',
    },
  ],
  examples: [
    'hitstate dashboard',
    'hitstate dashboard --store /data/hitstate --env sandbox --port 8090',
    'hitstate dashboard --host 0.0.0.0',
    'hitstate dashboard --review-template review.html',
  ],
  async run(args, io) {
    const port = Number(args.options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw usageError(
        `hitstate dashboard: --port must be a whole number from 0 to 65535, got ${String(args.options.port)}`,
        'port',
      );
    const refreshMs = Number(args.options.refresh);
    if (!Number.isInteger(refreshMs) || refreshMs < 200 || refreshMs > 3_600_000)
      throw usageError(
        `hitstate dashboard: --refresh must be from 200 to 3600000 ms, got ${String(args.options.refresh)}`,
        'refresh',
      );
    const host = String(args.options.host);
    const token = dashboardToken(args.options, host);
    const reviewTemplates = reviewTemplatesOption(args.options['review-template'], io.cwd);
    const storeDir = storeDirOf(args.options, io);
    const environment = await environmentOf(storeDir, args.options);
    const source = await storeSource({ storeDir, environment, clock: systemClock, refreshMs });
    let dashboard: Dashboard;
    try {
      dashboard = createDashboard(
        source,
        { ...(token === undefined ? {} : { token }), ...(reviewTemplates === undefined ? {} : { reviewTemplates }) },
        true,
      );
    } catch (err) {
      await source.close();
      throw err;
    }
    let listening: Awaited<ReturnType<typeof listenDashboard>>;
    try {
      listening = await listenDashboard(dashboard, host, port, token);
    } catch (err) {
      await dashboard.close();
      throw err;
    }
    io.out(
      [
        `hitstate dashboard: ${describeEnvironment(environment)} store ${describeStore(storeDir)} (read-only, read again every ${refreshMs} ms)`,
        `  open  ${listening.url}`,
        token === undefined
          ? '  access: loopback only'
          : '  access: the token in that URL (kept in a cookie afterwards); keep it private',
        '  Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await serveUntilStopped(io, listening.server, dashboard);
    io.out('hitstate dashboard stopped\n');
    return EXIT.ok;
  },
};

/**
 * `hitstate demo --dashboard`: serves `runtime.dashboard()` on 127.0.0.1 (port
 * HITSTATE_DASHBOARD_PORT, default 8090, or a free one when it is taken), prints its URL and
 * keeps it open until Ctrl-C.
 */
export async function keepDashboardOpen(runtime: Runtime, io: CliIO): Promise<void> {
  const dashboard = runtime.dashboard();
  const wanted = Number(io.env.HITSTATE_DASHBOARD_PORT ?? DASHBOARD_PORT);
  let listening: Awaited<ReturnType<typeof listenDashboard>>;
  try {
    listening = await listenDashboard(
      dashboard,
      '127.0.0.1',
      Number.isInteger(wanted) ? wanted : DASHBOARD_PORT,
      undefined,
    );
  } catch {
    listening = await listenDashboard(dashboard, '127.0.0.1', 0, undefined);
  }
  io.out(
    `\nThe run's dashboard is open at ${listening.url}\n  (the run page has the state chart and every unit; Ctrl-C to stop)\n`,
  );
  await serveUntilStopped(io, listening.server, dashboard);
}
