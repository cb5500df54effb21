/**
 * The commit record (`commit.json`) with which stores written before the journal made one write
 * all-or-nothing across its files; read only to finish such a write (legacy-commit.ts).
 *
 * A write stages every changed file as `.<name>.<flush>.tmp` next to it (fsync'd), then replaces
 * `commit.json` atomically with a record naming each staged file (size and SHA-256) and the audit
 * lines to append. That rename is the commit point: before it the old state is the committed one
 * and the staged files are thrown away on the next open; after it the new state is, and the next
 * open finishes the renames and appends from the record. The record stays in place until the next
 * write replaces it, so a reader always finds the last committed write described, and every commit
 * gives `commit.json` a new identity a reader can check for.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { basename, dirname, join, posix } from 'node:path';
import { UnreadableFileError, parseJsonObject } from './atomic-json-adapter.js';
import { AUDIT_FILE, describePath, RUNS_DIR } from './layout.js';

export const COMMIT_FILE = 'commit.json';
export const COMMIT_FORMAT = 'hitstate-commit';
const COMMIT_VERSION = 1;

/** A file a committed write replaces: its staged temp file and what that must hold. */
export interface CommittedFile {
  /** Path relative to the store directory, `/`-separated. */
  readonly file: string;
  readonly temp: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** Audit lines a committed write appends: `text` goes at byte `offset` of `file`. */
export interface CommittedAppend {
  readonly file: string;
  readonly offset: number;
  readonly text: string;
}

/** What `commit.json` holds. */
export interface CommitRecord {
  readonly format: typeof COMMIT_FORMAT;
  readonly version: typeof COMMIT_VERSION;
  /** The write's sequence number in this store; it names the write's temp files. */
  readonly flush: number;
  readonly committedAt: number;
  readonly files: readonly CommittedFile[];
  readonly appends: readonly CommittedAppend[];
}

/** The temp file a write numbered `flush` stages `relPath` in: `.<name>.<flush>.tmp` next to it. */
export function stagedTempPath(relPath: string, flush: number): string {
  const dir = posix.dirname(relPath);
  const name = `.${posix.basename(relPath)}.${flush}.tmp`;
  return dir === '.' ? name : `${dir}/${name}`;
}

/** Same as {@link stagedTempPath}, for an absolute path. */
export const stagedTempOf = (absPath: string, flush: number): string =>
  join(dirname(absPath), `.${basename(absPath)}.${flush}.tmp`);

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export function serializeCommitRecord(record: CommitRecord): string {
  return JSON.stringify(record);
}

const isAuditPath = (rel: string): boolean => {
  const parts = rel.split('/');
  return (
    (parts.length === 1 && parts[0] === AUDIT_FILE) ||
    (parts.length === 3 && parts[0] === RUNS_DIR && parts[2] === AUDIT_FILE)
  );
};

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Parses and checks `commit.json`. Every path must be a file of the store and every temp the one
 * the record's write would use, so a damaged or hand-made record can never rename arbitrary files.
 *
 * @throws UnreadableFileError naming what is wrong.
 */
export function parseCommitRecord(path: string, bytes: Buffer): CommitRecord {
  const raw = parseJsonObject(path, bytes);
  const bad = (what: string): never => {
    throw new UnreadableFileError(path, what);
  };
  if (raw.format !== COMMIT_FORMAT) bad(`its format is ${JSON.stringify(raw.format)}, not "${COMMIT_FORMAT}"`);
  if (raw.version !== COMMIT_VERSION)
    bad(`its version is ${JSON.stringify(raw.version)}; this hitstate reads version ${COMMIT_VERSION}`);
  if (!isCount(raw.flush) || raw.flush < 1) bad(`flush must be a positive integer, got ${JSON.stringify(raw.flush)}`);
  if (!isCount(raw.committedAt)) bad(`committedAt must be epoch milliseconds, got ${JSON.stringify(raw.committedAt)}`);
  const flush = raw.flush as number;
  if (!Array.isArray(raw.files) || !Array.isArray(raw.appends)) bad('files and appends must be arrays');
  const seen = new Set<string>();
  const files = (raw.files as unknown[]).map((entry, i): CommittedFile => {
    const f = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof f.file !== 'string' || describePath(f.file) === null)
      bad(`files[${i}].file ${JSON.stringify(f.file)} is not a data file of a store`);
    if (seen.has(f.file as string)) bad(`files[${i}].file ${JSON.stringify(f.file)} is listed twice`);
    seen.add(f.file as string);
    if (f.temp !== stagedTempPath(f.file as string, flush))
      bad(`files[${i}].temp ${JSON.stringify(f.temp)} is not the temp file of write ${flush}`);
    if (!isCount(f.bytes) || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      bad(`files[${i}] needs bytes and a sha256`);
    return { file: f.file as string, temp: f.temp as string, bytes: f.bytes as number, sha256: f.sha256 as string };
  });
  const appends = (raw.appends as unknown[]).map((entry, i): CommittedAppend => {
    const a = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof a.file !== 'string' || !isAuditPath(a.file))
      bad(`appends[${i}].file ${JSON.stringify(a.file)} is not an audit file of a store`);
    if (!isCount(a.offset) || typeof a.text !== 'string') bad(`appends[${i}] needs an offset and a text`);
    return { file: a.file as string, offset: a.offset as number, text: a.text as string };
  });
  return {
    format: COMMIT_FORMAT,
    version: COMMIT_VERSION,
    flush,
    committedAt: raw.committedAt as number,
    files,
    appends,
  };
}
