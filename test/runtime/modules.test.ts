// The runtime's pure pieces, without a simulator: the deadline wheel, the event bus, option
// checking, intent tokens, review actions, and commands rebuilt from intents.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { DeadlineWheel } from '../../src/runtime/commands/deadlines.js';
import { RuntimeEventBus } from '../../src/runtime/core/events.js';
import { resolveRuntimeOptions, RUNTIME_DEFAULTS } from '../../src/runtime/core/options.js';
import { intentToken } from '../../src/runtime/money/outbox.js';
import { commandOfIntent } from '../../src/runtime/supervisor/resume.js';
import { checkReviewAction } from '../../src/runtime/money/review.js';
import { reviewToken } from '../../src/runtime/money/review-commands.js';
import type { IntentRecord } from '../../src/store/types.js';

const Deadlines = suite('deadlines');

Deadlines('when deadlines are set then each fires once, in order, at its time', async () => {
  const clock = new VirtualClock(0);
  const fired: Array<[string, number]> = [];
  const wheel = new DeadlineWheel(clock, (keys, at) => fired.push(...keys.map((k): [string, number] => [k, at])));
  wheel.set('b', 2_000);
  wheel.set('a', 1_000);
  wheel.set('c', 2_000);
  await clock.advance(5_000);
  assert.equal(fired, [
    ['a', 1_000],
    ['b', 2_000],
    ['c', 2_000],
  ]);
  assert.is(wheel.size, 0);
});

Deadlines('when a deadline moves or is cleared then only its latest value counts', async () => {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  const wheel = new DeadlineWheel(clock, (keys) => fired.push(...keys));
  wheel.set('u1', 1_000);
  wheel.set('u1', 3_000);
  wheel.set('u2', 2_000);
  wheel.set('u2', undefined);
  await clock.advance(2_500);
  assert.equal(fired, []);
  await clock.advance(1_000);
  assert.equal(fired, ['u1']);
});

Deadlines('when an actor keeps the deadline that just fired then it does not fire again (no busy loop)', async () => {
  const clock = new VirtualClock(0);
  let fires = 0;
  const last = new Map<string, number>([['stuck', 1_000]]);
  const wheel = new DeadlineWheel(clock, (keys) => {
    fires++;
    for (const k of keys) wheel.set(k, last.get(k));
  });
  wheel.set('stuck', 1_000);
  await clock.advance(10_000);
  assert.is(fires, 1);
  last.set('stuck', 12_000);
  wheel.set('stuck', 12_000);
  await clock.advance(5_000);
  assert.is(fires, 2, 'a new deadline fires again');
});

Deadlines('when the wheel stops then no timer is left on the clock', async () => {
  const clock = new VirtualClock(0);
  const wheel = new DeadlineWheel(clock, () => undefined);
  wheel.set('x', 5_000);
  assert.is(clock.pendingTimers, 1);
  wheel.stop();
  assert.is(clock.pendingTimers, 0);
  wheel.set('y', 1_000);
  assert.is(clock.pendingTimers, 0);
});

const Events = suite('events');

Events('when a listener throws or rejects then the others still run and the error goes to the handler', async () => {
  const errors: string[] = [];
  const bus = new RuntimeEventBus((err, event) => errors.push(`${event}: ${(err as Error).message}`));
  const heard: string[] = [];
  bus.on('closing', () => {
    throw new Error('boom');
  });
  bus.on('closing', async () => {
    throw new Error('later');
  });
  bus.on('closing', () => void heard.push('third'));
  assert.is(bus.emit('closing'), true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(heard, ['third']);
  assert.equal(errors, ['closing: boom', 'closing: later']);
  assert.is(new RuntimeEventBus(() => undefined).emit('closed'), false);
});

const Options = suite('options');

Options('when options are missing or wrong then every problem is reported at once', () => {
  const err = (() => {
    try {
      resolveRuntimeOptions({
        environment: { kind: 'moon' } as never,
        requester: { name: '', credentials: { kind: 'keys' } as never },
        pollIntervalMs: { activeMs: -1 },
      });
      return null;
    } catch (e) {
      return e as { code: string; details: { problems: unknown[] } };
    }
  })();
  assert.is(err?.code, 'HST_ERR_CONFIG_INVALID');
  assert.is(err?.details.problems.length, 4);
});

Options('when options are given then defaults fill the rest and requesters are indexed by name', () => {
  const resolved = resolveRuntimeOptions({
    environment: { kind: 'custom', endpoint: 'http://127.0.0.1:8787/' },
    requester: { name: 'lab', credentials: { kind: 'profile', profile: 'lab' } },
    requesters: [{ name: 'other', credentials: { kind: 'defaultChain' } }],
  });
  assert.equal(resolved.environment, { kind: 'custom', endpoint: 'http://127.0.0.1:8787' });
  assert.is(resolved.activePollMs, RUNTIME_DEFAULTS.activePollMs);
  assert.is(resolved.idlePollMs, RUNTIME_DEFAULTS.idlePollMs);
  assert.equal([...resolved.requesters.keys()], ['lab', 'other']);
});

const Tokens = suite('outbox tokens');

Tokens('when a token is derived twice from the same command then it is the same, and fits MTurk and the store', () => {
  const a = intentToken('approve', 'r1/A1-W1/approveAssignment/approve@completed#0');
  assert.is(a, intentToken('approve', 'r1/A1-W1/approveAssignment/approve@completed#0'));
  assert.is.not(a, intentToken('approve', 'r1/A1-W1/approveAssignment/approve@rejected#0'));
  assert.match(a, /^hs-approve-[0-9a-f]{32}$/);
  const bonus = {
    kind: 'sendBonus',
    commandId: 'c',
    runId: 'r1',
    agentId: 'A1-W1',
    unitId: 'r1.u0',
    assignmentId: 'A1',
    workerId: 'W1',
    requestId: 'bonus:k#0',
    amountUsd: '0.10',
    reason: 'x',
  } as const;
  assert.match(reviewToken('r1', bonus), /^hs-bonus-[0-9a-f]{32}$/);
  assert.is.not(
    reviewToken('r1', bonus),
    reviewToken('r1', { ...bonus, assignmentId: 'A2' }),
    'another assignment of the same worker and unit is another bonus',
  );
});

const Review = suite('review actions');

Review('when an action is checked then a rejection needs feedback and a bonus a positive amount and a reason', () => {
  assert.throws(
    () => checkReviewAction({ kind: 'reject', feedback: '' }),
    (e: { code?: string }) => e.code === 'HST_ERR_MTURK_FEEDBACK_REQUIRED',
  );
  assert.throws(
    () => checkReviewAction({ kind: 'bonus', amountUsd: '0.00', reason: 'x' }),
    (e: { code?: string }) => e.code === 'HST_ERR_CONFIG_INVALID',
  );
  assert.throws(
    () => checkReviewAction({ kind: 'bonus', amountUsd: '0.10', reason: ' ' }),
    (e: { code?: string }) => e.code === 'HST_ERR_CONFIG_INVALID',
  );
  assert.throws(
    () => checkReviewAction({ kind: 'pay' } as never),
    (e: { code?: string }) => e.code === 'HST_ERR_CONFIG_INVALID',
  );
  assert.equal(checkReviewAction({ kind: 'bonus', amountUsd: '0.5', reason: 'x' }), {
    kind: 'bonus',
    amountUsd: '0.50',
    reason: 'x',
  });
});

const Resume = suite('resume');

const intent = (over: Partial<IntentRecord>): IntentRecord => ({
  token: 't',
  kind: 'approve',
  state: 'sent',
  runId: 'r1',
  unitId: 'r1.u0',
  agentId: 'A1-W1',
  workerId: 'W1',
  assignmentId: 'A1',
  hitId: null,
  amountUsd: null,
  args: {
    requestId: 'approve@completed#0',
    commandId: 'r1/A1-W1/approveAssignment/approve@completed#0',
    feedback: null,
    overrideRejection: false,
  },
  attempts: 1,
  createdAt: 0,
  sentAt: 0,
  settledAt: null,
  result: null,
  failure: null,
  ...over,
});

Resume('when an intent is left unconfirmed then the command it was made for is rebuilt with the same id', () => {
  assert.equal(commandOfIntent(intent({})), {
    kind: 'approveAssignment',
    commandId: 'r1/A1-W1/approveAssignment/approve@completed#0',
    runId: 'r1',
    agentId: 'A1-W1',
    unitId: 'r1.u0',
    assignmentId: 'A1',
    workerId: 'W1',
    requestId: 'approve@completed#0',
    feedback: null,
    overrideRejection: false,
  });
  assert.equal(commandOfIntent(intent({ kind: 'createHIT', agentId: null, args: { attempt: 2 } })), {
    kind: 'launchHIT',
    commandId: 'r1/r1.u0/launchHIT/2',
    runId: 'r1',
    unitId: 'r1.u0',
    attempt: 2,
  });
  assert.is(
    commandOfIntent(intent({ kind: 'bonus', args: { compensation: true } })),
    undefined,
    'a compensation is not an agent command',
  );
});

Deadlines.run();
Events.run();
Options.run();
Tokens.run();
Review.run();
Resume.run();
