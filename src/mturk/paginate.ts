/**
 * When to stop paging. Real MTurk put a `NextToken` on every page that has results, the last one
 * included, and ended each listing with an empty page (docs/simulator.md, "Pagination"). Following
 * the token alone, as the SDK paginators do, costs one extra, empty call per listing; a page with
 * fewer results than `MaxResults` asked for is already the last one, so the gateway stops there.
 *
 * @module
 */

/**
 * True when `page` (a List operation's output) is the last one of the listing: it holds fewer
 * results than the `MaxResults` of `input` (the SDK paginators set it on the input they send).
 * Without both numbers it answers false, and the caller follows `NextToken` as usual.
 */
export function isShortPage(page: unknown, input: object): boolean {
  const max = (input as { MaxResults?: unknown }).MaxResults;
  const n = typeof page === 'object' && page !== null ? (page as { NumResults?: unknown }).NumResults : undefined;
  return typeof max === 'number' && typeof n === 'number' && n < max;
}
