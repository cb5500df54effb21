/**
 * One gateway per requester and endpoint, shared by every caller, so the rate governor really is
 * per requester and the SDK client (and its sockets) is created once (Mephisto built a new client
 * on every call).
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import { describeCredentials, resolveEndpoint, type RequesterSpec } from './environment.js';
import type { GatewayOptions } from './gateway-core.js';
import { MTurkGateway } from './gateway.js';

interface Entry {
  readonly gateway: MTurkGateway;
  readonly identity: string;
  readonly options: GatewayOptions;
}

function keyOf(spec: RequesterSpec): string {
  return `${spec.name}|${spec.environment}|${resolveEndpoint(spec)}`;
}

function identityOf(spec: RequesterSpec): string {
  return `${describeCredentials(spec.credentials)}|${spec.workerSiteUrl ?? ''}`;
}

/** Plain-data options (governor settings, locales) must match by value; clocks, handlers and callbacks by identity. */
function sameOptions(a: GatewayOptions, b: GatewayOptions): boolean {
  const byValue = new Set<keyof GatewayOptions>(['governor', 'allowedLocales']);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof GatewayOptions)[]);
  for (const k of keys) {
    const same = byValue.has(k) ? JSON.stringify(a[k]) === JSON.stringify(b[k]) : a[k] === b[k];
    if (!same) return false;
  }
  return true;
}

/**
 * Holds the shared gateways. The process-wide registry behind {@link getGateway} is enough for
 * applications; tests create their own so they can close everything they opened.
 */
export class GatewayRegistry {
  readonly #entries = new Map<string, Entry>();

  /**
   * The gateway of a requester in an environment, created on first use with `options`. Asking
   * again returns the same gateway; asking with different options is refused, since a shared
   * gateway has one governor and one clock.
   *
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` when the same requester and endpoint are asked
   *   for with other credentials or other options; `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND` for a
   *   missing profile.
   */
  get(spec: RequesterSpec, options?: GatewayOptions): MTurkGateway {
    const key = keyOf(spec);
    const existing = this.#entries.get(key);
    if (existing && !existing.gateway.closed) {
      if (existing.identity !== identityOf(spec)) {
        throw new HitstateError(
          'HST_ERR_CONFIG_INVALID',
          `requester "${spec.name}" on ${resolveEndpoint(spec)} is already in use with ${existing.identity.split('|')[0]}; one requester name must always use the same credentials (use another name for another account)`,
          { field: 'requester.credentials' },
        );
      }
      if (options !== undefined && !sameOptions(existing.options, options)) {
        throw new HitstateError(
          'HST_ERR_CONFIG_INVALID',
          `the gateway of requester "${spec.name}" on ${resolveEndpoint(spec)} already exists with other options; options apply when it is created (close it first to change them)`,
          { field: 'options' },
        );
      }
      return existing.gateway;
    }
    const gateway = new MTurkGateway(spec, options);
    this.#entries.set(key, { gateway, identity: identityOf(spec), options: options ?? {} });
    return gateway;
  }

  /** Every open gateway. */
  list(): MTurkGateway[] {
    return [...this.#entries.values()].map((e) => e.gateway).filter((g) => !g.closed);
  }

  /** Closes one requester's gateway (the next `get` creates a new one). */
  close(spec: RequesterSpec): void {
    const key = keyOf(spec);
    this.#entries.get(key)?.gateway.close();
    this.#entries.delete(key);
  }

  /** Closes every gateway: waiting calls fail, sockets close. */
  closeAll(): void {
    for (const entry of this.#entries.values()) entry.gateway.close();
    this.#entries.clear();
  }
}

const defaultRegistry = new GatewayRegistry();

/**
 * The shared gateway of a requester and endpoint (see {@link GatewayRegistry.get}).
 *
 * @example
 * ```ts
 * const gw = getGateway({ name: 'lab', environment: 'live', credentials: { kind: 'profile', profile: 'lab' } });
 * const balance = await gw.getAccountBalance();
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID`, `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND`.
 */
export function getGateway(spec: RequesterSpec, options?: GatewayOptions): MTurkGateway {
  return defaultRegistry.get(spec, options);
}

/** Closes every gateway of the process-wide registry (call it on shutdown). */
export function closeAllGateways(): void {
  defaultRegistry.closeAll();
}
