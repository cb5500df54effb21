// `hitstate worker` in a child process against a simulator in this process, on a real store:
// block/unblock, qualify/revoke and notify round trips checked on the simulator's own state,
// `show` reading what the store recorded, and bad input (worker id, run, qualification, a long
// list without --yes) refused with an error that names the fix.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { type MTurkGateway, orThrow } from '../../src/mturk/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { openStore } from '../../src/store/index.js';
import { childEnv, labelHitType, localGateway, runCli, tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  gateway: MTurkGateway;
}

const WORKER = 'AWORKERONE1';
const STRANGER = 'ASTRANGER22';

const Worker = suite<Ctx>('cli/worker');

Worker.before.each(async (ctx) => {
  ctx.dir = tempDir();
  ctx.sim = await createSimulator({ seed: 19 });
  const store = await openStore({
    dir: join(ctx.dir.path, '.hitstate'),
    environment: { kind: 'custom', endpoint: ctx.sim.url },
  });
  store.requesters.put({ name: 'local', credentialSource: { kind: 'defaultChain' } });
  store.runs.create({ runId: 'pilot', requesterName: 'local', config: { title: 'Pilot' }, status: 'done' });
  // Two units of WORKER's: 90 s and 30 s of work, one approved, one rejected.
  for (const [i, seconds, decision] of [
    [0, 90, 'approved'],
    [1, 30, 'rejected'],
  ] as const) {
    store.units.create({ unitId: `pilot.u${i}`, runId: 'pilot', index: i, payAmountUsd: '0.10', status: 'completed' });
    store.hits.add({
      hitId: `HIT${i}`,
      runId: 'pilot',
      link: 'http://127.0.0.1:9/hitstate/task',
      assignmentDurationSec: 300,
      expiresAt: Date.now() + 3_600_000,
    });
    const agent = store.agents.create({
      agentId: `pilot.a${i}`,
      unitId: `pilot.u${i}`,
      workerId: WORKER,
      assignmentId: `ASSIGN${i}`,
      hitId: `HIT${i}`,
    });
    store.agents.recordSubmission(agent.id, { label: 'yes' }, agent.createdAt + seconds * 1000);
    store.agents.setReview(agent.id, { decision });
  }
  await store.close();
  ctx.gateway = localGateway(ctx.sim.url);
  // MTurk only lets a requester message a worker whose work it approved or rejected.
  const hitTypeId = await labelHitType(ctx.gateway, '0.10');
  const created = await ctx.gateway.createHITWithHITType({
    hitTypeId,
    runId: 'pilot',
    unitId: 'pilot.u0',
    question: { externalUrl: 'http://127.0.0.1:9/hitstate/task' },
    lifetimeSec: 3600,
  });
  if (created.status !== 'ok') throw new Error(created.message);
  const { assignmentId } = await ctx.sim.workers.accept(WORKER, { hitId: created.value.hit.hitId });
  await ctx.sim.workers.submit(assignmentId, { label: 'yes' });
  orThrow(await ctx.gateway.approveAssignment({ assignmentId }));
});

Worker.after.each(async (ctx) => {
  await ctx.sim.close();
  ctx.dir.remove();
});

function cli(ctx: Ctx, ...args: string[]) {
  return runCli(['worker', ...args, '--store', '.hitstate'], { cwd: ctx.dir.path, env: childEnv() });
}

function account(ctx: Ctx) {
  return ctx.sim.inspect().accounts[LOCAL_CREDENTIALS.accessKeyId]!;
}

Worker('when a worker is blocked then unblocked then the simulator holds the block, then none', async (ctx) => {
  const blocked = await cli(ctx, 'block', WORKER, '--reason', 'copied answers');
  assert.is(blocked.code, 0, blocked.stderr);
  assert.match(blocked.stdout, new RegExp(`hitstate worker block ${WORKER} on http://127\\.0\\.0\\.1:\\d+: ok`));
  assert.equal(
    account(ctx).workerBlocks.map((b) => [b.workerId, b.reason]),
    [[WORKER, 'copied answers']],
  );
  const shown = await cli(ctx, 'show', WORKER);
  assert.is(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /blocks: by local since .* \(copied answers\)/);
  const unblocked = await cli(ctx, 'unblock', WORKER);
  assert.is(unblocked.code, 0, unblocked.stderr);
  assert.match(unblocked.stdout, /: ok\n/);
  assert.equal(account(ctx).workerBlocks, []);
  const again = await cli(ctx, 'show', WORKER);
  assert.match(again.stdout, /blocks: none/);
});

Worker('when show reads the store then units per run, approval rate and time spent are listed', async (ctx) => {
  const shown = await cli(ctx, 'show', WORKER, '--run', 'pilot');
  assert.is(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /approval rate: 50%/);
  assert.match(shown.stdout, /pilot\s+2\s+2\s+1\s+1\s+2m00s\s+\$0\.00/);
  const json = await cli(ctx, 'show', WORKER, '--json');
  const [summary] = JSON.parse(json.stdout) as [{ runs: unknown[]; approvalRate: number }];
  assert.equal(summary.runs, [
    { runId: 'pilot', units: 2, submitted: 2, approved: 1, rejected: 1, secondsWorked: 120, bonusUsd: '0.00' },
  ]);
  assert.is(summary.approvalRate, 0.5);
  const stranger = await cli(ctx, 'show', STRANGER);
  assert.match(stranger.stdout, /never seen by this store/);
  assert.match(stranger.stdout, /no unit in this store/);
});

Worker('when block has no --reason then it is refused naming the flag', async (ctx) => {
  const r = await cli(ctx, 'block', WORKER);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--reason is required \(e\.g\. --reason "copied answers"\)/);
  assert.equal(account(ctx).workerBlocks, []);
});

Worker('when a qualification is granted then revoked then the simulator shows Granted then Revoked', async (ctx) => {
  const granted = await cli(ctx, 'qualify', WORKER, '--qualification', 'trained', '--value', '3');
  assert.is(granted.code, 0, granted.stderr);
  assert.match(granted.stdout, /qualify AWORKERONE1 .*: ok/);
  const [type] = account(ctx).qualificationTypes;
  assert.ok(type !== undefined, 'the qualification type was created');
  const grant = (): { status: string; integerValue?: number } | undefined =>
    account(ctx).qualifications.find(
      (g) => g.workerId === WORKER && g.qualificationTypeId === type!.qualificationTypeId,
    );
  assert.is(grant()?.status, 'Granted');
  assert.is(grant()?.integerValue, 3);
  const shown = await cli(ctx, 'show', WORKER, '--json');
  const [summary] = JSON.parse(shown.stdout) as [
    { qualifications: { operation: string; qualificationTypeId: string }[] },
  ];
  assert.equal(
    summary.qualifications.map((q) => [q.operation, q.qualificationTypeId]),
    [['AssociateQualificationWithWorker', type!.qualificationTypeId]],
  );
  // By id as well as by name.
  const revoked = await cli(ctx, 'revoke', WORKER, '--qualification', type!.qualificationTypeId, '--reason', 'retrain');
  assert.is(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /revoke AWORKERONE1 .*: ok/);
  assert.is(grant()?.status ?? 'Revoked', 'Revoked');
  const twice = await cli(ctx, 'revoke', WORKER, '--qualification', 'trained');
  assert.is(twice.code, 0, twice.stderr);
  assert.match(twice.stdout, /: already done\n/);
});

Worker('when revoke names a qualification the store does not know then the error lists the known ones', async (ctx) => {
  const r = await cli(ctx, 'revoke', WORKER, '--qualification', 'nosuch');
  assert.is(r.code, 1);
  assert.match(r.stderr, /knows no qualification "nosuch" of requester local/);
  assert.match(r.stderr, /grant one first with `hitstate worker qualify/);
  assert.match(r.stderr, /HST_ERR_CLI_UNKNOWN_QUALIFICATION/);
});

Worker(
  'when a worker is notified then the simulator holds the message; a stranger is refused with the reason',
  async (ctx) => {
    const r = await cli(ctx, 'notify', `${WORKER},${STRANGER}`, '--subject', 'Round 2', '--message', 'New HITs are up');
    assert.is(r.code, 1, 'one refusal makes the exit code 1');
    assert.match(r.stdout, new RegExp(`notify ${WORKER} .*: ok\\n`));
    assert.match(
      r.stdout,
      new RegExp(
        `notify ${STRANGER} .*: refused: MTurk did not send the message: .*have not approved or rejected any work`,
      ),
    );
    const { messages } = ctx.sim.inspect().workers[WORKER]!;
    assert.equal(
      messages.map((m) => [m.subject, m.text]),
      [['Round 2', 'New HITs are up']],
    );
  },
);

Worker('when more than 10 workers are blocked without a terminal then --yes is required', async (ctx) => {
  const many = Array.from({ length: 11 }, (_, i) => `AMANY${i}X`).join(',');
  const refused = await cli(ctx, 'block', many, '--reason', 'spam');
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /would act on 11 workers \(more than 10\) and was not confirmed; .* --yes/);
  assert.match(refused.stderr, /HST_ERR_CLI_NOT_CONFIRMED/);
  assert.equal(account(ctx).workerBlocks, []);
  const confirmed = await cli(ctx, 'block', many, '--reason', 'spam', '--yes');
  assert.is(confirmed.code, 0, confirmed.stderr);
  assert.is(account(ctx).workerBlocks.length, 11);
});

Worker('when the worker id, the run or the action is wrong then the error names the fix', async (ctx) => {
  const lower = await cli(ctx, 'block', 'aworkerone1', '--reason', 'x');
  assert.is(lower.code, 1);
  assert.match(
    lower.stderr,
    /"aworkerone1" is not an MTurk worker id: .*"A" followed by 1 to 63 capital letters or digits/,
  );
  assert.match(lower.stderr, /did you mean AWORKERONE1\?/);
  assert.match(lower.stderr, /HST_ERR_CLI_WORKER_ID/);
  const bad = await cli(ctx, 'show', 'W-123');
  assert.match(bad.stderr, /HST_ERR_CLI_WORKER_ID/);
  const run = await cli(ctx, 'show', WORKER, '--run', 'nosuch');
  assert.is(run.code, 1);
  assert.match(run.stderr, /has no run "nosuch"|has a run "nosuch"/);
  assert.match(run.stderr, /HST_ERR_RUN_NOT_FOUND/);
  const bonus = await cli(ctx, 'bonus', WORKER);
  assert.is(bonus.code, 2);
  assert.match(bonus.stderr, /unknown action "bonus".*hitstate review RUN --worker W --bonus/);
});

Worker.run();
