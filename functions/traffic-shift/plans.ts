/**
 * Where the traffic-shift function finds its traffic plans. Deployed: one SSM String parameter per ArgoCD
 * app under TRAFFIC_PLANS_PATH (`/quiesce/<stage>/traffic-plans/<app>`, infra/names.yml), each written by
 * whoever owns that app's rule (infra/terraform/modules/traffic-shift), read through a cached
 * {@link ParameterTreePort}. Locally (the CLI, tests): the whole document in TRAFFIC_PLANS or
 * TRAFFIC_PLANS_FILE (config.ts).
 *
 * Why one parameter per app: the environment holds 4 KB in all and one parameter 4 KB (8 KB advanced),
 * about six apps; a path has no such bound (docs/aws-facts.md#parameter-store-sizes-paths-and-pages). A plan that does not parse is that app's
 * problem only: it is reported (logged as an error on every read, and given as the reason its syncs start
 * no shift), and every other app's plan keeps working.
 */
import type { ParameterTreePort } from '#core/ports/parameters.ts';
import type { Logger } from '#core/telemetry.ts';
import { parseTrafficPlans, type TrafficPlanConfig } from './config.ts';

/** The plans as one read found them. */
export interface TrafficPlans {
  /** Valid plans by ArgoCD app. */
  readonly plans: ReadonlyMap<string, TrafficPlanConfig>;
  /** Apps whose plan parameter exists but does not parse, with why. */
  readonly invalid: ReadonlyMap<string, string>;
}

/** Gives the current traffic plans. */
export interface TrafficPlanSource {
  load(): Promise<TrafficPlans>;
}

/** Plans fixed at cold start (TRAFFIC_PLANS, TRAFFIC_PLANS_FILE, or none). */
export function fixedPlans(plans: ReadonlyMap<string, TrafficPlanConfig>): TrafficPlanSource {
  const value: TrafficPlans = { plans, invalid: new Map() };
  return { load: async () => value };
}

/**
 * The plans under `path`: each parameter `<path>/<app>` holds one app's plan, the JSON of one entry of the
 * TRAFFIC_PLANS document (`{"ruleArn": ..., "from": ..., "to": ..., "steps": [...], ...}`).
 */
export function parameterPlans(tree: ParameterTreePort, path: string, logger: Logger): TrafficPlanSource {
  const prefix = `${path.replace(/\/+$/, '')}/`;
  return {
    async load(): Promise<TrafficPlans> {
      const plans = new Map<string, TrafficPlanConfig>();
      const invalid = new Map<string, string>();
      for (const [name, value] of await tree.children(prefix.slice(0, -1))) {
        if (!name.startsWith(prefix)) continue;
        const app = name.slice(prefix.length);
        let doc: unknown;
        try {
          doc = JSON.parse(value) as unknown;
        } catch (err) {
          invalid.set(app, `${name}: not JSON: ${(err as Error).message}`);
          continue;
        }
        try {
          const parsed = parseTrafficPlans(name, JSON.stringify({ apps: { [app]: doc } }));
          for (const [k, v] of parsed) plans.set(k, v);
        } catch (err) {
          invalid.set(app, (err as Error).message);
        }
      }
      for (const [app, reason] of invalid) logger.error('traffic plan not valid: syncs of this app start no shift until it is fixed', { app, reason });
      return { plans, invalid };
    },
  };
}
