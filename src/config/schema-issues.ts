/**
 * The one place valibot issues become hitstate's problems: each with its field path, the fix and
 * what arrived, every problem at once, unknown keys listed each with the known ones. The schemas
 * in `src/config/task-run.ts` and `src/server/options.ts` are built from the pieces here.
 *
 * @module
 */
import * as v from 'valibot';

/** One invalid field: its path (`mturk.locales[0].country`) and what is wrong with the fix. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** A message of one check: fixed text, or text made from what arrived. */
export type Message = string | ((input: unknown) => string);

/**
 * The type users write for a shape a schema declares: every property and list read-only, so a
 * config kept `as const` or frozen is accepted. Functions, URLs and byte arrays are kept as they are.
 */
export type Frozen<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends URL | Uint8Array
    ? T
    : T extends readonly (infer Item)[]
      ? readonly Frozen<Item>[]
      : T extends object
        ? { readonly [Key in keyof T]: Frozen<T[Key]> }
        : T;

function text(message: Message, input: unknown): string {
  return typeof message === 'string' ? message : message(input);
}

/**
 * A value of type `T` that `is` accepts, with one message for every way it can be wrong (the
 * messages users read name the whole rule, not the first failed step).
 */
export function accept<T>(is: (input: unknown) => boolean, message: Message): v.GenericSchema<T> {
  return v.custom<T>(is, (issue) => text(message, issue.input));
}

/**
 * Like {@link accept}, but a failure is a validation issue, not a schema one: the enclosing object
 * and list stay typed, so their own checks (a list's count, `v.forward(v.check(…))`) still run and
 * report beside this field's problem.
 */
export function acceptChecked<T>(is: (input: unknown) => boolean, message: Message): v.GenericSchema<T> {
  return v.pipe(
    // Declares the type only: the check right after it is the validation.
    v.custom<T>(() => true),
    v.check<T, (issue: v.CheckIssue<T>) => string>(
      (input) => is(input),
      (issue) => text(message, issue.input),
    ),
  );
}

// The issue type of an unknown key: `closedObject` takes every other key through `v.never`, the
// only use of that schema in the checked shapes.
const UNKNOWN_KEY = 'never';

/**
 * The schema {@link closedObject} returns: typed as `v.object(entries)`, and named, so the emitted
 * `.d.ts` keeps the entries (and the docs written on them) instead of spelling the type out.
 */
export type ClosedObjectSchema<Entries extends v.ObjectEntries> = v.GenericSchema<
  v.InferInput<v.ObjectSchema<Entries, undefined>>,
  v.InferOutput<v.ObjectSchema<Entries, undefined>>
>;

/**
 * An object of `entries` that reports each key it does not know (valibot's `strictObject` stops at
 * the first), with `unknownKey(known)` as the message. A missing required key gets the message its
 * entry gives for `undefined`, so `title` missing reads like `title` empty. The type is the one of
 * `v.object(entries)`: extra keys are refused at run time, not declared.
 */
export function closedObject<const Entries extends v.ObjectEntries>(
  entries: Entries,
  notAnObject: string,
  unknownKey: (known: readonly string[]) => string,
): ClosedObjectSchema<Entries> {
  const known = Object.keys(entries);
  const message = unknownKey(known);
  const schema = v.objectWithRest(entries, v.never(message), (issue) => missingKey(entries, issue) ?? notAnObject);
  // valibot skips the keys `__proto__`, `constructor` and `prototype` of an input object (so they
  // never reach the output), which leaves them unreported; a config that names one is refused
  // like any other unknown key, never run with the key silently dropped.
  return {
    ...schema,
    '~run'(dataset, config) {
      const input = dataset.value;
      const out = schema['~run'](dataset, config);
      if (typeof input !== 'object' || input === null || Array.isArray(input)) return out;
      const reserved: v.NeverIssue[] = [];
      for (const key of RESERVED_KEYS) {
        if (!Object.hasOwn(input, key) || Object.hasOwn(entries, key)) continue;
        const object = input as Record<string, unknown>;
        const value = object[key];
        reserved.push({
          kind: 'schema',
          type: 'never',
          input: value,
          expected: 'never',
          received: typeof value,
          message,
          path: [{ type: 'object', origin: 'value', input: object, key, value }],
        });
      }
      if (reserved.length === 0) return out;
      return {
        typed: false,
        value: out.value,
        issues: [...(out.issues ?? []), ...reserved] as [v.NeverIssue, ...v.NeverIssue[]],
      };
    },
  };
}

/** The keys valibot passes over in an input object (see {@link closedObject}). */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/**
 * An object of `entries` that ignores other keys (valibot's `object`: they are not declared, so
 * TypeScript still flags a misspelt key), with the same message for a missing key.
 */
export function openObject<const Entries extends v.ObjectEntries>(entries: Entries, notAnObject: string) {
  return v.object(entries, (issue) => missingKey(entries, issue) ?? notAnObject);
}

function missingKey(entries: v.ObjectEntries, issue: v.BaseIssue<unknown>): string | undefined {
  const item = issue.path?.at(-1);
  if (item?.origin !== 'key' || typeof item.key !== 'string') return undefined;
  const entry = entries[item.key];
  const result = entry === undefined ? undefined : v.safeParse(entry, undefined);
  return result?.issues?.[0]?.message;
}

/** The path of an issue as names: object keys and list indexes. */
export type IssuePath = readonly (string | number)[];

function pathOf(issue: v.BaseIssue<unknown>): IssuePath {
  return (issue.path ?? []).map((item) => (typeof item.key === 'number' ? item.key : String(item.key)));
}

/** `mturk.locales[0].country`: keys joined with dots, indexes in brackets. */
export function bracketPath(path: IssuePath): string {
  return path.reduce<string>(
    (name, key) => (typeof key === 'number' ? `${name}[${key}]` : name === '' ? key : `${name}.${key}`),
    '',
  );
}

/** `submitOrigins.0`: every key and index joined with dots (valibot's `getDotPath`). */
export function dotPath(path: IssuePath): string {
  return path.join('.');
}

/**
 * Checks `input` against `schema` and returns the output, or every problem: at most one per field
 * (the first found, as each field's message names its whole rule), a field's own problem before
 * the problems inside it, an object's unknown keys before its other problems.
 */
export function parseAll<Schema extends v.GenericSchema>(
  schema: Schema,
  input: unknown,
  problem: (path: IssuePath, message: string) => FieldProblem,
): { readonly output: v.InferOutput<Schema>; readonly problems?: undefined } | { readonly problems: FieldProblem[] } {
  const result = v.safeParse(schema, input);
  if (result.success) return { output: result.output };
  const ordered: { path: IssuePath; unknown: boolean; message: string }[] = [];
  for (const issue of result.issues) {
    const path = pathOf(issue);
    const unknown = issue.type === UNKNOWN_KEY;
    // valibot checks an object's or list's own rules after its entries, and its unknown keys
    // last: each goes before the problems inside it (an unknown key: inside its object).
    const scope = unknown ? path.slice(0, -1) : path;
    const at = ordered.findIndex(
      (o) =>
        o.path.length > scope.length &&
        scope.every((key, i) => o.path[i] === key) &&
        !(unknown && o.unknown && o.path.length === path.length),
    );
    const entry = { path, unknown, message: issue.message };
    if (at === -1) ordered.push(entry);
    else ordered.splice(at, 0, entry);
  }
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const entry of ordered) {
    const key = dotPath(entry.path);
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem(entry.path, entry.message));
  }
  return { problems };
}
