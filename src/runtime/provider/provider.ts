/**
 * The Mephisto-shaped provider API over the runtime: `MTurkProvider` (live),
 * `SandboxMTurkProvider` and `EndpointMTurkProvider` (a custom endpoint such as `hitstate sim`),
 * each handing out requesters, workers, units and agents whose every method returns a
 * {@link ProviderResult} and emits its events on `provider.runtime.events`.
 *
 * @example
 * ```ts
 * const provider = await SandboxMTurkProvider.create({ requester: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } } });
 * const balance = await provider.requester().getAvailableBudget();
 * await provider.worker('A1W2').block('copied answers', { requester: 'lab' });
 * await provider.close();
 * ```
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { StoreEnvironment } from '../../store/environment.js';
import { cleanupRun, type CleanupReport } from '../sync/cleanup.js';
import type { RuntimeOptions } from '../core/options.js';
import { setUpRunResources, type RunResources } from '../core/resources.js';
import { createRuntime, type Runtime } from '../core/runtime.js';
import { resolveTaskRunConfig } from '../../config/task-run.js';
import { MTurkRequester } from './requester.js';
import { attempt, failed, fromOutcome, succeeded, type ProviderResult } from './result.js';
import { MTurkAgent, MTurkUnit } from './unit.js';
import { MTurkWorker } from './worker.js';

/** Options of `Provider.create`: the runtime's, without the environment (the provider decides it). */
export type ProviderOptions = Omit<RuntimeOptions, 'environment'>;

/** The default route prefix of the task server (`createTaskServer`). */
const DEFAULT_PREFIX = '/hitstate';

/** The live MTurk provider (Mephisto's `MTurkProvider`, type `mturk`). */
export class MTurkProvider {
  /** Mephisto's provider type name. */
  static readonly providerType: string = 'mturk';
  readonly runtime: Runtime;
  readonly #ownsRuntime: boolean;

  /**
   * Wraps a runtime of the provider's environment.
   * @throws HitstateError `HST_ERR_CONFIG_INVALID` when the runtime works in another environment.
   */
  constructor(runtime: Runtime, options: { readonly ownsRuntime?: boolean } = {}) {
    const expected = (this.constructor as typeof MTurkProvider).environmentKind();
    if (runtime.environment.kind !== expected) {
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        `${this.constructor.name} needs a runtime of the ${expected} environment, got ${runtime.environment.kind}`,
        { field: 'environment' },
      );
    }
    this.runtime = runtime;
    this.#ownsRuntime = options.ownsRuntime ?? false;
  }

  /** The environment kind this provider works in. */
  static environmentKind(): StoreEnvironment['kind'] {
    return 'live';
  }

  /** The runtime environment of a `create` call. */
  static environmentOf(_options: ProviderOptions & { readonly endpoint?: string }): StoreEnvironment {
    return { kind: 'live' };
  }

  /**
   * Creates the provider with a runtime of its own (closed by {@link MTurkProvider.close}).
   * @throws HitstateError as `createRuntime`.
   */
  static async create<P extends MTurkProvider>(
    this: (new (
      runtime: Runtime,
      options?: { ownsRuntime?: boolean },
    ) => P) & { environmentOf(o: ProviderOptions): StoreEnvironment },
    options: ProviderOptions & { readonly endpoint?: string },
  ): Promise<P> {
    const { endpoint: _endpoint, ...rest } = options;
    const runtime = await createRuntime({ ...rest, environment: MTurkProvider.environmentOf(options) });
    return new this(runtime, { ownsRuntime: true });
  }

  /** Mephisto's provider type of this instance. */
  get providerType(): string {
    return (this.constructor as typeof MTurkProvider).providerType;
  }

  /** The requester `name` (the runtime's requester by default). */
  requester(name: string = this.runtime.options.requester.name): MTurkRequester {
    return new MTurkRequester(this.runtime, name);
  }

  worker(workerId: string): MTurkWorker {
    return new MTurkWorker(this.runtime, workerId);
  }

  unit(unitId: string): MTurkUnit {
    return new MTurkUnit(this.runtime, unitId);
  }

  agent(agentId: string): MTurkAgent {
    return new MTurkAgent(this.runtime, agentId);
  }

  /**
   * Sets up a run's resources: qualifications that apply to this environment (found or created,
   * recorded by id) and the HIT type with the typed MTurk requirements (approval rate, approved
   * HITs, Masters, locales). A launched run does this itself; calling it again is harmless.
   */
  async setupResourcesForTaskRun(runId: string): Promise<ProviderResult<RunResources>> {
    return attempt(async () => {
      const record = this.runtime.store.runs.require(runId);
      const resolved = resolveTaskRunConfig(record.config);
      const result = await setUpRunResources(
        this.runtime.store,
        this.runtime.gateway(record.requesterName),
        record.requesterName,
        resolved,
        this.runtime.environment,
      );
      if (!('hitTypeId' in result))
        return failed(
          result.retryable ? 'HST_ERR_MTURK_UNAVAILABLE' : 'HST_ERR_MTURK_REQUEST_INVALID',
          result.reason,
          result.retryable,
        );
      const alreadyDone = record.hitTypeId === result.hitTypeId;
      if (!alreadyDone) this.runtime.store.runs.setHitType(runId, result.hitTypeId);
      return succeeded(result, alreadyDone);
    });
  }

  /** Takes every HIT of the run off MTurk: live ones expired, finished ones disposed; reports what is kept and why. */
  async cleanupResourcesFromTaskRun(runId: string): Promise<ProviderResult<CleanupReport>> {
    return attempt(async () => succeeded(await cleanupRun(this.runtime, runId)));
  }

  /** Deletes a qualification type this requester created under `name`, and forgets the mapping. */
  async cleanupQualification(
    name: string,
    options: { readonly requester?: string } = {},
  ): Promise<ProviderResult<{ readonly qualificationTypeId: string | null }>> {
    return attempt(async (): Promise<ProviderResult<{ readonly qualificationTypeId: string | null }>> => {
      const requester = options.requester ?? this.runtime.options.requester.name;
      const mapped = this.runtime.store.qualifications.get(requester, name);
      if (mapped === undefined) return succeeded({ qualificationTypeId: null }, true);
      const outcome = await this.runtime.gateway(requester).deleteQualificationType(mapped.qualificationTypeId);
      if (outcome.status === 'ok' || outcome.status === 'alreadyDone' || outcome.status === 'notFound')
        this.runtime.store.qualifications.delete(requester, name);
      if (outcome.status === 'notFound') return succeeded({ qualificationTypeId: mapped.qualificationTypeId }, true);
      return fromOutcome(outcome, () => ({ qualificationTypeId: mapped.qualificationTypeId }));
    });
  }

  /**
   * Where the frontend wrapper script is served: the task server's `<prefix>/wrapper.js` route
   * (it injects the script into task pages itself; this is for pages served elsewhere).
   */
  getWrapperJsPath(prefix: string = DEFAULT_PREFIX): string {
    return `${prefix.replace(/\/+$/, '')}/wrapper.js`;
  }

  /** Closes the runtime if the provider created it. */
  async close(): Promise<void> {
    if (this.#ownsRuntime) await this.runtime.close();
  }
}

/** The MTurk sandbox provider (type `mturk_sandbox`): same API, the sandbox's own ids and store. */
export class SandboxMTurkProvider extends MTurkProvider {
  static override readonly providerType: string = 'mturk_sandbox';

  static override environmentKind(): StoreEnvironment['kind'] {
    return 'sandbox';
  }

  static override environmentOf(): StoreEnvironment {
    return { kind: 'sandbox' };
  }
}

/** A provider for any MTurk-compatible endpoint, such as `hitstate sim` (type `mturk_endpoint`). */
export class EndpointMTurkProvider extends MTurkProvider {
  static override readonly providerType: string = 'mturk_endpoint';

  static override environmentKind(): StoreEnvironment['kind'] {
    return 'custom';
  }

  /** @throws HitstateError `HST_ERR_CONFIG_INVALID` without `endpoint`. */
  static override environmentOf(options: ProviderOptions & { readonly endpoint?: string }): StoreEnvironment {
    if (options.endpoint === undefined) {
      throw new HitstateError(
        'HST_ERR_CONFIG_INVALID',
        'EndpointMTurkProvider.create needs endpoint, e.g. "http://127.0.0.1:8787" (the URL hitstate sim prints)',
        { field: 'endpoint' },
      );
    }
    return { kind: 'custom', endpoint: options.endpoint };
  }
}
