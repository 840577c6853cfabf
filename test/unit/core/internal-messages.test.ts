/** Who may write the spot function's own messages (functions/_core/contracts/internal-messages.ts). */
import { describe, expect, it } from 'vitest';
import { checkInternalSender, internalSendersOf, senderAllowed, type DeliveryOrigin } from '#core/contracts/internal-messages.ts';
import { UntrustedSenderError } from '#core/errors.ts';

const SPOT = 'AROAEXAMPLESPOTROLE01';
const SCHEDULER = 'AROAEXAMPLESCHEDULER1';
const senders = internalSendersOf({ internalSenderIds: [SPOT], scheduledChangeSenderIds: [SCHEDULER] });
const RECHECK = 'Quiesce Re-registration Check';
const DUE = 'Quiesce Scheduled Change Due';
const check = (detailType: string, origin: DeliveryOrigin, viaSns = false) => () => checkInternalSender(detailType, { viaSns, origin, senders });
const sqs = (senderId: string | undefined): DeliveryOrigin => ({ via: 'sqs', senderId });

describe('senderAllowed', () => {
  it('a role id stands for every session of the role, any other id for itself only', () => {
    expect(senderAllowed(`${SPOT}:quiesce-prod-spot-interruption`, [SPOT])).toBe(true);
    expect(senderAllowed(SPOT, [SPOT])).toBe(true);
    expect(senderAllowed(`${SPOT}X:session`, [SPOT])).toBe(false);
    expect(senderAllowed(`X${SPOT}:session`, [SPOT])).toBe(false);
    expect(senderAllowed('AIDAIT2UOQQY3AUEKVGXU', [SPOT])).toBe(false);
    expect(senderAllowed('anything', [])).toBe(false);
  });
});

describe('checkInternalSender', () => {
  it('takes a re-check from the function\'s role only, a due message from it or the Scheduler role', () => {
    expect(check(RECHECK, sqs(`${SPOT}:fn`))).not.toThrow();
    expect(check(RECHECK, sqs(`${SCHEDULER}:scheduler`))).toThrow(UntrustedSenderError);
    expect(check(DUE, sqs(`${SCHEDULER}:scheduler`))).not.toThrow();
    expect(check(DUE, sqs(`${SPOT}:fn`))).not.toThrow();
    expect(check(DUE, sqs('AROAEXAMPLEADMINROLE1:alice'))).toThrow(/not one of INTERNAL_SENDER_IDS or SCHEDULED_CHANGE_SENDER_IDS/);
  });

  it('refuses them inside SNS, by direct invocation, or without a SenderId; the CLI operator is their sender', () => {
    expect(check(RECHECK, sqs(`${SPOT}:fn`), true)).toThrow(/SNS envelope/);
    expect(check(RECHECK, { via: 'invoke' })).toThrow(/direct invocation/);
    expect(check(RECHECK, sqs(undefined))).toThrow(/no SenderId/);
    expect(check(RECHECK, { via: 'operator' })).not.toThrow();
    expect(check(RECHECK, { via: 'operator' }, true)).toThrow(/SNS envelope/);
  });

  it('lets every other detail-type through (their senders are the queue policy\'s business)', () => {
    expect(check('EC2 Spot Instance Interruption Warning', sqs('AIDAIT2UOQQY3AUEKVGXU'), true)).not.toThrow();
    expect(check('EC2 Spot Instance Interruption Warning', { via: 'invoke' })).not.toThrow();
  });

  it('names the field and keeps the SenderId for the audit record', () => {
    try {
      checkInternalSender(RECHECK, { viaSns: false, origin: sqs('AIDAEXAMPLEUSERID0001'), senders });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ name: 'UntrustedSenderError', field: 'attributes.SenderId', senderId: 'AIDAEXAMPLEUSERID0001' });
    }
  });
});
