/**
 * The audit trail of one scope (a run, or the calls that belong to no run): one JSON line per
 * MTurk call. Lines wait in memory for the store's next commit, which carries them in the same
 * journal entries as the records (so a crash never keeps half of a commit's lines); a checkpoint
 * later appends them to the scope's `audit.jsonl`. Reading goes through the backend, which joins
 * `audit.jsonl` and the journal.
 *
 * @module
 */
import type { StoreBackend } from './backend.js';
import type { FileStats } from './store-file.js';
import type { AuditEntry } from './types.js';

export class AuditLog {
  #pending: string[] = [];
  #writes = 0;
  #bytesWritten = 0;
  #lastWriteBytes = 0;
  #lastWriteAt: number | null = null;

  constructor(
    readonly runId: string | null,
    /** The scope's audit file, relative to the store directory (for stats). */
    readonly relPath: string,
    private readonly backend: StoreBackend,
  ) {}

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Queues an entry for the next commit. */
  push(entry: AuditEntry): void {
    this.#pending.push(JSON.stringify(entry));
  }

  /** Takes the queued lines for a commit; lines queued from here on go to the next one. */
  take(): string[] {
    const lines = this.#pending;
    this.#pending = [];
    return lines;
  }

  /** Puts lines of a commit that failed back in front of the queue, in order. */
  requeue(lines: readonly string[]): void {
    this.#pending = lines.concat(this.#pending);
  }

  /** Records that a commit carried `lines`. */
  committed(lines: readonly string[], now: number): void {
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8') + 1, 0);
    this.#writes++;
    this.#bytesWritten += bytes;
    this.#lastWriteBytes = bytes;
    this.#lastWriteAt = now;
  }

  stats(): FileStats {
    return {
      writes: this.#writes,
      bytesWritten: this.#bytesWritten,
      lastWriteBytes: this.#lastWriteBytes,
      lastWriteMs: 0,
      lastWriteAt: this.#lastWriteAt,
    };
  }

  /** The committed entries, oldest first (in a read-only store: as of its opening, see `limit`). */
  async *read(limit?: number): AsyncGenerator<AuditEntry> {
    let n = 0;
    for await (const line of this.backend.auditLines(this.runId)) {
      if (limit !== undefined && n++ >= limit) return;
      yield JSON.parse(line) as AuditEntry;
    }
  }
}
