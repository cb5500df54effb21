/**
 * Requesters: named MTurk accounts of the store's environment, with where their credentials come
 * from. Never a secret: only `{ kind: 'defaultChain' }` or `{ kind: 'profile', profile }` is accepted.
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import type { StoreState } from '../store-state.js';
import type { CredentialSource, RequesterRecord } from '../types.js';
import { checkId, checkText } from '../validate.js';

/** What `requesters.put` takes. */
export interface RequesterInput {
  readonly name: string;
  readonly credentialSource: CredentialSource;
}

/** The requesters of the store's environment. */
export interface RequestersCollection {
  /**
   * Creates the requester, or updates its credential source.
   * @throws HST_ERR_STORE_INVALID_RECORD for a bad name, or a credential source that is not exactly
   *   `{ kind: 'defaultChain' }` or `{ kind: 'profile', profile }` (the store refuses anything that could hold a secret).
   */
  put(input: RequesterInput): RequesterRecord;
  get(name: string): RequesterRecord | undefined;
  /** @throws HST_ERR_STORE_NOT_FOUND */
  require(name: string): RequesterRecord;
  list(): readonly RequesterRecord[];
}

function checkCredentialSource(value: unknown): CredentialSource {
  const field = 'credentialSource';
  const keys = typeof value === 'object' && value !== null ? Object.keys(value).sort().join(',') : '';
  const source = value as Partial<{ kind: string; profile: unknown }>;
  if (source?.kind === 'defaultChain' && keys === 'kind') return Object.freeze({ kind: 'defaultChain' });
  if (source?.kind === 'profile' && keys === 'kind,profile')
    return Object.freeze({ kind: 'profile', profile: checkText(source.profile, `${field}.profile`, 256) });
  throw new HitstateError(
    'HST_ERR_STORE_INVALID_RECORD',
    `${field} must be exactly { kind: 'defaultChain' } or { kind: 'profile', profile: 'NAME' }, got keys [${keys}]; the store never keeps AWS keys or other secrets`,
    { field },
  );
}

export function requestersCollection(state: StoreState): RequestersCollection {
  const map = () => state.core.data.requesters;
  const get = (name: string): RequesterRecord | undefined => {
    state.assertOpen();
    return map().get(name);
  };
  return {
    put(input) {
      state.assertWritable();
      const name = checkId(input.name, 'name');
      const credentialSource = checkCredentialSource(input.credentialSource);
      const now = state.clock.now();
      const old = map().get(name);
      const record: RequesterRecord = Object.freeze({
        name,
        credentialSource,
        createdAt: old?.createdAt ?? now,
        updatedAt: now,
      });
      map().set(name, record);
      state.changedRecord('requesters', null, name);
      return record;
    },
    get,
    require(name) {
      const r = get(name);
      if (r === undefined)
        throw new HitstateError(
          'HST_ERR_STORE_NOT_FOUND',
          `no requester "${name}" in this store; add it with requesters.put()`,
          { field: 'requesterName' },
        );
      return r;
    },
    list() {
      state.assertOpen();
      return [...map().values()];
    },
  };
}
