/**
 * The IAM policy simulator (SimulatePrincipalPolicy): does a role's policy allow an action on a resource,
 * without making the call. What `quiesce doctor` and a function's cold start in dry run prove writes with:
 * a dry run that never writes never meets an AccessDenied, so without this a missing grant or a tag IAM's
 * condition does not match shows up during the first real reclaim.
 *
 * The simulator does not read the resource's tags or the request's other keys: the caller passes them as
 * context entries (`aws:ResourceTag/<key>` for each tag), and keys a statement needs but the request lacks
 * come back as `missingContext`. https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
 */
import { SimulatePrincipalPolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { ApiBudget } from './budget.ts';

/** One action on one resource, as the simulator judged it. */
export interface SimulatedDecision {
  readonly action: string;
  readonly resource: string;
  readonly decision: 'allowed' | 'explicitDeny' | 'implicitDeny';
  /** The policies whose statements matched (their ids). */
  readonly matched: readonly string[];
  /** Condition keys a statement needed that the context did not give. */
  readonly missingContext: readonly string[];
}

/** What the preflight asks of IAM. */
export interface PolicySimulatorPort {
  /** Judges each action on each resource for the role's policies, with these context keys (one value each). */
  simulate(roleArn: string, actions: readonly string[], resources: readonly string[], context: Readonly<Record<string, string>>): Promise<SimulatedDecision[]>;
}

/** {@link PolicySimulatorPort} on IAM, every page, through the budget. */
export class AwsPolicySimulator implements PolicySimulatorPort {
  readonly #client: Pick<IAMClient, 'send'>;
  readonly #budget: ApiBudget;

  constructor(client: Pick<IAMClient, 'send'>, budget: ApiBudget) {
    this.#client = client;
    this.#budget = budget;
  }

  async simulate(roleArn: string, actions: readonly string[], resources: readonly string[], context: Readonly<Record<string, string>>): Promise<SimulatedDecision[]> {
    const out: SimulatedDecision[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#budget.call('iam', 'SimulatePrincipalPolicy', () =>
        this.#client.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: roleArn,
            ActionNames: [...actions],
            ...(resources.length > 0 ? { ResourceArns: [...resources] } : {}),
            ContextEntries: Object.entries(context).map(([ContextKeyName, value]) => ({ ContextKeyName, ContextKeyValues: [value], ContextKeyType: 'string' as const })),
            ...(marker ? { Marker: marker } : {}),
          }),
        ),
      );
      for (const r of page.EvaluationResults ?? []) {
        const decision = r.EvalDecision === 'allowed' || r.EvalDecision === 'explicitDeny' ? r.EvalDecision : 'implicitDeny';
        out.push({ action: r.EvalActionName ?? '', resource: r.EvalResourceName ?? '*', decision, matched: (r.MatchedStatements ?? []).map((m) => m.SourcePolicyId ?? '').filter(Boolean), missingContext: r.MissingContextValues ?? [] });
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }
}
