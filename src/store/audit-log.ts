/**
 * The audit trail: one JSON line per MTurk call, appended. It only grows and is never read back
 * during a run, so it does not go through lowdb (which would rewrite the whole history on every
 * write): lines wait in memory for the store's next coalesced write and are appended with fsync.
 * A crash in the middle of an append can leave a torn last line; the store seals it on open (a
 * newline after it) so it never glues onto the next entry, and readers skip it.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { StoreFileSystem } from './file-system.js';
import type { FileStats } from './store-file.js';
import type { AuditEntry } from './types.js';

/** How far back from the end the open-time check looks for the last newline. */
const TAIL_BYTES = 64 * 1024;

export class AuditLog {
  #pending: string[] = [];
  #dirReady = false;
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

  /** Appends the queued lines and resolves with the bytes written; on failure they are queued again, in order. */
  async writePending(now: number): Promise<number> {
    const lines = this.#pending;
    if (lines.length === 0) return 0;
    this.#pending = [];
    const text = lines.join('');
    const started = performance.now();
    try {
      if (!this.#dirReady) {
        await this.fs.makeDirectory(dirname(this.absPath));
        this.#dirReady = true;
      }
      await this.fs.appendDurable(this.absPath, text);
    } catch (err) {
      this.#pending = lines.concat(this.#pending);
      throw err;
    }
    const bytes = Buffer.byteLength(text);
    this.#writes++;
    this.#bytesWritten += bytes;
    this.#lastWriteBytes = bytes;
    this.#lastWriteMs = performance.now() - started;
    this.#lastWriteAt = now;
    return bytes;
  }

  stats(): FileStats {
    return { writes: this.#writes, bytesWritten: this.#bytesWritten, lastWriteBytes: this.#lastWriteBytes, lastWriteMs: this.#lastWriteMs, lastWriteAt: this.#lastWriteAt };
  }

  /**
   * Ends a torn last line (left by a crash during an append) with a newline.
   * Returns the length of the torn line in bytes, or 0 when the file ends cleanly or is missing.
   */
  async seal(): Promise<number> {
    let handle;
    try {
      handle = await open(this.absPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let torn = 0;
    try {
      const { size } = await handle.stat();
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
    this.#dirReady = true;
    await this.fs.appendDurable(this.absPath, '\n');
    return torn;
  }

  /** The entries on disk, oldest first; torn lines are skipped. */
  async *read(): AsyncGenerator<AuditEntry> {
    const stream = createReadStream(this.absPath, { encoding: 'utf8' });
    const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      stream.once('error', resolve);
      stream.once('open', () => resolve(null));
    });
    if (failure !== null) {
      if (failure.code === 'ENOENT') return;
      throw failure;
    }
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.length === 0) continue;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line) as AuditEntry;
      } catch {
        continue;
      }
      yield entry;
    }
  }
}
