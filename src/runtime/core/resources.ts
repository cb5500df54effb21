/**
 * A run's MTurk resources: its qualifications (found or created once, then always used by id) and
 * its HIT type. What Mephisto's `setup_resources_for_task_run` does, without resolving names at
 * launch time (Mephisto's lesson #24, docs/mephisto-semantics.md#known-bugs-and-lessons).
 *
 * @module
 */
import type { ResolvedTaskRunConfig } from '../../config/task-run.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import type { MTurkFailure } from '../../mturk/outcome.js';
import {
  Comparator,
  SystemQualification,
  mastersQualificationId,
  type LocalQualificationRequirement,
} from '../../mturk/qualifications.js';
import type { Store } from '../../store/open-store.js';
import type { StoreEnvironment } from '../../store/environment.js';

/** The resources of a run once set up. */
export interface RunResources {
  readonly hitTypeId: string;
  /** Local qualification name → QualificationTypeId, for the qualifications that apply here. */
  readonly qualifications: Readonly<Record<string, string>>;
  /** The requirements the HIT type was created with (system ones included, the automatic live locale rule not). */
  readonly requirements: readonly LocalQualificationRequirement[];
}

/** A setup that MTurk refused or could not answer. */
export interface ResourceFailure {
  readonly reason: string;
  readonly retryable: boolean;
}

/**
 * The qualification type id of a local name: the stored mapping, or found-or-created on MTurk
 * and stored (by id from then on).
 */
export async function resolveQualification(
  store: Store,
  gateway: MTurkGateway,
  requesterName: string,
  name: string,
  description?: string,
): Promise<{ id: string; created: boolean } | MTurkFailure> {
  const mapped = store.qualifications.get(requesterName, name);
  if (mapped !== undefined) return { id: mapped.qualificationTypeId, created: false };
  const found = await gateway.findOrCreateQualificationType({
    name,
    description: description ?? `hitstate qualification "${name}".`,
  });
  if (found.status !== 'ok') return found as MTurkFailure;
  store.qualifications.put({
    requesterName,
    name,
    qualificationTypeId: found.value.qualificationType.qualificationTypeId,
    mturkName: found.value.qualificationType.name,
  });
  return { id: found.value.qualificationType.qualificationTypeId, created: found.value.created };
}

/** The qualifications of a config that apply in this environment (Mephisto's `applicable_providers`). */
export function applicableQualifications(config: ResolvedTaskRunConfig, environment: StoreEnvironment) {
  return config.qualifications.filter((q) => q.environments === undefined || q.environments.includes(environment.kind));
}

/**
 * Sets up a run's resources: qualifications resolved and stored, requirements built (custom,
 * approval rate, approved HITs, Masters, locales), the HIT type created (MTurk returns the same id
 * for the same properties, so a repeat after a crash finds it again).
 */
export async function setUpRunResources(
  store: Store,
  gateway: MTurkGateway,
  requesterName: string,
  config: ResolvedTaskRunConfig,
  environment: StoreEnvironment,
): Promise<RunResources | ResourceFailure> {
  const qualifications: Record<string, string> = {};
  const requirements: LocalQualificationRequirement[] = [];
  for (const q of applicableQualifications(config, environment)) {
    const resolved = await resolveQualification(store, gateway, requesterName, q.name);
    if ('status' in resolved)
      return { reason: `qualification "${q.name}": ${resolved.message}`, retryable: resolved.retryable };
    qualifications[q.name] = resolved.id;
    requirements.push({
      qualificationTypeId: resolved.id,
      name: q.name,
      comparator: q.comparator,
      ...(q.value === undefined ? {} : { value: q.value }),
      ...(q.actionsGuarded === undefined ? {} : { actionsGuarded: q.actionsGuarded }),
    });
  }
  const { mturk } = config;
  if (mturk.minApprovalRate !== undefined) {
    requirements.push({
      qualificationTypeId: SystemQualification.percentAssignmentsApproved,
      comparator: Comparator.GreaterThanOrEqualTo,
      value: mturk.minApprovalRate,
    });
  }
  if (mturk.minApprovedHits !== undefined) {
    requirements.push({
      qualificationTypeId: SystemQualification.numberHITsApproved,
      comparator: Comparator.GreaterThanOrEqualTo,
      value: mturk.minApprovedHits,
    });
  }
  if (mturk.masters)
    requirements.push({
      qualificationTypeId: mastersQualificationId(gateway.environment),
      comparator: Comparator.Exists,
    });
  const live = environment.kind === 'live';
  if (live && Array.isArray(mturk.locales)) {
    requirements.push({
      qualificationTypeId: SystemQualification.locale,
      comparator: Comparator.In,
      locales: mturk.locales,
    });
  }
  const created = await gateway.createHITType({
    title: config.title,
    description: config.description,
    ...(config.keywords === '' ? {} : { keywords: config.keywords }),
    rewardUsd: config.reward,
    assignmentDurationSec: config.assignmentDurationSec,
    autoApprovalDelaySec: config.autoApprovalDelaySec,
    qualificationRequirements: requirements,
    skipLocaleRequirement: live && mturk.locales === false,
  });
  if (created.status !== 'ok')
    return { reason: `creating the HIT type: ${created.message}`, retryable: created.retryable };
  return { hitTypeId: created.value.hitTypeId, qualifications, requirements };
}
