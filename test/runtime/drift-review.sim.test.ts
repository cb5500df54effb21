// The drift report (the store against MTurk: HITs, submissions, bonuses) and the review API's
// targets, refusals and dry run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DriftFoundEvent } from '../../src/runtime/core/events.js';
import { createWorld, type World } from '../support/sim-world.js';

const Drift = suite<{ world: World; runId: string }>('runtime drift and review');

Drift.before.each(async (ctx) => {
  ctx.world = await createWorld({ seed: 61 });
  const { runId } = await ctx.world.runtime.launchRun(ctx.world.config({ units: 3 }));
  await ctx.world.drive(() => ctx.world.runtime.runInfo(runId).counts.launched === 3, { label: 'launch' });
  ctx.runId = runId;
});

Drift.after.each(async (ctx) => {
  await ctx.world.close();
});

Drift(
  'when MTurk has a HIT and a bonus payment the store does not account for then the drift report names both',
  async ({ world, runId }) => {
    const { runtime } = world;
    const w = world.worker();
    await w.accept(world.hitTypeId(runId));
    await w.register();
    await w.submit({ sentiment: 'positive', comment: '' });
    await world.drive(() => runtime.unitStatus(w.unitId!) === 'completed', { label: 'completed' });
    const ours = await world.drive(
      runtime.review(runId, { agentId: w.agentId! }, { kind: 'bonus', amountUsd: '0.10', reason: 'Thanks' }),
    );
    assert.equal(
      ours!.items.map((i) => i.outcome),
      ['done'],
    );
    const gw = runtime.gateway();
    const stray = await world.drive(
      gw.createHITWithHITType({
        hitTypeId: world.hitTypeId(runId).hitTypeId,
        runId,
        unitId: `${runId}.u2`,
        attempt: 99,
        question: { externalUrl: world.taskUrl },
      }),
    );
    assert.is(stray!.status, 'ok');
    const paid = await world.drive(
      gw.sendBonus({
        workerId: w.workerId,
        assignmentId: w.assignmentId!,
        amountUsd: '0.20',
        reason: 'paid by hand',
        runId,
        unitId: w.unitId!,
        key: 'outside',
      }),
    );
    assert.is(paid!.status, 'ok');
    const seen: DriftFoundEvent[] = [];
    runtime.events.on('drift.found', (e) => seen.push(e));
    const report = await world.drive(runtime.checkDrift(runId));
    const kinds = report!.items.map((i) => i.kind).sort();
    assert.equal(kinds, ['bonusDiffers', 'hitMissingInStore']);
    assert.is(report!.incomplete, false);
    assert.equal(seen.map((e) => e.kind).sort(), kinds, 'each difference is also an event');
    assert.is(
      report!.items.find((i) => i.kind === 'hitMissingInStore')!.hitId,
      stray!.status === 'ok' ? stray!.value.hit.hitId : '',
    );
  },
);

Drift(
  'when a review targets agents then each gets its own outcome, a dry run changes nothing, and refusals say why',
  async ({ world, runId }) => {
    const { runtime } = world;
    const done = world.worker();
    await done.accept(world.hitTypeId(runId));
    await done.register();
    await done.submit({ sentiment: 'positive', comment: '' });
    const busy = world.worker();
    await busy.accept(world.hitTypeId(runId));
    await busy.register();
    await world.drive(() => runtime.unitStatus(done.unitId!) === 'completed', { label: 'completed' });

    const dry = await world.drive(runtime.review(runId, { all: true }, { kind: 'approve' }, { dryRun: true }));
    assert.equal(
      dry!.items.map((i) => [i.agentId, i.outcome]),
      [[done.agentId, 'wouldDo']],
    );
    assert.is(runtime.agentStatus(done.agentId!), 'completed', 'a dry run changes nothing');
    assert.is(
      world
        .account()
        .hits.flatMap((h) => h.assignments)
        .filter((a) => a.status === 'Approved').length,
      0,
    );

    const early = await world.drive(runtime.review(runId, { agentId: busy.agentId! }, { kind: 'approve' }));
    assert.equal(
      early!.items.map((i) => [i.outcome, i.code]),
      [['refused', 'HST_ERR_REVIEW_STATE']],
    );
    const dryBonus = await world.drive(
      runtime.review(
        runId,
        { workerId: busy.workerId },
        { kind: 'bonus', amountUsd: '0.10', reason: 'Early bird' },
        { dryRun: true },
      ),
    );
    assert.equal(
      dryBonus!.items.map((i) => i.outcome),
      ['wouldQueue'],
    );

    const rejectWithout = await runtime.review(runId, { unitId: done.unitId! }, { kind: 'reject', feedback: ' ' }).then(
      () => null,
      (e: { code?: string }) => e,
    );
    assert.is(rejectWithout?.code, 'HST_ERR_MTURK_FEEDBACK_REQUIRED');
    const rejected = await world.drive(
      runtime.review(runId, { unitId: done.unitId! }, { kind: 'reject', feedback: 'Wrong label' }),
    );
    assert.equal(
      rejected!.items.map((i) => i.outcome),
      ['done'],
    );
    const cannot = await world.drive(
      runtime.review(runId, { unitId: done.unitId! }, { kind: 'reject', feedback: 'Again' }),
    );
    assert.equal(
      cannot!.items.map((i) => i.outcome),
      ['alreadyDone'],
    );
    const override = await world.drive(
      runtime.review(runId, { unitId: done.unitId! }, { kind: 'approve', feedback: 'We were wrong' }),
    );
    assert.equal(
      override!.items.map((i) => i.outcome),
      ['done'],
      'an approval overrides the rejection',
    );
    assert.is(runtime.unitStatus(done.unitId!), 'accepted');
    const assignment = world
      .account()
      .hits.flatMap((h) => h.assignments)
      .find((a) => a.assignmentId === done.assignmentId);
    assert.is(assignment?.status, 'Approved');
    const unknown = await runtime.review(runId, { agentId: 'NOPE-NOBODY' }, { kind: 'approve' }).then(
      () => null,
      (e: { code?: string }) => e,
    );
    assert.is(unknown?.code, 'HST_ERR_AGENT_NOT_FOUND');
    assert.equal(
      world.errors.map((e) => e.message),
      [],
    );
  },
);

Drift.run();
