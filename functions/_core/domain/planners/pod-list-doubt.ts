/**
 * The sweeper's doubt about the cluster's pod list: whether an answer from the API server is evidence at
 * all. Pure; the planner sets a doubted list aside and plans on the VPC and EC2 truths alone, and the run
 * reports it like an unreachable API (its error name is {@link IMPLAUSIBLE_POD_LIST}).
 */
import { nodeInstanceOf } from '../endpoint.ts';
import { addressKey } from '../ip.ts';
import { eniOwner, ownsCloudMapInstance } from '../ownership.ts';
import { instanceAddresses } from '../registration.ts';
import { judgedTargets, type SweepObservation } from './sweep-observation.ts';

/** `clusterError.name` of a run whose pod list was not trusted (see {@link doubtPodList}). */
export const IMPLAUSIBLE_POD_LIST = 'ImplausiblePodList';

/**
 * Why the pod list was not believed: no live pod at all while nodes of the cluster run (`no-live-pod`), or
 * most healthy ip targets on running nodes without a pod (`most-healthy-unheld`), with the sentence for
 * operators.
 */
export interface PodListDoubt {
  readonly code: 'no-live-pod' | 'most-healthy-unheld';
  readonly text: string;
}

/**
 * Whether the pod list is evidence at all. An API server that answers 200 with no pods, or with a list that
 * lost most of them (a truncated page, a cache that was just reset, RBAC gone wrong), looks exactly like a
 * cluster whose pods all died, and every registration of a live pod would then be removed on the pod list's
 * word alone. It is not believed, and counts as missing evidence like an unreachable API, when:
 *
 * - it holds no live pod while registered addresses sit on running nodes of this cluster (a running node
 *   always runs pods: at least its aws-node and kube-proxy DaemonSet pods); or
 * - it would leave most healthy ip targets on running nodes of this cluster without a live pod: more of
 *   them have no pod than have one (a healthy target answers its health check: something lives there).
 *
 * "Running node of this cluster": the ENI holding the address is attached to an instance that was looked
 * up, runs, and is this cluster's by its tags or by the CNI's cluster tag on the ENI. Pure; returns why the
 * list is doubted, or undefined when it can be used.
 */
export function doubtPodList(input: Omit<SweepObservation, 'instancesLookedUp'>): PodListDoubt | undefined {
  const pods = input.pods;
  if (!pods) return undefined;
  const nodes = new Set<string>();
  const onRunningNode = (ip: string, vpcId: string | undefined): boolean => {
    if (!input.enis.covers(vpcId)) return false;
    const eni = input.enis.eniOf(ip);
    const nodeId = eni ? nodeInstanceOf(eni) : undefined;
    const instance = nodeId === undefined ? undefined : input.instances.get(nodeId);
    if (!eni || !instance || instance.state !== 'running') return false;
    const ours = eniOwner(eni, input.instances, input.clusterName).kind === 'ours';
    if (ours) nodes.add(instance.instanceId);
    return ours;
  };
  let onNodes = 0;
  let healthyWithPod = 0;
  let healthyWithoutPod = 0;
  for (const { target: t, group } of judgedTargets(input)) {
    if (group.targetType !== 'ip' || t.availabilityZone === 'all') continue;
    const held = (pods.get(addressKey(t.id)) ?? []).length > 0;
    // A pod of the list holds it: a live pod of ours, wherever it runs. Otherwise only our running nodes count.
    if (held) {
      onNodes++;
      if (t.state === 'healthy') healthyWithPod++;
    } else if (onRunningNode(t.id, group.vpcId)) {
      onNodes++;
      if (t.state === 'healthy') healthyWithoutPod++;
    }
  }
  for (const i of input.cloudMap) {
    if (ownsCloudMapInstance(i, input.ownerAttributes) && instanceAddresses(i).some((a) => onRunningNode(a.address, input.clusterVpcId))) onNodes++;
  }
  if (pods.size === 0 && onNodes > 0) {
    return { code: 'no-live-pod', text: `the pod list holds no live pod while ${nodes.size} running node(s) of ${input.clusterName} hold the addresses of ${onNodes} registration(s)` };
  }
  if (healthyWithoutPod > healthyWithPod) {
    return { code: 'most-healthy-unheld', text: `the pod list has no live pod for ${healthyWithoutPod} of the ${healthyWithPod + healthyWithoutPod} healthy ip targets on running nodes of ${input.clusterName}: it looks incomplete` };
  }
  return undefined;
}
