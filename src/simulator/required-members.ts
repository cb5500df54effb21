/**
 * The members the MTurk model (2017-01-17) marks required, per operation and per nested
 * structure, copied from the model as `@aws-sdk/client-mturk` carries it (its request typings
 * mark them non-optional). The AWS SDK for JavaScript v3 checks none of them before sending, so
 * the server does, as MTurk did: every missing one is counted in one `ValidationException`
 * (`2 validation errors detected: Value null at 'reason' failed to satisfy constraint: Member must
 * not be null; …`), together with the broken constraints of present members
 * (`validation.ts`, {@link modelValidationError}), before the operation looks at anything else.
 *
 * @module
 */

/**
 * An operation's input or a nested structure: its required members, its optional ones (top level
 * only: they say which members an operation has, for the constraint checks of `validation.ts`),
 * and members that hold structures or lists of them.
 */
interface Shape {
  readonly required: readonly string[];
  readonly optional?: readonly string[];
  readonly nested?: Readonly<Record<string, { readonly shape: string; readonly list: boolean }>>;
}

const REQUIREMENTS = { QualificationRequirements: { shape: 'QualificationRequirement', list: true } } as const;
const NOTIFICATION = { Notification: { shape: 'NotificationSpecification', list: false } } as const;

/** Structures of the model with required members, by shape name. */
const STRUCTURES: Readonly<Record<string, Shape>> = {
  QualificationRequirement: {
    required: ['QualificationTypeId', 'Comparator'],
    nested: { LocaleValues: { shape: 'Locale', list: true } },
  },
  Locale: { required: ['Country'] },
  NotificationSpecification: { required: ['Destination', 'Transport', 'Version', 'EventTypes'] },
  ReviewPolicy: { required: ['PolicyName'] },
  HITLayoutParameter: { required: ['Name', 'Value'] },
};

const HIT_EXTRAS = {
  ...REQUIREMENTS,
  HITLayoutParameters: { shape: 'HITLayoutParameter', list: true },
  AssignmentReviewPolicy: { shape: 'ReviewPolicy', list: false },
  HITReviewPolicy: { shape: 'ReviewPolicy', list: false },
} as const;

/** Each operation's required and optional members (in the model's order) and its nested structures. */
export const MODEL_MEMBERS: Readonly<Record<string, Shape>> = {
  AcceptQualificationRequest: { required: ['QualificationRequestId'], optional: ['IntegerValue'] },
  ApproveAssignment: { required: ['AssignmentId'], optional: ['RequesterFeedback', 'OverrideRejection'] },
  AssociateQualificationWithWorker: {
    required: ['QualificationTypeId', 'WorkerId'],
    optional: ['IntegerValue', 'SendNotification'],
  },
  CreateAdditionalAssignmentsForHIT: {
    required: ['HITId', 'NumberOfAdditionalAssignments'],
    optional: ['UniqueRequestToken'],
  },
  CreateHIT: {
    required: ['LifetimeInSeconds', 'AssignmentDurationInSeconds', 'Reward', 'Title', 'Description'],
    optional: [
      'MaxAssignments',
      'AutoApprovalDelayInSeconds',
      'Keywords',
      'Question',
      'RequesterAnnotation',
      'QualificationRequirements',
      'UniqueRequestToken',
      'AssignmentReviewPolicy',
      'HITReviewPolicy',
      'HITLayoutId',
      'HITLayoutParameters',
    ],
    nested: HIT_EXTRAS,
  },
  CreateHITType: {
    required: ['AssignmentDurationInSeconds', 'Reward', 'Title', 'Description'],
    optional: ['AutoApprovalDelayInSeconds', 'Keywords', 'QualificationRequirements'],
    nested: REQUIREMENTS,
  },
  CreateHITWithHITType: {
    required: ['HITTypeId', 'LifetimeInSeconds'],
    optional: [
      'MaxAssignments',
      'Question',
      'RequesterAnnotation',
      'UniqueRequestToken',
      'AssignmentReviewPolicy',
      'HITReviewPolicy',
      'HITLayoutId',
      'HITLayoutParameters',
    ],
    nested: {
      HITLayoutParameters: HIT_EXTRAS.HITLayoutParameters,
      AssignmentReviewPolicy: HIT_EXTRAS.AssignmentReviewPolicy,
      HITReviewPolicy: HIT_EXTRAS.HITReviewPolicy,
    },
  },
  CreateQualificationType: {
    required: ['Name', 'Description', 'QualificationTypeStatus'],
    optional: [
      'Keywords',
      'RetryDelayInSeconds',
      'Test',
      'AnswerKey',
      'TestDurationInSeconds',
      'AutoGranted',
      'AutoGrantedValue',
    ],
  },
  CreateWorkerBlock: { required: ['WorkerId', 'Reason'] },
  DeleteHIT: { required: ['HITId'] },
  DeleteQualificationType: { required: ['QualificationTypeId'] },
  DeleteWorkerBlock: { required: ['WorkerId'], optional: ['Reason'] },
  DisassociateQualificationFromWorker: { required: ['WorkerId', 'QualificationTypeId'], optional: ['Reason'] },
  GetAccountBalance: { required: [] },
  GetAssignment: { required: ['AssignmentId'] },
  GetFileUploadURL: { required: ['AssignmentId', 'QuestionIdentifier'] },
  GetHIT: { required: ['HITId'] },
  GetQualificationScore: { required: ['QualificationTypeId', 'WorkerId'] },
  GetQualificationType: { required: ['QualificationTypeId'] },
  ListAssignmentsForHIT: { required: ['HITId'], optional: ['NextToken', 'MaxResults', 'AssignmentStatuses'] },
  ListBonusPayments: { required: [], optional: ['HITId', 'AssignmentId', 'NextToken', 'MaxResults'] },
  ListHITs: { required: [], optional: ['NextToken', 'MaxResults'] },
  ListHITsForQualificationType: { required: ['QualificationTypeId'], optional: ['NextToken', 'MaxResults'] },
  ListQualificationRequests: { required: [], optional: ['QualificationTypeId', 'NextToken', 'MaxResults'] },
  ListQualificationTypes: {
    required: ['MustBeRequestable'],
    optional: ['Query', 'MustBeOwnedByCaller', 'NextToken', 'MaxResults'],
  },
  ListReviewPolicyResultsForHIT: {
    required: ['HITId'],
    optional: ['PolicyLevels', 'RetrieveActions', 'RetrieveResults', 'NextToken', 'MaxResults'],
  },
  ListReviewableHITs: { required: [], optional: ['HITTypeId', 'Status', 'NextToken', 'MaxResults'] },
  ListWorkerBlocks: { required: [], optional: ['NextToken', 'MaxResults'] },
  ListWorkersWithQualificationType: {
    required: ['QualificationTypeId'],
    optional: ['Status', 'NextToken', 'MaxResults'],
  },
  NotifyWorkers: { required: ['Subject', 'MessageText', 'WorkerIds'] },
  RejectAssignment: { required: ['AssignmentId', 'RequesterFeedback'] },
  RejectQualificationRequest: { required: ['QualificationRequestId'], optional: ['Reason'] },
  SendBonus: { required: ['WorkerId', 'BonusAmount', 'AssignmentId', 'Reason'], optional: ['UniqueRequestToken'] },
  SendTestEventNotification: { required: ['Notification', 'TestEventType'], nested: NOTIFICATION },
  UpdateExpirationForHIT: { required: ['HITId', 'ExpireAt'] },
  UpdateHITReviewStatus: { required: ['HITId'], optional: ['Revert'] },
  UpdateHITTypeOfHIT: { required: ['HITId', 'HITTypeId'] },
  UpdateNotificationSettings: { required: ['HITTypeId'], optional: ['Notification', 'Active'], nested: NOTIFICATION },
  UpdateQualificationType: {
    required: ['QualificationTypeId'],
    optional: [
      'Description',
      'QualificationTypeStatus',
      'Test',
      'AnswerKey',
      'TestDurationInSeconds',
      'RetryDelayInSeconds',
      'AutoGranted',
      'AutoGrantedValue',
    ],
  },
};

/** A member name as MTurk's validation messages wrote it: lower camel case (`RequesterFeedback` → `requesterFeedback`). */
export function lowerCamel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * A request path as MTurk's validation messages wrote it: each member in lower camel case, and
 * list items as `N.member` (`QualificationRequirements.1.Comparator` →
 * `qualificationRequirements.1.member.comparator`).
 */
export function wirePath(path: string): string {
  return path
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? `${part}.member` : lowerCamel(part)))
    .join('.');
}

const isAbsent = (v: unknown): boolean => v === undefined || v === null;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function missingIn(shape: Shape, body: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const name of shape.required) if (isAbsent(body[name])) out.push(`${prefix}${name}`);
  for (const [name, { shape: inner, list }] of Object.entries(shape.nested ?? {})) {
    const value = body[name];
    const structure = STRUCTURES[inner]!;
    // A value of the wrong type is the operation's own (type) error, not a missing member.
    if (list && Array.isArray(value))
      value.forEach((item, i) => {
        if (isRecord(item)) missingIn(structure, item, `${prefix}${name}.${i + 1}.`, out);
      });
    else if (!list && isRecord(value)) missingIn(structure, value, `${prefix}${name}.`, out);
  }
}

/** The paths (`QualificationRequirements.1.Comparator`) of the required members missing from `body`. */
export function missingMembers(operation: string, body: Record<string, unknown>): string[] {
  const shape = MODEL_MEMBERS[operation];
  const out: string[] = [];
  if (shape !== undefined) missingIn(shape, body, '', out);
  return out;
}

/** The members `operation` has in the model, required ones first; empty for an unknown operation. */
export function modelMembers(operation: string): readonly string[] {
  const shape = MODEL_MEMBERS[operation];
  return shape === undefined ? [] : [...shape.required, ...(shape.optional ?? [])];
}

/** AWS's text for each missing required member of `body` (`Value null at 'reason' …`). */
export function missingMemberProblems(operation: string, body: Record<string, unknown>): string[] {
  return missingMembers(operation, body).map(
    (p) => `Value null at '${wirePath(p)}' failed to satisfy constraint: Member must not be null`,
  );
}
