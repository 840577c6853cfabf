/**
 * Issue 10 through the real handlers: a spot warning on an IPv6 (dual-stack) node and on a node whose pods
 * have branch ENIs (security groups for pods) takes out every registration of its pods and nothing else;
 * pod-events proves an IPv6 pod's identity as Kubernetes allows; the CLI plans the same. The sweeper's cases
 * (IPv6 cluster, another cluster's branch-ENI pods in a shared group) are in sweeper.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, main } from '../../functions/cli/main.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { DUAL_STACK, NODES, PROD_ENV, VPC, type Topology } from '../fakes/topology.ts';
import { podEventsHarness, spotHarness, startFakeKube, writeCalls } from './harness.ts';

const started = startFakeKube();
const raw = (name: string): Record<string, unknown> & { detail: Record<string, unknown> } => JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8'));
const warning = (instanceId: string): Record<string, unknown> => ({ ...raw('spot-interruption-warning'), detail: { 'instance-id': instanceId, 'instance-action': 'terminate' } });
const bracket = (id: string): string => (id.includes(':') ? `[${id}]` : id);
const targetsOf = (arn: string): string[] => fakeAws.elbv2.targets(arn).map((t) => `${bracket(t.id)}:${t.port} ${t.state}`).sort();
const recordsOf = (serviceId: string): string[] => fakeAws.cloudMap.instancesOf(serviceId).map((i) => i.Id).sort();
/** Every group and service of the topology (and any extra), for "and nothing else". */
const world = (t: Topology, extra: Record<string, string> = {}): Record<string, string[]> => ({
  ...Object.fromEntries(Object.entries({ ...t.tg, ...extra }).map(([k, arn]) => [k, targetsOf(arn)])),
  ...Object.fromEntries(Object.entries(t.services).map(([k, id]) => [`cm:${k}`, recordsOf(id)])),
});
const PROD = { 'kubernetes.io/cluster/prod': 'owned', 'eks:cluster-name': 'prod' };
const launchTime = (): Date => new Date(fakeAws.clock.now() - 86_400_000);

describe('a spot warning on an IPv6 node', () => {
  it("deregisters every registration of its pods (out of its /80, in any spelling, Cloud Map AWS_INSTANCE_IPV6) and nothing else", async () => {
    const h = spotHarness();
    const { tg, services } = h.topology;
    // A second IPv6 node keeps one healthy grpc pod, so the guards let both of the warned node's pods go.
    fakeAws.ec2.seedInstance({ instanceId: 'i-0a1b2c3d4e5f60006', vpcId: VPC, tags: PROD, launchTime: launchTime(), enis: [{ privateIps: ['10.0.6.10'], ipv6Prefixes: ['2600:1f18:4e1f:4d06:77::/80'] }] });
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: tg.grpc, Targets: [{ Id: '2600:1f18:4e1f:4d06:77::1' }] });
    fakeAws.elbv2.setTargetHealth(tg.grpc, '2600:1f18:4e1f:4d06:77::1', 50051, 'healthy');
    fakeAws.cloudMap.seedInstance(services.grpc, 'grpc-c', { AWS_INSTANCE_IPV6: '2600:1f18:4e1f:4d06:77::1', ver: 'v1-30' });
    const before = world(h.topology);

    expect(await h.invoke(warning(NODES.dual))).toMatchObject({ status: 'applied', counts: { deregistered: 4, failed: 0 }, heldBack: 0 });
    fakeAws.clock.advance(5_000);
    expect(world(h.topology)).toEqual({
      ...before,
      grpc: [`[${DUAL_STACK.podA}]:50051 draining`, `[${DUAL_STACK.podB.registered}]:50051 draining`, '[2600:1f18:4e1f:4d06:77::1]:50051 healthy'].sort(),
      'cm:grpc': ['grpc-c'],
    });
  });
});

describe('a spot warning on a node whose pods have branch ENIs (security groups for pods)', () => {
  it("finds the pods on branch ENIs of the node's trunk, deregisters them everywhere, and leaves another node's branches alone", async () => {
    const h = spotHarness();
    const sgp = 'i-0a1b2c3d4e5f60005';
    const neighbour = 'i-0a1b2c3d4e5f60007';
    for (const [id, ip] of [[sgp, '10.0.5'], [neighbour, '10.0.7']] as const) {
      fakeAws.ec2.seedInstance({ instanceId: id, vpcId: VPC, tags: PROD, launchTime: launchTime(), enis: [{ privateIps: [`${ip}.10`] }, { privateIps: [`${ip}.20`], interfaceType: 'trunk' }] });
    }
    const trunkOf = (id: string): string => fakeAws.ec2.networkInterfacesOf(id).find((e) => e.InterfaceType === 'trunk')!.NetworkInterfaceId!;
    fakeAws.ec2.seedBranchEni({ trunkEniId: trunkOf(sgp), privateIp: '10.0.5.31', clusterName: 'prod' });
    fakeAws.ec2.seedBranchEni({ trunkEniId: trunkOf(sgp), privateIp: '10.0.5.32', clusterName: 'prod' });
    fakeAws.ec2.seedBranchEni({ trunkEniId: trunkOf(neighbour), privateIp: '10.0.7.31', clusterName: 'prod' });
    const secure = fakeAws.elbv2.seedTargetGroup({
      name: 'k8s-shop-secure', vpcId: VPC, targetType: 'ip', port: 8443, tags: { 'elbv2.k8s.aws/cluster': 'prod' },
      targets: [{ id: '10.0.5.31' }, { id: '10.0.5.32' }, { id: '10.0.7.31' }],
    });
    fakeAws.cloudMap.seedInstance(h.topology.services.payments, '10.0.5.31', { AWS_INSTANCE_IPV4: '10.0.5.31', ver: 'v1-30' });
    const before = world(h.topology, { secure });

    expect(await h.invoke(warning(sgp))).toMatchObject({ status: 'applied', counts: { deregistered: 3, failed: 0 } });
    fakeAws.clock.advance(5_000);
    expect(world(h.topology, { secure })).toEqual({
      ...before,
      secure: ['10.0.5.31:8443 draining', '10.0.5.32:8443 draining', '10.0.7.31:8443 healthy'],
      'cm:payments': before['cm:payments']!.filter((id) => id !== '10.0.5.31'),
    });
    // The attached ENIs, then (the node has a trunk) its branches by the trunk's tag: two calls.
    expect(fakeAws.calls.count('ec2', 'DescribeNetworkInterfaces')).toBe(2);
  });
});

describe('pod-events for IPv6 pods', () => {
  const grpcEvent = (ips: string[], name: string, patch: Record<string, unknown> = {}): Record<string, unknown> => {
    const e = raw('pod-terminating');
    return { ...e, detail: { ...e.detail, cluster: 'prod', namespace: 'shop', name, podIPs: ips, containerPorts: [{ containerPort: 50051, protocol: 'TCP' }], ...patch } };
  };

  it("deregisters an IPv6 pod's target (registered in another spelling) and its AWS_INSTANCE_IPV6 record, asking the cluster in canonical form", async () => {
    started.kube.reset();
    const h = podEventsHarness(started);
    const before = world(h.topology);
    expect(await h.invoke(grpcEvent([DUAL_STACK.podB.address], 'grpc-5f6d-bbbbb'))).toMatchObject({ status: 'applied', counts: { deregistered: 2, failed: 0 } });
    fakeAws.clock.advance(5_000);
    expect(world(h.topology)).toEqual({ ...before, grpc: [`[${DUAL_STACK.podA}]:50051 healthy`, `[${DUAL_STACK.podB.registered}]:50051 draining`].sort(), 'cm:grpc': ['grpc-a'] });
    const asked = started.kube.requests.filter((r) => r.query['fieldSelector']).map((r) => r.query['fieldSelector']);
    expect(asked).toEqual([`status.podIP=${DUAL_STACK.podB.address}`]);
  });

  it('refuses an IPv6 address another live pod holds now, whatever spelling the event used', async () => {
    started.kube.reset();
    started.kube.addPod({ namespace: 'shop', name: 'grpc-new', ip: DUAL_STACK.podB.address, nodeName: 'n' });
    const h = podEventsHarness(started);
    const before = writeCalls();
    expect(await h.invoke(grpcEvent([DUAL_STACK.podB.registered], 'grpc-5f6d-bbbbb'))).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/now belongs to pod shop\/grpc-new/) });
    expect(writeCalls()).toBe(before);
  });

  it("a gone dual-stack pod: its primary address is proven free, its second one (no field selector finds it) waits on the event's age", async () => {
    started.kube.reset();
    const h = podEventsHarness(started);
    const second = '2600:1f18:4e1f:4d04:c3a5::3';
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.web, Targets: [{ Id: '10.0.4.20' }] });
    fakeAws.elbv2.handle('RegisterTargets', { TargetGroupArn: h.topology.tg.grpc, Targets: [{ Id: second }] });
    fakeAws.elbv2.setTargetHealth(h.topology.tg.web, '10.0.4.20', 8080, 'healthy');
    fakeAws.elbv2.setTargetHealth(h.topology.tg.grpc, second, 50051, 'healthy');
    const observedAt = new Date(fakeAws.clock.now() - 30_000).toISOString();
    expect(await h.invoke(grpcEvent(['10.0.4.20', second], 'dual-1', { observedAt }))).toMatchObject({ status: 'applied', counts: { deregistered: 1 } });
    expect(targetsOf(h.topology.tg.web)).toContain('10.0.4.20:8080 draining');
    expect(targetsOf(h.topology.tg.grpc)).toContain(`[${second}]:50051 healthy`);
    const audit = fakeAws.events.published('quiesce-audit').map((p) => p.event.detail as { warnings: string[] });
    expect(audit[0]?.warnings.join('\n')).toMatch(/not deregistered: cluster API unavailable \(no field selector finds a pod by its second address/);
  });
});

describe('quiesce plan on the dual-stack node', () => {
  it('plans its IPv6 targets and records as the spot trigger would, bracketed with their ports', async () => {
    const h = spotHarness();
    const out: string[] = [];
    const io = {
      stdout: { write: (t: string) => void out.push(t) },
      stderr: { write: () => undefined },
      env: { ...PROD_ENV, RECHECK_QUEUE_URL: h.topology.recheckQueueUrl, AWS_REGION: 'us-east-1' },
      interactive: false,
      confirm: async () => false,
      now: () => new Date(fakeAws.clock.now()),
      sleep: (ms: number) => fakeAws.clock.sleep(ms),
    };
    const path = join(mkdtempSync(join(tmpdir(), 'quiesce-addr-')), 'dual.json');
    writeFileSync(path, JSON.stringify(warning(NODES.dual)));
    expect(await main(['plan', path], io)).toBe(ExitCode.ok);
    expect(out.join('')).toMatch(new RegExp(`target\\s+k8s-shop-grpc\\s+\\[${DUAL_STACK.podA.replaceAll('.', '\\.')}\\]:50051\\s+healthy`));
    expect(out.join('')).toMatch(/min-healthy\s+cloudmap grpc grpc-b/);
    expect(writeCalls()).toBe(0);
  });
});

describe('one opt-in rule (quiesce.io/deregister-by)', () => {
  it("with the deployed tag selector, a group opted in for prod is in the spot and pod-events scope; one opted in for prod2 is not", async () => {
    started.kube.reset();
    const env = { TARGET_GROUP_TAG_SELECTOR: 'elbv2.k8s.aws/cluster=prod' };
    const pods = podEventsHarness(started, env);
    const group = (name: string, optIn: string): string =>
      fakeAws.elbv2.seedTargetGroup({ name, vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': 'blue', 'quiesce.io/deregister-by': optIn }, targets: ['10.0.1.11', '10.0.1.12', '10.0.2.11', '10.0.3.11'].map((id) => ({ id })) });
    const green = group('k8s-bg-green', ':blue:prod:');
    const other = group('k8s-bg-other', ':blue:prod2:');
    const e = raw('pod-terminating');
    await pods.invoke({ ...e, detail: { ...e.detail, cluster: 'prod', namespace: 'shop', name: 'web-2', podIPs: ['10.0.2.11'] } });
    await spotHarness(env, pods.topology).invoke(warning(NODES.spot));
    expect(targetsOf(green)).toEqual(['10.0.1.11:8080 draining', '10.0.1.12:8080 draining', '10.0.2.11:8080 draining', '10.0.3.11:8080 healthy']);
    expect(targetsOf(other)).toEqual(['10.0.1.11:8080 healthy', '10.0.1.12:8080 healthy', '10.0.2.11:8080 healthy', '10.0.3.11:8080 healthy']);
  });
});
