/**
 * The SDK client of one requester and endpoint, with the rate governor installed as a named
 * middleware, so every `send` (including each page of the SDK's paginators) waits for its lane.
 *
 * The SDK makes exactly one HTTP attempt per governed attempt, in every configuration: the
 * governor is the one layer that retries throttling and faults (docs/mturk-gateway.md, "Retries:
 * one layer per kind of failure"). The SDK's own retry slept on wall time, ignored which
 * operations are retry-safe and multiplied the governor's attempts.
 *
 * @module
 */
import { MTurkClient, type MTurkClientConfig } from '@aws-sdk/client-mturk';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { installListingDecoder } from './listing-decoder.js';
import { classifyError } from './outcome.js';
import { policyOf } from './operations.js';
import type { CallReport, Lane, RateGovernor, RetryClass } from './governor.js';
import { MTURK_REGION } from './environment.js';

/** What the gateway learns about one call from the governor and the SDK. */
export interface CallRecord extends CallReport {
  /** HTTP attempts, the SDK's own retries included. */
  httpAttempts: number;
  sdkRetryDelayMs: number;
  requestId?: string;
}

/** A fresh, empty record. */
export function newCallRecord(): CallRecord {
  return { attempts: 0, retryDelayMs: 0, throttles: 0, faults: 0, httpAttempts: 0, sdkRetryDelayMs: 0 };
}

interface BoundCall {
  readonly lane: Lane;
  readonly retrySafe: boolean;
  readonly record: CallRecord;
  readonly maxAttempts?: number;
}

const boundCalls = new WeakMap<object, BoundCall>();

/**
 * Tells the governor middleware how to treat the command built from `input` (the SDK passes the
 * same input object through, page after page for paginators).
 */
export function bindCall(input: object, call: BoundCall): void {
  boundCalls.set(input, call);
}

/** HTTP-level counters (every attempt that reached the transport). */
export interface HttpCounters {
  attempts: number;
  throttled: number;
  faults: number;
}

/** Options of {@link createMTurkClient}. */
export interface MTurkClientOptions {
  readonly endpoint: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly governor: RateGovernor;
  /** @defaultValue 5000 */
  readonly connectionTimeoutMs?: number;
  /** @defaultValue 30000 */
  readonly requestTimeoutMs?: number;
  /** A transport replacing Node's HTTP handler (tests use a fake one). */
  readonly requestHandler?: MTurkClientConfig['requestHandler'];
}

function toRetryClass(err: unknown): RetryClass {
  const kind = classifyError(err);
  return kind === 'throttled' || kind === 'unavailable' ? kind : 'fatal';
}

interface MetadataCarrier {
  readonly $metadata?: { readonly attempts?: number; readonly totalRetryDelay?: number; readonly requestId?: string };
}

function absorbMetadata(record: CallRecord, carrier: unknown): void {
  const meta = (typeof carrier === 'object' && carrier !== null ? (carrier as MetadataCarrier) : {}).$metadata;
  record.httpAttempts += meta?.attempts ?? 1;
  record.sdkRetryDelayMs += meta?.totalRetryDelay ?? 0;
  if (meta?.requestId !== undefined) record.requestId = meta.requestId;
}

/**
 * Builds the client: us-east-1 signing, the endpoint, no SDK retry, request timeouts that really
 * throw, the governor middleware (`initialize` step), an HTTP attempt counter (`deserialize` step)
 * and the lean decoder of HIT listings (`listing-decoder.ts`).
 */
export function createMTurkClient(options: MTurkClientOptions, http: HttpCounters): MTurkClient {
  const client = new MTurkClient({
    region: MTURK_REGION,
    endpoint: options.endpoint,
    credentials: options.credentials,
    // One attempt: the governor retries (see the module comment).
    maxAttempts: 1,
    requestHandler: options.requestHandler ?? {
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: 32 },
      httpsAgent: { keepAlive: true, maxSockets: 32 },
    },
  });
  const governor = options.governor;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const policy = policyOf(operation);
      const bound = boundCalls.get(args.input as object) ?? {
        lane: policy.lane,
        retrySafe: policy.retrySafe,
        record: newCallRecord(),
      };
      return governor.run(
        {
          operation,
          lane: bound.lane,
          retrySafe: bound.retrySafe,
          ...(bound.maxAttempts !== undefined ? { maxAttempts: bound.maxAttempts } : {}),
        },
        async () => {
          try {
            const result = await next(args);
            absorbMetadata(bound.record, result.output);
            return result;
          } catch (err) {
            absorbMetadata(bound.record, err);
            throw err;
          }
        },
        toRetryClass,
        bound.record,
      );
    },
    { step: 'initialize', name: 'hitstateRateGovernor', override: true },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      http.attempts++;
      try {
        return await next(args);
      } catch (err) {
        const kind = classifyError(err);
        if (kind === 'throttled') http.throttled++;
        else if (kind === 'unavailable') http.faults++;
        throw err;
      }
    },
    { step: 'deserialize', name: 'hitstateHttpCounter', priority: 'high', override: true },
  );
  installListingDecoder(client);
  return client;
}
