/**
 * Which MTurk a store belongs to. Live, sandbox and every custom endpoint keep their data in
 * separate directories, and every file records its environment, so an id from one can never be
 * used with another.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** The MTurk environment a store holds data for. */
export type StoreEnvironment =
  | { readonly kind: 'live' }
  | { readonly kind: 'sandbox' }
  | { readonly kind: 'custom'; readonly endpoint: string };

/**
 * Checks an environment and returns it in canonical form (a custom endpoint reduced to
 * `protocol://host:port/path`, without query or trailing slash), so two spellings of one endpoint
 * share one store.
 *
 * @throws HST_ERR_CONFIG_INVALID when the kind is unknown or the endpoint is not an http(s) URL.
 */
export function normalizeEnvironment(env: StoreEnvironment): StoreEnvironment {
  if (env?.kind === 'live' || env?.kind === 'sandbox') return Object.freeze({ kind: env.kind });
  if (env?.kind !== 'custom') {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `environment.kind must be 'live', 'sandbox' or 'custom', got ${JSON.stringify((env as { kind?: unknown })?.kind)}`,
      { field: 'environment.kind' },
    );
  }
  let url: URL;
  try {
    url = new URL(env.endpoint);
  } catch {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `environment.endpoint must be an http(s) URL like "http://127.0.0.1:8787", got ${JSON.stringify(env.endpoint)}`,
      { field: 'environment.endpoint' },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `environment.endpoint must use http or https, got ${JSON.stringify(env.endpoint)}`,
      { field: 'environment.endpoint' },
    );
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const path = url.pathname.replace(/\/+$/, '');
  return Object.freeze({ kind: 'custom', endpoint: `${url.protocol}//${url.hostname}:${port}${path}` });
}

/**
 * The directory name of an environment: `live`, `sandbox`, or `custom-[https-]<host>-<port>[-<path>]`.
 *
 * @example
 * ```ts
 * environmentSlug({ kind: 'custom', endpoint: 'http://127.0.0.1:8787' }); // 'custom-127.0.0.1-8787'
 * ```
 */
export function environmentSlug(env: StoreEnvironment): string {
  const canonical = normalizeEnvironment(env);
  if (canonical.kind !== 'custom') return canonical.kind;
  const url = new URL(canonical.endpoint);
  // http is the common case (a local server) and stays short; https is spelled out so the two never share a directory.
  const scheme = url.protocol === 'https:' ? ['https'] : [];
  const parts = [
    ...scheme,
    url.hostname,
    url.port || (url.protocol === 'https:' ? '443' : '80'),
    ...url.pathname.split('/').filter(Boolean),
  ];
  const slug = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return `custom-${slug}`;
}

/** True when two environments are the same (after normalization). */
export function sameEnvironment(a: StoreEnvironment, b: StoreEnvironment): boolean {
  const x = normalizeEnvironment(a);
  const y = normalizeEnvironment(b);
  return x.kind === y.kind && (x.kind !== 'custom' || (y.kind === 'custom' && x.endpoint === y.endpoint));
}

/** A short human description: `live`, `sandbox`, `custom endpoint http://127.0.0.1:8787`. */
export function describeEnvironment(env: StoreEnvironment): string {
  return env.kind === 'custom' ? `custom endpoint ${env.endpoint}` : env.kind;
}
