/**
 * WAL checkpoints off the request path. SQLite copies the write-ahead log back into the database
 * file (a checkpoint, two fsyncs) inside whichever commit pushes the log past 1,000 pages: a
 * request's reply then waits for it, tens of milliseconds on a busy disk. The server's connection
 * turns that off (`wal_autocheckpoint = 0`) and this module runs `PRAGMA wal_checkpoint(PASSIVE)`
 * on a connection of its own in a worker thread, on a timer. A passive checkpoint never takes the
 * write lock, so commits go on while it copies; once it has copied the whole log, the next commit
 * starts the log over from its beginning, so it stays small.
 *
 * Durability is unchanged: a commit is durable in the log (as before); the checkpoint's
 * connection has the server's `synchronous` level, so it syncs the log before copying it and the
 * database file after, exactly as an automatic checkpoint would.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** What one checkpoint did (the three columns of `PRAGMA wal_checkpoint`). */
export interface WalCheckpoint {
  /** 1 when it could not run (another checkpoint was running). */
  busy: number;
  /** Frames in the log when it ran (-1: the database is not in WAL mode). */
  walFrames: number;
  /** Of those, frames now copied into the database file (all of them: the log starts over at the next commit). */
  checkpointedFrames: number;
}

/** Options of {@link startCheckpointer}. */
export interface CheckpointerOptions {
  /** The database file. */
  file: string;
  /** The server connection's `synchronous` level, which the checkpoint's connection uses too. */
  synchronous: 'NORMAL' | 'FULL';
  /** How often to checkpoint, in ms (real time). @defaultValue 250 */
  intervalMs?: number;
  /** A log longer than this many frames (pages) is checkpointed every 2 ms until it starts over. @defaultValue 2048 (8 MB) */
  restartFrames?: number;
  /**
   * A log longer than this many frames asks {@link CheckpointerOptions.onLongLog}, at most every
   * 100 ms. @defaultValue 16384 (64 MB)
   */
  longFrames?: number;
  /**
   * The log is long and does not start over (a commit came in during every checkpoint): the owner
   * checkpoints on its own connection, between two of its commits (little is left to copy).
   */
  onLongLog: () => void;
  /** Called when a checkpoint fails or the thread stops; the server falls back to automatic checkpoints. */
  onError: (err: Error) => void;
}

/** A running checkpointer. */
export interface Checkpointer {
  /** Checkpoints now (on the thread) and says what it did. */
  now(): Promise<WalCheckpoint>;
  /** Checkpoints done by the timer and {@link Checkpointer.now}, as of the last `now()` answer. */
  readonly count: number;
  /** Stops the thread and closes its connection. Safe to call twice. */
  stop(): Promise<void>;
}

// The thread's code, evaluated as CommonJS: no file of its own to find next to this one (this
// module runs from `src/` under tsx and from `dist/`), and no loader hooks of the main thread.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').raw();
let count = 0;
let lastFrames = -1;
const run = () => {
  const [busy, walFrames, checkpointedFrames] = checkpoint.get();
  count++;
  // Only while commits come in: a long log that no one writes to starts over at the next commit.
  const growing = walFrames !== lastFrames;
  lastFrames = walFrames;
  return { busy, walFrames, checkpointedFrames, count, growing };
};
// A passive checkpoint copies the log up to where it was when it began; the log starts over at
// the next commit only if no commit came in the meantime. Under steady load that is rare, so
// while the log is long the thread tries again every 2 ms (each try has little left to copy and
// is over quickly) instead of every interval, until a commit finds the log copied whole.
// A commit every millisecond or so (the server saturated) leaves no such moment: past
// longFrames the thread asks the server's connection to copy the last few frames itself, at most
// every 100 ms, so its next commit starts the log over.
let timer;
let askedMs = 0;
const askIfLong = (r) => {
  if (!r.growing || r.walFrames <= workerData.longFrames) return false;
  if (Date.now() - askedMs >= 100) {
    askedMs = Date.now();
    parentPort.postMessage({ long: r.walFrames });
  }
  return true;
};
const tick = () => {
  try {
    const r = run();
    const growing = r.growing;
    const long = askIfLong(r);
    // While the server's connection is asked to copy the rest, the thread stays out of its way (a
    // checkpoint of its own would hold the checkpoint lock and make that one return busy).
    timer = setTimeout(
      tick,
      long ? 20 : growing && r.walFrames > workerData.restartFrames ? 2 : workerData.intervalMs,
    );
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
};
timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.stop) {
    clearTimeout(timer);
    db.close();
    parentPort.postMessage({ stopped: true });
    parentPort.close();
    return;
  }
  try {
    const r = run();
    parentPort.postMessage({ id: m.id, result: r });
    askIfLong(r);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

/**
 * Starts the checkpoint thread on `file` (a WAL database the caller opened with
 * `wal_autocheckpoint = 0`). Resolves once its connection is open.
 *
 * @throws Error when the thread cannot open the database.
 */
export function startCheckpointer(options: CheckpointerOptions): Promise<Checkpointer> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(THREAD, {
    eval: true,
    execArgv: [],
    workerData: {
      file: options.file,
      synchronous: options.synchronous,
      intervalMs: options.intervalMs ?? 250,
      restartFrames: options.restartFrames ?? 2048,
      longFrames: options.longFrames ?? 16_384,
      sqlite,
    },
  });
  // The timer alone never keeps the process alive; an answer waited for does (ref below).
  worker.unref();
  const waiting = new Map<number, { resolve: (r: WalCheckpoint) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let count = 0;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let failed: Error | undefined;
  let ready = false;
  let exited = false;
  const fail = (cause: Error) => {
    if (failed || stopped) return;
    const err = new Error(`WAL checkpoints of ${options.file}: ${cause.message}`, { cause });
    failed = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    // Before it is ready the caller hears of it from the rejected start instead.
    if (ready) options.onError(err);
  };
  worker.on(
    'message',
    (m: { long?: number; id?: number; result?: WalCheckpoint & { count: number }; error?: string }) => {
      if (m.long !== undefined) options.onLongLog();
      if (m.result) count = m.result.count;
      if (m.id !== undefined) {
        const w = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error !== undefined) w?.reject(new Error(`WAL checkpoints of ${options.file}: ${m.error}`));
        else if (m.result) {
          const { busy, walFrames, checkpointedFrames } = m.result;
          w?.resolve({ busy, walFrames, checkpointedFrames });
        }
      } else if (m.error !== undefined) fail(new Error(m.error));
    },
  );
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => {
    exited = true;
    fail(new Error(`The WAL checkpoint thread stopped (exit code ${code}).`));
  });
  const api: Checkpointer = {
    get count() {
      return count;
    },
    now: () =>
      new Promise<WalCheckpoint>((resolve, reject) => {
        if (failed) return reject(failed);
        if (stopped) return reject(new Error('The WAL checkpointer is stopped.'));
        const id = nextId++;
        const settle = () => {
          waiting.delete(id);
          if (waiting.size === 0 && !stopped) worker.unref();
        };
        waiting.set(id, {
          resolve: (r) => {
            settle();
            resolve(r);
          },
          reject: (e) => {
            settle();
            reject(e);
          },
        });
        worker.ref();
        worker.postMessage({ id });
      }),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        stopped = true;
        if (exited) return resolve();
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage({ stop: true });
      });
      return stopping;
    },
  };
  // Ready once the connection is open: the first `now()` answers after it.
  return api.now().then(
    () => {
      ready = true;
      return api;
    },
    async (err: Error) => {
      await worker.terminate();
      throw err;
    },
  );
}
