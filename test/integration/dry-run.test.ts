/**
 * Dry run walks the live path (issue 21, item 2): with DRY_RUN=true a function reads everything the live run
 * reads (the account, the cluster's candidates), takes its group leases for real in the dry-run ledger (its
 * own keys of the state table, adapters/aws/dynamo-group-leases.ts), plans and guards the same, and only the
 * write port records instead of writing (docs/write-port.md). Here the same spot warning runs live and dry on
 * the same world, and the two call lists are compared, writes aside; then the dry-run ledger is shown to run
 * the guard across dry-run writers and to stay out of a live writer's way.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiBudget, createAwsClients } from '#core/adapters/aws/index.ts';
import { AwsDynamoGroupLeases, DRY_RUN_LEDGER } from '#core/adapters/aws/dynamo-group-leases.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { isWriteOperation } from '../fakes/aws/operations.ts';
import { VPC } from '../fakes/topology.ts';
import { spotHarness, startFakeKube } from './harness.ts';

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
});
