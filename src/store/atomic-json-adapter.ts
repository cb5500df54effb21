/**
 * The lowdb adapter behind every JSON file of the store. lowdb's own `JSONFile` (through steno)
 * writes a temp file and renames it, but never fsyncs: after a power cut the file can be empty.
 * On its own, this adapter writes the temp file, fsyncs it, renames it over the target and fsyncs
 * the directory, so a completed `write()` is on disk and a crash at any point leaves either the
 * old or the new file, whole. Inside a store write it only stages the file into that write, which
 * commits all its files at once (flush-commit.ts).
 *
 * @module
 */
import { isAscii } from 'node:buffer';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import type { StoreFileSystem } from './file-system.js';
import { stringifyStoreFile } from './layout.js';

/** Why a file could not be read as a JSON object. */
export class UnreadableFileError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'UnreadableFileError';
  }
}

/** The text of a file: an ASCII file (most of a store) is copied, not decoded as UTF-8, which costs several times less. */
export const decodeText = (bytes: Buffer): string =>
  isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');

/** Parses bytes as a JSON object. @throws UnreadableFileError with the reason (empty, truncated, not an object). */
export function parseJsonObject(path: string, bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0)
    throw new UnreadableFileError(
      path,
      'the file is empty (0 bytes), as a power cut during a write without fsync leaves it',
    );
  let value: unknown;
  try {
    value = JSON.parse(decodeText(bytes));
  } catch (err) {
    throw new UnreadableFileError(
      path,
      `the file is not valid JSON (truncated or edited by hand?): ${(err as Error).message}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnreadableFileError(
      path,
      `the file holds ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}, not a JSON object`,
    );
  }
  return value as Record<string, unknown>;
}

/** The name of the temp file a write goes through: `.<name>.tmp` next to the file, like steno's. */
export const tempPathOf = (path: string): string => join(dirname(path), `.${basename(path)}.tmp`);

/** Facts about the last completed write, for the store's counters. */
export interface WriteFacts {
  readonly bytes: number;
  readonly durationMs: number;
}

/**
 * A lowdb {@link Adapter} writing compact JSON atomically and durably.
 *
 * `read()` resolves null for a missing file and throws {@link UnreadableFileError} for one that is
 * not a JSON object; it never repairs or replaces anything.
 */
export class AtomicJsonAdapter<T> implements Adapter<T> {
  #dirReady = false;
  /** Whether the last `read()` found the file. */
  found = false;
  lastWrite: WriteFacts | null = null;

  constructor(
    readonly path: string,
    private readonly fs: StoreFileSystem,
  ) {}

  /** Reads the file as the JSON object it holds, unchecked: null when the file does not exist. */
  async readObject(): Promise<Record<string, unknown> | null> {
    const bytes = await this.fs.readFile(this.path);
    this.found = bytes !== null;
    if (bytes === null) return null;
    this.#dirReady = true;
    return parseJsonObject(this.path, bytes);
  }

  /** lowdb's `Adapter<T>` takes the file to hold a `T`; the store reads through {@link readObject} and checks instead. */
  async read(): Promise<T | null> {
    return (await this.readObject()) as T | null;
  }

  /** Serializes synchronously (so the caller knows exactly which state is written), then writes. */
  async write(data: T): Promise<void> {
    const started = performance.now();
    const text = stringifyStoreFile(data);
    const dir = dirname(this.path);
    if (!this.#dirReady) {
      await this.fs.makeDirectory(dir);
      this.#dirReady = true;
    }
    const temp = tempPathOf(this.path);
    const bytes = await this.fs.writeFileDurable(temp, text);
    await this.fs.rename(temp, this.path);
    await this.fs.syncDirectory(dir);
    this.lastWrite = { bytes, durationMs: performance.now() - started };
  }
}
