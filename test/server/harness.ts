// Runs a task server behind each target the adapter matrix covers (node:http, Express,
// Fastify) on 127.0.0.1, and a small client for its routes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { toExpress } from '../../src/server/express.js';
import { toFastify } from '../../src/server/fastify.js';
import type { TaskServer } from '../../src/server/task-server.js';

export const TARGETS = ['node:http', 'express', 'fastify'] as const;
export type Target = (typeof TARGETS)[number];

/** A running target; `/app/other` is an app route outside the task server, on every target. */
export interface Running {
  readonly origin: string;
  close(): Promise<void>;
}

function closeNode(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export async function start(target: Target, tasks: TaskServer): Promise<Running> {
  if (target === 'node:http') {
    const server = createServer((req, res) => {
      if (req.url === '/app/other') {
        res.end('app route');
        return;
      }
      void tasks.handle(req, res);
    });
    const origin = await listen(server);
    return { origin, close: () => closeNode(server) };
  }
  if (target === 'express') {
    const app = express();
    app.use(toExpress(tasks));
    app.use(express.json());
    app.get('/app/other', (_req, res) => {
      res.send('app route');
    });
    const server = createServer(app);
    const origin = await listen(server);
    return { origin, close: () => closeNode(server) };
  }
  const app = Fastify();
  await app.register(toFastify(tasks));
  app.get('/app/other', async () => 'app route');
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    origin: origin.replace('localhost', '127.0.0.1'),
    close: async () => {
      await app.close();
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // Parsed JSON body, or undefined when the body is not JSON.
  readonly json: any;
}

export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A client of the wrapper's JSON API, as the browser uses it. */
export function client(origin: string, prefix = '/hitstate') {
  const api = `${origin}${prefix}/api`;
  const auth = (token: string | undefined): Record<string, string> =>
    token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const json = (body: unknown): RequestInit => ({
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
  return {
    register: (arrival: Record<string, unknown>) => request(`${api}/agents`, { method: 'POST', ...json(arrival) }),
    submit: (agentId: string, token: string | undefined, data: unknown) =>
      request(`${api}/agents/${encodeURIComponent(agentId)}/submit`, {
        method: 'POST',
        body: JSON.stringify({ data }),
        headers: { 'Content-Type': 'application/json', ...auth(token) },
      }),
    heartbeat: (agentId: string, token: string | undefined) =>
      request(`${api}/agents/${encodeURIComponent(agentId)}/heartbeat`, {
        method: 'POST',
        body: '{}',
        headers: { 'Content-Type': 'application/json', ...auth(token) },
      }),
    disconnectBeacon: (agentId: string, token: string) =>
      request(`${api}/agents/${encodeURIComponent(agentId)}/disconnect`, {
        method: 'POST',
        body: JSON.stringify({ token }),
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      }),
    status: (agentId: string, token: string | undefined) =>
      request(`${api}/agents/${encodeURIComponent(agentId)}`, { headers: auth(token) }),
    preview: (hitId?: string) =>
      request(`${api}/preview${hitId === undefined ? '' : `?hitId=${encodeURIComponent(hitId)}`}`),
    taskPage: (params: Record<string, string>, accept = 'text/html') =>
      request(`${origin}${prefix}/task?${new URLSearchParams(params)}`, { headers: { Accept: accept } }),
  };
}

/** Lets pending I/O and promise callbacks run a few turns (no wall-clock wait). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';
export const RUN = 'run-1';
export const HITS = ['HIT0001', 'HIT0002', 'HIT0003'] as const;
export const ARRIVAL = { hitId: 'HIT0001', assignmentId: 'ASG0001', workerId: 'WORKERA' } as const;
export const OTHER_ARRIVAL = { hitId: 'HIT0002', assignmentId: 'ASG0002', workerId: 'WORKERB' } as const;

/**
 * A hang guard for browser tests (not a timing assertion): a wait that never ends fails with
 * its name instead of hanging the file until the runner's watchdog kills it.
 */
export function guard<T>(promise: Promise<T>, what: string, limitMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), limitMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
