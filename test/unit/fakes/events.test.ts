import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/aws/core.ts';
import { FakeEventBridge, putEventsEntrySize } from '../../fakes/aws/events.ts';
import { awsError } from './helpers.ts';


type Json = Record<string, unknown>;
const entry = (over: Json = {}): Json => ({
  Source: 'quiesce',
  DetailType: 'Endpoint Drained',
  Detail: JSON.stringify({ ip: '10.0.0.1' }),
  ...over,
});

describe('FakeEventBridge', () => {
  let clock: FakeClock;
  let eb: FakeEventBridge;
  beforeEach(() => {
    clock = new FakeClock();
    eb = new FakeEventBridge(clock);
  });

  it('stores accepted events as the envelope targets receive', () => {
    const out = eb.handle('PutEvents', { Entries: [entry({ Resources: ['arn:x'] })] }) as Json;
    expect(out.FailedEntryCount).toBe(0);
    const [p] = eb.published('default');
    expect(p?.busName).toBe('default');
    expect(p?.event).toMatchObject({
      id: (out.Entries as Json[])[0]?.EventId,
      source: 'quiesce',
      'detail-type': 'Endpoint Drained',
      detail: { ip: '10.0.0.1' },
      resources: ['arn:x'],
      time: '2026-11-21T12:00:00Z',
    });
  });

  it('needs 1-10 entries: ValidationException for the whole call', () => {
    expect(awsError(() => eb.handle('PutEvents', { Entries: [] })).code).toBe('ValidationException');
    const eleven = Array.from({ length: 11 }, () => entry());
    expect(awsError(() => eb.handle('PutEvents', { Entries: eleven })).code).toBe('ValidationException');
    expect(eb.published()).toEqual([]);
    expect((eb.handle('PutEvents', { Entries: eleven.slice(1) }) as Json).FailedEntryCount).toBe(0);
  });

  it('computes the entry size as AWS documents and rejects a request of 256 KB or more', () => {
    expect(putEventsEntrySize({ Time: 1, Source: 'ab', DetailType: 'é', Detail: '{}', Resources: ['xyz'] })).toBe(14 + 2 + 2 + 2 + 3);
    const fixed = putEventsEntrySize(entry({ Detail: '{"a":""}' }));
    const pad = 256 * 1024 - fixed;
    // Exactly 256 KB: rejected; one byte less: accepted.
    const big = (n: number) => entry({ Detail: JSON.stringify({ a: 'x'.repeat(n) }) });
    expect(awsError(() => eb.handle('PutEvents', { Entries: [big(pad)] })).code).toBe('ValidationException');
    expect((eb.handle('PutEvents', { Entries: [big(pad - 1)] }) as Json).FailedEntryCount).toBe(0);
  });

  it('reports per-entry errors for missing fields and bad Detail', () => {
    const out = eb.handle('PutEvents', {
      Entries: [
        entry(),
        entry({ Source: undefined }),
        entry({ DetailType: '' }),
        entry({ Detail: undefined }),
        entry({ Detail: '{not json' }),
        entry({ Detail: '[1,2]' }),
        entry({ Source: 'aws.ec2' }),
      ],
    }) as Json;
    const codes = (out.Entries as Json[]).map((e) => e.ErrorCode ?? 'ok');
    expect(codes).toEqual([
      'ok',
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'NotAuthorizedForSourceException',
    ]);
    expect(out.FailedEntryCount).toBe(6);
    expect(eb.published()).toHaveLength(1);
  });

  it('failNextEntries injects per-entry partial failures', () => {
    eb.failNextEntries(2, 'ThrottlingException');
    const out = eb.handle('PutEvents', { Entries: [entry(), entry(), entry()] }) as Json;
    expect((out.Entries as Json[]).map((e) => e.ErrorCode ?? e.EventId)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      expect.any(String),
    ]);
    expect(out.FailedEntryCount).toBe(2);
    eb.failNextEntries(1);
    const again = eb.handle('PutEvents', { Entries: [entry()] }) as Json;
    expect((again.Entries as Json[])[0]?.ErrorCode).toBe('InternalFailure');
    expect(eb.published()).toHaveLength(1);
  });

  it('accepts and silently drops events for a bus that does not exist (as AWS does)', () => {
    const out = eb.handle('PutEvents', { Entries: [entry({ EventBusName: 'missing' })] }) as Json;
    expect(out.FailedEntryCount).toBe(0);
    expect((out.Entries as Json[])[0]?.EventId).toBeTypeOf('string');
    expect(eb.published()).toEqual([]);
    expect(eb.dropped().map((d) => d.busName)).toEqual(['missing']);
  });

  it('creates and describes buses; events go to the named bus (name or ARN)', () => {
    const { EventBusArn } = eb.handle('CreateEventBus', { Name: 'quiesce' }) as { EventBusArn: string };
    expect(awsError(() => eb.handle('CreateEventBus', { Name: 'quiesce' })).code).toBe('ResourceAlreadyExistsException');
    expect((eb.handle('DescribeEventBus', { Name: EventBusArn }) as Json).Name).toBe('quiesce');
    expect(awsError(() => eb.handle('DescribeEventBus', { Name: 'nope' })).code).toBe('ResourceNotFoundException');
    eb.handle('PutEvents', { Entries: [entry({ EventBusName: EventBusArn }), entry()] });
    expect(eb.published('quiesce')).toHaveLength(1);
    expect(eb.published()).toHaveLength(2);
  });
});
