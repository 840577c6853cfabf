/**
 * The fake EventBridge's rules and archives: event patterns matched as EventBridge documents them (arrays of
 * alternatives, nested objects, prefix, anything-but, exists; anything else refused), a rule's log-group
 * target filled with each matching event, an archive keeping what its pattern matches, a delivery to a log
 * group that does not exist counted as failed; and the fake CloudWatch Logs paging FilterLogEvents.
 */
import { describe, expect, it } from 'vitest';
import { FakeAws, FakeLogs, patternMatches } from '../../fakes/aws/index.ts';

describe('event patterns', () => {
  it('match as EventBridge documents them', () => {
    const e = { source: 'quiesce', 'detail-type': 'Deregistration Plan Applied', detail: { trigger: 'sweeper', dryRun: true, n: 3 } };
    expect(patternMatches({ source: ['quiesce'] }, e)).toBe(true);
    expect(patternMatches({ source: ['aws.ec2', 'quiesce'], 'detail-type': ['Deregistration Plan Applied'] }, e)).toBe(true);
    expect(patternMatches({ source: ['quiesce.kubernetes'] }, e)).toBe(false);
    expect(patternMatches({ detail: { trigger: ['sweeper'], dryRun: [true], n: [3] } }, e)).toBe(true);
    expect(patternMatches({ detail: { trigger: [{ prefix: 'sw' }] } }, e)).toBe(true);
    expect(patternMatches({ detail: { trigger: [{ 'anything-but': ['sweeper', 'spot'] }] } }, e)).toBe(false);
    expect(patternMatches({ detail: { missing: [{ exists: false }], trigger: [{ exists: true }] } }, e)).toBe(true);
    expect(() => patternMatches({ detail: { n: [{ numeric: ['>', 1] }] } }, e)).toThrow(/does not model/);
  });
});

describe('rules, archives and log groups', () => {
  it('deliver each matching event once to the rule\'s log group, keep it in the archive, and page it back', () => {
    const aws = new FakeAws();
    aws.events.handle('CreateEventBus', { Name: 'quiesce-prod' });
    aws.logs.seedLogGroup('/aws/events/audit');
    const pattern = JSON.stringify({ source: ['quiesce'] });
    aws.events.handle('PutRule', { Name: 'audit-log', EventBusName: 'quiesce-prod', EventPattern: pattern });
    aws.events.handle('PutTargets', { Rule: 'audit-log', EventBusName: 'quiesce-prod', Targets: [{ Id: 'log', Arn: FakeLogs.arnOf('/aws/events/audit') }] });
    aws.events.handle('PutRule', { Name: 'lost', EventBusName: 'quiesce-prod', EventPattern: pattern });
    aws.events.handle('PutTargets', { Rule: 'lost', EventBusName: 'quiesce-prod', Targets: [{ Id: 'log', Arn: FakeLogs.arnOf('/aws/events/gone') }] });
    aws.events.handle('CreateArchive', { ArchiveName: 'audit', EventSourceArn: 'arn:aws:events:us-east-1:123456789012:event-bus/quiesce-prod', EventPattern: pattern });
    const put = (source: string, n: number) => aws.events.handle('PutEvents', { Entries: [{ Source: source, DetailType: 'X', Detail: JSON.stringify({ n }), EventBusName: 'quiesce-prod' }] });
    for (let n = 0; n < 3; n++) put('quiesce', n);
    put('quiesce.kubernetes', 9);
    expect(aws.logs.events('/aws/events/audit').map((e) => (JSON.parse(e.message) as { detail: { n: number } }).detail.n)).toEqual([0, 1, 2]);
    expect(aws.eventRouting.archived('audit')).toHaveLength(3);
    expect(aws.eventRouting.failedDeliveries).toHaveLength(3);
    expect(aws.events.handle('DescribeArchive', { ArchiveName: 'audit' })).toMatchObject({ EventCount: 3, State: 'ENABLED' });
    const first = aws.logs.handle('FilterLogEvents', { logGroupName: '/aws/events/audit', limit: 2 }) as { events: unknown[]; nextToken?: string };
    expect(first.events).toHaveLength(2);
    const second = aws.logs.handle('FilterLogEvents', { logGroupName: '/aws/events/audit', limit: 2, nextToken: first.nextToken }) as { events: unknown[]; nextToken?: string };
    expect([second.events.length, second.nextToken]).toEqual([1, undefined]);
    expect(() => aws.logs.handle('FilterLogEvents', { logGroupName: '/aws/events/gone' })).toThrow(/does not exist/);
    expect(() => aws.logs.handle('FilterLogEvents', { logGroupName: '/aws/events/audit', filterPattern: '{ $.x = 1 }' })).toThrow(/filter patterns/);
  });
});
