/**
 * Reading and checking request members. The SDK checks nothing (no min, max or pattern), so every
 * documented limit is enforced here. A value that breaks the model's constraints (type, length,
 * pattern, range, enum) or a missing member is answered as AWS's front end did, with a
 * ValidationException: `1 validation error detected: Value '...' at 'title' failed to satisfy
 * constraint: ...` (member paths in lower camel case, see `required-members.ts`). Rules of MTurk
 * itself (funds, states, combinations of members) stay RequestErrors.
 *
 * @module
 */
import type { Locale, NotificationSpecification, QualificationRequirement } from './model.js';
import { CURRENCY_PATTERN } from './money.js';
import { MTurkError, TurkErrorCode, stamp, validationException } from './protocol.js';
import { missingMemberProblems, modelMembers, wirePath } from './required-members.js';

/** The `EntityId` shape of HIT, HIT type, assignment and qualification type ids. */
export const ENTITY_ID = /^[A-Z0-9]+$/;
/** The `CustomerId` shape of worker ids. */
export const CUSTOMER_ID = /^A[A-Z0-9]+$/;

/** Documented limits (MTurk model and legacy API reference). */
export const LIMITS = {
  titleChars: 128,
  descriptionChars: 2000,
  keywordsChars: 1000,
  annotationChars: 255,
  minDurationSec: 30,
  maxDurationSec: 31_536_000,
  maxAutoApprovalDelaySec: 2_592_000,
  defaultAutoApprovalDelaySec: 2_592_000,
  maxAssignments: 1_000_000_000,
  questionBytes: 65_535,
  tokenChars: 64,
  maxRequirements: 10,
  maxIntegerValuesInSet: 15,
  maxLocaleValuesInSet: 30,
  defaultPageSize: 10,
  maxPageSize: 100,
  subjectChars: 200,
  messageTextChars: 4096,
  maxNotifyWorkers: 100,
  feedbackChars: 1024,
  reasonChars: 1024,
  maxWorkerBlocks: 100_000,
} as const;

export const COMPARATORS = [
  'LessThan',
  'LessThanOrEqualTo',
  'GreaterThan',
  'GreaterThanOrEqualTo',
  'EqualTo',
  'NotEqualTo',
  'Exists',
  'DoesNotExist',
  'In',
  'NotIn',
] as const;
export const ACTIONS_GUARDED = ['Accept', 'PreviewAndAccept', 'DiscoverPreviewAndAccept'] as const;
export const EVENT_TYPES = [
  'AssignmentAccepted',
  'AssignmentAbandoned',
  'AssignmentReturned',
  'AssignmentSubmitted',
  'AssignmentRejected',
  'AssignmentApproved',
  'HITCreated',
  'HITExpired',
  'HITReviewable',
  'HITExtended',
  'HITDisposed',
  'Ping',
] as const;
export const TRANSPORTS = ['Email', 'SQS', 'SNS'] as const;
/** The Worker_Locale system qualification type. */
export const WORKER_LOCALE_TYPE_ID = '00000000000000000071';

// AWS quotes scalar values ('abc', '0', 'true') and writes null bare.
const show = (v: unknown): string =>
  typeof v === 'string'
    ? `'${v.length > 80 ? `${v.slice(0, 80)}...` : v}'`
    : typeof v === 'number' || typeof v === 'boolean'
      ? `'${v}'`
      : (JSON.stringify(v) ?? 'null');

interface StringRule {
  min?: number;
  max?: number;
  maxBytes?: number;
  pattern?: RegExp;
}

interface IntRange {
  min?: number;
  max?: number;
}

/** A constraint a present value breaks: the value as the message shows it, and the constraint. */
type Violation = readonly [shown: unknown, constraint: string];

/** The first constraint of `rule` a present value breaks, or undefined. */
function stringViolation(value: unknown, rule: StringRule): Violation | undefined {
  if (typeof value !== 'string') return [value, 'Member must be a string'];
  const min = rule.min ?? 0;
  if (value.length < min) return [value, `Member must have length greater than or equal to ${min}`];
  if (rule.max !== undefined && value.length > rule.max)
    return [value, `Member must have length less than or equal to ${rule.max}`];
  if (rule.maxBytes !== undefined && Buffer.byteLength(value, 'utf8') > rule.maxBytes)
    return [`${value.slice(0, 40)}...`, `Member must be at most ${rule.maxBytes} bytes`];
  if (rule.pattern && !rule.pattern.test(value))
    return [value, `Member must satisfy regular expression pattern: ${rule.pattern.source}`];
  return undefined;
}

/** The first constraint of `range` a present value breaks, or undefined. */
function intViolation(value: unknown, range: IntRange): Violation | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) return [value, 'Member must be an integer'];
  if (range.min !== undefined && value < range.min)
    return [value, `Member must have value greater than or equal to ${range.min}`];
  if (range.max !== undefined && value > range.max)
    return [value, `Member must have value less than or equal to ${range.max}`];
  return undefined;
}

/** One broken constraint as AWS's validation message wrote it. */
function violationText(path: string, [shown, constraint]: Violation): string {
  return `Value ${show(shown)} at '${wirePath(path)}' failed to satisfy constraint: ${constraint}`;
}

/** Typed access to a request body; each reader throws the RequestError MTurk would. */
export class Input {
  constructor(
    readonly body: Record<string, unknown>,
    readonly nowMs: number,
  ) {}

  fail(message: string, code: string = TurkErrorCode.InvalidParameterValue): MTurkError {
    return new MTurkError('RequestError', stamp(message, this.nowMs), code);
  }

  /** The ValidationException of a present value that breaks a constraint of the model. */
  invalid(path: string, value: unknown, constraint: string): MTurkError {
    return validationException([violationText(path, [value, constraint])]);
  }

  /** The ValidationException of a missing member (the model's required ones are all checked before, together). */
  missing(path: string): MTurkError {
    return validationException([
      `Value null at '${wirePath(path)}' failed to satisfy constraint: Member must not be null`,
    ]);
  }

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  optionalString(
    name: string,
    rule: StringRule = {},
    value: unknown = this.body[name],
    path = name,
  ): string | undefined {
    if (value === undefined || value === null) return undefined;
    const broken = stringViolation(value, rule);
    if (broken) throw this.invalid(path, broken[0], broken[1]);
    return value as string;
  }

  string(name: string, rule: StringRule = {}, value: unknown = this.body[name], path = name): string {
    const s = this.optionalString(name, rule, value, path);
    if (s === undefined) throw this.missing(path);
    return s;
  }

  entityId(name: string, value: unknown = this.body[name], path = name): string {
    return this.string(name, { min: 1, max: 64, pattern: ENTITY_ID }, value, path);
  }

  workerId(name: string, value: unknown = this.body[name], path = name): string {
    return this.string(name, { min: 1, max: 64, pattern: CUSTOMER_ID }, value, path);
  }

  optionalInt(name: string, range: IntRange = {}, value: unknown = this.body[name], path = name): number | undefined {
    if (value === undefined || value === null) return undefined;
    const broken = intViolation(value, range);
    if (broken) throw this.invalid(path, broken[0], broken[1]);
    return value as number;
  }

  int(name: string, range: { min?: number; max?: number } = {}): number {
    const n = this.optionalInt(name, range);
    if (n === undefined) throw this.missing(name);
    return n;
  }

  optionalBool(name: string): boolean | undefined {
    const v = this.body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw this.invalid(name, v, 'Member must be a boolean');
    return v;
  }

  bool(name: string): boolean {
    const b = this.optionalBool(name);
    if (b === undefined) throw this.missing(name);
    return b;
  }

  /** A timestamp member (epoch seconds, possibly fractional) in epoch milliseconds. */
  timestampMs(name: string): number {
    const v = this.body[name];
    if (v === undefined || v === null) throw this.missing(name);
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw this.invalid(name, v, 'Member must be a timestamp in epoch seconds');
    return Math.round(v * 1000);
  }

  oneOf<T extends string>(
    name: string,
    values: readonly T[],
    value: unknown = this.body[name],
    path = name,
  ): T | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      throw this.invalid(path, value, `Member must satisfy enum value set: [${values.join(', ')}]`);
    }
    return value as T;
  }

  optionalArray(name: string, value: unknown = this.body[name], path = name): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw this.invalid(path, value, 'Member must be a list');
    return value;
  }

  /** A `CurrencyAmount` (`Reward`, `BonusAmount`): dollars with at most two decimals, at least $0.01. */
  currency(name: string): string {
    const v = this.string(name, { pattern: CURRENCY_PATTERN });
    if (!/[1-9]/.test(v))
      throw this.fail(
        `The value '${v}' for ${name} is too low: the minimum is 0.01 (USD).`,
        TurkErrorCode.ParameterOutOfRange,
      );
    return v;
  }

  /** `MaxResults`, 1 to 100, default {@link LIMITS.defaultPageSize}. */
  maxResults(): number {
    return this.optionalInt('MaxResults', { min: 1, max: LIMITS.maxPageSize }) ?? LIMITS.defaultPageSize;
  }

  optionalToken(name = 'UniqueRequestToken'): string | undefined {
    return this.optionalString(name, { min: 1, max: LIMITS.tokenChars });
  }

  record(value: unknown, path: string): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw this.invalid(path, value, 'Member must be a structure');
    return value as Record<string, unknown>;
  }

  locale(value: unknown, path: string): Locale {
    const r = this.record(value, path);
    const Country = this.string('Country', { min: 2, max: 2, pattern: /^[A-Z]{2}$/ }, r.Country, `${path}.Country`);
    const Subdivision = this.optionalString(
      'Subdivision',
      { min: 2, max: 2, pattern: /^[A-Z0-9]{2}$/ },
      r.Subdivision,
      `${path}.Subdivision`,
    );
    return Subdivision === undefined ? { Country } : { Country, Subdivision };
  }

  /** `QualificationRequirements`, with every rule the model documents for comparators and values. */
  qualificationRequirements(name = 'QualificationRequirements'): QualificationRequirement[] {
    const list = this.optionalArray(name) ?? [];
    if (list.length > LIMITS.maxRequirements)
      throw this.invalid(
        name,
        `${list.length} items`,
        `Member must have length less than or equal to ${LIMITS.maxRequirements}`,
      );
    return list.map((raw, i) => this.#requirement(raw, `${name}.${i + 1}`));
  }

  #requirement(raw: unknown, path: string): QualificationRequirement {
    const r = this.record(raw, path);
    const QualificationTypeId = this.entityId(
      'QualificationTypeId',
      r.QualificationTypeId,
      `${path}.QualificationTypeId`,
    );
    const Comparator = this.oneOf('Comparator', COMPARATORS, r.Comparator, `${path}.Comparator`);
    if (Comparator === undefined) throw this.missing(`${path}.Comparator`);
    const ints = this.optionalArray('IntegerValues', r.IntegerValues, `${path}.IntegerValues`)?.map(
      (v, j) => this.optionalInt('IntegerValues', {}, v, `${path}.IntegerValues.${j + 1}`)!,
    );
    const locales = this.optionalArray('LocaleValues', r.LocaleValues, `${path}.LocaleValues`)?.map((v, j) =>
      this.locale(v, `${path}.LocaleValues.${j + 1}`),
    );
    const RequiredToPreview =
      r.RequiredToPreview === undefined || r.RequiredToPreview === null ? undefined : r.RequiredToPreview;
    if (RequiredToPreview !== undefined && typeof RequiredToPreview !== 'boolean')
      throw this.invalid(`${path}.RequiredToPreview`, RequiredToPreview, 'Member must be a boolean');
    const ActionsGuarded = this.oneOf('ActionsGuarded', ACTIONS_GUARDED, r.ActionsGuarded, `${path}.ActionsGuarded`);
    const where = `QualificationRequirement ${path} (${QualificationTypeId}, ${Comparator})`;
    const isLocale = QualificationTypeId === WORKER_LOCALE_TYPE_ID;
    const nInts = ints?.length ?? 0;
    const nLocales = locales?.length ?? 0;
    if (nInts > 0 && nLocales > 0) throw this.fail(`${where}: give IntegerValues or LocaleValues, not both.`);
    if (Comparator === 'Exists' || Comparator === 'DoesNotExist') {
      if (nInts + nLocales > 0) throw this.fail(`${where}: ${Comparator} takes no IntegerValues or LocaleValues.`);
    } else if (isLocale) {
      if (nInts > 0)
        throw this.fail(`${where}: the Worker_Locale qualification compares LocaleValues, not IntegerValues.`);
      if (!['EqualTo', 'NotEqualTo', 'In', 'NotIn'].includes(Comparator))
        throw this.fail(`${where}: LocaleValues can only be used with EqualTo, NotEqualTo, In and NotIn.`);
      if ((Comparator === 'EqualTo' || Comparator === 'NotEqualTo') && nLocales !== 1)
        throw this.fail(`${where}: ${Comparator} needs exactly one LocaleValue, got ${nLocales}.`);
      if ((Comparator === 'In' || Comparator === 'NotIn') && (nLocales < 1 || nLocales > LIMITS.maxLocaleValuesInSet)) {
        throw this.fail(
          `${where}: ${Comparator} needs 1 to ${LIMITS.maxLocaleValuesInSet} LocaleValues, got ${nLocales}.`,
        );
      }
    } else {
      if (nLocales > 0)
        throw this.fail(
          `${where}: LocaleValues can only be used with the Worker_Locale qualification type (${WORKER_LOCALE_TYPE_ID}).`,
        );
      if ((Comparator === 'In' || Comparator === 'NotIn') && (nInts < 1 || nInts > LIMITS.maxIntegerValuesInSet)) {
        throw this.fail(
          `${where}: ${Comparator} needs 1 to ${LIMITS.maxIntegerValuesInSet} IntegerValues, got ${nInts}.`,
        );
      }
      if (Comparator !== 'In' && Comparator !== 'NotIn' && nInts !== 1)
        throw this.fail(`${where}: ${Comparator} needs exactly one IntegerValue, got ${nInts}.`);
    }
    const req: QualificationRequirement = { QualificationTypeId, Comparator };
    if (ints !== undefined) req.IntegerValues = ints;
    if (locales !== undefined) req.LocaleValues = locales;
    // Both may come together (real GetHIT answers carried both); ActionsGuarded then decides. The
    // deprecated RequiredToPreview: true alone is echoed with ActionsGuarded: PreviewAndAccept added,
    // as MTurk did.
    if (RequiredToPreview !== undefined) req.RequiredToPreview = RequiredToPreview as boolean;
    if (ActionsGuarded !== undefined) req.ActionsGuarded = ActionsGuarded;
    else if (RequiredToPreview === true) req.ActionsGuarded = 'PreviewAndAccept';
    return req;
  }

  /** A `NotificationSpecification`; `Ping` is only allowed when `allowPing` (SendTestEventNotification). */
  notification(value: unknown, path: string, allowPing: boolean): NotificationSpecification {
    const r = this.record(value, path);
    const Transport = this.oneOf('Transport', TRANSPORTS, r.Transport, `${path}.Transport`);
    if (Transport === undefined) throw this.missing(`${path}.Transport`);
    const Destination = this.string('Destination', { min: 1, max: 1024 }, r.Destination, `${path}.Destination`);
    const Version = this.string('Version', { min: 1 }, r.Version, `${path}.Version`);
    const types = this.optionalArray('EventTypes', r.EventTypes, `${path}.EventTypes`);
    if (types === undefined || types.length === 0) throw this.missing(`${path}.EventTypes`);
    const EventTypes = types.map((t, i) => this.oneOf('EventTypes', EVENT_TYPES, t, `${path}.EventTypes.${i + 1}`)!);
    if (!allowPing && EventTypes.includes('Ping'))
      throw this.fail(`${path}.EventTypes: Ping is only valid in SendTestEventNotification.`);
    if (
      Transport === 'SQS' &&
      !/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d+\/[A-Za-z0-9_-]+(\.fifo)?$/.test(Destination)
    ) {
      throw this.fail(
        `${path}.Destination must be an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE) for Transport SQS, got '${Destination}'.`,
      );
    }
    if (Transport === 'SNS' && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d+:[A-Za-z0-9_-]+$/.test(Destination)) {
      throw this.fail(
        `${path}.Destination must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC) for Transport SNS, got '${Destination}'.`,
      );
    }
    if (Transport === 'Email' && !/^[^@\s]+@[^@\s]+$/.test(Destination))
      throw this.fail(`${path}.Destination must be an email address for Transport Email, got '${Destination}'.`);
    return { Destination, Transport, Version, EventTypes };
  }
}

/** The duration members shared by CreateHIT and CreateHITType. */
export function readHitTypeProps(input: Input): {
  title: string;
  description: string;
  keywords?: string;
  reward: string;
  assignmentDurationSec: number;
  autoApprovalDelaySec: number;
  qualificationRequirements: QualificationRequirement[];
} {
  const title = input.string('Title', { min: 1, max: LIMITS.titleChars });
  const description = input.string('Description', { min: 1, max: LIMITS.descriptionChars });
  const keywords = input.optionalString('Keywords', { max: LIMITS.keywordsChars });
  const reward = input.currency('Reward');
  const assignmentDurationSec = input.int('AssignmentDurationInSeconds', {
    min: LIMITS.minDurationSec,
    max: LIMITS.maxDurationSec,
  });
  const autoApprovalDelaySec =
    input.optionalInt('AutoApprovalDelayInSeconds', { min: 0, max: LIMITS.maxAutoApprovalDelaySec }) ??
    LIMITS.defaultAutoApprovalDelaySec;
  const qualificationRequirements = input.qualificationRequirements();
  return {
    title,
    description,
    ...(keywords !== undefined ? { keywords } : {}),
    reward,
    assignmentDurationSec,
    autoApprovalDelaySec,
    qualificationRequirements,
  };
}

/**
 * Constraints of members that mean the same in every operation that has them (one shape of the
 * model each), checked for all present members before the operation runs so that every broken
 * one is counted in one answer, as AWS did. Handlers check them again (and everything nested).
 */
const MEMBER_RULES: Readonly<Record<string, { readonly string: StringRule } | { readonly int: IntRange }>> = {
  HITId: { string: { min: 1, max: 64, pattern: ENTITY_ID } },
  HITTypeId: { string: { min: 1, max: 64, pattern: ENTITY_ID } },
  AssignmentId: { string: { min: 1, max: 64, pattern: ENTITY_ID } },
  QualificationTypeId: { string: { min: 1, max: 64, pattern: ENTITY_ID } },
  QualificationRequestId: { string: { min: 1, max: 64, pattern: ENTITY_ID } },
  WorkerId: { string: { min: 1, max: 64, pattern: CUSTOMER_ID } },
  Title: { string: { min: 1, max: LIMITS.titleChars } },
  Description: { string: { min: 1, max: LIMITS.descriptionChars } },
  Keywords: { string: { max: LIMITS.keywordsChars } },
  RequesterAnnotation: { string: { max: LIMITS.annotationChars } },
  UniqueRequestToken: { string: { min: 1, max: LIMITS.tokenChars } },
  NextToken: { string: { min: 1, max: 255 } },
  RequesterFeedback: { string: { max: LIMITS.feedbackChars } },
  Reason: { string: { max: LIMITS.reasonChars } },
  Reward: { string: { pattern: CURRENCY_PATTERN } },
  BonusAmount: { string: { pattern: CURRENCY_PATTERN } },
  MaxResults: { int: { min: 1, max: LIMITS.maxPageSize } },
  AssignmentDurationInSeconds: { int: { min: LIMITS.minDurationSec, max: LIMITS.maxDurationSec } },
  LifetimeInSeconds: { int: { min: LIMITS.minDurationSec, max: LIMITS.maxDurationSec } },
  AutoApprovalDelayInSeconds: { int: { min: 0, max: LIMITS.maxAutoApprovalDelaySec } },
  MaxAssignments: { int: { min: 1, max: LIMITS.maxAssignments } },
};

/** AWS's text for each broken constraint of a present top-level member of `operation`. */
export function constraintProblems(operation: string, body: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of modelMembers(operation)) {
    const value = body[name];
    const rule = MEMBER_RULES[name];
    if (value === undefined || value === null || rule === undefined) continue;
    const broken = 'string' in rule ? stringViolation(value, rule.string) : intViolation(value, rule.int);
    if (broken) out.push(violationText(name, broken));
  }
  return out;
}

/**
 * The ValidationException of a request that breaks the model: every missing required member
 * (nested ones included) and every broken constraint of a present top-level member, counted in
 * one answer (`2 validation errors detected: …; …`); undefined when there is none.
 */
export function modelValidationError(operation: string, body: Record<string, unknown>): MTurkError | undefined {
  const problems = [...missingMemberProblems(operation, body), ...constraintProblems(operation, body)];
  return problems.length === 0 ? undefined : validationException(problems);
}
