// Shared by the store tests: temp directories, a file system that records and injects faults,
// a small seeded run, and a child-process runner for the fixtures under test/fixtures/store/.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { HitstateError } from '../../src/errors.js';
import { type JournalEntry, parseJournal } from '../../src/store/lowdb/journal.js';
import { nodeArgs } from '../support/child-command.js';
import {
  nodeFileSystem,
  openStore,
  type Store,
  type StoreFileSystem,
  type StoreOptions,
} from '../../src/store/index.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const SANDBOX = { kind: 'sandbox' } as const;

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hitstate-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Opens a sandbox store in `dir` on a virtual clock unless told otherwise. */
/** Every file under `dir` (relative path -> bytes as base64), to prove an operation changed nothing on disk. */
export function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = readFileSync(path).toString('base64');
    }
  };
  walk(dir);
  return out;
}

export function open(dir: string, options: Partial<StoreOptions> = {}): Promise<Store> {
  return openStore({ dir, environment: SANDBOX, clock: new VirtualClock(), ...options });
}

/** What the recording file system saw, in order. */
export interface FsLog {
  readonly ops: string[];
}

/**
 * The real file system, recording each durable write (`write <name>`, `rename <name>`, `append <name>`),
 * with an optional hook that runs before each operation and may throw to inject a fault.
 */
export function recordingFs(hook?: (op: string, path: string) => void | Promise<void>): {
  fs: StoreFileSystem;
  log: FsLog;
} {
  const log: FsLog = { ops: [] };
  const name = (p: string) => p.split(/[\\/]/).slice(-1)[0]!;
  const step = async (op: string, path: string) => {
    await hook?.(op, path);
    log.ops.push(`${op} ${name(path)}`);
  };
  const fs: StoreFileSystem = {
    ...nodeFileSystem,
    async writeFileDurable(path, text) {
      await step('write', path);
      return nodeFileSystem.writeFileDurable(path, text);
    },
    async rename(from, to) {
      await step('rename', to);
      return nodeFileSystem.rename(from, to);
    },
    async appendDurable(path, text) {
      await step('append', path);
      return nodeFileSystem.appendDurable(path, text);
    },
  };
  return { fs, log };
}

/** A requester `lab`, run `r1` with `units` units, a HIT per unit (unbound). */
export function seedRun(store: Store, units = 3, runId = 'r1'): void {
  if (store.requesters.get('lab') === undefined)
    store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab-mturk' } });
  store.runs.create({
    runId,
    requesterName: 'lab',
    config: { title: 'Label images', reward: '0.50', assignmentDurationSec: 600 },
    frameHeight: 650,
  });
  for (let i = 0; i < units; i++) {
    store.units.create({ unitId: `${runId}-u${i}`, runId, index: i, payAmountUsd: '0.50' });
    store.hits.add({
      hitId: `${runId.toUpperCase()}HIT${i}`,
      runId,
      link: `https://workersandbox.mturk.com/projects/X/tasks/${i}`,
      assignmentDurationSec: 600,
      expiresAt: Date.UTC(2026, 0, 8),
    });
  }
}

/** Runs a fixture script under test/fixtures/store/ (compiled or tsx); resolves once it prints `line`. */
export function startChild(
  script: string,
  args: string[],
  line: string,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, nodeArgs(join(root, 'test', 'fixtures', 'store', script), args), {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(line)) resolve({ child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code, signal) =>
      reject(new Error(`${script} exited (${code ?? signal}) before printing ${line}:\n${out}`)),
    );
  });
}

/** Kills a child and waits until it is gone. */
export function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * Every record of the store as plain data (every run, its collections and audit entries, the
 * workers of its agents), for comparing one state with another.
 */
export async function dumpStore(store: Store): Promise<unknown> {
  const runs = [];
  for (const run of store.runs.list()) {
    runs.push({
      run,
      units: store.units.ofRun(run.id),
      counts: store.units.statusCounts(run.id),
      hits: store.hits.ofRun(run.id),
      unbound: store.hits.unboundOfRun(run.id).map((h) => h.id),
      agents: store.agents.ofRun(run.id).map((a) => ({ agent: a, submission: store.agents.submission(a.id) ?? null })),
      workers: store.workers.ofRun(run.id),
      intents: store.outbox.ofRun(run.id),
      snapshots: store.snapshots.ofRun(run.id),
      audit: await collect(store.audit.entries({ runId: run.id })),
    });
  }
  const requesters = store.requesters.list();
  return JSON.parse(
    JSON.stringify({
      requesters,
      qualifications: requesters.map((r) => store.qualifications.ofRequester(r.name)),
      blocked: requesters.map((r) => store.workers.blockedBy(r.name).map((w) => w.id)),
      runs,
      audit: await collect(store.audit.entries()),
    }),
  );
}

/** Collects an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The rejection of a promise (or null if it resolved): uvu's assert.throws is sync-only. */
export const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

/** The HitstateError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function hitstateRejection(promise: Promise<unknown>): Promise<HitstateError> {
  const error = await rejection(promise);
  assert.ok(error instanceof HitstateError, `a HitstateError, got ${String(error)}`);
  return error as HitstateError;
}

/** The committed entries of a scope's active journal (`runs/<runId>/journal.jsonl`, or the store's), as parsed. */
export function journalEntries(dir: string, runId?: string): JournalEntry[] {
  const path =
    runId === undefined ? join(dir, 'sandbox', 'journal.jsonl') : join(dir, 'sandbox', 'runs', runId, 'journal.jsonl');
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return [];
  }
  return parseJournal(bytes).entries;
}

/** The records (collection and key) the last journal entry of a scope changed. */
export function lastCommitted(dir: string, runId?: string): string[] {
  return (journalEntries(dir, runId).at(-1)?.changes ?? []).map(([c, k]) => `${c} ${k}`);
}
