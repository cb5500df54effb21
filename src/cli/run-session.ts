/**
 * What `hitstate run`, `resume` and `expire` share: the store of one environment, a runtime over
 * it, and the task server serving the run's task page over the runtime (`createTaskServer`) on a
 * local port, with the public task URL MTurk's ExternalQuestion points at.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskPageConfig } from '../config/task-run.js';
import { HitstateError } from '../errors.js';
import { GatewayRegistry, type AccountBalance, type MTurkOutcome } from '../mturk/index.js';
import { createRuntime, type Runtime, type RuntimeRequester } from '../runtime/index.js';
import { createTaskServer, type TaskServer } from '../server/index.js';
import type { Store, StoreEnvironment } from '../store/index.js';
import { usageError, type CliIO, type OptionSpec, type OptionValues } from './command.js';
import { taskServerSecret } from './secret.js';
import { describeEnvironment, isLoopback, localDirOf, openStoreFor } from './target.js';
import { serverPageOptions } from './task-page.js';

/** Options shared by the commands that serve a run's task page. */
export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'port',
    type: 'number',
    value: 'N',
    description:
      "Port of the task server, 0 for a free one (run: 8080; resume and expire: the port the run's HITs point at)",
    env: 'HITSTATE_PORT',
  },
  {
    name: 'host',
    type: 'string',
    value: 'ADDR',
    description: 'Interface the task server listens on',
    default: '127.0.0.1',
    env: 'HITSTATE_HOST',
  },
  {
    name: 'poll-ms',
    type: 'number',
    value: 'MS',
    description: 'Status-sync interval while units are assigned (6 times longer while none is)',
    default: 10_000,
    env: 'HITSTATE_POLL_MS',
  },
  {
    name: 'quiet',
    type: 'boolean',
    description: 'Print progress and problems only, not each worker event',
    env: 'HITSTATE_QUIET',
  },
];

/** `--public-url` of `hitstate run` (a resumed run keeps the task URL its HITs point at). */
export const PUBLIC_URL_OPTION: OptionSpec = {
  name: 'public-url',
  type: 'string',
  value: 'URL',
  description: 'https origin where workers reach the task server (required unless the endpoint is on this machine)',
  env: 'HITSTATE_PUBLIC_URL',
};

/** The default port of `hitstate run`. */
export const DEFAULT_PORT = 8080;

/** An open store, a runtime over it and a listening task server. */
export interface RunSession {
  readonly env: StoreEnvironment;
  readonly store: Store;
  readonly runtime: Runtime;
  readonly taskServer: TaskServer;
  /** `http://HOST:PORT` the task server listens on. */
  readonly localOrigin: string;
  /** The URL of the task page MTurk frames (`<public origin>/hitstate/task`). */
  readonly taskUrl: string;
  /** Closes the runtime, then the task server, then the store. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Checks `--public-url`: an https origin (no path, query or fragment; http too for a custom
 * endpoint), required unless the endpoint is on this machine, where the local origin is used.
 *
 * @throws HitstateError `HST_ERR_CLI_USAGE` naming `--public-url` and the fix.
 */
export function publicOrigin(options: OptionValues, env: StoreEnvironment): string | undefined {
  const raw =
    typeof options['public-url'] === 'string' && options['public-url'] !== '' ? options['public-url'] : undefined;
  if (raw === undefined) {
    if (isLoopback(env)) return undefined;
    throw usageError(
      `--public-url is required on ${describeEnvironment(env)}: workers load the task page from it, e.g. --public-url https://tasks.example.org (a reverse proxy or tunnel forwarding to this machine's --port).`,
      'public-url',
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError(
      `--public-url must be an https origin like https://tasks.example.org, got ${JSON.stringify(raw)}.`,
      'public-url',
    );
  }
  const local = url.protocol === 'http:' && env.kind === 'custom';
  if (url.protocol !== 'https:' && !local)
    throw usageError(
      `--public-url must be https:// (MTurk refuses other task pages on ${describeEnvironment(env)}), got ${JSON.stringify(raw)}.`,
      'public-url',
    );
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw usageError(
      `--public-url must be an origin without a path (the task page is served at /hitstate/task under it), got ${JSON.stringify(raw)}; use ${url.origin}.`,
      'public-url',
    );
  }
  return url.origin;
}

/** What {@link openRunSession} needs. */
export interface RunSessionInput {
  readonly io: CliIO;
  readonly env: StoreEnvironment;
  readonly storeDir: string;
  /** Chooses the requester once the store is open (resume reads the run's own). */
  readonly requester: (store: Store) => RuntimeRequester;
  /** The local port to listen on (resume reads the one the run's HITs point at). */
  readonly port: (store: Store) => number;
  readonly host: string;
  /** The https origin workers use; undefined on a loopback endpoint. */
  readonly publicOrigin: string | undefined;
  readonly pollMs: number;
  /** The task page to serve, with absolute paths (fixed once the store is open: resume reads it from the run). */
  readonly page: (store: Store) => { readonly page: TaskPageConfig; readonly title: string };
}

/**
 * Opens the store, the runtime and the task server.
 *
 * @throws HitstateError `HST_ERR_STORE_LOCKED` and other store errors, `HST_ERR_CLI_PORT_UNAVAILABLE`,
 *   `HST_ERR_CONFIG_INVALID` (runtime or server options).
 */
export async function openRunSession(input: RunSessionInput): Promise<RunSession> {
  const store = await openStoreFor(input.storeDir, input.env);
  let runtime: Runtime | undefined;
  let server: Server | undefined;
  try {
    runtime = await createRuntime({
      environment: input.env,
      requester: input.requester(store),
      store,
      pollIntervalMs: { activeMs: input.pollMs, idleMs: input.pollMs * 6 },
    });
    const { page, title } = input.page(store);
    const taskServer = createTaskServer(runtime.taskServerBackend(), {
      secret: taskServerSecret(localDirOf(input.storeDir, input.io), input.io),
      ...serverPageOptions(page, title),
      onError: (error, where) =>
        input.io.err(
          `hitstate: task server error on ${where.method} ${where.path}: ${error instanceof Error ? error.message : String(error)}\n`,
        ),
    });
    // A public server's timeouts and connection cap (issue 13 S5; docs/task-server.md).
    server = taskServer.applyServerLimits(
      createServer(taskServer.httpServerOptions, (req, res) => void taskServer.handle(req, res)),
    );
    const port = await listen(server, input.port(store), input.host);
    const localOrigin = `http://${input.host.includes(':') ? `[${input.host}]` : input.host}:${port}`;
    const loopbackOrigin = `http://127.0.0.1:${port}`;
    const taskUrl = `${input.publicOrigin ?? (isLoopback(input.env) ? loopbackOrigin : localOrigin)}${taskServer.taskPath}`;
    let closing: Promise<void> | undefined;
    const openRuntime = runtime;
    const openServer = server;
    return {
      env: input.env,
      store,
      runtime: openRuntime,
      taskServer,
      localOrigin,
      taskUrl,
      close: () => {
        closing ??= (async () => {
          await openRuntime.close();
          await closeServer(openServer);
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await runtime?.close();
    if (server !== undefined) await closeServer(server);
    await store.close();
    throw err;
  }
}

/**
 * Reads the account balance before a run is created, through a gateway of its own (closed
 * right after) so the runtime's gateway is created with the runtime's options.
 *
 * @throws HitstateError `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND`, `HST_ERR_CREDENTIALS_UNUSABLE`.
 */
export async function readBalance(
  env: StoreEnvironment,
  requester: RuntimeRequester,
): Promise<MTurkOutcome<AccountBalance>> {
  const registry = new GatewayRegistry();
  try {
    const gateway = registry.get({
      name: requester.name,
      environment: env.kind,
      ...(env.kind === 'custom' ? { endpoint: env.endpoint } : {}),
      credentials: requester.credentials,
    });
    return await gateway.getAccountBalance();
  } finally {
    registry.closeAll();
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new HitstateError(
          'HST_ERR_CLI_PORT_UNAVAILABLE',
          `the task server cannot listen on ${host}:${port} (${err.code ?? err.message}); pass another --port, or stop the process using it`,
          {
            field: 'port',
            cause: err,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
