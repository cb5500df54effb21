// Shared setup for the `hitstate serve` tests: a temp database with requesters made the way the
// operator makes them, a server on a loopback port and a virtual engine clock, and real SDK
// clients signing with the printed keys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MTurkClient, type MTurkClientConfig } from '@aws-sdk/client-mturk';
import { VirtualClock } from '../../src/clock.js';
import { addRequester, openDatabase } from '../../src/simulator/serve/index.js';
import {
  createServe,
  type RequestLogLine,
  type ServeOptions,
  type ServeServer,
} from '../../src/simulator/serve/index.js';
import type { IssuedKeys } from '../../src/simulator/serve/requesters.js';
import { accept, submit } from '../../src/simulator/worker-actions.js';

export { externalQuestion, hitInput, rejection, typeInput } from '../simulator/helpers.js';

export interface ServeWorld {
  dir: string;
  dbFile: string;
  server: ServeServer;
  clock: VirtualClock;
  logs: RequestLogLine[];
  keys: Record<string, IssuedKeys>;
  client(name: string, config?: Partial<MTurkClientConfig>): MTurkClient;
  /** A worker accepts a HIT and submits answers, in-process (the worker site is not built yet). */
  work(workerId: string, hitId: string, answer?: string): { assignmentId: string };
  /** Restarts the server on the same database (a clean stop). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Makes requesters `name → USD balance` in a new database, then starts a server on it. */
export async function startServe(
  requesters: Record<string, number> = { alpha: 1000, beta: 1000 },
  options: Partial<ServeOptions> = {},
): Promise<ServeWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-'));
  const dbFile = join(dir, 'crowd.db');
  const admin = openDatabase(dbFile);
  const keys: Record<string, IssuedKeys> = {};
  for (const [name, usd] of Object.entries(requesters)) keys[name] = addRequester(admin, name, Math.round(usd * 100));
  admin.close();
  const clock = new VirtualClock(Date.now());
  const logs: RequestLogLine[] = [];
  const start = () =>
    createServe({
      db: dbFile,
      publicUrl: 'https://crowd.example.org',
      clock,
      log: (l) => logs.push(l),
      ...options,
    });
  const world: ServeWorld = {
    dir,
    dbFile,
    server: await start(),
    clock,
    logs,
    keys,
    client(name, config = {}) {
      const k = keys[name];
      if (!k) throw new Error(`no requester ${name}`);
      return new MTurkClient({
        endpoint: world.server.url,
        region: 'us-east-1',
        credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
        maxAttempts: 1,
        ...config,
      });
    },
    work(workerId, hitId, answer = 'yes') {
      const engine = world.server.engine;
      const a = accept(engine, workerId, { hitId });
      submit(engine, a.assignmentId, [['answer', answer]]);
      world.server.flush();
      return { assignmentId: a.assignmentId };
    },
    async restart() {
      await world.server.close();
      world.server = await start();
    },
    async close() {
      await world.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** A browser-like client: keeps cookies, sends the site's Origin on posts. */
export class Browser {
  cookies = new Map<string, string>();
  lastSetCookie: string[] = [];
  constructor(
    readonly base: string,
    readonly origin = 'https://crowd.example.org',
  ) {}
  async go(path: string, init: { method?: string; form?: Record<string, string>; origin?: string } = {}) {
    const headers: Record<string, string> = {
      cookie: [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; '),
    };
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = init.origin ?? this.origin;
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.base}${path}`, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const c of this.lastSetCookie) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = decodeURIComponent(pair!.slice(eq + 1));
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text() };
  }
  csrfOf(html: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error(`no csrf field in ${html.slice(0, 300)}`);
    return m[1]!;
  }
  async signUp(invite: string, username: string, extra = '') {
    const page = await this.go(`/signup?invite=${invite}${extra}`);
    const externalId = /name="externalId" value="([^"]+)"/.exec(page.text)?.[1];
    return this.go('/signup', {
      form: {
        csrf: this.csrfOf(page.text),
        invite,
        username,
        password: 'correct horse battery',
        ...(externalId ? { externalId } : {}),
      },
    });
  }
}
