/**
 * The writes a function makes, proven without making them: the IAM policy simulator judges the function's
 * role for each write on the resources in scope, with the context keys IAM's conditions read (each target
 * group's and listener rule's tags, each Auto Scaling group's cluster tag). A dry run never writes, so it
 * never meets an AccessDenied: this is how a denied write shows before the first real reclaim.
 */
import type { PolicySimulatorPort, SimulatedDecision } from '../adapters/aws/policy-simulator.ts';
import type { TargetGroup } from '../domain/registration.ts';
import type { Elbv2Port } from '../ports/index.ts';
import { errorText, fail, pass, skip, type Check, type PreflightFunction } from './checklist.ts';
import type { ClusterAutoScalingGroup } from './auto-scaling-groups.ts';
import type { ReadsFound } from './reads.ts';
import { NEEDS, type PreflightTarget, type PreflightWrite } from './target.ts';

/** At most this many target groups (and rules) are simulated one by one (each has its own tags). */
export const MAX_SIMULATED = 25;

/** What the write checks use. */
export interface WritesDeps {
  readonly simulator: PolicySimulatorPort;
  /** Listener rules' tags (the traffic shift's ModifyRule condition). */
  readonly elbv2?: Pick<Elbv2Port, 'tagsOf'>;
  /** The cluster's Auto Scaling groups (spot's CompleteLifecycleAction); undefined = not looked for. */
  readonly autoScalingGroups?: () => Promise<ClusterAutoScalingGroup[]>;
}

/** `aws:ResourceTag/<key>` for every tag: what IAM reads of a resource in a condition. */
const tagContext = (tags: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));

const FIXES: Readonly<Record<PreflightWrite, string>> = {
  'elasticloadbalancing:DeregisterTargets': 'tag the group (the target groups line says how), or restore the role\'s DeregisterTargets statements by deploying the stack (infra/serverless/iam.yml)',
  'servicediscovery:DeregisterInstance': 'restore the role\'s DeregisterCloudMapInstancesInThisAccountAndRegion statement by deploying the stack (infra/serverless/iam.yml)',
  'autoscaling:CompleteLifecycleAction': 'tag the Auto Scaling group eks:cluster-name=<cluster> with PropagateAtLaunch (managed node groups carry it), or restore the role\'s CompleteLifecycleActionsOfThisClusterOnly statement by deploying the stack',
  'elasticloadbalancing:ModifyRule': 'a rule the Load Balancer Controller manages (tags ingress.k8s.aws/stack or elbv2.k8s.aws/cluster) is refused on purpose, since the controller reverts the write: shift a rule terraform owns (docs/traffic.md); else restore the role\'s ModifyRule statement by deploying the stack',
};

/** A denied decision, in words. */
function denial(d: SimulatedDecision, name: string): string {
  return `${name}: ${d.decision}${d.missingContext.length > 0 ? ` (no value for ${d.missingContext.join(', ')})` : ''}`;
}

/** Simulates one write on named resources, each with its own context; one line. */
async function simulateEach(fn: PreflightFunction, deps: WritesDeps, role: string, action: PreflightWrite, items: readonly { name: string; arn: string; context: Record<string, string> }[], what: string): Promise<Check> {
  const title = `${action.split(':')[1]} allowed on the ${what} in scope`;
  const id = `write.${action.split(':')[1]}`;
  if (items.length === 0) return skip(fn, id, title, `no ${what} in scope`);
  const checked = items.slice(0, MAX_SIMULATED);
  const denied: string[] = [];
  try {
    for (const item of checked) {
      const [d] = await deps.simulator.simulate(role, [action], [item.arn], item.context);
      if (!d || d.decision !== 'allowed') denied.push(d ? denial(d, item.name) : `${item.name}: no answer`);
    }
  } catch (err) {
    return fail(fn, id, title, `SimulatePrincipalPolicy: ${errorText(err)}`, `the caller needs iam:SimulatePrincipalPolicy on ${role}`);
  }
  const of = `${checked.length}${items.length > checked.length ? ` (of ${items.length})` : ''}`;
  return denied.length === 0 ? pass(fn, id, title, `allowed on ${of} (policy simulator, as ${role})`) : fail(fn, id, title, `denied on ${denied.length} of ${of}: ${denied.join('; ')}`, FIXES[action]);
}

/** Simulates the function's writes on what the reads found in scope. */
export async function checkWrites(fn: PreflightFunction, deps: WritesDeps, target: PreflightTarget, role: string, found: ReadsFound & { readonly groups: readonly TargetGroup[] }): Promise<Check[]> {
  const checks: Check[] = [];
  for (const action of NEEDS[fn].writes) {
    if (action === 'elasticloadbalancing:DeregisterTargets') {
      checks.push(await simulateEach(fn, deps, role, action, found.groups.map((g) => ({ name: g.name, arn: g.arn, context: tagContext(g.tags ?? {}) })), 'target groups'));
    } else if (action === 'servicediscovery:DeregisterInstance') {
      const arn = (id: string): string => `arn:${target.partition}:servicediscovery:${target.region}:${target.accountId}:service/${id}`;
      checks.push(await simulateEach(fn, deps, role, action, found.services.map((s) => ({ name: `${s.namespace}/${s.name}`, arn: arn(s.id), context: {} })), 'Cloud Map services'));
    } else if (action === 'autoscaling:CompleteLifecycleAction') {
      if (!deps.autoScalingGroups) {
        checks.push(skip(fn, 'write.CompleteLifecycleAction', 'CompleteLifecycleAction allowed on the Auto Scaling groups in scope', 'the cluster\'s Auto Scaling groups were not looked for'));
        continue;
      }
      let groups: ClusterAutoScalingGroup[];
      try {
        groups = await deps.autoScalingGroups();
      } catch (err) {
        checks.push(fail(fn, 'write.CompleteLifecycleAction', 'CompleteLifecycleAction allowed on the Auto Scaling groups in scope', `DescribeInstances: ${errorText(err)}`, 'give the role ec2:DescribeInstances on * (infra/serverless/iam.yml)'));
        continue;
      }
      // The simulator judges the ARN pattern of the statement: a group's id is not needed, any id matches.
      const arn = (name: string): string => `arn:${target.partition}:autoscaling:${target.region}:${target.accountId}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${name}`;
      checks.push(await simulateEach(fn, deps, role, action, groups.map((g) => ({ name: g.name, arn: arn(g.name), context: g.clusterTag === undefined ? ({} as Record<string, string>) : { 'autoscaling:ResourceTag/eks:cluster-name': g.clusterTag } })), 'Auto Scaling groups'));
    } else {
      const rules = target.trafficRuleArns ?? [];
      let tags = new Map<string, Record<string, string>>();
      try {
        if (rules.length > 0 && deps.elbv2) tags = await deps.elbv2.tagsOf(rules);
      } catch (err) {
        checks.push(fail(fn, 'write.ModifyRule', 'ModifyRule allowed on the listener rules in scope', `DescribeTags: ${errorText(err)}`, 'give the role elasticloadbalancing:DescribeTags on * (infra/serverless/iam.yml)'));
        continue;
      }
      checks.push(await simulateEach(fn, deps, role, action, rules.map((r) => ({ name: r.split('/').slice(-3).join('/'), arn: r, context: tagContext(tags.get(r) ?? {}) })), 'listener rules (traffic plans)'));
    }
  }
  return checks;
}
