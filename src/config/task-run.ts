/**
 * The configuration of a task run: what a requester writes (in code or as the JSON file given to
 * `hitstate run`), checked once, all problems reported together, then frozen.
 *
 * @module
 */
import * as v from 'valibot';
import { HitstateError } from '../errors.js';
import { ActionsGuarded, Comparator, type Locale } from '../mturk/qualifications.js';
import {
  accept,
  acceptChecked,
  bracketPath,
  closedObject,
  type Frozen,
  openObject,
  parseAll,
} from './schema-issues.js';

/** A checked, frozen {@link TaskRunConfig} with every default applied. */
export interface ResolvedTaskRunConfig {
  readonly title: string;
  readonly description: string;
  readonly keywords: string;
  readonly reward: string;
  readonly assignmentDurationSec: number;
  readonly lifetimeSec: number;
  readonly autoApprovalDelaySec: number;
  /** Task data of each unit, `null` when the config gave a count. */
  readonly unitData: readonly unknown[];
  readonly maxConcurrentUnits: number;
  readonly frameHeight: number;
  readonly taskUrl: string | undefined;
  readonly qualifications: readonly QualificationConfig[];
  /** `locales` absent means the default list (live only). */
  readonly mturk: MTurkRequirementsConfig & { readonly masters: boolean };
  /** The task page to serve, or null for the command's default (the label example). */
  readonly page: TaskPageConfig | null;
  /** The run's budget in USD (`"25.00"`), or null for no limit. */
  readonly budget: string | null;
}

/** Defaults of {@link TaskRunConfig}. */
export const TASK_RUN_DEFAULTS = Object.freeze({
  assignmentDurationSec: 1_800,
  lifetimeSec: 604_800,
  autoApprovalDelaySec: 604_800,
  maxConcurrentUnits: 0,
  frameHeight: 0,
});

/** MTurk's documented limits (docs/stack-notes.md#limits-checked-before-a-call), checked before anything is created. */
export const TASK_RUN_LIMITS = Object.freeze({
  titleMax: 128,
  descriptionMax: 2_000,
  keywordsMax: 1_000,
  durationMinSec: 30,
  durationMaxSec: 31_536_000,
  autoApprovalMaxSec: 2_592_000,
  maxUnits: 100_000,
  maxQualifications: 10,
});

const REWARD = /^[0-9]+(\.)?[0-9]{0,2}$/;
const ENVIRONMENTS = ['live', 'sandbox', 'custom'] as const;
const unknownSetting = (known: readonly string[]) => `is not a known setting; use one of ${known.join(', ')}`;

function isWhole(input: unknown, min: number, max = Number.POSITIVE_INFINITY): input is number {
  return typeof input === 'number' && Number.isInteger(input) && input >= min && input <= max;
}

function isDollars(input: unknown): input is string {
  return typeof input === 'string' && REWARD.test(input);
}

function isPath(input: unknown): input is string {
  return typeof input === 'string' && input.trim() !== '';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The URL of `taskUrl` when MTurk (or `hitstate sim`, on loopback) can use it. */
function taskUrlOf(input: unknown): URL | undefined {
  try {
    const url = typeof input === 'string' ? new URL(input) : undefined;
    return url && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)))
      ? url
      : undefined;
  } catch {
    return undefined;
  }
}

/** Required text: `title` and `description`. */
function text(max: number, example: string) {
  return v.pipe(
    accept<string>(
      (input) => typeof input === 'string' && input.trim() !== '',
      `is required: a non-empty string of at most ${max} characters, e.g. ${example}`,
    ),
    v.check(
      (input) => input.length <= max,
      (issue) => `must be at most ${max} characters, got ${issue.input.length}; shorten it`,
    ),
  );
}

function seconds(min: number, max: number, fallback: number) {
  return v.optional(
    accept<number>(
      (input) => isWhole(input, min, max),
      (input) => `must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(input)}`,
    ),
    fallback,
  );
}

const EXISTENCE: readonly string[] = [Comparator.Exists, Comparator.DoesNotExist];
const MANY: readonly string[] = [Comparator.In, Comparator.NotIn];

/** Whether a qualification's `value` has the shape its comparator needs (an unknown comparator is reported alone). */
function valueFits({ comparator, value }: { comparator: string; value?: unknown }): boolean {
  if (!Object.hasOwn(Comparator, comparator) || EXISTENCE.includes(comparator)) return true;
  const values = typeof value === 'number' ? [value] : Array.isArray(value) ? value : undefined;
  return (
    values !== undefined &&
    values.length > 0 &&
    values.every((v) => Number.isSafeInteger(v)) &&
    (MANY.includes(comparator) || values.length === 1)
  );
}

// A qualification's fields are checks, not schemas, so the list stays typed (its count is still
// checked) when one fails. The rule across fields (the comparator decides the value's shape) is a
// partial check: it runs whenever the comparator and the value are readable, even when another
// field is wrong or missing.
const COMPARATOR_AND_VALUE = [['comparator'], ['value']] as const;

const qualificationSchema = v.pipe(
  openObject(
    {
      /** Local name; resolved to an MTurk QualificationTypeId once (find-or-create) and then always by id. */
      name: acceptChecked<string>(isPath, 'is required: the local qualification name'),
      comparator: acceptChecked<Comparator>(
        (input) => typeof input === 'string' && Object.hasOwn(Comparator, input),
        (input) => `must be one of ${Object.keys(Comparator).join(', ')}, got ${JSON.stringify(input)}`,
      ),
      /** One integer, or several for `In` / `NotIn`; none for `Exists` / `DoesNotExist`. */
      // Declared here; its shape depends on the comparator and is checked below.
      value: v.optional(v.custom<number | readonly number[]>(() => true)),
      /**
       * Which environments the requirement applies to (Mephisto's `applicable_providers`).
       * @defaultValue every environment
       */
      environments: v.optional(
        acceptChecked<readonly (typeof ENVIRONMENTS)[number][]>(
          (input) => Array.isArray(input) && input.every((e) => ENVIRONMENTS.includes(e)),
          (input) => `must be a list of "live", "sandbox", "custom", got ${JSON.stringify(input)}`,
        ),
      ),
      /** @defaultValue `DiscoverPreviewAndAccept` */
      actionsGuarded: v.optional(
        acceptChecked<ActionsGuarded>(
          (input) => typeof input === 'string' && Object.hasOwn(ActionsGuarded, input),
          (input) => `must be one of ${Object.keys(ActionsGuarded).join(', ')}, got ${JSON.stringify(input)}`,
        ),
      ),
    },
    'must be an object like {"name": "my-qual", "comparator": "Exists"}',
  ),
  v.forward(
    v.partialCheck(
      COMPARATOR_AND_VALUE,
      ({ comparator, value }) => !EXISTENCE.includes(comparator) || value === undefined,
      (issue) => `must be left out with ${issue.input.comparator}`,
    ),
    ['value'],
  ),
  v.forward(
    v.partialCheck(
      COMPARATOR_AND_VALUE,
      (qualification) => valueFits(qualification),
      (issue) => {
        const { comparator, value } = issue.input;
        return `${comparator} needs ${MANY.includes(comparator) ? 'a list of integers' : 'one integer'}, got ${JSON.stringify(value)}`;
      },
    ),
    ['value'],
  ),
);

/** A qualification a worker must (or must not) hold, named in hitstate's words. */
export type QualificationConfig = Frozen<v.InferInput<typeof qualificationSchema>>;

const countryCode = /^[A-Z]{2}$/;

function isObject(input: unknown): boolean {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

// Each locale's fields are checks, not schemas, so the list stays typed and every locale is
// reported; the field checks pass a non-object (reported once, on the locale itself).
// (`Pick` gives Locale as a type literal, which valibot's `forward` needs to index by key.)
const localeSchema = v.pipe(
  acceptChecked<Pick<Locale, keyof Locale>>(isObject, 'must be an object like {"country": "US"}'),
  v.forward(
    v.check(
      (locale) => !isObject(locale) || (typeof locale.country === 'string' && countryCode.test(locale.country)),
      (issue) => `must be a two-letter ISO country code like "US", got ${JSON.stringify(issue.input.country)}`,
    ),
    ['country'],
  ),
  v.forward(
    v.check(
      (locale) =>
        !isObject(locale) ||
        locale.subdivision === undefined ||
        (typeof locale.subdivision === 'string' && countryCode.test(locale.subdivision)),
      (issue) => `must be a two-letter ISO subdivision code like "CA", got ${JSON.stringify(issue.input.subdivision)}`,
    ),
    ['subdivision'],
  ),
);

const LOCALES_MESSAGE = 'must be a non-empty list like [{"country": "US"}] or false for worldwide';

const mturkSchema = closedObject(
  {
    /** Minimum percentage of approved assignments (0-100). */
    minApprovalRate: v.optional(
      accept<number>(
        (input) => isWhole(input, 0, 100),
        (input) => `must be a whole percentage from 0 to 100, got ${JSON.stringify(input)}`,
      ),
    ),
    /** Minimum number of approved HITs. */
    minApprovedHits: v.optional(
      accept<number>(
        (input) => isWhole(input, 0),
        (input) => `must be a non-negative whole number, got ${JSON.stringify(input)}`,
      ),
    ),
    /** Require the Masters qualification (its id differs between live and sandbox). */
    masters: v.optional(
      accept<boolean>(
        (input) => typeof input === 'boolean',
        (input) => `must be true or false, got ${JSON.stringify(input)}`,
      ),
      false,
    ),
    /**
     * Countries (and subdivisions) allowed on live. `false` opens the task worldwide.
     * @defaultValue US, CA, GB, AU, NZ (added on live only, never on sandbox)
     */
    locales: v.optional(
      // A list is reported item by item; anything else but false gets the one message.
      v.union(
        [
          v.pipe(
            v.array(localeSchema),
            v.check((list) => list.length > 0, LOCALES_MESSAGE),
          ),
          v.literal(false),
        ],
        LOCALES_MESSAGE,
      ),
    ),
  },
  'must be an object with minApprovalRate, minApprovedHits, masters or locales',
  unknownSetting,
);

/** MTurk's own requirements, as typed settings instead of raw requirement objects. */
export type MTurkRequirementsConfig = Frozen<v.InferInput<typeof mturkSchema>>;

const pageSchema = closedObject(
  {
    /** The HTML file a worker sees after accepting the HIT; hitstate's wrapper is injected first in its `<head>`. */
    taskPage: accept<string>(
      isPath,
      (input) => `is required: the path of the task page's HTML file, e.g. "task.html", got ${JSON.stringify(input)}`,
    ),
    /** The HTML file shown in MTurk's preview. @defaultValue a page with the HIT's title and description */
    previewPage: v.optional(
      accept<string>(isPath, (input) => `must be a path (relative to the config file), got ${JSON.stringify(input)}`),
    ),
    /** A folder served read-only under `/hitstate/assets/` (scripts, styles, images). */
    assetsDir: v.optional(
      accept<string>(isPath, (input) => `must be a path (relative to the config file), got ${JSON.stringify(input)}`),
    ),
    /** Title of a task page written as a body fragment. @defaultValue the run's title */
    title: v.optional(
      accept<string>(
        (input) => typeof input === 'string',
        (input) => `must be a string, got ${JSON.stringify(input)}`,
      ),
    ),
  },
  'must be an object like {"taskPage": "task.html", "assetsDir": "assets"} (paths relative to the config file)',
  unknownSetting,
);

/**
 * The task page `hitstate run` serves (with `createTaskServer`). Paths are relative to the config
 * file (the command makes them absolute before the run is stored, so `hitstate resume` finds them
 * from any directory).
 */
export type TaskPageConfig = Frozen<v.InferInput<typeof pageSchema>>;

interface AddedUnits {
  readonly source: string;
  readonly first: number;
  readonly count: number;
  readonly of?: readonly number[];
}

function isAddedUnits(input: unknown): boolean {
  return (
    Array.isArray(input) &&
    input.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as { source?: unknown }).source === 'string' &&
        Number.isInteger((e as { first?: unknown }).first) &&
        Number.isInteger((e as { count?: unknown }).count),
    )
  );
}

// The entries are listed (and their problems reported) in this order.
const taskRunSchema = closedObject(
  {
    /** Title workers see on MTurk, 1 to 128 characters. */
    title: text(TASK_RUN_LIMITS.titleMax, '"Label the sentiment of sentences"'),
    /** Description workers see, 1 to 2,000 characters. */
    description: text(TASK_RUN_LIMITS.descriptionMax, '"Read a sentence and pick its sentiment"'),
    /** Search keywords, at most 1,000 characters once joined with commas. */
    keywords: v.optional(
      v.pipe(
        accept<string | readonly string[]>(
          (input) => typeof input === 'string' || (Array.isArray(input) && input.every((k) => typeof k === 'string')),
          'must be a string or a list of strings',
        ),
        v.check(
          (input) => joinKeywords(input).length <= TASK_RUN_LIMITS.keywordsMax,
          (issue) =>
            `must be at most ${TASK_RUN_LIMITS.keywordsMax} characters once joined, got ${joinKeywords(issue.input).length}`,
        ),
      ),
    ),
    /** Reward per assignment in USD, a string like `"0.50"`. */
    reward: accept<string>(
      isDollars,
      (input) => `must be a dollar amount as a string like "0.50" (no currency sign), got ${JSON.stringify(input)}`,
    ),
    /** @defaultValue 1800 (30 minutes); 30 to 31,536,000 */
    assignmentDurationSec: seconds(
      TASK_RUN_LIMITS.durationMinSec,
      TASK_RUN_LIMITS.durationMaxSec,
      TASK_RUN_DEFAULTS.assignmentDurationSec,
    ),
    /** How long HITs stay on the marketplace. @defaultValue 604800 (7 days); 30 to 31,536,000 */
    lifetimeSec: seconds(TASK_RUN_LIMITS.durationMinSec, TASK_RUN_LIMITS.durationMaxSec, TASK_RUN_DEFAULTS.lifetimeSec),
    /** Delay before MTurk approves by itself. @defaultValue 604800 (7 days, as Mephisto); 0 to 2,592,000 */
    autoApprovalDelaySec: seconds(0, TASK_RUN_LIMITS.autoApprovalMaxSec, TASK_RUN_DEFAULTS.autoApprovalDelaySec),
    /** Number of units, or one task-data item per unit (handed to the task page). */
    units: v.pipe(
      accept<number | readonly unknown[]>(
        (input) => typeof input === 'number' || Array.isArray(input),
        (input) =>
          `is required: a number of units, or a list with one task data item per unit, got ${JSON.stringify(input)}`,
      ),
      v.check(
        (input) => typeof input !== 'number' || isWhole(input, 1, TASK_RUN_LIMITS.maxUnits),
        (issue) =>
          `must be a whole number from 1 to ${TASK_RUN_LIMITS.maxUnits}, or a list of task data, got ${issue.input}`,
      ),
      v.check(
        (input) => typeof input === 'number' || (input.length >= 1 && input.length <= TASK_RUN_LIMITS.maxUnits),
        (issue) =>
          `must list 1 to ${TASK_RUN_LIMITS.maxUnits} task data items, got ${typeof issue.input === 'number' ? '' : issue.input.length}`,
      ),
    ),
    /** Units launched or assigned at once; 0 means all at once. @defaultValue 0 */
    maxConcurrentUnits: v.optional(
      accept<number>(
        (input) => isWhole(input, 0),
        (input) => `must be a whole number, 0 for no limit, got ${JSON.stringify(input)}`,
      ),
      TASK_RUN_DEFAULTS.maxConcurrentUnits,
    ),
    /** Height of MTurk's frame in pixels; 0 fits the worker's window. @defaultValue 0 */
    frameHeight: v.optional(
      accept<number>(
        (input) => isWhole(input, 0, 10_000),
        (input) => `must be a whole number of pixels from 0 (fit the window) to 10000, got ${JSON.stringify(input)}`,
      ),
      TASK_RUN_DEFAULTS.frameHeight,
    ),
    /** The task page the ExternalQuestion points at (https, or http on loopback for `hitstate sim`). */
    taskUrl: v.optional(
      accept<string>(
        (input) => taskUrlOf(input) !== undefined,
        (input) =>
          `must be an https:// URL (MTurk requires it; http:// only on 127.0.0.1 for hitstate sim), got ${JSON.stringify(input)}`,
      ),
    ),
    qualifications: v.optional(
      v.pipe(
        v.array(qualificationSchema, 'must be a list of {name, comparator, value?}'),
        v.check(
          (list) => list.length <= TASK_RUN_LIMITS.maxQualifications,
          (issue) =>
            `MTurk allows at most ${TASK_RUN_LIMITS.maxQualifications} requirements per HIT, got ${issue.input.length}`,
        ),
      ),
    ),
    mturk: v.optional(mturkSchema),
    /** The task page `hitstate run` serves. @defaultValue the label example (`examples/label-task/`) */
    page: v.optional(pageSchema),
    /**
     * The most the run may spend in USD, a string like `"25.00"`: rewards, bonuses and MTurk's fees,
     * counted as `hitstate status` counts them. Launches, bonuses and approvals that would go beyond it
     * are refused before anything is recorded (docs/cli.md#the-budget-and-confirmations). @defaultValue no limit
     */
    budget: v.optional(
      accept<string>(
        (input) => isDollars(input) && Number(input) > 0,
        (input) =>
          `must be a dollar amount above zero as a string like "25.00" (rewards, bonuses and MTurk fees), got ${JSON.stringify(input)}; leave it out for no limit`,
      ),
    ),
    /**
     * `hitstate review` asks for `--allow-large-bonus` above this bonus per agent, in USD (`"2.00"`).
     * @defaultValue the greater of 5 × the reward and $5.00
     */
    maxBonus: v.optional(
      accept<string>(
        isDollars,
        (input) =>
          `must be a dollar amount as a string like "2.00" (the largest bonus per agent review pays without --allow-large-bonus), got ${JSON.stringify(input)}`,
      ),
    ),
    /**
     * Written by `hitstate add-units` and `hitstate relaunch` (never by hand): which units were added
     * to `units` later, and from where, so a re-run after a kill adds nothing twice.
     */
    addedUnits: v.optional(
      accept<readonly AddedUnits[]>(
        isAddedUnits,
        'is written by hitstate add-units and relaunch (a list of {source, first, count}); remove it from your config',
      ),
    ),
  },
  'must be an object',
  (known) => `is not a known setting; known settings are ${known.join(', ')}`,
);

/** A task run as the requester describes it. Durations are in seconds, money in USD strings. */
export type TaskRunConfig = Frozen<v.InferInput<typeof taskRunSchema>>;

/**
 * True when `input` is a task-run config as written (before defaults) that
 * {@link resolveTaskRunConfig} accepts: a caller that keeps the user's config as given (the run's
 * stored config) gets it typed without a cast.
 */
export function isTaskRunConfig(input: unknown): input is TaskRunConfig {
  return v.is(taskRunSchema, input);
}

function joinKeywords(keywords: string | readonly string[]): string {
  return typeof keywords === 'string' ? keywords : keywords.join(',');
}

/**
 * Checks a task-run config and applies defaults. Every problem is reported at once, each with
 * its field path and the fix; nothing is created before this passes.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` with `details.problems` listing every problem.
 * @example
 * ```ts
 * const config = resolveTaskRunConfig({ title: 'Label sentences', description: 'Pick the sentiment',
 *   reward: '0.10', units: [{ text: 'I loved it' }, { text: 'Meh' }], taskUrl: 'https://tasks.example.org/hitstate/task' });
 * ```
 */
export function resolveTaskRunConfig(input: unknown): ResolvedTaskRunConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'The task-run config must be a JSON object with title, description, reward and units.',
      {
        problems: [{ field: '(root)', message: 'must be an object' }],
      },
    );
  }
  const result = parseAll(taskRunSchema, input, (path, message) => ({ field: bracketPath(path), message }));
  if (result.problems !== undefined) {
    const { problems } = result;
    const list = problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n');
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `The task-run config has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${list}`,
      {
        field: problems[0]!.field,
        problems,
      },
    );
  }
  const c = result.output;
  const { masters, minApprovalRate, minApprovedHits, locales } = c.mturk ?? { masters: false };
  return Object.freeze({
    title: c.title,
    description: c.description,
    keywords: c.keywords === undefined ? '' : joinKeywords(c.keywords),
    reward: c.reward,
    assignmentDurationSec: c.assignmentDurationSec,
    lifetimeSec: c.lifetimeSec,
    autoApprovalDelaySec: c.autoApprovalDelaySec,
    unitData: Object.freeze(typeof c.units === 'number' ? Array.from({ length: c.units }, () => null) : [...c.units]),
    maxConcurrentUnits: c.maxConcurrentUnits,
    frameHeight: c.frameHeight,
    taskUrl: c.taskUrl === undefined ? undefined : taskUrlOf(c.taskUrl)!.href,
    qualifications: Object.freeze(c.qualifications ?? []),
    // Only what was given is set: `locales` absent means the default list.
    mturk: Object.freeze({
      masters,
      ...(minApprovalRate === undefined ? {} : { minApprovalRate }),
      ...(minApprovedHits === undefined ? {} : { minApprovedHits }),
      ...(locales === undefined ? {} : { locales }),
    }),
    page: c.page === undefined ? null : Object.freeze(c.page),
    budget: c.budget ?? null,
  });
}
