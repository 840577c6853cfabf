/**
 * Dry run walks the live path (issue 21, item 2): with DRY_RUN=true a function reads everything the live run
 * reads (the account, the cluster's candidates), takes its group leases for real in the dry-run ledger (its
 * own keys of the state table, adapters/aws/dynamo-group-leases.ts), plans and guards the same, and only the
 * write port records instead of writing (docs/write-port.md). Here the same spot warning runs live and dry on
 * the same world, and the two call lists are compared, writes aside; then the dry-run ledger is shown to run
 * the guard across dry-run writers and to stay out of a live writer's way, and so are the other records by
 * which invocations coordinate (pod-events' claims by pod uid, the shared ELB budget's leases: the write
 * port's `coordination` section).
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoGroupLeases, DRY_RUN_LEDGER } from '#core/adapters/aws/dynamo-group-leases.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { createWritePort } from '#core/adapters/aws/write-port.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { isWriteOperation } from '../fakes/aws/operations.ts';
import { VPC } from '../fakes/topology.ts';
import { podEventsHarness, spotHarness, startFakeKube } from './harness.ts';

const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${t.id}:${t.port} ${t.state}`).sort();
const started = startFakeKube();
const { kube } = started;
beforeEach(() => kube.reset());

/** The spot node's pods and the bindings of their groups: what the cluster-derived candidates read. */
function seedCluster(tg: { web: string; api: string; admin: string; nodes: string }): void {
  fakeAws.eks.seedCluster({ name: 'prod', ...started.address(), vpcId: VPC });
  for (const app of ['web', 'api', 'admin']) kube.addService({ namespace: 'shop', name: app, selector: { app }, ports: [{ port: 80, targetPort: 8080 }] });
  kube.addService({ namespace: 'shop', name: 'web-nodeport', selector: { app: 'web' }, type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  kube.addTargetGroupBinding({ namespace: 'shop', name: 'web', targetGroupARN: tg.web, serviceRef: { name: 'web', port: 80 }, targetType: 'ip' });
  kube.addTargetGroupBinding({ namespace: 'shop', name: 'api', targetGroupARN: tg.api, serviceRef: { name: 'api', port: 80 }, targetType: 'ip' });
  kube.addTargetGroupBinding({ namespace: 'shop', name: 'admin', targetGroupARN: tg.admin, serviceRef: { name: 'admin', port: 80 }, targetType: 'ip' });
  kube.addTargetGroupBinding({ namespace: 'shop', name: 'web-nodeport', targetGroupARN: tg.nodes, serviceRef: { name: 'web-nodeport', port: 80 }, targetType: 'instance' });
  for (const [name, ip, app] of [['web-1', '10.0.1.11', 'web'], ['web-2', '10.0.1.33', 'web'], ['api-1', '10.0.1.12', 'api'], ['admin-1', '10.0.1.34', 'admin']] as const) {
    kube.addPod({ namespace: 'shop', name, ip, nodeName: 'ip-10-0-1-10.ec2.internal', labels: { app } });
  }
}

/** One spot warning through the real handler on a fresh world; its AWS reads, writes and cluster requests. */
async function run(env: Record<string, string>): Promise<{ reads: string[]; writes: string[]; kube: string[]; result: unknown; web: string[] }> {
  fakeAws.reset();
  kube.reset();
  const h = spotHarness(env);
  seedCluster(h.topology.tg);
  fakeAws.calls.clear();
  const result = await h.invoke(sample('spot-interruption-warning'));
  const calls = fakeAws.calls.records.map((r) => ({ name: `${r.service}.${r.operation}`, write: isWriteOperation(r.service, r.operation) }));
  return {
    reads: calls.filter((c) => !c.write).map((c) => c.name).sort(),
    writes: calls.filter((c) => c.write).map((c) => c.name).sort(),
    kube: kube.requests.map((r) => `${r.method} ${r.path}${r.query['fieldSelector'] ? `?${r.query['fieldSelector']}` : ''}`).sort(),
    result,
    web: targetsOf(h.topology.tg.web),
  };
}

describe('dry run walks the live path', () => {
  it('a spot warning in dry run makes the same reads as live, of AWS and of the cluster; only the writes differ', async () => {
    const live = await run({});
    const dry = await run({ DRY_RUN: 'true' });
    expect(live.result).toMatchObject({ status: 'applied' });
    expect(dry.result).toMatchObject({ status: 'dry-run' });
    // The one difference among reads: following a Cloud Map deregistration to its end. Live, Cloud Map is
    // asked where the operations it accepted stand; in a dry run the recording port answers for the
    // operations it recorded (they never reached Cloud Map, so Cloud Map could not be asked).
    const FOLLOW = new Set(['servicediscovery.GetOperation', 'servicediscovery.ListOperations']);
    expect(live.reads.some((r) => FOLLOW.has(r))).toBe(true);
    expect(dry.reads.filter((r) => FOLLOW.has(r))).toEqual([]);
    expect(dry.reads).toEqual(live.reads.filter((r) => !FOLLOW.has(r)));
    // The cluster was read the same way: the candidates' bindings, Services, EndpointSlices and the node's pods.
    expect(dry.kube).toEqual(live.kube);
    expect(dry.kube).toEqual(expect.arrayContaining(['GET /apis/elbv2.k8s.aws/v1beta1/targetgroupbindings', 'GET /apis/discovery.k8s.io/v1/endpointslices']));
    // Writes: live deregistered; the dry run's only writes are its audit record and its leases in its own ledger.
    expect(live.writes).toEqual(expect.arrayContaining(['elasticloadbalancing.DeregisterTargets', 'servicediscovery.DeregisterInstance', 'dynamodb.UpdateItem']));
    expect([...new Set(dry.writes)]).toEqual(['dynamodb.UpdateItem', 'events.PutEvents']);
    expect(live.writes.filter((w) => w === 'dynamodb.UpdateItem')).toHaveLength(dry.writes.filter((w) => w === 'dynamodb.UpdateItem').length);
    expect(live.web).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    expect(dry.web).toEqual(['10.0.1.11:8080 healthy', '10.0.1.33:8080 healthy', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
  });

  it('the dry-run ledger runs the guard among dry-run writers, and never blocks or counts against a live one', async () => {
    fakeAws.dynamodb.seedTable('quiesce-state');
    const { dynamodb } = createAwsClients();
    const live = new AwsDynamoGroupLeases(dynamodb, new ApiBudget(), 'quiesce-state');
    const dryA = new AwsDynamoGroupLeases(dynamodb, new ApiBudget(), 'quiesce-state', DRY_RUN_LEDGER);
    const dryB = new AwsDynamoGroupLeases(dynamodb, new ApiBudget(), 'quiesce-state', DRY_RUN_LEDGER);
    const now = new Date(fakeAws.clock.now());
    // A dry-run writer holds the group: another dry-run writer waits for it, as live writers do among themselves.
    expect(await dryA.acquire('tg-web', 'dry-spot', now, 10_000, 60_000)).toEqual({ entries: [] });
    expect(await dryB.acquire('tg-web', 'dry-sweeper', now, 10_000, 60_000)).toBeUndefined();
    // A live writer takes the same group at the same moment: the dry run's lease is not in its way.
    expect(await live.acquire('tg-web', 'live-spot', now, 10_000, 60_000)).toEqual({ entries: [] });
    // The dry run commits half the group to its ledger; the next dry-run writer sees it, the live one does not.
    expect(await dryA.release('tg-web', 'dry-spot', { entries: [{ key: 'target web 10.0.1.11:8080', at: now.getTime(), by: 'dry-spot' }] }, now, 60_000)).toBe(true);
    expect(await live.release('tg-web', 'live-spot', { entries: [] }, now, 60_000)).toBe(true);
    expect((await dryB.acquire('tg-web', 'dry-sweeper', now, 10_000, 60_000))?.entries.map((e) => e.by)).toEqual(['dry-spot']);
    expect((await live.acquire('tg-web', 'live-sweeper', now, 10_000, 60_000))?.entries).toEqual([]);
    expect(fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S).sort()).toEqual(['dry-run#guard#tg-web', 'guard#tg-web']);
  });

  it('wired for DRY_RUN, a function takes its leases in the dry-run ledger: a dry-run lease left held does not stop a live run, and its commitments do not count against the live one', async () => {
    const dry = spotHarness({ DRY_RUN: 'true', MAX_DEREGISTER_FRACTION: '0.5' });
    seedCluster(dry.topology.tg);
    await dry.invoke(sample('spot-interruption-warning'));
    const keys = (): string[] => fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S).filter((k) => k.includes('guard#'));
    expect(keys().length).toBeGreaterThan(0);
    expect(keys().every((k) => k.startsWith('dry-run#guard#'))).toBe(true);
    // A dry-run writer that died holding web's lease for a minute (a crashed container):
    const now = new Date(fakeAws.clock.now());
    const { dynamodb } = createAwsClients();
    const crashed = new AwsDynamoGroupLeases(dynamodb, new ApiBudget(), 'quiesce-state', DRY_RUN_LEDGER);
    await crashed.release(dry.topology.tg.web, 'ignored', { entries: [] }, now, 60_000);
    expect(await crashed.acquire(dry.topology.tg.web, 'dry-crashed', now, 60_000, 60_000)).toBeDefined();
    const live = spotHarness({ MAX_DEREGISTER_FRACTION: '0.5', COORDINATION_WAIT_SECONDS: '0' }, dry.topology);
    await live.invoke(sample('spot-interruption-warning'));
    // web: 2 of 4 on the node, exactly the fraction: both go, as on a fresh account.
    expect(targetsOf(dry.topology.tg.web)).toEqual(['10.0.1.11:8080 draining', '10.0.1.33:8080 draining', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
    expect(keys().filter((k) => k.startsWith('guard#')).length).toBeGreaterThan(0);
  });

  it('pod-events claims in a deployed dry run are in the dry-run ledger: dry-run copies are ignored among themselves, and neither a live claim nor a dry-run one holds the other back', async () => {
    fakeAws.reset();
    const dry = podEventsHarness(started, { DRY_RUN: 'true' });
    const live = podEventsHarness(started, {}, dry.topology);
    const e = sample('pod-terminating') as Record<string, unknown> & { detail: Record<string, unknown> };
    const event = (id: string): Record<string, unknown> => ({ ...e, id, detail: { ...e.detail, cluster: 'prod', namespace: 'shop', name: 'payments-7d9f-abcde', podIPs: ['10.0.1.12'] } });
    const uid = String(e.detail['uid']);
    const keys = (): string[] => fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S).filter((k) => k.includes('podsignal#')).sort();
    // A live event holds the pod's claim: a dry run is not held back by it.
    const store = new AwsDynamoStateStore(createAwsClients().dynamodb, new ApiBudget(), 'quiesce-state');
    const now = new Date(fakeAws.clock.now());
    expect(await store.putIfAbsent({ key: `podsignal#${uid}#terminating`, owner: 'a-live-event', expiresAt: new Date(now.getTime() + 300_000), data: {} }, now)).toBe(true);
    expect(await dry.invoke(event('dry-1'))).toMatchObject({ status: 'dry-run' });
    // The other replica's copy, in dry run too: ignored, as live copies are among themselves.
    expect(await dry.invoke(event('dry-2'))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/already handled or in hand by event dry-1/) });
    expect(keys()).toEqual([`dry-run#podsignal#${uid}#terminating`, `podsignal#${uid}#terminating`]);
    // The live claim gone, a live copy is not held back by the dry run's claim: it does the work.
    expect(await store.deleteIfOwner(`podsignal#${uid}#terminating`, 'a-live-event')).toBe(true);
    expect(await live.invoke(event('live-1'))).toMatchObject({ status: 'applied' });
    expect(targetsOf(dry.topology.tg.api)).toEqual(['10.0.1.12:9090 draining', '10.0.1.12:9091 draining', '10.0.2.12:9090 healthy', '10.0.3.12:9090 healthy']);
  });

  it("the shared ELB budget's leases: live in the state store's own keys, a deployed dry run's in the dry-run ledger for real, quiesce plan's recorded", async () => {
    fakeAws.dynamodb.seedTable('quiesce-state');
    const clients = createAwsClients();
    const now = new Date(fakeAws.clock.now());
    const lease = { key: 'share#describe', owner: 'v1', expiresAt: new Date(now.getTime() + 60_000), data: { h: [] } };
    const ports = {
      live: createWritePort({ mode: 'live', clients, budget: new ApiBudget() }),
      deployedDryRun: createWritePort({ mode: 'recording', clients, budget: new ApiBudget(), dryRunLedger: true }),
      plan: createWritePort({ mode: 'recording', clients, budget: new ApiBudget() }),
    };
    for (const port of Object.values(ports)) expect(await port.coordination('quiesce-state').putIfAbsent(lease, now)).toBe(true);
    const keys = fakeAws.dynamodb.items('quiesce-state').map((i) => (i as { pk: { S: string } }).pk.S).sort();
    expect(keys).toEqual(['dry-run#share#describe', 'share#describe']);
    // Each reads its own: the dry run never sees the live lease (nor the live run the dry run's).
    expect((await ports.deployedDryRun.coordination('quiesce-state').get('share#describe', now))?.owner).toBe('v1');
    expect(await ports.live.coordination('quiesce-state').replaceIfOwner('share#describe', 'v1', { ...lease, owner: 'v2' }, now)).toBe(true);
    expect((await ports.deployedDryRun.coordination('quiesce-state').get('share#describe', now))?.owner).toBe('v1');
    expect(ports.plan.recorded().map((r) => `${r.operation} ${JSON.stringify((r.request as { Item: { pk: unknown } }).Item.pk)}`)).toEqual(['PutItem {"S":"dry-run#share#describe"}']);
  });
});
