/**
 * The journal of one scope (the store-wide one, or one run's): JSON Lines, appended, one entry per
 * commit part, each entry checking itself with the SHA-256 of its own text, so a torn or damaged
 * entry (a crash in the middle of an append, a bad disk block) is recognised and ignored.
 *
 * An entry is `{"seq":…,"commit":"<writer>:<n>","scopes":[…],"changes":[[collection,key,json|null],…],
 * "audit":[line,…],"sha256":"…"}` on one line, the hash covering the text before `,"sha256"` plus
 * the closing brace. Record values travel as JSON strings (the store's text, byte for byte).
 * A void entry `{"seq":…,"commit":…,"void":true,"sha256":…}` cancels a part of a commit that failed
 * half-way in this process (see `backend.ts`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { CollectionName } from '../backend.js';

/** One record change as the journal keeps it: collection, key, JSON text or null (deleted). */
export type JournalChange = readonly [CollectionName, string, string | null];

/** One entry of a scope's journal. */
export interface JournalEntry {
  /** Position in the scope's journal (1, 2, ...); for the log only, order is the file's. */
  readonly seq: number;
  /** `<writer>:<n>`: the writer (one open backend) and its commit number. */
  readonly commit: string;
  /** Scopes the commit touched ('' is the store-wide one, else a run id); empty for a void. */
  readonly scopes: readonly string[];
  readonly changes: readonly JournalChange[];
  readonly audit: readonly string[];
  /** True: this entry cancels the part of `commit` in this scope. */
  readonly void?: boolean;
}

const HASH_TAIL = ',"sha256":"';
/** `,"sha256":"` + 64 hex digits + `"}`. */
const TAIL_LENGTH = HASH_TAIL.length + 64 + 2;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The line (with its newline) that stores `entry`. */
export function encodeEntry(entry: JournalEntry): string {
  const body = JSON.stringify(
    entry.void === true
      ? { seq: entry.seq, commit: entry.commit, void: true }
      : { seq: entry.seq, commit: entry.commit, scopes: entry.scopes, changes: entry.changes, audit: entry.audit },
  );
  return `${body.slice(0, -1)}${HASH_TAIL}${sha256(body)}"}\n`;
}

/** The entry a line holds, or null when the line is torn or damaged (its hash does not match). */
export function decodeEntry(line: string): JournalEntry | null {
  if (line.length < TAIL_LENGTH + 2 || !line.endsWith('"}')) return null;
  const cut = line.length - TAIL_LENGTH;
  if (line.slice(cut, cut + HASH_TAIL.length) !== HASH_TAIL) return null;
  const body = `${line.slice(0, cut)}}`;
  if (sha256(body) !== line.slice(cut + HASH_TAIL.length, -2)) return null;
  try {
    const raw = JSON.parse(body) as Partial<JournalEntry>;
    if (typeof raw.seq !== 'number' || typeof raw.commit !== 'string') return null;
    if (raw.void === true) return { seq: raw.seq, commit: raw.commit, scopes: [], changes: [], audit: [], void: true };
    if (!Array.isArray(raw.scopes) || !Array.isArray(raw.changes) || !Array.isArray(raw.audit)) return null;
    return raw as JournalEntry;
  } catch {
    return null;
  }
}

/** What reading one journal file found. */
export interface ReadJournal {
  readonly entries: JournalEntry[];
  /** Bytes of the file up to the end of its last good entry (where a writer appends after a torn tail). */
  readonly goodBytes: number;
  /** Damaged lines skipped: each with its byte offset and length. */
  readonly damaged: { readonly offset: number; readonly bytes: number }[];
}

/** Parses a journal file's bytes; damaged lines are skipped and listed, never thrown. */
export function parseJournal(bytes: Buffer): ReadJournal {
  const entries: JournalEntry[] = [];
  const damaged: { offset: number; bytes: number }[] = [];
  let goodBytes = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    const complete = end >= 0;
    if (!complete) end = bytes.length;
    const entry = complete ? decodeEntry(bytes.toString('utf8', start, end)) : null;
    if (entry === null) damaged.push({ offset: start, bytes: end - start + (complete ? 1 : 0) });
    else {
      entries.push(entry);
      goodBytes = end + 1;
    }
    start = end + 1;
  }
  return { entries, goodBytes, damaged };
}

/** `<writer>:<n>` split into its writer and number. */
export function splitCommitId(id: string): { writer: string; n: number } {
  const at = id.lastIndexOf(':');
  return { writer: id.slice(0, at), n: Number(id.slice(at + 1)) };
}
