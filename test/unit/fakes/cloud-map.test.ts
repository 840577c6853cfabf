import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/aws/core.ts';
import { FakeCloudMap } from '../../fakes/aws/cloud-map.ts';
import { awsError } from './helpers.ts';


type Json = Record<string, unknown>;

describe('FakeCloudMap', () => {
  let clock: FakeClock;
  let cm: FakeCloudMap;
  let ns: string;
  let svc: string;

  beforeEach(() => {
    clock = new FakeClock();
    cm = new FakeCloudMap(clock);
    ns = cm.seedNamespace('mesh.local');
    svc = cm.seedService(ns, 'orders');
  });

  const register = (instanceId: string, attrs: Record<string, string> = { AWS_INSTANCE_IPV4: '10.0.0.1' }) =>
    (cm.handle('RegisterInstance', { ServiceId: svc, InstanceId: instanceId, Attributes: attrs }) as Json)
      .OperationId as string;
  const status = (id: string) =>
    ((cm.handle('GetOperation', { OperationId: id }) as Json).Operation as Json).Status;
  const listed = () =>
    ((cm.handle('ListInstances', { ServiceId: svc }) as Json).Instances as Json[]).map((i) => i.Id);

  it('registers asynchronously: SUBMITTED -> PENDING -> SUCCESS, listed only on SUCCESS', () => {
    const op = register('10.0.0.1');
    expect(status(op)).toBe('SUBMITTED');
    expect(listed()).toEqual([]);
    clock.advance(1000);
    expect(status(op)).toBe('PENDING');
    expect(listed()).toEqual([]);
    clock.advance(1000);
    expect(status(op)).toBe('SUCCESS');
    expect(listed()).toEqual(['10.0.0.1']);
    expect(cm.instancesOf(svc)).toEqual([{ Id: '10.0.0.1', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } }]);
  });

  it('honours a configured timing', () => {
    cm.timing = { pendingAfterMs: 10, successAfterMs: 50 };
    const op = register('10.0.0.1');
    clock.advance(49);
    expect(status(op)).toBe('PENDING');
    clock.advance(1);
    expect(status(op)).toBe('SUCCESS');
  });

  it('RegisterInstance is an upsert that replaces the attributes', () => {
    cm.seedInstance(svc, '10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1', ver: 'v1' });
    register('10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1', ver: 'v2' });
    clock.advance(2000);
    expect(cm.instancesOf(svc)).toEqual([{ Id: '10.0.0.1', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', ver: 'v2' } }]);
  });

  it('deregisters asynchronously: the instance stays listed until SUCCESS', () => {
    cm.seedInstance(svc, '10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    const op = (cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.1' }) as Json).OperationId as string;
    expect(listed()).toEqual(['10.0.0.1']);
    clock.advance(1999);
    expect(listed()).toEqual(['10.0.0.1']);
    clock.advance(1);
    expect(status(op)).toBe('SUCCESS');
    expect(listed()).toEqual([]);
    expect(cm.operations().map((o) => [o.Type, o.Status])).toEqual([['DEREGISTER_INSTANCE', 'SUCCESS']]);
  });

  it('DeregisterInstance while an operation for the instance is in flight: DuplicateRequest (409)', () => {
    cm.seedInstance(svc, '10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.1' });
    const err = awsError(() => cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.1' }));
    expect([err.code, err.status]).toEqual(['DuplicateRequest', 409]);
    // A re-registration in flight also blocks it.
    cm.seedInstance(svc, '10.0.0.2', { AWS_INSTANCE_IPV4: '10.0.0.2' });
    register('10.0.0.2');
    expect(awsError(() => cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.2' })).code).toBe('DuplicateRequest');
    // Once settled, the deregistration goes through.
    clock.advance(2000);
    expect(cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.2' })).toHaveProperty('OperationId');
  });

  it('RegisterInstance while another request for the instance is in flight: DuplicateRequest, unless a retry', () => {
    const first = cm.handle('RegisterInstance', {
      ServiceId: svc,
      InstanceId: 'i1',
      Attributes: { AWS_INSTANCE_IPV4: '10.0.0.9' },
      CreatorRequestId: 'req-1',
    }) as Json;
    const retry = cm.handle('RegisterInstance', {
      ServiceId: svc,
      InstanceId: 'i1',
      Attributes: { AWS_INSTANCE_IPV4: '10.0.0.9' },
      CreatorRequestId: 'req-1',
    }) as Json;
    expect(retry.OperationId).toBe(first.OperationId);
    expect(awsError(() => register('i1')).code).toBe('DuplicateRequest');
  });

  it('DeregisterInstance of an unknown or not yet propagated instance: InstanceNotFound (404)', () => {
    const err = awsError(() => cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: 'nope' }));
    expect([err.code, err.status]).toEqual(['InstanceNotFound', 404]);
    register('10.0.0.7');
    clock.advance(1500);
    expect(awsError(() => cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.7' })).code).toBe('InstanceNotFound');
    clock.advance(500);
    expect(cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.7' })).toHaveProperty('OperationId');
  });

  it('unknown service: ServiceNotFound; unknown operation: OperationNotFound', () => {
    expect(awsError(() => cm.handle('DeregisterInstance', { ServiceId: 'srv-x', InstanceId: 'a' })).code).toBe('ServiceNotFound');
    expect(awsError(() => cm.handle('ListInstances', { ServiceId: 'srv-x' })).code).toBe('ServiceNotFound');
    expect(awsError(() => cm.handle('GetOperation', { OperationId: 'op-x' })).code).toBe('OperationNotFound');
    expect(awsError(() => cm.handle('GetNamespace', { Id: 'ns-x' })).code).toBe('NamespaceNotFound');
  });

  it('failOperations: the next operations end in FAIL and change nothing', () => {
    cm.seedInstance(svc, '10.0.0.1', { AWS_INSTANCE_IPV4: '10.0.0.1' });
    cm.failOperations(1);
    const failed = (cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.1' }) as Json).OperationId as string;
    clock.advance(2000);
    const op = (cm.handle('GetOperation', { OperationId: failed }) as Json).Operation as Json;
    expect([op.Status, op.ErrorCode]).toEqual(['FAIL', 'INTERNAL_FAILURE']);
    expect(listed()).toEqual(['10.0.0.1']);
    const ok = (cm.handle('DeregisterInstance', { ServiceId: svc, InstanceId: '10.0.0.1' }) as Json).OperationId as string;
    clock.advance(2000);
    expect(status(ok)).toBe('SUCCESS');
    expect(listed()).toEqual([]);
  });

  it('at most 30 custom attributes; reserved ones do not count', () => {
    const attrs: Record<string, string> = { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080' };
    for (let i = 0; i < 30; i++) attrs[`k${i}`] = 'v';
    expect(() => register('a', attrs)).not.toThrow();
    const err = awsError(() => register('b', { ...attrs, k30: 'v' }));
    expect(err.code).toBe('InvalidInput');
  });

  it('1,000 instances per service: ResourceLimitExceeded', () => {
    for (let i = 0; i < 999; i++) cm.seedInstance(svc, `i-${i}`, { AWS_INSTANCE_IPV4: '10.0.0.1' });
    register('i-999');
    expect(awsError(() => register('i-1000')).code).toBe('ResourceLimitExceeded');
    // An upsert of an existing instance is still allowed.
    clock.advance(2000);
    expect(() => register('i-5')).not.toThrow();
  });

  it('MaxResults must be 1-100: InvalidInput', () => {
    for (const MaxResults of [0, 101]) {
      expect(awsError(() => cm.handle('ListServices', { MaxResults })).code).toBe('InvalidInput');
      expect(awsError(() => cm.handle('ListInstances', { ServiceId: svc, MaxResults })).code).toBe('InvalidInput');
    }
    expect(awsError(() => cm.handle('ListNamespaces', { NextToken: 'garbage' })).code).toBe('InvalidInput');
  });

  it('ListServices filtered by NAMESPACE_ID can return an EMPTY page with a NextToken', () => {
    const other = cm.seedNamespace('other.local');
    for (let i = 0; i < 3; i++) cm.seedService(other, `o${i}`);
    const target = cm.seedService(ns, 'late');
    const Filters = [{ Name: 'NAMESPACE_ID', Values: [ns], Condition: 'EQ' }];
    const pages: Json[] = [];
    let NextToken: string | undefined;
    do {
      const p = cm.handle('ListServices', { Filters, MaxResults: 2, ...(NextToken ? { NextToken } : {}) }) as Json;
      pages.push(p);
      NextToken = p.NextToken as string | undefined;
    } while (NextToken);
    // Services in order: orders(ns), o0, o1, o2, late(ns): pages [orders], [], [late].
    expect(pages.map((p) => (p.Services as Json[]).map((s) => s.Name))).toEqual([['orders'], [], ['late']]);
    expect(pages[1]?.NextToken).toBeTypeOf('string');
    expect((pages[2]?.Services as Json[])[0]?.Id).toBe(target);
  });

  it('ListInstances pages with NextToken', () => {
    for (let i = 0; i < 5; i++) cm.seedInstance(svc, `i${i}`, { AWS_INSTANCE_IPV4: `10.0.0.${i}` });
    const p1 = cm.handle('ListInstances', { ServiceId: svc, MaxResults: 3 }) as Json;
    const p2 = cm.handle('ListInstances', { ServiceId: svc, MaxResults: 3, NextToken: p1.NextToken }) as Json;
    expect((p1.Instances as Json[]).map((i) => i.Id)).toEqual(['i0', 'i1', 'i2']);
    expect((p2.Instances as Json[]).map((i) => i.Id)).toEqual(['i3', 'i4']);
    expect(p2.NextToken).toBeUndefined();
  });

  it('creates namespaces and services through the API', () => {
    const opId = (cm.handle('CreateHttpNamespace', { Name: 'api.local' }) as Json).OperationId as string;
    const op = (cm.handle('GetOperation', { OperationId: opId }) as Json).Operation as Json;
    expect([op.Type, op.Status]).toEqual(['CREATE_NAMESPACE', 'SUCCESS']);
    const nsId = (op.Targets as Json).NAMESPACE as string;
    expect(((cm.handle('GetNamespace', { Id: nsId }) as Json).Namespace as Json).Name).toBe('api.local');
    expect(awsError(() => cm.handle('CreateHttpNamespace', { Name: 'api.local' })).code).toBe('NamespaceAlreadyExists');
    cm.handle('CreatePrivateDnsNamespace', { Name: 'dns.local', Vpc: 'vpc-1' });
    const types = ((cm.handle('ListNamespaces', { Filters: [{ Name: 'TYPE', Values: ['DNS_PRIVATE'] }] }) as Json)
      .Namespaces as Json[]).map((n) => n.Name);
    expect(types).toEqual(['dns.local']);
    const created = (cm.handle('CreateService', { Name: 'pay', NamespaceId: nsId }) as Json).Service as Json;
    expect(((cm.handle('GetService', { Id: created.Id }) as Json).Service as Json).Name).toBe('pay');
    expect(awsError(() => cm.handle('CreateService', { Name: 'pay', NamespaceId: nsId })).code).toBe('ServiceAlreadyExists');
    expect(awsError(() => cm.handle('CreateService', { Name: 'x', NamespaceId: 'ns-none' })).code).toBe('NamespaceNotFound');
  });

  it('ListOperations filters by SERVICE_ID and STATUS', () => {
    register('a');
    clock.advance(2000);
    register('b');
    const ops = (f: Json[]) => ((cm.handle('ListOperations', { Filters: f }) as Json).Operations as Json[]).map((o) => o.Status);
    expect(ops([{ Name: 'SERVICE_ID', Values: [svc] }])).toEqual(['SUCCESS', 'SUBMITTED']);
    expect(ops([{ Name: 'STATUS', Values: ['SUBMITTED', 'PENDING'], Condition: 'IN' }])).toEqual(['SUBMITTED']);
  });

  it('reset forgets everything', () => {
    register('a');
    cm.reset();
    expect(cm.operations()).toEqual([]);
    expect(awsError(() => cm.handle('GetService', { Id: svc })).code).toBe('ServiceNotFound');
  });
});
