import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/aws/core.ts';
import { FakeSqs } from '../../fakes/aws/sqs.ts';
import { awsError } from './helpers.ts';


type Json = Record<string, unknown>;

describe('FakeSqs', () => {
  let clock: FakeClock;
  let sqs: FakeSqs;
  let url: string;
  beforeEach(() => {
    clock = new FakeClock();
    sqs = new FakeSqs(clock);
    url = sqs.seedQueue('recheck');
  });
  const receive = (extra: Json = {}) =>
    ((sqs.handle('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, ...extra }) as Json).Messages ?? []) as Json[];

  it('returns the body MD5 the SDK checks', () => {
    const out = sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'héllo' }) as Json;
    expect(out.MD5OfMessageBody).toBe(createHash('md5').update('héllo').digest('hex'));
    expect(receive()[0]?.MD5OfBody).toBe(out.MD5OfMessageBody);
  });

  it('delivers a delayed message only once its delay elapsed on the clock', () => {
    sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'later', DelaySeconds: 30 });
    expect(receive()).toEqual([]);
    expect(sqs.pending(url).map((m) => [m.Body, m.dueAt - clock.now()])).toEqual([['later', 30_000]]);
    clock.advance(29_999);
    expect(sqs.dueMessages(url)).toEqual([]);
    clock.advance(1);
    expect(receive().map((m) => m.Body)).toEqual(['later']);
  });

  it('DelaySeconds must be 0-900: InvalidParameterValue', () => {
    for (const DelaySeconds of [-1, 901]) {
      expect(awsError(() => sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'x', DelaySeconds })).code).toBe(
        'InvalidParameterValue',
      );
    }
    expect(() => sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'x', DelaySeconds: 900 })).not.toThrow();
  });

  it('MaxNumberOfMessages must be 1-10', () => {
    for (const n of [0, 11]) {
      expect(awsError(() => receive({ MaxNumberOfMessages: n })).code).toBe('InvalidParameterValue');
    }
  });

  it('hides a received message for its visibility timeout and deletes it by the latest receipt handle', () => {
    sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'm' });
    const [first] = receive({ VisibilityTimeout: 10 });
    expect(receive()).toEqual([]);
    clock.advance(10_000);
    const [second] = receive({ AttributeNames: ['ApproximateReceiveCount'] });
    expect((second?.Attributes as Json).ApproximateReceiveCount).toBe('2');
    // The stale handle "succeeds" but deletes nothing.
    sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: first?.ReceiptHandle });
    expect(sqs.pending(url)).toHaveLength(1);
    sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: second?.ReceiptHandle });
    expect(sqs.pending(url)).toEqual([]);
    expect(awsError(() => sqs.handle('DeleteMessage', { QueueUrl: url, ReceiptHandle: 'bogus' })).code).toBe('ReceiptHandleIsInvalid');
  });

  it('dueMessages takes and deletes only visible messages', () => {
    sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'now' });
    sqs.handle('SendMessage', { QueueUrl: url, MessageBody: 'later', DelaySeconds: 5 });
    expect(sqs.dueMessages(url).map((m) => m.Body)).toEqual(['now']);
    expect(sqs.pending(url).map((m) => m.Body)).toEqual(['later']);
  });

  it('batches with per-entry failures', () => {
    const out = sqs.handle('SendMessageBatch', {
      QueueUrl: url,
      Entries: [
        { Id: 'a', MessageBody: 'A' },
        { Id: 'b', MessageBody: 'B', DelaySeconds: 1000 },
      ],
    }) as Json;
    expect((out.Successful as Json[]).map((e) => e.Id)).toEqual(['a']);
    expect((out.Failed as Json[]).map((e) => [e.Id, e.Code])).toEqual([['b', 'InvalidParameterValue']]);
    expect(
      awsError(() => sqs.handle('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] })).code,
    ).toBe('BatchEntryIdsNotDistinct');
  });

  it('queues: GetQueueUrl, QueueDoesNotExist, idempotent CreateQueue', () => {
    expect((sqs.handle('GetQueueUrl', { QueueName: 'recheck' }) as Json).QueueUrl).toBe(url);
    expect(awsError(() => sqs.handle('GetQueueUrl', { QueueName: 'nope' })).code).toBe('QueueDoesNotExist');
    expect(awsError(() => sqs.handle('SendMessage', { QueueUrl: `${url}x`, MessageBody: 'm' })).code).toBe('QueueDoesNotExist');
    expect((sqs.handle('CreateQueue', { QueueName: 'recheck' }) as Json).QueueUrl).toBe(url);
    expect(awsError(() => sqs.handle('CreateQueue', { QueueName: 'recheck', Attributes: { DelaySeconds: '5' } })).code).toBe(
      'QueueNameExists',
    );
    // A queue-level DelaySeconds applies when the message has none.
    const slow = sqs.seedQueue('slow', { DelaySeconds: '60' });
    sqs.handle('SendMessage', { QueueUrl: slow, MessageBody: 'm' });
    expect(sqs.pending(slow)[0]?.dueAt).toBe(clock.now() + 60_000);
  });
});
