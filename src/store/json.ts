/**
 * Plain-JSON values: the only thing the datastore keeps. Copying through {@link cloneJson}
 * refuses anything that would come back different after a write and a read (a `Date`, a `Map`,
 * `NaN`, a class instance), so the data in memory is always what is on disk.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

export type JsonPrimitive = string | number | boolean | null;
/** A value JSON can carry without loss. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };
/** A JSON value that must not be changed (the store hands out frozen records). */
export type ReadonlyJson = JsonPrimitive | readonly ReadonlyJson[] | { readonly [key: string]: ReadonlyJson };
/** A JSON object that must not be changed. */
export type ReadonlyJsonObject = { readonly [key: string]: ReadonlyJson };

/** Deeper nesting than this is refused (it is almost surely a cycle). */
const MAX_DEPTH = 256;

function invalid(field: string, problem: string): HitstateError {
  return new HitstateError('HST_ERR_STORE_INVALID_RECORD', `${field} must be plain JSON, but ${problem}`, { field });
}

function copy(value: unknown, path: string, depth: number): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(path, `it holds ${value}, which JSON turns into null`);
      return value;
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw invalid(path, `it holds a ${typeof value}`);
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) throw invalid(path, `it nests deeper than ${MAX_DEPTH} levels (a cycle?)`);
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      // JSON.stringify writes undefined array items as null; do the same so memory matches disk.
      out[i] = copy(value[i], `${path}[${i}]`, depth + 1) ?? null;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw invalid(
      path,
      `it holds a ${name}; store epoch milliseconds for dates and plain objects or arrays for collections`,
    );
  }
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const item = copy((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    // Properties holding undefined disappear in JSON; drop them here as well.
    if (item === undefined) continue;
    // A JSON key "__proto__" is an ordinary own property (JSON.parse makes it one); plain
    // assignment would set the copy's prototype instead and lose the key.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}

/**
 * A deep copy of `value` that is guaranteed to survive a JSON round trip unchanged.
 *
 * @param field - names the value in error messages, e.g. `snapshot` or `args`.
 * @throws HST_ERR_STORE_INVALID_RECORD naming the path of the first value JSON cannot carry.
 */
export function cloneJson(value: unknown, field: string): JsonValue {
  const out = copy(value, field, 0);
  if (out === undefined) throw invalid(field, 'it is undefined');
  return out;
}

/** Like {@link cloneJson}, and the value must be an object (not an array). */
export function cloneJsonObject(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HitstateError(
      'HST_ERR_STORE_INVALID_RECORD',
      `${field} must be a plain JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
      { field },
    );
  }
  return cloneJson(value, field) as JsonObject;
}

/** Why a value cannot be stored as JSON, and where: the keys and indexes leading to it. */
interface Problem {
  readonly steps: (string | number)[];
  readonly reason: string;
}

/**
 * Like `copy`, without building anything: the first value `copy` would refuse, or undefined. The
 * path is assembled only on the way back from a problem: naming every value's path as the walk
 * went was most of the cost of storing a snapshot.
 */
function problemOf(value: unknown, depth: number): Problem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { steps: [], reason: `it holds ${value}, which JSON turns into null` };
    case 'object':
      break;
    default:
      return { steps: [], reason: `it holds a ${typeof value}` };
  }
  if (value === null) return undefined;
  if (depth >= MAX_DEPTH) return { steps: [], reason: `it nests deeper than ${MAX_DEPTH} levels (a cycle?)` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = problemOf(value[i], depth + 1);
      if (problem !== undefined) {
        problem.steps.unshift(i);
        return problem;
      }
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    return {
      steps: [],
      reason: `it holds a ${name}; store epoch milliseconds for dates and plain objects or arrays for collections`,
    };
  }
  for (const key of Object.keys(value)) {
    const problem = problemOf((value as Record<string, unknown>)[key], depth + 1);
    if (problem !== undefined) {
      problem.steps.unshift(key);
      return problem;
    }
  }
  return undefined;
}

/**
 * The JSON text of `value`, which must be a plain JSON object: the text {@link cloneJsonObject}'s
 * copy would be written as, without making the copy (for data the store keeps as text).
 *
 * @throws HST_ERR_STORE_INVALID_RECORD naming the path of the first value JSON cannot carry.
 */
export function jsonObjectText(value: unknown, field: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HitstateError(
      'HST_ERR_STORE_INVALID_RECORD',
      `${field} must be a plain JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
      { field },
    );
  }
  const problem = problemOf(value, 0);
  if (problem !== undefined) {
    const path = problem.steps.reduce<string>(
      (at, step) => (typeof step === 'number' ? `${at}[${step}]` : `${at}.${step}`),
      field,
    );
    throw invalid(path, problem.reason);
  }
  return JSON.stringify(value);
}

/** Freezes a JSON value and everything in it, so a record handed out cannot be changed behind the store's back. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
