/**
 * The pure half of the cluster-derived candidates (functions/_core/observe/candidates.ts): which target
 * groups a node or a pod is in, from bindings, Services, EndpointSlices and pods as the API server lists them.
 */
import { describe, expect, it } from 'vitest';
import { toKubeEndpointSlice, toKubePod, toKubeService, toKubeTargetGroupBinding } from '#core/adapters/kube/index.ts';
import { candidatesOfNodes, candidatesOfPod, nodeNamesOf, type ClusterView } from '#core/observe/candidates.ts';
import { buildEndpointSlice, buildPod, buildService, buildTargetGroupBinding } from '../../fakes/kube/index.ts';

const NOW = '2026-11-21T12:00:00Z';
const NODE = 'ip-10-0-1-10.ec2.internal';
const tgb = (name: string, arn: string, service: string, targetType: 'ip' | 'instance' = 'ip') =>
  toKubeTargetGroupBinding(buildTargetGroupBinding({ namespace: 'shop', name, targetGroupARN: arn, serviceRef: { name: service, port: 80 }, targetType }, name, NOW));
const svc = (name: string, selector?: Record<string, string>, targetPort: number | string = 8080) =>
  toKubeService(buildService({ namespace: 'shop', name, ...(selector ? { selector } : {}), ports: [{ port: 80, targetPort }] }, name, NOW));
const pod = (name: string, app: string, nodeName = NODE, extra: Parameters<typeof buildPod>[0] extends infer S ? Partial<S> : never = {}) =>
  toKubePod(buildPod({ namespace: 'shop', name, ip: '10.0.1.11', nodeName, labels: { app }, ...extra }, name, NOW));

describe('candidate target groups of a node', () => {
  const view: ClusterView = {
    bindings: [tgb('web', 'arn:web', 'web'), tgb('api', 'arn:api', 'api'), tgb('np', 'arn:nodes', 'np', 'instance'), tgb('manual', 'arn:manual', 'manual')],
    services: [svc('web', { app: 'web' }), svc('api', { app: 'api' }), svc('np', { app: 'web' }), svc('manual')],
    slices: [],
    pods: [pod('web-1', 'web'), pod('api-1', 'api', 'ip-10-0-3-10.ec2.internal'), pod('done', 'manual', NODE, { phase: 'Succeeded' })],
  };

  it('names the groups of Services with a pod on the node, every instance binding, and knows every bound group', () => {
    const c = candidatesOfNodes(view, new Set([NODE]));
    expect([...c.groups.keys()].sort()).toEqual(['arn:nodes', 'arn:web']);
    expect([...c.bound].sort()).toEqual(['arn:api', 'arn:manual', 'arn:nodes', 'arn:web']);
    expect(c.groups.get('arn:web')).toMatch(/pod shop\/web-1 on node ip-10-0-1-10.ec2.internal is selected by Service shop\/web/);
  });

  it('reads EndpointSlices when there are no pods to read', () => {
    const slices = [toKubeEndpointSlice(buildEndpointSlice({ namespace: 'shop', name: 'api-x', serviceName: 'api', endpoints: [{ addresses: ['10.0.1.12'], nodeName: NODE, pod: 'api-2' }] }, 'api-x', NOW))];
    expect([...candidatesOfNodes({ ...view, pods: [], slices }, new Set([NODE])).groups.keys()].sort()).toEqual(['arn:api', 'arn:nodes']);
  });

  it('asks for the node by its private DNS name and its instance id', () => {
    expect(nodeNamesOf({ instanceId: 'i-0a1b2c3d4e5f60001', privateDnsName: NODE })).toEqual([NODE, 'i-0a1b2c3d4e5f60001']);
    expect(nodeNamesOf({ instanceId: 'i-0a1b2c3d4e5f60001' })).toEqual(['i-0a1b2c3d4e5f60001']);
  });
});

describe('candidate target groups of a pod', () => {
  it('names its Services\' ip bindings (not their instance ones)', () => {
    const p = pod('web-1', 'web', NODE, { containerPorts: [{ containerPort: 8443, name: 'https' }] });
    const view: ClusterView = { bindings: [tgb('web', 'arn:web', 'web'), tgb('np', 'arn:nodes', 'np', 'instance')], services: [svc('web', { app: 'web' }, 'https'), svc('np', { app: 'web' })], slices: [], pods: [p] };
    expect([...candidatesOfPod(view, p).groups.keys()]).toEqual(['arn:web']);
  });
});
