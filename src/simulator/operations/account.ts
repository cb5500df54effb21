/**
 * Account-level operations: the balance, notification settings per HIT type, and test events.
 *
 * Notifications cannot be delivered to SQS, SNS or email from a local server; every event is
 * recorded with the destination MTurk would have used, readable at `GET /_sim/notifications`.
 *
 * @module
 */
import { formatCents } from '../money.js';
import { TurkErrorCode } from '../protocol.js';
import { EVENT_TYPES } from '../validation.js';
import { ownHitType, type OperationHandler } from './context.js';

const GetAccountBalance: OperationHandler = (ctx) => ({
  AvailableBalance: formatCents(ctx.engine.availableCents(ctx.account)),
  OnHoldBalance: formatCents(ctx.account.onHoldCents),
});

const UpdateNotificationSettings: OperationHandler = (ctx) => {
  const { input, engine } = ctx;
  const type = ownHitType(ctx);
  const spec = input.has('Notification')
    ? input.notification(input.body.Notification, 'Notification', false)
    : undefined;
  const active = input.optionalBool('Active');
  if (spec === undefined && active === undefined)
    throw input.fail(
      'UpdateNotificationSettings needs Notification, Active, or both.',
      TurkErrorCode.MissingParameters,
    );
  if (spec === undefined && type.notification === undefined) {
    throw input.fail(
      `HIT type ${type.hitTypeId} has no notification specification yet; send Notification along with Active.`,
      TurkErrorCode.InvalidParameterValue,
    );
  }
  if (spec !== undefined) type.notification = spec;
  type.notificationActive = active ?? true;
  engine.changed();
  return {};
};

const SendTestEventNotification: OperationHandler = (ctx) => {
  const { input, engine, account } = ctx;
  if (!input.has('Notification')) throw input.missing('Notification');
  const spec = input.notification(input.body.Notification, 'Notification', true);
  const eventType = input.oneOf('TestEventType', EVENT_TYPES);
  if (eventType === undefined) throw input.missing('TestEventType');
  engine.state.addNotification({
    seq: engine.state.nextSeq(),
    account: account.accessKeyId,
    EventDocId: engine.ids.eventDocId(),
    EventType: eventType,
    EventTimestamp: new Date(ctx.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    destination: { Transport: spec.Transport, Destination: spec.Destination, Version: spec.Version },
    test: true,
  });
  engine.changed();
  return {};
};

export const accountOperations: Record<string, OperationHandler> = {
  GetAccountBalance,
  UpdateNotificationSettings,
  SendTestEventNotification,
};
