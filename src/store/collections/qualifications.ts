/**
 * Qualification mappings: a requester's local qualification name resolved to the MTurk
 * QualificationTypeId it owns in this environment. Once known, the id is used; names are never
 * resolved again at launch time (Mephisto's lesson #24, docs/mephisto-semantics.md#known-bugs-and-lessons).
 *
 * @module
 */
import { HitstateError } from '../../errors.js';
import { RecordMap } from '../layout.js';
import { qualificationKey } from '../lowdb/backend.js';
import type { StoreState } from '../store-state.js';
import type { QualificationMapping } from '../types.js';
import { checkId, checkText } from '../validate.js';

/** What `qualifications.put` takes. */
export interface QualificationInput {
  readonly requesterName: string;
  readonly name: string;
  readonly qualificationTypeId: string;
  /** @defaultValue `name` */
  readonly mturkName?: string;
}

/** Qualification mappings, per requester. */
export interface QualificationsCollection {
  /** Records (or replaces) the mapping of a local name. @throws HST_ERR_STORE_NOT_FOUND for an unknown requester */
  put(input: QualificationInput): QualificationMapping;
  get(requesterName: string, name: string): QualificationMapping | undefined;
  ofRequester(requesterName: string): readonly QualificationMapping[];
  /** Returns true when a mapping was removed. */
  delete(requesterName: string, name: string): boolean;
}

export function qualificationsCollection(state: StoreState): QualificationsCollection {
  const all = () => state.core.data.qualifications;
  return {
    put(input) {
      state.assertWritable();
      const requesterName = checkId(input.requesterName, 'requesterName');
      if (!state.core.data.requesters.has(requesterName)) {
        throw new HitstateError(
          'HST_ERR_STORE_NOT_FOUND',
          `no requester "${requesterName}" in this store; qualification types belong to a requester`,
          { field: 'requesterName' },
        );
      }
      const name = checkText(input.name, 'name', 256);
      const old = all().get(requesterName)?.get(name);
      const record: QualificationMapping = Object.freeze({
        requesterName,
        name,
        qualificationTypeId: checkId(input.qualificationTypeId, 'qualificationTypeId'),
        mturkName: checkText(input.mturkName ?? name, 'mturkName', 256),
        createdAt: old?.createdAt ?? state.clock.now(),
      });
      let byName = all().get(requesterName);
      if (byName === undefined) all().set(requesterName, (byName = new RecordMap()));
      byName.set(name, record);
      state.changedRecord('qualifications', null, qualificationKey(requesterName, name));
      return record;
    },
    get(requesterName, name) {
      state.assertOpen();
      return all().get(requesterName)?.get(name);
    },
    ofRequester(requesterName) {
      state.assertOpen();
      return [...(all().get(requesterName)?.values() ?? [])];
    },
    delete(requesterName, name) {
      state.assertWritable();
      const byName = all().get(requesterName);
      if (byName?.delete(name) !== true) return false;
      if (byName.size === 0) all().delete(requesterName);
      state.changedRecord('qualifications', null, qualificationKey(requesterName, name));
      return true;
    },
  };
}
