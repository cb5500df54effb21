/**
 * Qualification requirements as a worker meets them: system qualification types (locale,
 * approval rate, Masters...), the ten comparators, and ActionsGuarded (what an unqualified worker
 * may still do: discover, preview, accept).
 *
 * A worker without the qualification meets only `DoesNotExist` (every worker has a locale).
 *
 * @module
 */
import type { Locale, QualificationRequirement, QualificationTypeRecord, WorkerRecord } from './model.js';
import type { SimState } from './state.js';
import { WORKER_LOCALE_TYPE_ID } from './validation.js';

/** MTurk's system qualification types, with the ids real code uses. */
export const SYSTEM_QUALIFICATION_TYPES = {
  [WORKER_LOCALE_TYPE_ID]: {
    name: 'Worker_Locale',
    description: 'The location of the Worker, as specified in their mailing address.',
  },
  '000000000000000000L0': {
    name: 'Worker_PercentAssignmentsApproved',
    description:
      'The percentage of assignments the Worker has submitted that were subsequently approved by the Requester, over all assignments the Worker has submitted.',
  },
  '00000000000000000040': {
    name: 'Worker_NumberHITsApproved',
    description: 'The total number of HITs submitted by a Worker that have been approved.',
  },
  '00000000000000000060': {
    name: 'Worker_Adult',
    description:
      'Requires workers to acknowledge that they are over 18 and that they agree to work on potentially offensive content.',
  },
  '2F1QJWKUDD8XADTFD2Q0G6UTO95ALH': {
    name: 'Masters',
    description: 'Workers who have demonstrated excellence across a wide range of HITs (production id).',
  },
  '2ARFPLSP75KLA8M8DH1HTEQVJT3SY6': {
    name: 'Masters (Sandbox)',
    description: 'Workers who have demonstrated excellence across a wide range of HITs (sandbox id).',
  },
} as const;

/** The record of a system qualification type, as GetQualificationType returns it. */
export function systemQualificationType(id: string): QualificationTypeRecord | undefined {
  const t = (SYSTEM_QUALIFICATION_TYPES as Record<string, { name: string; description: string }>)[id];
  if (!t) return undefined;
  return {
    qualificationTypeId: id,
    account: '',
    seq: 0,
    creationMs: Date.UTC(2005, 0, 1),
    name: t.name,
    description: t.description,
    status: 'Active',
    autoGranted: false,
    deleted: false,
  };
}

/** What a worker holds of one qualification type, or undefined when they do not have it. */
export type WorkerQualificationValue = { integer: number } | { locale: Locale };

/** The value a worker has for a qualification type, computed for system types. */
export function workerValue(
  state: SimState,
  worker: WorkerRecord,
  qualificationTypeId: string,
): WorkerQualificationValue | undefined {
  if (qualificationTypeId === WORKER_LOCALE_TYPE_ID) return { locale: worker.locale };
  const override = worker.systemQualifications[qualificationTypeId];
  if (override !== undefined) return { integer: override };
  if (qualificationTypeId === '000000000000000000L0') {
    const decided = worker.approved + worker.rejected;
    return { integer: decided === 0 ? 100 : Math.floor((worker.approved * 100) / decided) };
  }
  if (qualificationTypeId === '00000000000000000040') return { integer: worker.approved };
  const grant = state.grant(qualificationTypeId, worker.workerId);
  if (grant === undefined || grant.status !== 'Granted') return undefined;
  return grant.localeValue ? { locale: grant.localeValue } : { integer: grant.integerValue ?? 1 };
}

const localeMatches = (have: Locale, want: Locale): boolean =>
  have.Country === want.Country && (want.Subdivision === undefined || have.Subdivision === want.Subdivision);

/** Whether a value meets one requirement. */
export function meets(req: QualificationRequirement, value: WorkerQualificationValue | undefined): boolean {
  if (req.Comparator === 'DoesNotExist') return value === undefined;
  if (value === undefined) return false;
  if (req.Comparator === 'Exists') return true;
  if ('locale' in value) {
    const wanted = req.LocaleValues ?? [];
    const any = wanted.some((l) => localeMatches(value.locale, l));
    if (req.Comparator === 'EqualTo' || req.Comparator === 'In') return any;
    if (req.Comparator === 'NotEqualTo' || req.Comparator === 'NotIn') return !any;
    return false;
  }
  const v = value.integer;
  const ints = req.IntegerValues ?? [];
  const x = ints[0] ?? 0;
  switch (req.Comparator) {
    case 'LessThan':
      return v < x;
    case 'LessThanOrEqualTo':
      return v <= x;
    case 'GreaterThan':
      return v > x;
    case 'GreaterThanOrEqualTo':
      return v >= x;
    case 'EqualTo':
      return v === x;
    case 'NotEqualTo':
      return v !== x;
    case 'In':
      return ints.includes(v);
    case 'NotIn':
      return !ints.includes(v);
    default:
      return false;
  }
}

/** What a worker may do with a HIT: see it in search, preview it, accept it. */
export type WorkerAction = 'discover' | 'preview' | 'accept';

/** Whether a requirement guards an action (ActionsGuarded, or the deprecated RequiredToPreview). */
export function guards(req: QualificationRequirement, action: WorkerAction): boolean {
  if (action === 'accept') return true;
  const guarded = req.ActionsGuarded ?? (req.RequiredToPreview ? 'PreviewAndAccept' : 'Accept');
  if (action === 'preview') return guarded === 'PreviewAndAccept' || guarded === 'DiscoverPreviewAndAccept';
  return guarded === 'DiscoverPreviewAndAccept';
}

/** The requirements guarding `action` that the worker does not meet (empty: allowed). */
export function unmetRequirements(
  state: SimState,
  worker: WorkerRecord,
  requirements: readonly QualificationRequirement[],
  action: WorkerAction,
): QualificationRequirement[] {
  return requirements.filter(
    (req) => guards(req, action) && !meets(req, workerValue(state, worker, req.QualificationTypeId)),
  );
}

/** A short human description of a requirement, for refusal messages and worker pages. */
export function describeRequirement(state: SimState, req: QualificationRequirement): string {
  const type =
    systemQualificationType(req.QualificationTypeId) ?? state.qualificationTypes.get(req.QualificationTypeId);
  const name = type?.name ?? req.QualificationTypeId;
  const values =
    req.LocaleValues?.map((l) => (l.Subdivision ? `${l.Country}-${l.Subdivision}` : l.Country)) ??
    req.IntegerValues?.map(String) ??
    [];
  return `${name} ${req.Comparator}${values.length ? ` ${values.join(', ')}` : ''}`;
}
