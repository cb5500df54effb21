/**
 * The audit trail: one JSON line per MTurk call, appended. It only grows and is never read back
 * during a run, so it does not go through lowdb (which would rewrite the whole history on every
 * write): lines wait in memory for the store's next write, which records them in its commit
 * record and appends them (fsync'd) once committed, at the offset the record names, so a crash
 * never leaves half of a write's lines. A torn last line left by an older hitstate (which appended
 * without a commit record) is sealed on open (a newline after it) and skipped by readers.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { StoreFileSystem } from './file-system.js';
import type { StagedFlush } from './flush-commit.js';
import type { FileStats } from './store-file.js';
import type { AuditEntry } from './types.js';

/** How far back from the end the open-time check looks for the last newline. */
const TAIL_BYTES = 64 * 1024;

/** Lines staged into a write. */
export interface StagedLines {
  readonly lines: readonly string[];
  readonly bytes: number;
}

/** What a read-only store shows of a log: its first `limit` bytes, then `tail` (lines committed but not yet appended). */
export interface CommittedLog {
  readonly limit: number;
  readonly tail: string;
}

export class AuditLog {
  #pending: string[] = [];
  /** Bytes in the file: where the next write's lines go. */
  #size = 0;
  #committedView: CommittedLog | null = null;
  #writes = 0;
  #bytesWritten = 0;
  #lastWriteBytes = 0;
  #lastWriteMs = 0;
  #lastWriteAt: number | null = null;

  constructor(
    readonly absPath: string,
    readonly relPath: string,
    private readonly fs: StoreFileSystem,
  ) {}

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Queues an entry for the next write. */
  push(entry: AuditEntry): void {
    this.#pending.push(`${JSON.stringify(entry)}\n`);
  }

  /**
   * Stages the queued lines into `flush`, at the end of the file; they are appended once it commits.
   * Takes the lines synchronously, so lines queued from here on go to the next write.
   */
  async stage(flush: StagedFlush): Promise<StagedLines> {
    const lines = this.#pending;
    this.#pending = [];
    const text = lines.join('');
    try {
      await flush.append(this.absPath, this.#size, text);
    } catch (err) {
      this.requeue({ lines, bytes: 0 });
      throw err;
    }
    return { lines, bytes: Buffer.byteLength(text, 'utf8') };
  }

  /** Puts lines of a write that did not commit back in front of the queue, in order. */
  requeue(staged: StagedLines): void {
    this.#pending = staged.lines.concat(this.#pending);
  }

  /** Records that the write holding `staged` committed (its lines are in the file, or will be once it is applied). */
  committed(staged: StagedLines, now: number, durationMs: number): void {
    this.#size += staged.bytes;
    this.#writes++;
    this.#bytesWritten += staged.bytes;
    this.#lastWriteBytes = staged.bytes;
    this.#lastWriteMs = durationMs;
    this.#lastWriteAt = now;
  }

  stats(): FileStats {
    return {
      writes: this.#writes,
      bytesWritten: this.#bytesWritten,
      lastWriteBytes: this.#lastWriteBytes,
      lastWriteMs: this.#lastWriteMs,
      lastWriteAt: this.#lastWriteAt,
    };
  }

  /**
   * Prepares the log for appending, when the store opens for writing: learns its size and ends a
   * torn last line with a newline. Returns the length of the torn line in bytes, or 0 when the
   * file ends cleanly or is missing.
   */
  async openForAppend(): Promise<number> {
    let handle: FileHandle;
    try {
      handle = await open(this.absPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let torn = 0;
    try {
      const { size } = await handle.stat();
      this.#size = size;
      if (size === 0) return 0;
      const length = Math.min(size, TAIL_BYTES);
      const tail = Buffer.alloc(length);
      await handle.read(tail, 0, length, size - length);
      if (tail[length - 1] === 0x0a) return 0;
      const lastNewline = tail.lastIndexOf(0x0a);
      torn = lastNewline < 0 ? length : length - lastNewline - 1;
    } finally {
      await handle.close();
    }
    await this.fs.appendDurable(this.absPath, '\n');
    this.#size += 1;
    return torn;
  }

  /** Makes a read-only store show only the committed part of the log (another process may be appending to it). */
  showCommitted(view: CommittedLog): void {
    this.#committedView = view;
  }

  /** The entries on disk (in a read-only store: those committed when it was opened), oldest first; torn lines are skipped. */
  async *read(): AsyncGenerator<AuditEntry> {
    const view = this.#committedView;
    if (view === null || view.limit > 0) yield* this.#readFile(view?.limit);
    if (view !== null) yield* parseLines(view.tail.split('\n'));
  }

  async *#readFile(limit: number | undefined): AsyncGenerator<AuditEntry> {
    const stream = createReadStream(this.absPath, {
      encoding: 'utf8',
      ...(limit === undefined ? {} : { end: limit - 1 }),
    });
    const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      stream.once('error', resolve);
      stream.once('open', () => resolve(null));
    });
    if (failure !== null) {
      if (failure.code === 'ENOENT') return;
      throw failure;
    }
    yield* parseLines(createInterface({ input: stream, crlfDelay: Infinity }));
  }
}

async function* parseLines(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<AuditEntry> {
  for await (const line of lines) {
    if (line.length === 0) continue;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      // A torn line, left by a crash of an older hitstate that appended without a commit record.
      continue;
    }
    yield entry;
  }
}
