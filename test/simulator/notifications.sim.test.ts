import {
  ApproveAssignmentCommand,
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  DeleteHITCommand,
  NotifyWorkersCommand,
  SendTestEventNotificationCommand,
  UpdateExpirationForHITCommand,
  UpdateNotificationSettingsCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, externalQuestion, getJson, rejection, startSim, typeInput } from './helpers.js';

const Notifications = suite<{ sim: Simulator; mturk: MTurkClient }>(
  'simulator notifications and messages',
  {} as never,
);

Notifications.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Notifications.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

const SQS = 'https://sqs.us-east-1.amazonaws.com/123456789012/mturk-events';

Notifications(
  'when a HIT goes through its life then every event is logged, with the destination of an active specification',
  async ({ sim, mturk }) => {
    const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput({ AssignmentDurationInSeconds: 3600 })));
    await mturk.send(
      new UpdateNotificationSettingsCommand({
        HITTypeId,
        Notification: {
          Destination: SQS,
          Transport: 'SQS',
          Version: '2014-08-15',
          EventTypes: ['AssignmentSubmitted', 'HITReviewable'],
        },
        Active: true,
      }),
    );
    const { HIT } = await mturk.send(
      new CreateHITWithHITTypeCommand({
        HITTypeId,
        LifetimeInSeconds: 600,
        MaxAssignments: 2,
        Question: externalQuestion(),
      }),
    );
    const hitId = HIT!.HITId!;
    const a = await sim.workers.accept('AWORKERONE', { hitId });
    const b = await sim.workers.accept('AWORKERTWO', { hitId });
    await sim.workers.returnAssignment(b.assignmentId);
    const c = await sim.workers.accept('AWORKERTHREE', { hitId });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await sim.advance(600);
    await sim.workers.submit(c.assignmentId, { x: '3' });
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId }));
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: c.assignmentId }));
    await mturk.send(new DeleteHITCommand({ HITId: hitId }));
    const { json } = await getJson(`${sim.url}/_sim/notifications`);
    const events = json.events as {
      EventType: string;
      HITId: string;
      AssignmentId?: string;
      destination: unknown;
      EventTimestamp: string;
    }[];
    assert.equal(
      events.map((e) => e.EventType),
      [
        'HITCreated',
        'AssignmentAccepted',
        'AssignmentAccepted',
        'AssignmentReturned',
        'AssignmentAccepted',
        'AssignmentSubmitted',
        'HITExpired',
        'AssignmentSubmitted',
        'HITReviewable',
        'AssignmentApproved',
        'AssignmentApproved',
        'HITDisposed',
      ],
    );
    assert.ok(events.every((e) => e.HITId === hitId));
    assert.match(events[0]!.EventTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const delivered = events.filter((e) => e.destination !== null).map((e) => e.EventType);
    assert.equal(delivered, ['AssignmentSubmitted', 'AssignmentSubmitted', 'HITReviewable']);
    assert.equal(events[5]!.destination, { Transport: 'SQS', Destination: SQS, Version: '2014-08-15' });
    const page = await getJson(`${sim.url}/_sim/notifications?after=${json.events[9].seq}`);
    assert.equal(
      page.json.events.map((e: { EventType: string }) => e.EventType),
      ['AssignmentApproved', 'HITDisposed'],
    );
    await mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId, Active: false }));
    const { HIT: second } = await mturk.send(
      new CreateHITWithHITTypeCommand({ HITTypeId, LifetimeInSeconds: 600, Question: externalQuestion() }),
    );
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: second!.HITId, ExpireAt: new Date(0) }));
    const after = (await getJson(`${sim.url}/_sim/notifications?after=${json.events[11].seq}`)).json.events;
    assert.equal(
      after.map((e: { EventType: string; destination: unknown }) => [e.EventType, e.destination]),
      [
        ['HITCreated', null],
        ['HITExpired', null],
        ['HITReviewable', null],
      ],
    );
  },
);

Notifications('when notification settings are invalid then they are refused', async ({ mturk }) => {
  const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput()));
  const onlyActive = await rejection(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId, Active: true })));
  assert.match(onlyActive.message, /has no notification specification yet/);
  const ping = await rejection(
    mturk.send(
      new UpdateNotificationSettingsCommand({
        HITTypeId,
        Notification: { Destination: SQS, Transport: 'SQS', Version: '2014-08-15', EventTypes: ['Ping'] },
      }),
    ),
  );
  assert.match(ping.message, /Ping is only valid in SendTestEventNotification/);
  const badQueue = await rejection(
    mturk.send(
      new UpdateNotificationSettingsCommand({
        HITTypeId,
        Notification: {
          Destination: 'not-a-queue',
          Transport: 'SQS',
          Version: '2014-08-15',
          EventTypes: ['HITExpired'],
        },
      }),
    ),
  );
  assert.match(badQueue.message, /must be an SQS queue URL/);
  const noTypes = await rejection(
    mturk.send(
      new UpdateNotificationSettingsCommand({
        HITTypeId,
        Notification: { Destination: SQS, Transport: 'SQS', Version: '2014-08-15', EventTypes: [] },
      }),
    ),
  );
  assert.match(noTypes.message, /Value null at 'notification.eventTypes'/);
  const neither = await rejection(mturk.send(new UpdateNotificationSettingsCommand({ HITTypeId })));
  assert.match(neither.message, /needs Notification, Active, or both/);
});

Notifications('when a test event is sent then it is validated and recorded as a test', async ({ sim, mturk }) => {
  const sns = 'arn:aws:sns:us-east-1:123456789012:mturk';
  await mturk.send(
    new SendTestEventNotificationCommand({
      Notification: { Destination: sns, Transport: 'SNS', Version: '2014-08-15', EventTypes: ['HITExpired'] },
      TestEventType: 'Ping',
    }),
  );
  const events = (await getJson(`${sim.url}/_sim/notifications`)).json.events;
  assert.equal(
    events.map((e: Record<string, unknown>) => [
      e.EventType,
      e.test,
      (e.destination as { Destination: string }).Destination,
      e.HITId,
    ]),
    [['Ping', true, sns, undefined]],
  );
  const bad = await rejection(
    mturk.send(
      new SendTestEventNotificationCommand({
        Notification: { Destination: 'x', Transport: 'SNS', Version: '2014-08-15', EventTypes: ['HITExpired'] },
        TestEventType: 'Ping',
      }),
    ),
  );
  assert.match(bad.message, /SNS topic ARN/);
  const badType = await rejection(
    mturk.send(
      new SendTestEventNotificationCommand({
        Notification: { Destination: sns, Transport: 'SNS', Version: '2014-08-15', EventTypes: ['HITExpired'] },
        TestEventType: 'Nope' as never,
      }),
    ),
  );
  assert.match(badType.message, /at 'testEventType'/);
});

Notifications(
  'when workers are messaged then those with reviewed work get it and others are reported as failures',
  async ({ sim, mturk }) => {
    const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeInput()));
    const { HIT } = await mturk.send(
      new CreateHITWithHITTypeCommand({ HITTypeId, LifetimeInSeconds: 600, Question: externalQuestion() }),
    );
    const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
    await sim.workers.submit(a.assignmentId, { x: '1' });
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a.assignmentId }));
    const out = await mturk.send(
      new NotifyWorkersCommand({
        Subject: 'New tasks',
        MessageText: 'We posted more HITs.',
        WorkerIds: ['AWORKERONE', 'ASTRANGER'],
      }),
    );
    assert.equal(
      out.NotifyWorkersFailureStatuses!.map((f) => [f.WorkerId, f.NotifyWorkersFailureCode]),
      [['ASTRANGER', 'HardFailure']],
    );
    const worker = (await getJson(`${sim.url}/_sim/workers/AWORKERONE`)).json;
    assert.equal(
      worker.messages.map((m: { subject: string; text: string }) => [m.subject, m.text]),
      [['New tasks', 'We posted more HITs.']],
    );
    const long = await rejection(
      mturk.send(new NotifyWorkersCommand({ Subject: 's'.repeat(201), MessageText: 'x', WorkerIds: ['AWORKERONE'] })),
    );
    assert.match(long.message, /at 'subject'.*200/);
    const many = await rejection(
      mturk.send(
        new NotifyWorkersCommand({
          Subject: 's',
          MessageText: 'x',
          WorkerIds: Array.from({ length: 101 }, (_, i) => `AW${i}`),
        }),
      ),
    );
    assert.match(many.message, /at 'workerIds'.*100/);
    const none = await rejection(
      mturk.send(new NotifyWorkersCommand({ Subject: 's', MessageText: 'x', WorkerIds: [] })),
    );
    assert.match(none.message, /Value null at 'workerIds'/);
  },
);

Notifications.run();
