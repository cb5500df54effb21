/**
 * The configuration of a task run: what a requester writes (in code or as the JSON file given to
 * `hitstate run`), checked once, all problems reported together, then frozen.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import { Comparator, type ActionsGuarded, type Locale } from '../mturk/qualifications.js';

/** A qualification a worker must (or must not) hold, named in hitstate's words. */
export interface QualificationConfig {
  /** Local name; resolved to an MTurk QualificationTypeId once (find-or-create) and then always by id. */
  readonly name: string;
  readonly comparator: Comparator;
  /** One integer, or several for `In` / `NotIn`; none for `Exists` / `DoesNotExist`. */
  readonly value?: number | readonly number[];
  /**
   * Which environments the requirement applies to (Mephisto's `applicable_providers`).
   * @defaultValue every environment
   */
  readonly environments?: readonly ('live' | 'sandbox' | 'custom')[];
  /** @defaultValue `DiscoverPreviewAndAccept` */
  readonly actionsGuarded?: ActionsGuarded;
}

/** MTurk's own requirements, as typed settings instead of raw requirement objects. */
export interface MTurkRequirementsConfig {
  /** Minimum percentage of approved assignments (0-100). */
  readonly minApprovalRate?: number;
  /** Minimum number of approved HITs. */
  readonly minApprovedHits?: number;
  /** Require the Masters qualification (its id differs between live and sandbox). */
  readonly masters?: boolean;
  /**
   * Countries (and subdivisions) allowed on live. `false` opens the task worldwide.
   * @defaultValue US, CA, GB, AU, NZ (added on live only, never on sandbox)
   */
  readonly locales?: readonly Locale[] | false;
}

/**
 * The task page `hitstate run` serves (with `createTaskServer`). Paths are relative to the config
 * file (the command makes them absolute before the run is stored, so `hitstate resume` finds them
 * from any directory).
 */
export interface TaskPageConfig {
  /** The HTML file a worker sees after accepting the HIT; hitstate's wrapper is injected first in its `<head>`. */
  readonly taskPage: string;
  /** The HTML file shown in MTurk's preview. @defaultValue a page with the HIT's title and description */
  readonly previewPage?: string;
  /** A folder served read-only under `/hitstate/assets/` (scripts, styles, images). */
  readonly assetsDir?: string;
  /** Title of a task page written as a body fragment. @defaultValue the run's title */
  readonly title?: string;
}

/** A task run as the requester describes it. Durations are in seconds, money in USD strings. */
export interface TaskRunConfig {
  /** Title workers see on MTurk, 1 to 128 characters. */
  readonly title: string;
  /** Description workers see, 1 to 2,000 characters. */
  readonly description: string;
  /** Search keywords, at most 1,000 characters once joined with commas. */
  readonly keywords?: string | readonly string[];
  /** Reward per assignment in USD, a string like `"0.50"`. */
  readonly reward: string;
  /** @defaultValue 1800 (30 minutes); 30 to 31,536,000 */
  readonly assignmentDurationSec?: number;
  /** How long HITs stay on the marketplace. @defaultValue 604800 (7 days); 30 to 31,536,000 */
  readonly lifetimeSec?: number;
  /** Delay before MTurk approves by itself. @defaultValue 604800 (7 days, as Mephisto); 0 to 2,592,000 */
  readonly autoApprovalDelaySec?: number;
  /** Number of units, or one task-data item per unit (handed to the task page). */
  readonly units: number | readonly unknown[];
  /** Units launched or assigned at once; 0 means all at once. @defaultValue 0 */
  readonly maxConcurrentUnits?: number;
  /** Height of MTurk's frame in pixels; 0 fits the worker's window. @defaultValue 0 */
  readonly frameHeight?: number;
  /** The task page the ExternalQuestion points at (https, or http on loopback for `hitstate sim`). */
  readonly taskUrl?: string;
  readonly qualifications?: readonly QualificationConfig[];
  readonly mturk?: MTurkRequirementsConfig;
  /** The task page `hitstate run` serves. @defaultValue the label example (`examples/label-task/`) */
  readonly page?: TaskPageConfig;
  /**
   * The most the run may spend in USD, a string like `"25.00"`: rewards, bonuses and MTurk's fees,
   * counted as `hitstate status` counts them. Launches, bonuses and approvals that would go beyond it
   * are refused before anything is recorded (docs/cli.md#the-budget-and-confirmations). @defaultValue no limit
   */
  readonly budget?: string;
  /**
   * `hitstate review` asks for `--allow-large-bonus` above this bonus per agent, in USD (`"2.00"`).
   * @defaultValue the greater of 5 × the reward and $5.00
   */
  readonly maxBonus?: string;
  /**
   * Written by `hitstate add-units` and `hitstate relaunch` (never by hand): which units were added
   * to `units` later, and from where, so a re-run after a kill adds nothing twice.
   */
  readonly addedUnits?: readonly {
    readonly source: string;
    readonly first: number;
    readonly count: number;
    readonly of?: readonly number[];
  }[];
}

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
const KNOWN_KEYS = new Set([
  'title',
  'description',
  'keywords',
  'reward',
  'assignmentDurationSec',
  'lifetimeSec',
  'autoApprovalDelaySec',
  'units',
  'maxConcurrentUnits',
  'frameHeight',
  'taskUrl',
  'qualifications',
  'mturk',
  'page',
  'budget',
  'maxBonus',
  'addedUnits',
]);
const MTURK_KEYS = new Set(['minApprovalRate', 'minApprovedHits', 'masters', 'locales']);
const PAGE_KEYS = new Set(['taskPage', 'previewPage', 'assetsDir', 'title']);

interface Problem {
  readonly field: string;
  readonly message: string;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function checkText(value: unknown, field: string, max: number, example: string, problems: Problem[]): string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push({ field, message: `is required: a non-empty string of at most ${max} characters, e.g. ${example}` });
    return '';
  }
  if (value.length > max)
    problems.push({ field, message: `must be at most ${max} characters, got ${value.length}; shorten it` });
  return value;
}

function checkSeconds(
  value: unknown,
  field: string,
  min: number,
  max: number,
  fallback: number,
  problems: Problem[],
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push({
      field,
      message: `must be a whole number of seconds from ${min} to ${max}, got ${JSON.stringify(value)}`,
    });
    return fallback;
  }
  return value;
}

function checkQualification(q: unknown, field: string, problems: Problem[]): void {
  if (typeof q !== 'object' || q === null) {
    problems.push({ field, message: 'must be an object like {"name": "my-qual", "comparator": "Exists"}' });
    return;
  }
  const { name, comparator, value, environments } = q as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '')
    problems.push({ field: `${field}.name`, message: 'is required: the local qualification name' });
  if (typeof comparator !== 'string' || !Object.hasOwn(Comparator, comparator)) {
    problems.push({
      field: `${field}.comparator`,
      message: `must be one of ${Object.keys(Comparator).join(', ')}, got ${JSON.stringify(comparator)}`,
    });
    return;
  }
  const existence = comparator === 'Exists' || comparator === 'DoesNotExist';
  const many = comparator === 'In' || comparator === 'NotIn';
  if (existence && value !== undefined)
    problems.push({ field: `${field}.value`, message: `must be left out with ${comparator}` });
  if (!existence) {
    const values = typeof value === 'number' ? [value] : Array.isArray(value) ? value : undefined;
    if (
      values === undefined ||
      values.length === 0 ||
      values.some((v) => !Number.isSafeInteger(v)) ||
      (!many && values.length !== 1)
    ) {
      problems.push({
        field: `${field}.value`,
        message: `${comparator} needs ${many ? 'a list of integers' : 'one integer'}, got ${JSON.stringify(value)}`,
      });
    }
  }
  if (
    environments !== undefined &&
    (!Array.isArray(environments) || environments.some((e) => !['live', 'sandbox', 'custom'].includes(e as string)))
  ) {
    problems.push({
      field: `${field}.environments`,
      message: `must be a list of "live", "sandbox", "custom", got ${JSON.stringify(environments)}`,
    });
  }
}

function checkMTurk(value: unknown, problems: Problem[]): ResolvedTaskRunConfig['mturk'] {
  const resolved: {
    masters: boolean;
    locales?: readonly Locale[] | false;
    minApprovalRate?: number;
    minApprovedHits?: number;
  } = { masters: false };
  if (value === undefined) return resolved;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({
      field: 'mturk',
      message: 'must be an object with minApprovalRate, minApprovedHits, masters or locales',
    });
    return resolved;
  }
  const m = value as Record<string, unknown>;
  for (const key of Object.keys(m))
    if (!MTURK_KEYS.has(key))
      problems.push({
        field: `mturk.${key}`,
        message: `is not a known setting; use one of ${[...MTURK_KEYS].join(', ')}`,
      });
  if (m.minApprovalRate !== undefined) {
    if (
      typeof m.minApprovalRate !== 'number' ||
      !Number.isInteger(m.minApprovalRate) ||
      m.minApprovalRate < 0 ||
      m.minApprovalRate > 100
    ) {
      problems.push({
        field: 'mturk.minApprovalRate',
        message: `must be a whole percentage from 0 to 100, got ${JSON.stringify(m.minApprovalRate)}`,
      });
    } else resolved.minApprovalRate = m.minApprovalRate;
  }
  if (m.minApprovedHits !== undefined) {
    if (typeof m.minApprovedHits !== 'number' || !Number.isInteger(m.minApprovedHits) || m.minApprovedHits < 0) {
      problems.push({
        field: 'mturk.minApprovedHits',
        message: `must be a non-negative whole number, got ${JSON.stringify(m.minApprovedHits)}`,
      });
    } else resolved.minApprovedHits = m.minApprovedHits;
  }
  if (m.masters !== undefined) {
    if (typeof m.masters !== 'boolean')
      problems.push({ field: 'mturk.masters', message: `must be true or false, got ${JSON.stringify(m.masters)}` });
    else resolved.masters = m.masters;
  }
  if (m.locales === false) resolved.locales = false;
  else if (m.locales !== undefined) {
    if (!Array.isArray(m.locales) || m.locales.length === 0) {
      problems.push({
        field: 'mturk.locales',
        message: 'must be a non-empty list like [{"country": "US"}] or false for worldwide',
      });
    } else {
      m.locales.forEach((l: unknown, i) => {
        const loc = l as Record<string, unknown> | null;
        if (typeof loc?.country !== 'string' || !/^[A-Z]{2}$/.test(loc.country))
          problems.push({
            field: `mturk.locales[${i}].country`,
            message: `must be a two-letter ISO country code like "US", got ${JSON.stringify(loc?.country)}`,
          });
        if (
          loc?.subdivision !== undefined &&
          (typeof loc.subdivision !== 'string' || !/^[A-Z]{2}$/.test(loc.subdivision))
        ) {
          problems.push({
            field: `mturk.locales[${i}].subdivision`,
            message: `must be a two-letter ISO subdivision code like "CA", got ${JSON.stringify(loc.subdivision)}`,
          });
        }
      });
      resolved.locales = m.locales as Locale[];
    }
  }
  return resolved;
}

function checkPage(value: unknown, problems: Problem[]): TaskPageConfig | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({
      field: 'page',
      message:
        'must be an object like {"taskPage": "task.html", "assetsDir": "assets"} (paths relative to the config file)',
    });
    return null;
  }
  const p = value as Record<string, unknown>;
  for (const key of Object.keys(p))
    if (!PAGE_KEYS.has(key))
      problems.push({
        field: `page.${key}`,
        message: `is not a known setting; use one of ${[...PAGE_KEYS].join(', ')}`,
      });
  if (typeof p.taskPage !== 'string' || p.taskPage.trim() === '') {
    problems.push({
      field: 'page.taskPage',
      message: `is required: the path of the task page's HTML file, e.g. "task.html", got ${JSON.stringify(p.taskPage)}`,
    });
  }
  for (const key of ['previewPage', 'assetsDir'] as const) {
    if (p[key] !== undefined && (typeof p[key] !== 'string' || p[key].trim() === ''))
      problems.push({
        field: `page.${key}`,
        message: `must be a path (relative to the config file), got ${JSON.stringify(p[key])}`,
      });
  }
  if (p.title !== undefined && typeof p.title !== 'string')
    problems.push({ field: 'page.title', message: `must be a string, got ${JSON.stringify(p.title)}` });
  // Only what was checked above is kept (an unknown key is already a problem).
  return Object.freeze({
    taskPage: typeof p.taskPage === 'string' ? p.taskPage : '',
    ...(typeof p.previewPage === 'string' ? { previewPage: p.previewPage } : {}),
    ...(typeof p.assetsDir === 'string' ? { assetsDir: p.assetsDir } : {}),
    ...(typeof p.title === 'string' ? { title: p.title } : {}),
  });
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
  const problems: Problem[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'The task-run config must be a JSON object with title, description, reward and units.',
      {
        problems: [{ field: '(root)', message: 'must be an object' }],
      },
    );
  }
  const c = input as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!KNOWN_KEYS.has(key))
      problems.push({
        field: key,
        message: `is not a known setting; known settings are ${[...KNOWN_KEYS].join(', ')}`,
      });
  }
  const title = checkText(c.title, 'title', TASK_RUN_LIMITS.titleMax, '"Label the sentiment of sentences"', problems);
  const description = checkText(
    c.description,
    'description',
    TASK_RUN_LIMITS.descriptionMax,
    '"Read a sentence and pick its sentiment"',
    problems,
  );

  let keywords = '';
  if (c.keywords !== undefined) {
    if (typeof c.keywords === 'string') keywords = c.keywords;
    else if (Array.isArray(c.keywords) && c.keywords.every((k) => typeof k === 'string'))
      keywords = c.keywords.join(',');
    else problems.push({ field: 'keywords', message: 'must be a string or a list of strings' });
    if (keywords.length > TASK_RUN_LIMITS.keywordsMax)
      problems.push({
        field: 'keywords',
        message: `must be at most ${TASK_RUN_LIMITS.keywordsMax} characters once joined, got ${keywords.length}`,
      });
  }

  const reward = typeof c.reward === 'string' ? c.reward : '';
  if (typeof c.reward !== 'string' || !REWARD.test(c.reward)) {
    problems.push({
      field: 'reward',
      message: `must be a dollar amount as a string like "0.50" (no currency sign), got ${JSON.stringify(c.reward)}`,
    });
  }

  let budget: string | null = null;
  if (c.budget !== undefined) {
    if (typeof c.budget !== 'string' || !REWARD.test(c.budget) || Number(c.budget) <= 0)
      problems.push({
        field: 'budget',
        message: `must be a dollar amount above zero as a string like "25.00" (rewards, bonuses and MTurk fees), got ${JSON.stringify(c.budget)}; leave it out for no limit`,
      });
    else budget = c.budget;
  }

  if (c.maxBonus !== undefined && (typeof c.maxBonus !== 'string' || !REWARD.test(c.maxBonus)))
    problems.push({
      field: 'maxBonus',
      message: `must be a dollar amount as a string like "2.00" (the largest bonus per agent review pays without --allow-large-bonus), got ${JSON.stringify(c.maxBonus)}`,
    });
  if (
    c.addedUnits !== undefined &&
    !(
      Array.isArray(c.addedUnits) &&
      c.addedUnits.every(
        (e) =>
          typeof e === 'object' &&
          e !== null &&
          typeof (e as { source?: unknown }).source === 'string' &&
          Number.isInteger((e as { first?: unknown }).first) &&
          Number.isInteger((e as { count?: unknown }).count),
      )
    )
  )
    problems.push({
      field: 'addedUnits',
      message:
        'is written by hitstate add-units and relaunch (a list of {source, first, count}); remove it from your config',
    });

  const { durationMinSec: min, durationMaxSec: max } = TASK_RUN_LIMITS;
  const assignmentDurationSec = checkSeconds(
    c.assignmentDurationSec,
    'assignmentDurationSec',
    min,
    max,
    TASK_RUN_DEFAULTS.assignmentDurationSec,
    problems,
  );
  const lifetimeSec = checkSeconds(c.lifetimeSec, 'lifetimeSec', min, max, TASK_RUN_DEFAULTS.lifetimeSec, problems);
  const autoApprovalDelaySec = checkSeconds(
    c.autoApprovalDelaySec,
    'autoApprovalDelaySec',
    0,
    TASK_RUN_LIMITS.autoApprovalMaxSec,
    TASK_RUN_DEFAULTS.autoApprovalDelaySec,
    problems,
  );

  let unitData: unknown[] = [];
  if (typeof c.units === 'number') {
    if (!Number.isInteger(c.units) || c.units < 1 || c.units > TASK_RUN_LIMITS.maxUnits) {
      problems.push({
        field: 'units',
        message: `must be a whole number from 1 to ${TASK_RUN_LIMITS.maxUnits}, or a list of task data, got ${c.units}`,
      });
    } else unitData = Array.from({ length: c.units }, () => null);
  } else if (Array.isArray(c.units)) {
    if (c.units.length === 0 || c.units.length > TASK_RUN_LIMITS.maxUnits)
      problems.push({
        field: 'units',
        message: `must list 1 to ${TASK_RUN_LIMITS.maxUnits} task data items, got ${c.units.length}`,
      });
    unitData = [...c.units];
  } else {
    problems.push({
      field: 'units',
      message: `is required: a number of units, or a list with one task data item per unit, got ${JSON.stringify(c.units)}`,
    });
  }

  let maxConcurrentUnits: number = TASK_RUN_DEFAULTS.maxConcurrentUnits;
  if (c.maxConcurrentUnits !== undefined) {
    if (
      typeof c.maxConcurrentUnits !== 'number' ||
      !Number.isInteger(c.maxConcurrentUnits) ||
      c.maxConcurrentUnits < 0
    ) {
      problems.push({
        field: 'maxConcurrentUnits',
        message: `must be a whole number, 0 for no limit, got ${JSON.stringify(c.maxConcurrentUnits)}`,
      });
    } else maxConcurrentUnits = c.maxConcurrentUnits;
  }
  let frameHeight: number = TASK_RUN_DEFAULTS.frameHeight;
  if (c.frameHeight !== undefined) {
    if (
      typeof c.frameHeight !== 'number' ||
      !Number.isInteger(c.frameHeight) ||
      c.frameHeight < 0 ||
      c.frameHeight > 10_000
    ) {
      problems.push({
        field: 'frameHeight',
        message: `must be a whole number of pixels from 0 (fit the window) to 10000, got ${JSON.stringify(c.frameHeight)}`,
      });
    } else frameHeight = c.frameHeight;
  }

  let taskUrl: string | undefined;
  if (c.taskUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof c.taskUrl === 'string' ? new URL(c.taskUrl) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)))) {
      problems.push({
        field: 'taskUrl',
        message: `must be an https:// URL (MTurk requires it; http:// only on 127.0.0.1 for hitstate sim), got ${JSON.stringify(c.taskUrl)}`,
      });
    } else taskUrl = url.href;
  }

  const qualifications: QualificationConfig[] = [];
  if (c.qualifications !== undefined) {
    if (!Array.isArray(c.qualifications))
      problems.push({ field: 'qualifications', message: 'must be a list of {name, comparator, value?}' });
    else {
      if (c.qualifications.length > TASK_RUN_LIMITS.maxQualifications)
        problems.push({
          field: 'qualifications',
          message: `MTurk allows at most ${TASK_RUN_LIMITS.maxQualifications} requirements per HIT, got ${c.qualifications.length}`,
        });
      c.qualifications.forEach((q, i) => {
        checkQualification(q, `qualifications[${i}]`, problems);
      });
      qualifications.push(...(c.qualifications as QualificationConfig[]));
    }
  }
  const mturk = checkMTurk(c.mturk, problems);
  const page = checkPage(c.page, problems);

  if (problems.length > 0) {
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
  return Object.freeze({
    title,
    description,
    keywords,
    reward,
    assignmentDurationSec,
    lifetimeSec,
    autoApprovalDelaySec,
    unitData: Object.freeze(unitData),
    maxConcurrentUnits,
    frameHeight,
    taskUrl,
    qualifications: Object.freeze(qualifications),
    mturk: Object.freeze(mturk),
    page,
    budget,
  });
}
