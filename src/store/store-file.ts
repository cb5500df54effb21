/**
 * One JSON file of the store: a lowdb `Low` over the atomic adapter, with the dirty tracking and
 * counters the write scheduler needs. A module-level registry keeps one `Low` per file per
 * process, since two writers on one path race on the temp file (docs/stack-notes.md#what-a-write-does).
 *
 * @module
 */
import { join } from 'node:path';
import { Low } from 'lowdb';
import { HitstateError } from '../errors.js';
import { AtomicJsonAdapter } from './atomic-json-adapter.js';
import type { StoreFileSystem } from './file-system.js';
import type { FileHeader } from './layout.js';

/** Counters of one file since the store was opened. */
export interface FileStats {
  readonly writes: number;
  readonly bytesWritten: number;
  readonly lastWriteBytes: number;
  readonly lastWriteMs: number;
  readonly lastWriteAt: number | null;
}

const openPaths = new Set<string>();

/** A store file: its data in memory, whether it changed since the last write, and its counters. */
export class StoreFile<D extends FileHeader> {
  readonly absPath: string;
  readonly adapter: AtomicJsonAdapter<D>;
  readonly #low: Low<D>;
  readonly #exclusive: boolean;
  #version = 0;
  #writtenVersion = 0;
  #writes = 0;
  #bytesWritten = 0;
  #lastWriteBytes = 0;
  #lastWriteMs = 0;
  #lastWriteAt: number | null = null;

  /**
   * @param exclusive - false for a read-only store, which never writes and may share the process
   *   with the store writing the file.
   * @throws HST_ERR_STORE_LOCKED when this process already has the file open for writing.
   */
  constructor(
    root: string,
    readonly relPath: string,
    fs: StoreFileSystem,
    initial: D,
    exclusive: boolean,
  ) {
    this.absPath = join(root, relPath);
    this.#exclusive = exclusive;
    if (exclusive && openPaths.has(this.absPath)) {
      throw new HitstateError(
        'HST_ERR_STORE_LOCKED',
        `${this.absPath} is already open in this process (pid ${process.pid}); share the Store object instead of opening it twice`,
        { file: this.absPath },
      );
    }
    if (exclusive) openPaths.add(this.absPath);
    this.adapter = new AtomicJsonAdapter<D>(this.absPath, fs);
    this.#low = new Low<D>(this.adapter, initial);
  }

  get data(): D {
    return this.#low.data;
  }

  set data(value: D) {
    this.#low.data = value;
  }

  /** True when the data changed since it was last written. */
  get dirty(): boolean {
    return this.#version !== this.#writtenVersion;
  }

  /** True when the file exists on disk (it was read, or written once). */
  get onDisk(): boolean {
    return this.adapter.found || this.#writes > 0;
  }

  /** Records that the data changed; the scheduler decides when to write. */
  touch(): void {
    this.#version++;
  }

  /**
   * Reads the file: the parsed JSON object, unchecked, or null when the file does not exist. The
   * data in memory is left as it is; the caller hydrates the object and sets {@link data}.
   */
  async read(): Promise<Record<string, unknown> | null> {
    return this.adapter.readObject();
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

  /** Lets this process open the file again (after the store closed or failed to open). */
  release(): void {
    if (this.#exclusive) openPaths.delete(this.absPath);
  }
}
