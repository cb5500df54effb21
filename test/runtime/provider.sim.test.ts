// The Mephisto-shaped provider API, every method against the simulator (Mephisto's lesson #17 of
// docs/mephisto-semantics.md#known-bugs-and-lessons:
// contract-test every provider method): requesters, qualifications and their enforcement,
// blocks and their enforcement, bonuses with and without a unit, units, agents, cleanup.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EndpointMTurkProvider, MTurkProvider, SandboxMTurkProvider } from '../../src/runtime/provider/provider.js';
import { createWorld, type World } from '../support/sim-world.js';

const Provider = suite<{ world: World; provider: EndpointMTurkProvider }>('runtime provider');

Provider.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 31 });
  ctx.provider = new EndpointMTurkProvider(ctx.world.runtime);
});

Provider.after.each(async (ctx) => {
  await ctx.provider.close();
  await ctx.world.close();
});

async function launch(world: World, overrides = {}): Promise<string> {
  const { runId } = await world.runtime.launchRun(world.config(overrides));
  await world.drive(
    () => world.runtime.runInfo(runId).status === 'running' || world.runtime.runInfo(runId).counts.launched > 0,
    { label: 'launch' },
  );
  return runId;
}

Provider(
  'when a provider wraps a runtime of another environment then it refuses, and each names its Mephisto type',
  async ({ world, provider }) => {
    assert.throws(
      () => new MTurkProvider(world.runtime),
      (e: { code?: string }) => e.code === 'HST_ERR_CONFIG_INVALID',
    );
    assert.throws(
      () => new SandboxMTurkProvider(world.runtime),
      (e: { code?: string }) => e.code === 'HST_ERR_CONFIG_INVALID',
    );
    assert.equal(
      [MTurkProvider.providerType, SandboxMTurkProvider.providerType, provider.providerType],
      ['mturk', 'mturk_sandbox', 'mturk_endpoint'],
    );
    assert.is(provider.getWrapperJsPath(), '/hitstate/wrapper.js');
    assert.is(provider.getWrapperJsPath('/tasks/'), '/tasks/wrapper.js');
    const err = await EndpointMTurkProvider.create({ requester: world.runtime.options.requester }).then(
      () => null,
      (e: { code?: string }) => e,
    );
    assert.is(err?.code, 'HST_ERR_CONFIG_INVALID', 'an endpoint provider needs its endpoint');
  },
);

Provider(
  'when a requester registers, checks itself, reads its budget and creates a qualification then each answers a result',
  async ({ provider }) => {
    const lab = provider.requester('lab');
    assert.is(await lab.isRegistered(), false);
    const registered = await lab.register({ kind: 'static', accessKeyId: 'AKIDLAB', secretAccessKey: 'x' });
    assert.ok(registered.ok);
    assert.is(await lab.isRegistered(), true);
    const budget = await lab.getAvailableBudget();
    assert.ok(budget.ok && budget.value.availableUsd === '10000.00', JSON.stringify(budget));
    const first = await lab.createQualification('onboarded');
    const again = await lab.createQualification('onboarded');
    assert.ok(first.ok && again.ok);
    assert.is(first.alreadyDone, false);
    assert.is(again.alreadyDone, true);
    assert.is(first.value.qualificationTypeId, again.value.qualificationTypeId);
    const empty = await lab.createQualification('');
    assert.ok(!empty.ok && empty.code === 'HST_ERR_CONFIG_INVALID');
  },
);

Provider(
  'when a run requires a qualification then MTurk keeps out workers without it until it is granted',
  async ({ world, provider }) => {
    const runId = await launch(world, {
      units: 1,
      qualifications: [
        { name: 'trained', comparator: 'Exists' },
        { name: 'live-only', comparator: 'Exists', environments: ['live'] },
      ],
    });
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 1);
    const worker = world.worker();
    const refused = await worker.accept(world.hitTypeId(runId)).then(
      () => null,
      (e: { code?: string }) => e,
    );
    assert.is(refused?.code, 'HST_ERR_SIM_WORKER_NOT_ALLOWED');
    const granted = await provider.worker(worker.workerId).grantQualification('trained');
    assert.ok(granted.ok, JSON.stringify(granted));
    await worker.accept(world.hitTypeId(runId));
    assert.is((await worker.register()).status, 200, 'the live-only requirement does not apply on a custom endpoint');
    const revoked = await provider.worker(worker.workerId).revokeQualification('trained');
    assert.ok(revoked.ok && !revoked.alreadyDone);
    const again = await provider.worker(worker.workerId).revokeQualification('trained');
    assert.ok(again.ok && again.alreadyDone, 'revoking what is not granted is already done');
    const never = await provider.worker(worker.workerId).revokeQualification('never-made');
    assert.ok(never.ok && never.alreadyDone);
  },
);

Provider(
  'when a worker is blocked then MTurk and the task server keep them out, and unblocking lets them in',
  async ({ world, provider }) => {
    const runId = await launch(world, { units: 2 });
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 2);
    const bad = world.worker();
    const w = provider.worker(bad.workerId);
    const blocked = await w.block('copied answers', { requester: 'world' });
    assert.ok(blocked.ok, JSON.stringify(blocked));
    assert.ok(world.runtime.store.workers.isBlocked(bad.workerId, 'world'));
    const check = await w.isBlocked({ requester: 'world' });
    assert.ok(check.ok && check.value.blocked);
    const refused = await bad.accept(world.hitTypeId(runId)).then(
      () => null,
      (e: { code?: string }) => e,
    );
    assert.is(refused?.code, 'HST_ERR_SIM_WORKER_NOT_ALLOWED');
    const unblocked = await w.unblock({ requester: 'world' });
    assert.ok(unblocked.ok);
    assert.not.ok(world.runtime.store.workers.isBlocked(bad.workerId, 'world'));
    await bad.accept(world.hitTypeId(runId));
    // Blocked in hitstate only (e.g. the block on MTurk failed): the task server still refuses the worker.
    const sneaky = world.worker();
    await sneaky.accept(world.hitTypeId(runId));
    world.runtime.store.workers.ensure(sneaky.workerId);
    world.runtime.store.workers.block(sneaky.workerId, 'world', 'spam');
    assert.is((await sneaky.register()).status, 403);
    const unknown = await w.block('x', { requester: 'nobody' });
    assert.ok(!unknown.ok && unknown.code === 'HST_ERR_CONFIG_INVALID', 'the owning requester must be known');
  },
);

Provider(
  'when a bonus is asked for before the work is submitted then it is queued and paid once the work is',
  async ({ world, provider }) => {
    const runId = await launch(world, { units: 1 });
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 1);
    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    await worker.register();
    const early = await world.drive(
      provider.worker(worker.workerId).bonus({ unitId: worker.unitId!, amountUsd: '0.30', reason: 'Fast and careful' }),
    );
    assert.ok(early!.ok && early!.value.via === 'queued', JSON.stringify(early));
    assert.is(world.account().bonusPayments.length, 0);
    await worker.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => world.account().bonusPayments.length === 1, { label: 'queued bonus paid' });
    const again = await world.drive(
      provider.worker(worker.workerId).bonus({ unitId: worker.unitId!, amountUsd: '0.30', reason: 'Fast and careful' }),
    );
    assert.ok(again!.ok && again!.alreadyDone, JSON.stringify(again));
    assert.is(world.account().bonusPayments.length, 1);
  },
);

Provider('when a bonus has no unit then a compensation HIT pays it, once per key', async ({ world, provider }) => {
  const runId = await launch(world, { units: 1 });
  const moved: string[] = [];
  world.runtime.events.on('money.moved', (e) => moved.push(e.kind));
  const w = provider.worker(world.sim.workers.create());
  const missing = await w.bonus({ amountUsd: '1.00', reason: 'Your returned work was good' });
  assert.ok(!missing.ok && missing.code === 'HST_ERR_CONFIG_INVALID', 'a compensation HIT belongs to a run');
  const first = await world.drive(w.bonus({ amountUsd: '1.00', reason: 'Your returned work was good', runId }));
  assert.ok(
    first!.ok && first!.value.via === 'compensationHIT' && first!.value.hitId !== undefined,
    JSON.stringify(first),
  );
  const again = await world.drive(w.bonus({ amountUsd: '1.00', reason: 'Your returned work was good', runId }));
  assert.ok(again!.ok && again!.alreadyDone && again!.value.hitId === first!.value.hitId);
  const compensation = world.account().hits.filter((h) => h.requesterAnnotation?.includes('purpose=compensation'));
  assert.is(compensation.length, 1);
  assert.equal(moved, ['compensation']);
});

Provider(
  'when units and agents are driven through the facade then each reports what its machine did',
  async ({ world, provider }) => {
    const runId = await launch(world, { units: 2, maxConcurrentUnits: 1 });
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 1);
    const unitIds = world.runtime.store.units.ofRun(runId).map((u) => u.id);
    const waiting = provider.unit(unitIds[1]!);
    assert.is(waiting.status(), 'created');
    const launchedUnit = provider.unit(unitIds[0]!);
    const refused = await launchedUnit.expire();
    assert.ok(!refused.ok && refused.code === 'HST_ERR_RUN_STATE', 'a launched unit holds no HIT of its own');
    const launchAgain = await launchedUnit.launch();
    assert.ok(launchAgain.ok && launchAgain.alreadyDone);
    const expired = await waiting.expire();
    assert.ok(expired.ok);
    assert.ok(waiting.isExpired());

    const worker = world.worker();
    await worker.accept(world.hitTypeId(runId));
    await worker.register();
    const unit = provider.unit(worker.unitId!);
    assert.is(unit.status(), 'assigned');
    assert.is(unit.hitId(), worker.hitId);
    assert.is(unit.assignmentId(), worker.assignmentId);
    const agent = provider.agent(worker.agentId!);
    const early = await agent.approve();
    assert.ok(!early.ok && early.code === 'HST_ERR_REVIEW_STATE');
    const notDone = await agent.markDone();
    assert.ok(!notDone.ok && notDone.code === 'HST_ERR_REVIEW_STATE');
    await worker.submitToMTurk({ sentiment: 'neutral', comment: 'via MTurk only' });
    const reconciled = await world.drive(agent.reconcileSubmittedData());
    assert.ok(reconciled!.ok);
    await world.drive(
      () => world.runtime.store.agents.submission(worker.agentId!) !== undefined && agent.status() === 'completed',
      { label: 'reconciled' },
    );
    const noFeedback = await agent.reject('');
    assert.ok(!noFeedback.ok && noFeedback.code === 'HST_ERR_MTURK_FEEDBACK_REQUIRED');
    const rejected = await world.drive(agent.reject('The label does not match the sentence'));
    assert.ok(rejected!.ok && rejected!.value.status === 'rejected', JSON.stringify(rejected));
    const soft = await world.drive(agent.softReject('On second thought, paid'));
    assert.ok(soft!.ok && soft!.value.status === 'soft_rejected', JSON.stringify(soft));
    assert.is(unit.status(), 'soft_rejected');
    const done = await agent.markDone();
    assert.ok(done.ok && done.alreadyDone);
  },
);

Provider(
  'when a run and a qualification are cleaned up then nothing of them is left on MTurk',
  async ({ world, provider }) => {
    const runId = await launch(world, {
      units: 2,
      qualifications: [{ name: 'temp-qual', comparator: 'DoesNotExist' }],
    });
    await world.drive(() => world.runtime.runInfo(runId).counts.launched === 2);
    const setup = await provider.setupResourcesForTaskRun(runId);
    assert.ok(setup.ok && setup.alreadyDone, 'the run set itself up already');
    const report = await world.drive(provider.cleanupResourcesFromTaskRun(runId));
    assert.ok(report!.ok, JSON.stringify(report));
    assert.is(report!.value.disposed.length, 2);
    assert.ok(world.account().hits.every((h) => h.disposed));
    const qual = (await world.drive(provider.cleanupQualification('temp-qual')))!;
    assert.ok(qual.ok && qual.value.qualificationTypeId !== null, JSON.stringify(qual));
    assert.is(world.runtime.store.qualifications.get('world', 'temp-qual'), undefined);
    const again = (await world.drive(provider.cleanupQualification('temp-qual')))!;
    assert.ok(again.ok && again.alreadyDone);
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Provider.run();
