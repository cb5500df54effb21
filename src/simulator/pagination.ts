/**
 * Pages of list operations. A `NextToken` stores the key (a sequence number) of the last item
 * returned, so the next page starts right after it even when items were added or removed in
 * between, and costs O(log n + page size).
 *
 * Real MTurk put a `NextToken` on every page that has results, the last one included, and ended
 * a listing with a page of `NumResults: 0` and no token. Client code depends on it: Mephisto's
 * `get_outstanding_hits` reads `NextToken` after every non-empty page (a `KeyError` otherwise),
 * and loops written `while 'NextToken' in result` stop only on the empty page. So we do the same;
 * hitstate's own gateway stops early on a short page (`src/mturk/paginate.ts`).
 *
 * @module
 */
import type { Input } from './validation.js';

const PREFIX = 'hst1.';

/** A short fingerprint of the list and its filters, so a token stays far below the 255-character limit. */
function fingerprint(scope: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < scope.length; i++) h = Math.imul(h ^ scope.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

/** The key after which the requested page starts, or undefined for the first page. */
export function pageStart(input: Input, scope: string): number | undefined {
  const token = input.optionalString('NextToken', { min: 1, max: 255 });
  if (token === undefined) return undefined;
  const m = token.startsWith(PREFIX)
    ? /^(-?\d+)\.(.+)$/.exec(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8'))
    : null;
  if (!m || m[2] !== fingerprint(scope))
    throw input.fail(
      `The NextToken '${token}' is not valid for this request; pass the NextToken of the previous page of the same list, with the same filters.`,
    );
  return Number(m[1]);
}

function tokenFor(key: number, scope: string): string {
  return PREFIX + Buffer.from(`${key}.${fingerprint(scope)}`, 'utf8').toString('base64url');
}

/** One page: the items, and a token whenever the page has items. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * Takes up to `limit` items from an ordered stream of `[key, item]` (already positioned after the
 * page start), keeping those `accept` lets through. A page with items carries the token of its
 * last item, whether or not more follow, as MTurk's did. `scope` binds the token to the list and
 * its filters.
 */
export function takePage<V, T>(
  entries: Iterable<[number, V]>,
  limit: number,
  scope: string,
  map: (v: V) => T,
  accept: (v: V) => boolean = () => true,
): Page<T> {
  const items: T[] = [];
  let lastKey: number | undefined;
  for (const [key, value] of entries) {
    if (!accept(value)) continue;
    items.push(map(value));
    lastKey = key;
    if (items.length === limit) break;
  }
  return lastKey === undefined ? { items } : { items, nextToken: tokenFor(lastKey, scope) };
}

/** The list response members: `NextToken` (on every page with results), `NumResults` and the items under `name`. */
export function pageResponse<T>(name: string, page: Page<T>): Record<string, unknown> {
  return {
    ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
    NumResults: page.items.length,
    [name]: page.items,
  };
}
