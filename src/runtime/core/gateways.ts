/**
 * The runtime's requesters and their gateways: one gateway per requester, created on first use
 * from the runtime's options, a registration, or the store's record, with the runtime's clock,
 * governor settings and audit sink, and watched so `whenIdle()` can tell calls from other work.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { MTurkCallEvent } from '../../mturk/audit.js';
import type { RequesterSpec } from '../../mturk/environment.js';
import type { MTurkGateway } from '../../mturk/gateway.js';
import { GatewayRegistry } from '../../mturk/registry.js';
import type { Store } from '../../store/open-store.js';
import type { Activity } from './activity.js';
import { resolveRuntimeOptions, type ResolvedRuntimeOptions, type RuntimeRequester } from './options.js';

/** The gateways of one runtime. */
export class RuntimeGateways {
  readonly #options: ResolvedRuntimeOptions;
  readonly #store: Store;
  readonly #activity: Activity;
  readonly #registry: GatewayRegistry;
  readonly #ownRegistry: boolean;
  readonly #gateways = new Map<string, MTurkGateway>();
  /** Requesters registered at run time with static keys (never written to the store). */
  readonly #memory = new Map<string, RuntimeRequester>();
  readonly #onAudit: (event: MTurkCallEvent) => void;
  readonly #onError: (err: unknown) => void;

  constructor(
    options: ResolvedRuntimeOptions,
    store: Store,
    activity: Activity,
    onAudit: (event: MTurkCallEvent) => void,
    onError: (err: unknown) => void,
  ) {
    this.#options = options;
    this.#store = store;
    this.#activity = activity;
    this.#registry = options.gateways ?? new GatewayRegistry();
    this.#ownRegistry = options.gateways === undefined;
    this.#onAudit = onAudit;
    this.#onError = onError;
  }

  /**
   * The gateway of a requester.
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` for an unknown requester, `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND`.
   */
  get(requesterName: string): MTurkGateway {
    const existing = this.#gateways.get(requesterName);
    if (existing !== undefined && !existing.closed) return existing;
    const configured = this.#memory.get(requesterName) ?? this.#options.requesters.get(requesterName);
    const credentials = configured?.credentials ?? this.#store.requesters.get(requesterName)?.credentialSource;
    if (credentials === undefined) {
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `requester "${requesterName}" is unknown to this runtime and its store; pass it in createRuntime({ requesters })`,
        { field: 'requester' },
      );
    }
    const env = this.#options.environment;
    const spec: RequesterSpec = {
      name: requesterName,
      environment: env.kind,
      ...(env.kind === 'custom' ? { endpoint: env.endpoint } : {}),
      ...(this.#options.workerSiteUrl === undefined ? {} : { workerSiteUrl: this.#options.workerSiteUrl }),
      credentials,
    };
    const gateway = this.#registry.get(spec, {
      clock: this.#options.clock,
      ...(this.#options.governor === undefined ? {} : { governor: this.#options.governor }),
      ...(this.#options.auditSalt === undefined ? {} : { auditSalt: this.#options.auditSalt }),
      ...(this.#options.allowedLocales === undefined ? {} : { allowedLocales: this.#options.allowedLocales }),
      onAudit: this.#onAudit,
      onListenerError: this.#onError,
    });
    const watched = this.#activity.watch(gateway);
    this.#gateways.set(requesterName, watched);
    return watched;
  }

  /**
   * Makes a requester known: `profile` and `defaultChain` are recorded in the store, `static`
   * keys kept in memory. A gateway made for older credentials is closed.
   * @throws HitstateError `HST_ERR_CONFIG_INVALID`.
   */
  register(requester: RuntimeRequester): void {
    resolveRuntimeOptions({ environment: this.#options.environment, requester });
    if (requester.credentials.kind === 'static') {
      this.#memory.set(requester.name, requester);
      if (this.#store.requesters.get(requester.name) === undefined)
        this.#store.requesters.put({ name: requester.name, credentialSource: { kind: 'defaultChain' } });
    } else {
      this.#memory.delete(requester.name);
      this.#store.requesters.put({ name: requester.name, credentialSource: requester.credentials });
    }
    const existing = this.#gateways.get(requester.name);
    if (existing !== undefined) {
      this.#gateways.delete(requester.name);
      if (this.#ownRegistry) existing.close();
    }
  }

  /** Whether a requester is known (options, registration or store). */
  knows(requesterName: string): boolean {
    return (
      this.#memory.has(requesterName) ||
      this.#options.requesters.has(requesterName) ||
      this.#store.requesters.get(requesterName) !== undefined
    );
  }

  /** HTTP requests under way over every gateway. */
  inFlight(): number {
    let n = 0;
    for (const gw of this.#gateways.values()) n += gw.stats().inFlight;
    return n;
  }

  /** Closes the gateways if this runtime created their registry (calls waiting on the clock fail, sockets close). */
  close(): void {
    if (this.#ownRegistry) this.#registry.closeAll();
  }
}
