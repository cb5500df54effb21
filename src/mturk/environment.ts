/**
 * Requesters and environments: which endpoint a requester's calls go to, how the environment
 * changes behaviour (locale rule, preview links), and where credentials come from.
 *
 * The environment kind decides behaviour; the endpoint decides where requests go. They are
 * separate so a test can say "behave as sandbox, but send to the local simulator".
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** Where a requester works. `custom` is hitstate's own MTurk-compatible server (or any other). */
export const Environment = {
  live: 'live',
  sandbox: 'sandbox',
  custom: 'custom',
} as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** AWS's requester API endpoints (MTurk exists only in us-east-1). */
export const MTURK_ENDPOINTS = {
  live: 'https://mturk-requester.us-east-1.amazonaws.com',
  sandbox: 'https://mturk-requester-sandbox.us-east-1.amazonaws.com',
} as const;

/** The worker-facing sites (preview links, externalSubmit). */
export const WORKER_SITES = {
  live: 'https://www.mturk.com',
  sandbox: 'https://workersandbox.mturk.com',
} as const;

/** The region every MTurk client signs for, sandbox included. */
export const MTURK_REGION = 'us-east-1';

/** Where a requester's AWS credentials come from. */
export type CredentialSource =
  /** A named profile in `~/.aws/credentials` / `~/.aws/config` (session tokens, SSO, roles, processes). */
  | { readonly kind: 'profile'; readonly profile: string }
  /** The SDK's default chain: environment variables, the default profile, SSO, container or instance roles. */
  | { readonly kind: 'defaultChain' }
  /** Keys given directly (tests, the local simulator). */
  | {
      readonly kind: 'static';
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken?: string;
    };

/**
 * A requester account in one environment.
 *
 * @example
 * ```ts
 * const live: RequesterSpec = { name: 'lab', environment: 'live', credentials: { kind: 'profile', profile: 'lab' } };
 * const simAsSandbox: RequesterSpec = {
 *   name: 'lab', environment: 'sandbox', endpoint: sim.url,
 *   credentials: { kind: 'static', accessKeyId: 'AKIDLAB', secretAccessKey: 'x' },
 * };
 * ```
 */
export interface RequesterSpec {
  /** The requester's name in hitstate (appears in audit events and error messages). */
  readonly name: string;
  readonly environment: Environment;
  /** Overrides the endpoint; required for `custom`. Live and sandbox default to AWS. */
  readonly endpoint?: string;
  /** Worker site for preview links on a custom endpoint. @defaultValue the endpoint's origin */
  readonly workerSiteUrl?: string;
  readonly credentials: CredentialSource;
}

function validUrl(value: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field} must be an absolute http(s) URL, got ${JSON.stringify(value)}`,
      { field },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HitstateError('HST_ERR_CONFIG_INVALID', `${field} must use http or https, got ${url.protocol}`, {
      field,
    });
  }
  return url;
}

/**
 * The endpoint a requester's calls go to.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` for a custom requester without endpoint or a bad URL.
 */
export function resolveEndpoint(spec: RequesterSpec): string {
  if (spec.endpoint !== undefined) return validUrl(spec.endpoint, 'requester.endpoint').toString().replace(/\/$/, '');
  if (spec.environment === 'custom') {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `requester "${spec.name}" has environment "custom" but no endpoint; pass endpoint: "http://127.0.0.1:PORT" (e.g. the URL printed by \`hitstate sim\`)`,
      { field: 'requester.endpoint' },
    );
  }
  return MTURK_ENDPOINTS[spec.environment];
}

/** The worker site of a requester: AWS's for live and sandbox, the endpoint's origin for custom. */
export function resolveWorkerSite(spec: RequesterSpec): string {
  if (spec.workerSiteUrl !== undefined)
    return validUrl(spec.workerSiteUrl, 'requester.workerSiteUrl').toString().replace(/\/$/, '');
  if (spec.environment === 'custom') return new URL(resolveEndpoint(spec)).origin;
  return WORKER_SITES[spec.environment];
}

/**
 * The preview link of a HIT group, in Mephisto's format: `<worker site>/mturk/preview?groupId=<id>`.
 * Live and sandbox differ only by host (`www.mturk.com` vs `workersandbox.mturk.com`).
 *
 * @example
 * ```ts
 * previewUrl('https://workersandbox.mturk.com', '3PN7FLVWM454R7NYSKRT54250KKSYM');
 * // "https://workersandbox.mturk.com/mturk/preview?groupId=3PN7FLVWM454R7NYSKRT54250KKSYM"
 * ```
 */
export function previewUrl(workerSite: string, hitTypeId: string): string {
  return `${workerSite.replace(/\/$/, '')}/mturk/preview?groupId=${encodeURIComponent(hitTypeId)}`;
}

/** The externalSubmit URL workers' browsers post answers to. */
export function externalSubmitUrl(workerSite: string): string {
  return `${workerSite.replace(/\/$/, '')}/mturk/externalSubmit`;
}

/** A short, stable description of a spec's identity (never includes a secret). */
export function describeCredentials(source: CredentialSource): string {
  switch (source.kind) {
    case 'profile':
      return `profile:${source.profile}`;
    case 'defaultChain':
      return 'defaultChain';
    case 'static':
      return `static:${source.accessKeyId}`;
  }
}
