/**
 * The `RequesterAnnotation` every hitstate HIT carries, so a cleanup can tell hitstate's HITs
 * (and their run) from anything else on the account.
 *
 * Format: `hitstate:v1:run=<runId>[;unit=<unitId>][;purpose=<purpose>][;store=<storeId>]`, values
 * percent-encoded (`encodeURIComponent`), at most 255 characters (MTurk's limit). Workers never
 * see it. `store` names the datastore that owns the HIT (its stable store id), so a cleanup from
 * another store on the same account never takes it for its own; annotations written before it
 * existed have no `store` and are still read.
 *
 * @module
 */
import { HitstateError } from '../errors.js';

/** MTurk's limit on `RequesterAnnotation`. */
export const MAX_ANNOTATION_LENGTH = 255;
const PREFIX = 'hitstate:v1:';

/** What hitstate records about a HIT in its annotation. */
export interface HitAnnotation {
  readonly runId: string;
  readonly unitId?: string;
  /** Why the HIT exists when it is not a unit's HIT, e.g. `compensation`. */
  readonly purpose?: string;
  /** The id of the store that owns the HIT (`store.storeId`); absent in annotations of older hitstate versions. */
  readonly storeId?: string;
}

/**
 * Builds the annotation for a HIT.
 *
 * @example
 * ```ts
 * buildRequesterAnnotation({ runId: 'r1', unitId: 'u7' }); // "hitstate:v1:run=r1;unit=u7"
 * buildRequesterAnnotation({ runId: 'r1', unitId: 'u7', storeId: 'st-1a2b3c4d5e6f' }); // "...;store=st-1a2b3c4d5e6f"
 * ```
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` when `runId` is empty or the result exceeds 255 characters.
 */
export function buildRequesterAnnotation(annotation: HitAnnotation): string {
  if (annotation.runId.length === 0)
    throw new HitstateError('HST_ERR_CONFIG_INVALID', 'runId must not be empty in a RequesterAnnotation', {
      field: 'runId',
    });
  const fields = [`run=${encodeURIComponent(annotation.runId)}`];
  if (annotation.unitId !== undefined) fields.push(`unit=${encodeURIComponent(annotation.unitId)}`);
  if (annotation.purpose !== undefined) fields.push(`purpose=${encodeURIComponent(annotation.purpose)}`);
  if (annotation.storeId !== undefined) fields.push(`store=${encodeURIComponent(annotation.storeId)}`);
  const text = PREFIX + fields.join(';');
  if (text.length > MAX_ANNOTATION_LENGTH) {
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `RequesterAnnotation would be ${text.length} characters, MTurk allows ${MAX_ANNOTATION_LENGTH}; use shorter run and unit ids`,
      { field: 'runId', runId: annotation.runId },
    );
  }
  return text;
}

/**
 * Reads an annotation written by {@link buildRequesterAnnotation}; anything else (another tool's
 * annotation, a damaged one, none) gives `null`.
 */
export function parseRequesterAnnotation(text: string | undefined | null): HitAnnotation | null {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) return null;
  const values = new Map<string, string>();
  for (const field of text.slice(PREFIX.length).split(';')) {
    const eq = field.indexOf('=');
    if (eq <= 0) return null;
    try {
      values.set(field.slice(0, eq), decodeURIComponent(field.slice(eq + 1)));
    } catch {
      return null;
    }
  }
  const runId = values.get('run');
  if (runId === undefined || runId.length === 0) return null;
  const unitId = values.get('unit');
  const purpose = values.get('purpose');
  const storeId = values.get('store');
  return {
    runId,
    ...(unitId === undefined ? {} : { unitId }),
    ...(purpose === undefined ? {} : { purpose }),
    ...(storeId === undefined || storeId === '' ? {} : { storeId }),
  };
}
