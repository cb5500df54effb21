// A real PostgreSQL server for the tests, started by the project: Debian's `postgresql` binaries
// (installed once with apt when missing, as root or through passwordless sudo, under a lock file
// shared by every test process), a cluster made with `initdb` in a temp dir, started with `pg_ctl` on a free loopback
// port, and stopped and removed afterwards (also on failure, and at process exit). initdb refuses
// to run as root, so as root the cluster is made and run by the `postgres` user (or `nobody`).
// When PostgreSQL cannot be had, `startPostgres` says why and the tests print "SKIPPED: ..."; they
// are never silently green. Installed but failing to start is a test failure, not a skip.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

/** A running test cluster. */
export interface PostgresServer {
  /** `postgres://hitstate:PASSWORD@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dir: string;
  /** The URL of another database on this server (created by {@link PostgresServer.createDatabase}). */
  urlFor(database: string): string;
  /** Runs one statement as the superuser on the `postgres` database. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  createDatabase(name: string): Promise<string>;
  /** Stops the server the hard way (`pg_ctl -m immediate`: like a power cut) and starts it again. */
  crashAndRestart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

export type PostgresAvailability =
  | { readonly ok: true; readonly binDir: string }
  | { readonly ok: false; readonly why: string };

const PREFIX = 'hitstate-pg-';
const INSTALL_LOCK = join(tmpdir(), 'hitstate-postgresql-install.lock');
const INSTALL_HINT =
  "Install Debian's package: `sudo apt-get update && sudo apt-get install -y postgresql` " +
  '(or set HITSTATE_PG_BIN to the folder holding initdb and pg_ctl).';

function run(
  command: string,
  args: readonly string[],
  options: { uid?: number; gid?: number; cwd?: string } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd ?? tmpdir(),
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ code: -1, output: `${output}\n${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The folder holding initdb and pg_ctl: HITSTATE_PG_BIN, PATH, /usr/lib/postgresql/N/bin (newest), /usr/local/bin. */
export function findPostgresBin(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  const candidates: string[] = [];
  if (process.env.HITSTATE_PG_BIN) return has(process.env.HITSTATE_PG_BIN) ? process.env.HITSTATE_PG_BIN : undefined;
  candidates.push(...(process.env.PATH ?? '').split(':').filter(Boolean));
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // No Debian PostgreSQL installed: the other places are tried.
  }
  candidates.push('/usr/local/bin');
  return candidates.find(has);
}

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(INSTALL_LOCK, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** apt-get under a lock file shared by every test process (two apt runs fail on apt's own lock). */
async function installUnderLock(): Promise<string | undefined> {
  for (;;) {
    let fd: number;
    try {
      fd = openSync(INSTALL_LOCK, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!lockHolderAlive()) rmSync(INSTALL_LOCK, { force: true });
      // Waiting on another process's apt run, not timing a test.
      else await delay(250);
      if (findPostgresBin()) return undefined;
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (findPostgresBin()) return undefined;
      const lock = ['-o', 'DPkg::Lock::Timeout=600'];
      // As root apt-get runs as is; otherwise through passwordless sudo (checked before calling this).
      const apt = (args: string[]) =>
        process.getuid?.() === 0 ? run('apt-get', args) : run('sudo', ['-n', 'apt-get', ...args]);
      const update = await apt([...lock, 'update']);
      const install = update.code === 0 ? await apt([...lock, 'install', '-y', 'postgresql']) : update;
      if (findPostgresBin()) return undefined;
      return `\`apt-get ${update.code === 0 ? 'install -y postgresql' : 'update'}\` failed:\n${install.output.slice(-1500)}`;
    } finally {
      rmSync(INSTALL_LOCK, { force: true });
    }
  }
}

let availability: Promise<PostgresAvailability> | undefined;

/** Finds PostgreSQL's binaries, installing Debian's package once when missing (as root with apt). */
export function ensurePostgres(): Promise<PostgresAvailability> {
  availability ??= (async (): Promise<PostgresAvailability> => {
    const found = findPostgresBin();
    if (found) return { ok: true, binDir: found };
    if (process.env.HITSTATE_PG_BIN)
      return { ok: false, why: `HITSTATE_PG_BIN=${process.env.HITSTATE_PG_BIN} holds no initdb and pg_ctl` };
    const root = process.getuid?.() === 0;
    const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
    if ((!root && !sudo) || !existsSync('/usr/bin/apt-get'))
      return {
        ok: false,
        why: `PostgreSQL (initdb, pg_ctl) is not installed and this process cannot install it (not root, no passwordless sudo, or no apt-get). ${INSTALL_HINT}`,
      };
    const failure = await installUnderLock();
    const bin = findPostgresBin();
    return bin
      ? { ok: true, binDir: bin }
      : { ok: false, why: `PostgreSQL could not be installed. ${INSTALL_HINT}\n${failure ?? ''}` };
  })();
  return availability;
}

/** The unprivileged user that runs the cluster when we are root (initdb refuses root). */
function unprivilegedUser(): { name: string; uid: number; gid: number } | undefined {
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { name, uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Stops the clusters that test processes killed before their cleanup left behind (their pid file names a dead process). */
function reapOrphans(binDir: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
      process.kill(owner, 0);
      continue;
    } catch (error) {
      // ESRCH: the test process is gone; anything else (no owner file yet): leave it alone.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    spawnSync(join(binDir, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', 'stop'], {
      stdio: 'ignore',
      ...asClusterUser(),
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

let clusterUser: { name: string; uid: number; gid: number } | undefined;
function asClusterUser(): { uid?: number; gid?: number } {
  return clusterUser ? { uid: clusterUser.uid, gid: clusterUser.gid } : {};
}

const running = new Set<() => void>();
let exitHookInstalled = false;
function stopAllAtExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that throws past its after() hook still stops its cluster (synchronously: it is exit).
  process.on('exit', () => {
    for (const stop of running) stop();
  });
}

/**
 * Starts a fresh PostgreSQL cluster on a free loopback port, or says why it cannot.
 *
 * @example
 * ```ts
 * const pgServer = await startPostgres();
 * if (!pgServer.ok) console.log(`SKIPPED: ${pgServer.why}`);
 * else { ...; await pgServer.server.stop(); }
 * ```
 */
export async function startPostgres(): Promise<
  | { readonly ok: true; readonly server: PostgresServer }
  | {
      readonly ok: false;
      readonly why: string;
      /** True when PostgreSQL is installed but no cluster could be started: a failure, never a skip. */
      readonly installed: boolean;
    }
> {
  const found = await ensurePostgres();
  if (!found.ok) return { ...found, installed: false };
  const bin = (name: string) => join(found.binDir, name);
  if (process.getuid?.() === 0) {
    clusterUser = unprivilegedUser();
    if (!clusterUser)
      return {
        ok: false,
        installed: true,
        why: 'running as root, and neither a `postgres` nor a `nobody` user exists to run initdb',
      };
    console.log(`PostgreSQL test cluster: initdb refuses root, so the cluster runs as the ${clusterUser.name} user`);
  }
  reapOrphans(found.binDir);
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const user = 'hitstate';
  const password = randomBytes(18).toString('base64url');
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (clusterUser) {
    chownSync(dir, clusterUser.uid, clusterUser.gid);
    chownSync(join(dir, 'pwfile'), clusterUser.uid, clusterUser.gid);
  }
  const data = join(dir, 'data');
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  // Password (SCRAM) on TCP, which is loopback only; trust on the unix socket, which lives in this
  // private temp dir. UTF8 so emoji round-trip; --no-sync because the cluster is thrown away.
  const init = await run(
    bin('initdb'),
    [
      '-D',
      data,
      '-U',
      user,
      `--pwfile=${join(dir, 'pwfile')}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '-E',
      'UTF8',
      '--no-locale',
      '--no-sync',
    ],
    asClusterUser(),
  );
  if (init.code !== 0) {
    removeDir();
    return {
      ok: false,
      installed: true,
      why: `initdb failed${clusterUser ? ` (run as the ${clusterUser.name} user)` : ''}:\n${init.output.slice(-1500)}`,
    };
  }
  let port = 0;
  const start = async (): Promise<string | undefined> => {
    let failure = '';
    // A port picked free can be taken before the server binds it: try another.
    for (let attempt = 0; attempt < 3; attempt++) {
      port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=60`;
      const started = await run(
        bin('pg_ctl'),
        ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '120', 'start'],
        asClusterUser(),
      );
      if (started.code === 0) return undefined;
      let log = '';
      try {
        log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-1500);
      } catch {
        // No log written: the pg_ctl output says why.
      }
      failure = `pg_ctl start failed:\n${started.output.slice(-1000)}\n${log}`;
    }
    return failure;
  };
  const failed = await start();
  if (failed !== undefined) {
    removeDir();
    return { ok: false, installed: true, why: failed };
  }
  const stopSync = () => {
    spawnSync(bin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', ...asClusterUser() });
    removeDir();
  };
  running.add(stopSync);
  stopAllAtExit();
  const urlFor = (database: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const sql = async (text: string, values?: unknown[]) => {
    const client = new pg.Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  };
  const server: PostgresServer = {
    get url() {
      return urlFor('postgres');
    },
    get port() {
      return port;
    },
    user,
    password,
    dir,
    urlFor,
    sql,
    async createDatabase(name) {
      await sql(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return urlFor(name);
    },
    async crashAndRestart() {
      const stopped = await run(bin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], asClusterUser());
      if (stopped.code !== 0) throw new Error(`pg_ctl stop -m immediate failed:\n${stopped.output}`);
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=60`;
      const started = await run(
        bin('pg_ctl'),
        ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '120', 'start'],
        asClusterUser(),
      );
      if (started.code !== 0) throw new Error(`pg_ctl start after the crash failed:\n${started.output}`);
    },
    async stop() {
      running.delete(stopSync);
      await run(bin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], asClusterUser());
      removeDir();
    },
  };
  return { ok: true, server };
}

/**
 * The PostgreSQL part of a test file, in one place: starts a test cluster and hands it to
 * `define`, which queues the file's suites (and `.run()`s them); a last suite stops the server.
 * Without PostgreSQL one suite prints that it skipped and why, and fails when PostgreSQL is
 * installed but could not be started (a skip is only for a machine without it): never silently green.
 * Await it at the top of the file: uvu runs the suites queued by the end of the first tick.
 *
 * @param label - what the file tests, for the skip line and the suites' names.
 */
export async function withPostgresServer(
  label: string,
  define: (server: PostgresServer) => void | Promise<void>,
): Promise<void> {
  const started = await startPostgres();
  if (!started.ok) {
    console.log(`SKIPPED: ${label} needs a PostgreSQL server: ${started.why}`);
    const Skipped = suite(`${label} (skipped)`);
    Skipped.skip(label, () => undefined);
    Skipped('when the tests skip then PostgreSQL is missing, not installed and broken', () => {
      assert.not.ok(started.installed, `PostgreSQL is installed but could not be started: ${started.why}`);
    });
    Skipped.run();
    return;
  }
  const server = started.server;
  try {
    await define(server);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const End = suite(`${label}: the server`);
  End('stops', async () => {
    await server.stop();
  });
  End.run();
}

/** The URL of a schema of its own on `server` (created on first open), so tests never share data. */
export function freshSchemaUrl(server: PostgresServer, prefix = 't'): string {
  return `${server.url}?schema=${prefix}_${randomBytes(6).toString('hex')}`;
}
