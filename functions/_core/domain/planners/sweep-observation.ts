/**
 * What one sweep observed, in the order it must be read: the registrations first (the owned target groups'
 * targets, the Cloud Map services' instances), then the truths they are judged against (the VPC's ENIs, the
 * cluster's pods, the instances behind them). A registration seen before the truths existed before them, so
 * a pod that is alive shows in the pod list; reading the truths first would let a pod that started mid-run
 * look like a dead registration. Both the pod-list doubt and the planner read this.
 */
import type { PodIndex } from '../cluster-pods.ts';
import type { NodeInstance } from '../endpoint.ts';
import type { EniIndex } from '../eni-index.ts';
import { GONE_OR_GOING, type CloudMapRegistration, type TargetGroup, type TargetRegistration } from '../registration.ts';

/** The registrations and the truths of one sweep (see the module comment for the order they are read in). */
export interface SweepObservation {
  readonly clusterName: string;
  /** Owned target groups (ownership already decided) and every target of each. */
  readonly targetGroups: readonly TargetGroup[];
  readonly targets: readonly TargetRegistration[];
  /** Every instance of the Cloud Map services in scope (owned or not: the census counts them all). */
  readonly cloudMap: readonly CloudMapRegistration[];
  /** Empty = Cloud Map is left alone. */
  readonly ownerAttributes: Readonly<Record<string, string>>;
  /** The cluster's VPC: the one Cloud Map IPs are judged against (undefined = no VPC truth for Cloud Map). */
  readonly clusterVpcId: string | undefined;
  /** Live pods by IP; undefined when the cluster API could not be read (pod evidence unused). */
  readonly pods: PodIndex | undefined;
  readonly enis: EniIndex;
  /** Instances by id: instance targets and the instances behind ENIs of candidates. Missing = does not exist. */
  readonly instances: ReadonlyMap<string, NodeInstance>;
  /** Instance ids that were looked up (so "missing from `instances`" means "does not exist"). */
  readonly instancesLookedUp: ReadonlySet<string>;
}

/** A target the sweep judges, with its (owned) group. */
export interface JudgedTarget {
  readonly target: TargetRegistration;
  readonly group: TargetGroup;
}

/**
 * The targets a sweep judges: every target of an owned group, except one still `initial` (registered moments
 * ago: give its controller time) and one already draining or unused (going anyway). The planner, the
 * pod-list doubt and the instance lookup all judge exactly these.
 */
export function judgedTargets(observation: Pick<SweepObservation, 'targetGroups' | 'targets'>): JudgedTarget[] {
  const groups = new Map(observation.targetGroups.map((g) => [g.arn, g]));
  return observation.targets.flatMap((target) => {
    const group = groups.get(target.targetGroupArn);
    return group && target.state !== 'initial' && !GONE_OR_GOING.has(target.state) ? [{ target, group }] : [];
  });
}
