/**
 * A lean decoder of the HIT listings (`ListHITs`, `ListReviewableHITs`). The SDK's schema-driven
 * deserializer walks every member of every HIT of a page (dates, nested qualification
 * requirements, the question XML) to build SDK records, which `toHITInfo` then copies again,
 * though a status sync only compares each HIT's status and counters (10,000 of them a cycle, in a
 * process whose heap holds a large run). Here a page's JSON body is parsed once with `JSON.parse`
 * and each HIT becomes a {@link ListedHIT}: the fields a status sync compares, with the full
 * {@link HITInfo} built only when asked for. (Measured, the CPU saved is small next to the SDK's
 * per-request work: docs/mturk-gateway.md, "Listings".)
 *
 * The SDK still signs, sends and times out the call, the governor still retries it, and the SDK
 * paginators still page: two middlewares on the client do the work. The inner one (closest to
 * the transport) reads a successful listing's body, decodes its HITs and hands the SDK's
 * deserializer the body without them (`NextToken`, `NumResults`); the outer one attaches the
 * decoded HITs to the output the paginator yields ({@link listedHITsOf} reads them). An error
 * answer, or a body this decoder cannot read, is left to the SDK untouched (and its HITs are then
 * converted with `toHITInfo`), so its errors read as they always did. See docs/mturk-gateway.md,
 * "Listings".
 *
 * @module
 */
import type { HIT, MTurkClient } from '@aws-sdk/client-mturk';
import type { HITStatus } from '../../machines/states.js';
import { parseRequesterAnnotation } from './annotation.js';
import { defined, toHITInfo, type HITInfo, type ListedHIT } from './records.js';

/** The listing operations decoded here, by the SDK's command names. */
const LISTINGS: ReadonlySet<string> = new Set(['ListHITsCommand', 'ListReviewableHITsCommand']);
/** Decoded HITs of a response, from the inner middleware to the outer one. */
const decodedOf = new WeakMap<object, ListedHIT[]>();
const LISTED: unique symbol = Symbol('hitstate.listedHITs');

type Wire = Readonly<Record<string, unknown>>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** An epoch-seconds timestamp as the SDK reads it (a number or its text), in epoch ms. */
function epochMs(v: unknown): number | undefined {
  const seconds = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : undefined;
  return seconds === undefined || !Number.isFinite(seconds) ? undefined : Math.round(seconds * 1000);
}

/** `toHITInfo` of the SDK record this wire HIT would have become: same fields, same defaults. */
export function wireToHITInfo(h: Wire): HITInfo {
  const annotation = str(h.RequesterAnnotation);
  return defined({
    hitId: str(h.HITId) ?? '',
    hitTypeId: str(h.HITTypeId) ?? '',
    hitGroupId: str(h.HITGroupId),
    hitStatus: (str(h.HITStatus) ?? 'Assignable') as HITStatus,
    title: str(h.Title),
    rewardUsd: str(h.Reward),
    maxAssignments: int(h.MaxAssignments) ?? 1,
    assignmentsAvailable: int(h.NumberOfAssignmentsAvailable) ?? 0,
    assignmentsPending: int(h.NumberOfAssignmentsPending) ?? 0,
    assignmentsCompleted: int(h.NumberOfAssignmentsCompleted) ?? 0,
    createdAtMs: epochMs(h.CreationTime),
    expiresAtMs: epochMs(h.Expiration),
    assignmentDurationSec: int(h.AssignmentDurationInSeconds),
    autoApprovalDelaySec: int(h.AutoApprovalDelayInSeconds),
    requesterAnnotation: annotation,
    annotation: parseRequesterAnnotation(annotation),
  });
}

/** A HIT of a decoded page: the compared fields at once, the rest on demand. */
class WireListedHIT implements ListedHIT {
  readonly hitId: string;
  readonly hitTypeId: string;
  readonly hitStatus: HITStatus;
  readonly assignmentsAvailable: number;
  readonly assignmentsPending: number;
  readonly assignmentsCompleted: number;
  readonly #wire: Wire;
  #info: HITInfo | undefined;

  constructor(wire: Wire) {
    this.#wire = wire;
    this.hitId = str(wire.HITId) ?? '';
    this.hitTypeId = str(wire.HITTypeId) ?? '';
    this.hitStatus = (str(wire.HITStatus) ?? 'Assignable') as HITStatus;
    this.assignmentsAvailable = int(wire.NumberOfAssignmentsAvailable) ?? 0;
    this.assignmentsPending = int(wire.NumberOfAssignmentsPending) ?? 0;
    this.assignmentsCompleted = int(wire.NumberOfAssignmentsCompleted) ?? 0;
  }

  get expiresAtMs(): number | undefined {
    return epochMs(this.#wire.Expiration);
  }

  info(): HITInfo {
    this.#info ??= wireToHITInfo(this.#wire);
    return this.#info;
  }
}

/** A HIT the SDK deserialized (the fallback): converted at once. */
function sdkListedHIT(hit: HIT): ListedHIT {
  const info = toHITInfo(hit);
  return {
    hitId: info.hitId,
    hitTypeId: info.hitTypeId,
    hitStatus: info.hitStatus,
    assignmentsAvailable: info.assignmentsAvailable,
    assignmentsPending: info.assignmentsPending,
    assignmentsCompleted: info.assignmentsCompleted,
    expiresAtMs: info.expiresAtMs,
    info: () => info,
  };
}

/**
 * The HITs of one page of `ListHITs` or `ListReviewableHITs` as the paginator yielded it:
 * decoded by this module, or converted from the SDK's records when the decoder left the page to
 * the SDK.
 */
export function listedHITsOf(page: { readonly HITs?: HIT[] }): ListedHIT[] {
  const decoded = (page as { [LISTED]?: ListedHIT[] })[LISTED];
  return decoded ?? (page.HITs ?? []).map(sdkListedHIT);
}

/** The parts of a listing's body: its HITs, decoded, and the rest of it, as JSON for the SDK. */
export function decodeListingBody(text: string): { hits: ListedHIT[]; rest: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { HITs, ...rest } = body as Record<string, unknown>;
  if (HITs !== undefined && HITs !== null && !Array.isArray(HITs)) return undefined;
  const hits: ListedHIT[] = [];
  for (const h of (HITs ?? []) as unknown[]) {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) return undefined;
    hits.push(new WireListedHIT(h as Wire));
  }
  return { hits, rest: JSON.stringify(rest) };
}

async function readBody(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (typeof body !== 'object' || body === null || !(Symbol.asyncIterator in body)) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>)
    chunks.push(
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return Buffer.concat(chunks);
}

/** Installs the decoder's two middlewares on `client` (see the module comment). */
export function installListingDecoder(client: MTurkClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (!LISTINGS.has(context.commandName ?? '')) return result;
      const response = result.response as { statusCode?: number; body?: unknown };
      if (typeof response.statusCode !== 'number' || response.statusCode < 200 || response.statusCode >= 300)
        return result;
      const bytes = await readBody(response.body);
      if (bytes === undefined) return result;
      const decoded = decodeListingBody(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
      if (decoded === undefined) {
        // Unreadable here: the SDK reads it (and reports what is wrong with it) as it always did.
        response.body = bytes;
        return result;
      }
      decodedOf.set(response, decoded.hits);
      response.body = Buffer.from(decoded.rest, 'utf8');
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'hitstateListingDecoder', override: true },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const hits = decodedOf.get(result.response as object);
      if (hits !== undefined && typeof result.output === 'object' && result.output !== null)
        Object.defineProperty(result.output, LISTED, { value: hits, enumerable: false });
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'hitstateListedHITs', override: true },
  );
}
