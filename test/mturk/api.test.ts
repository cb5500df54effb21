// The gateway's public API: its operations as methods and the names the wrapper relies on (the
// export list itself is pinned in test/runtime/package-entry.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as mturk from '../../src/mturk/index.js';

const Api = suite('mturk index');

// The entry's export list is pinned with every other entry's in test/runtime/package-entry.test.ts.

Api('when the submission field name is read then it is the one the task wrapper posts', () => {
  assert.is(mturk.SUBMISSION_FIELD, 'hitstate_submission');
});

Api('when every operation of the gateway is listed then each has an SDK-style camelCase method', () => {
  const methods = Object.getOwnPropertyNames(mturk.MTurkGateway.prototype)
    .filter((m) => m !== 'constructor')
    .sort();
  assert.equal(methods, [
    'approveAssignment',
    'associateQualificationWithWorker',
    'blockWorker',
    'createCompensationHIT',
    'createHITType',
    'createHITWithHITType',
    'deleteHIT',
    'deleteQualificationType',
    'disassociateQualificationFromWorker',
    'expireAndDisposeHIT',
    'expireHIT',
    'findOrCreateQualificationType',
    'findQualificationType',
    'getAccountBalance',
    'getAssignment',
    'getHIT',
    'isWorkerBlocked',
    'listAssignmentsForHIT',
    'listBonusPayments',
    'listHITs',
    'listHITsForHITType',
    'listReviewableHITs',
    'notifyWorkers',
    'paginateAssignmentsForHIT',
    'paginateHITsForHITType',
    'paginateReviewableHITs',
    'rejectAssignment',
    'sendBonus',
    'softRejectAssignment',
    'unblockWorker',
  ]);
});

Api.run();
