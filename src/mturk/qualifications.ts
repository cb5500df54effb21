/**
 * Qualification requirements: hitstate's local form converted to MTurk's
 * `QualificationRequirement`, the automatic locale requirement on live, and MTurk's system
 * qualification types per environment.
 *
 * Requirements always name a qualification type by id. Resolving a name to an id happens once
 * (`findOrCreateQualificationType`), the store keeps the mapping per environment, and nothing
 * here resolves by name again (Mephisto bug #24: name lookups at launch picked the wrong type).
 *
 * @module
 */
import { Comparator, HITAccessActions, type QualificationRequirement } from '@aws-sdk/client-mturk';
import { HitstateError } from '../errors.js';
import type { Environment } from './environment.js';

/** MTurk's comparators, the SDK's own enum (Mephisto's comparator strings are the same). */
export { Comparator };

/** Which worker actions a requirement guards: the SDK's `HITAccessActions`, in MTurk's field name. */
export const ActionsGuarded = HITAccessActions;
export type ActionsGuarded = HITAccessActions;

/** MTurk's built-in qualification types. Masters differs between live and sandbox. */
export const SystemQualification = {
  locale: '00000000000000000071',
  percentAssignmentsApproved: '000000000000000000L0',
  numberHITsApproved: '00000000000000000040',
  adult: '00000000000000000060',
  mastersLive: '2F1QJWKUDD8XADTFD2Q0G6UTO95ALH',
  mastersSandbox: '2ARFPLSP75KLA8M8DH1HTEQVJT3SY6',
} as const;

/** The Masters qualification type of an environment (the two ids are not interchangeable). */
export function mastersQualificationId(environment: Environment): string {
  return environment === 'live' ? SystemQualification.mastersLive : SystemQualification.mastersSandbox;
}

/** A country, optionally narrowed to a subdivision (ISO 3166 codes, e.g. `{ country: 'US', subdivision: 'CA' }`). */
export interface Locale {
  readonly country: string;
  readonly subdivision?: string;
}

/** Mephisto's default `mturk.allowed_locales`. */
export const DEFAULT_ALLOWED_LOCALES: readonly Locale[] = Object.freeze(
  ['US', 'CA', 'GB', 'AU', 'NZ'].map((country) => Object.freeze({ country })),
);

/** A requirement in hitstate's words, with the qualification type already resolved to an id. */
export interface LocalQualificationRequirement {
  readonly qualificationTypeId: string;
  /** The local name, used only in error messages. */
  readonly name?: string;
  readonly comparator: Comparator;
  /** One integer, or several for `In` / `NotIn`. Not allowed with `Exists` / `DoesNotExist`. */
  readonly value?: number | readonly number[];
  /** Only for the locale type. */
  readonly locales?: readonly Locale[];
  /** @defaultValue `DiscoverPreviewAndAccept` */
  readonly actionsGuarded?: ActionsGuarded;
}

/** MTurk's limits (QualificationRequirement docs). */
export const MAX_REQUIREMENTS = 10;
const MAX_INTEGER_VALUES = 15;
const MAX_LOCALE_VALUES = 30;
const ISO_CODE = /^[A-Z]{2}$/;
const ENTITY_ID = /^[A-Z0-9]{1,64}$/;

interface Problem {
  readonly field: string;
  readonly message: string;
}

function checkLocales(locales: readonly Locale[], field: string, problems: Problem[]): void {
  locales.forEach((l, i) => {
    if (!ISO_CODE.test(l.country))
      problems.push({
        field: `${field}[${i}].country`,
        message: `must be a two-letter ISO country code like "US", got ${JSON.stringify(l.country)}`,
      });
    if (l.subdivision !== undefined && !ISO_CODE.test(l.subdivision)) {
      problems.push({
        field: `${field}[${i}].subdivision`,
        message: `must be a two-letter ISO subdivision code like "CA", got ${JSON.stringify(l.subdivision)}`,
      });
    }
  });
}

function convertOne(
  req: LocalQualificationRequirement,
  field: string,
  problems: Problem[],
): QualificationRequirement | undefined {
  const label = req.name === undefined ? field : `${field} (${req.name})`;
  if (!ENTITY_ID.test(req.qualificationTypeId)) {
    problems.push({
      field: `${field}.qualificationTypeId`,
      message: `${label}: must be a resolved QualificationTypeId (uppercase letters and digits), got ${JSON.stringify(req.qualificationTypeId)}`,
    });
    return undefined;
  }
  if (!Object.hasOwn(Comparator, req.comparator)) {
    problems.push({
      field: `${field}.comparator`,
      message: `${label}: must be one of ${Object.keys(Comparator).join(', ')}, got ${JSON.stringify(req.comparator)}`,
    });
    return undefined;
  }
  const out: QualificationRequirement = {
    QualificationTypeId: req.qualificationTypeId,
    Comparator: req.comparator,
    ActionsGuarded: req.actionsGuarded ?? ActionsGuarded.DiscoverPreviewAndAccept,
  };
  const existence = req.comparator === 'Exists' || req.comparator === 'DoesNotExist';
  const many = req.comparator === 'In' || req.comparator === 'NotIn';
  if (req.locales !== undefined) {
    if (req.qualificationTypeId !== SystemQualification.locale)
      problems.push({
        field: `${field}.locales`,
        message: `${label}: locales are only allowed on the locale type ${SystemQualification.locale}`,
      });
    if (!['EqualTo', 'NotEqualTo', 'In', 'NotIn'].includes(req.comparator))
      problems.push({
        field: `${field}.comparator`,
        message: `${label}: locales need EqualTo, NotEqualTo, In or NotIn`,
      });
    if (!many && req.locales.length !== 1)
      problems.push({ field: `${field}.locales`, message: `${label}: ${req.comparator} takes exactly one locale` });
    if (req.locales.length === 0 || req.locales.length > MAX_LOCALE_VALUES)
      problems.push({ field: `${field}.locales`, message: `${label}: needs 1 to ${MAX_LOCALE_VALUES} locales` });
    checkLocales(req.locales, `${field}.locales`, problems);
    if (req.value !== undefined)
      problems.push({ field: `${field}.value`, message: `${label}: give locales or value, not both` });
    out.LocaleValues = req.locales.map((l) => ({
      Country: l.country,
      ...(l.subdivision === undefined ? {} : { Subdivision: l.subdivision }),
    }));
    return out;
  }
  if (existence) {
    if (req.value !== undefined)
      problems.push({ field: `${field}.value`, message: `${label}: ${req.comparator} takes no value` });
    return out;
  }
  if (req.value === undefined) {
    problems.push({ field: `${field}.value`, message: `${label}: ${req.comparator} needs a value` });
    return undefined;
  }
  const values = typeof req.value === 'number' ? [req.value] : [...req.value];
  if (values.some((v) => !Number.isSafeInteger(v)))
    problems.push({
      field: `${field}.value`,
      message: `${label}: values must be integers, got ${JSON.stringify(req.value)}`,
    });
  if (many ? values.length === 0 || values.length > MAX_INTEGER_VALUES : values.length !== 1) {
    problems.push({
      field: `${field}.value`,
      message: `${label}: ${req.comparator} takes ${many ? `1 to ${MAX_INTEGER_VALUES} values` : 'exactly one value'}, got ${values.length}`,
    });
  }
  out.IntegerValues = values;
  return out;
}

/** How {@link toQualificationRequirements} treats the locale rule. */
export interface RequirementOptions {
  readonly environment: Environment;
  /** @defaultValue {@link DEFAULT_ALLOWED_LOCALES} */
  readonly allowedLocales?: readonly Locale[];
  /** Never add the locale requirement (compensation HITs, tasks open worldwide). */
  readonly skipLocaleRequirement?: boolean;
}

/**
 * Converts local requirements to MTurk's form (Mephisto `convert_mephisto_qualifications`): one
 * integer becomes `IntegerValues: [v]`, `ActionsGuarded` defaults to `DiscoverPreviewAndAccept`.
 * On **live** (never on sandbox or custom) a locale requirement `In <allowedLocales>` is added
 * unless one is given or `skipLocaleRequirement` is set.
 *
 * @example
 * ```ts
 * toQualificationRequirements([{ qualificationTypeId: blockId, comparator: 'DoesNotExist' }], { environment: 'live' });
 * // [{ QualificationTypeId: blockId, Comparator: 'DoesNotExist', ActionsGuarded: 'DiscoverPreviewAndAccept' },
 * //  { QualificationTypeId: '00000000000000000071', Comparator: 'In', LocaleValues: [{ Country: 'US' }, …], … }]
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` listing every invalid field at once.
 */
export function toQualificationRequirements(
  requirements: readonly LocalQualificationRequirement[],
  options: RequirementOptions,
): QualificationRequirement[] {
  const problems: Problem[] = [];
  const out: QualificationRequirement[] = [];
  requirements.forEach((req, i) => {
    const converted = convertOne(req, `qualificationRequirements[${i}]`, problems);
    if (converted) out.push(converted);
  });
  const hasLocale = out.some((r) => r.QualificationTypeId === SystemQualification.locale);
  if (options.environment === 'live' && !hasLocale && !options.skipLocaleRequirement) {
    const allowed = options.allowedLocales ?? DEFAULT_ALLOWED_LOCALES;
    checkLocales(allowed, 'allowedLocales', problems);
    if (allowed.length === 0 || allowed.length > MAX_LOCALE_VALUES)
      problems.push({ field: 'allowedLocales', message: `needs 1 to ${MAX_LOCALE_VALUES} locales` });
    out.push({
      QualificationTypeId: SystemQualification.locale,
      Comparator: 'In',
      LocaleValues: allowed.map((l) => ({
        Country: l.country,
        ...(l.subdivision === undefined ? {} : { Subdivision: l.subdivision }),
      })),
      ActionsGuarded: ActionsGuarded.DiscoverPreviewAndAccept,
    });
  }
  if (out.length > MAX_REQUIREMENTS)
    problems.push({
      field: 'qualificationRequirements',
      message: `MTurk allows at most ${MAX_REQUIREMENTS} requirements per HIT type, got ${out.length} (including the automatic locale requirement on live)`,
    });
  if (problems.length > 0) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `invalid qualification requirements:\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`,
      { field: problems[0]!.field, problems },
    );
  }
  return out;
}
