/**
 * Configuration of the traffic shift and the weighted-rule failover: the environment, parsed once into a
 * typed object (a `ConfigError` names the variable), plus the traffic plans.
 *
 * Why traffic plans are configuration (one plan per ArgoCD app: deployed, one SSM parameter each under
 * TRAFFIC_PLANS_PATH, plans.ts; locally the whole document in TRAFFIC_PLANS or TRAFFIC_PLANS_FILE) and not
 * tags on the rule: the rule, its target groups and the plan are created by the same terraform, which
 * knows every ARN, so the plan is reviewed in the same pull request that creates the rule and is validated
 * here (a typo is reported loudly, not found by a shift at 3 am). Tags would be editable by anyone with
 * elasticloadbalancing:AddTags outside review, hold at most 256 characters per value, need a DescribeTags
 * scan of every listener to map an ArgoCD app to its rule, and could not be validated before the first shift.
 */
import { readFileSync } from 'node:fs';
import { bool, integer, parseRateLimits, text, type Env, type RateLimitSetting } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { APP_NAME } from '#core/contracts/traffic.ts';
import { loadFailoverConfig, type FailoverConfig } from '#core/failover/wiring.ts';

/** How one ArgoCD application's traffic moves. */
export interface TrafficPlanConfig {
  readonly app: string;
  /** The listener rule with the weighted forward action (terraform-managed, never LBC-managed). */
  readonly ruleArn: string;
  /** The old side's target group (loses weight). */
  readonly from: string;
  /** The new side's target group (gains weight; its health gates every step). */
  readonly to: string;
  /** Percentages of from+to that `to` carries after each step, strictly increasing, 1..100. */
  readonly steps: readonly number[];
  /** Pause between steps (seconds). */
  readonly pauseSeconds: number;
  /** Gate: `to` must have at least this many healthy targets before each step. */
  readonly minHealthyTargets: number;
  /** Only syncs of this ArgoCD destination (name or server) start the shift; undefined = any. */
  readonly destination: string | undefined;
}

/** Everything the traffic-shift function reads from its environment. */
export interface TrafficConfig extends FailoverConfig {
  /** The plans of TRAFFIC_PLANS or TRAFFIC_PLANS_FILE (none when the plans are read from plansPath). */
  readonly plans: ReadonlyMap<string, TrafficPlanConfig>;
  /** TRAFFIC_PLANS_PATH: the SSM path whose parameters are the plans, one per app (the deployed stack's way). */
  readonly plansPath: string | undefined;
  /** DynamoDB table for locks, idempotency keys and remembered weights. */
  readonly stateTable: string;
  /** The bus ARN step schedules put their event on, and the role Scheduler assumes to do it. */
  readonly stepEventBusArn: string;
  readonly schedulerRoleArn: string;
  /** The watchdog takes over a shift whose next step is overdue by more than its pause plus this. */
  readonly watchdogMarginSeconds: number;
  /** DRY_RUN: the wiring gives the function the recording write port (see `writeModeFor`). */
  readonly dryRun: boolean;
  /** RATE_LIMITS of the function's budget. */
  readonly rateLimits: Readonly<Record<string, RateLimitSetting>>;
}

const TG_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]*:\d{12}:targetgroup\/[^/]+\/[0-9a-f]+$/;
const RULE_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]*:\d{12}:listener-rule\/(app|net)\/\S+$/;

/** Parses and validates the traffic plans document (`{ "apps": { "<app>": { ... } } }`). */
export function parseTrafficPlans(variable: string, json: string): Map<string, TrafficPlanConfig> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(variable, `not JSON: ${(err as Error).message}`);
  }
  const apps = (doc as { apps?: unknown } | null)?.apps;
  if (apps === null || typeof apps !== 'object' || Array.isArray(apps)) throw new ConfigError(variable, 'expected {"apps": {"<argocd app>": {...}}}');
  const out = new Map<string, TrafficPlanConfig>();
  for (const [app, raw] of Object.entries(apps as Record<string, unknown>)) {
    const at = `apps.${app}`;
    if (!APP_NAME.test(app)) throw new ConfigError(variable, `${at}: not an ArgoCD application name`);
    const p = (raw ?? {}) as Record<string, unknown>;
    const arn = (key: string, re: RegExp): string => {
      const v = p[key];
      if (typeof v !== 'string' || !re.test(v)) throw new ConfigError(variable, `${at}.${key}: expected an ARN, got ${JSON.stringify(v)}`);
      return v;
    };
    const steps = p['steps'];
    if (!Array.isArray(steps) || steps.length === 0 || !steps.every((s, i) => typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 100 && (i === 0 || s > (steps[i - 1] as number)))) {
      throw new ConfigError(variable, `${at}.steps: expected strictly increasing whole percentages in 1..100, e.g. [10, 50, 100]`);
    }
    const int = (key: string, fallback: number, min: number, max: number): number => {
      const v = p[key] ?? fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConfigError(variable, `${at}.${key}: expected an integer in ${min}..${max}`);
      return v;
    };
    const gate = (p['gate'] ?? {}) as Record<string, unknown>;
    const minHealthy = gate['minHealthyTargets'] ?? 1;
    if (typeof minHealthy !== 'number' || !Number.isInteger(minHealthy) || minHealthy < 1 || minHealthy > 1000) {
      throw new ConfigError(variable, `${at}.gate.minHealthyTargets: expected an integer in 1..1000`);
    }
    const from = arn('from', TG_ARN);
    const to = arn('to', TG_ARN);
    if (from === to) throw new ConfigError(variable, `${at}: from and to are the same target group`);
    const destination = p['destination'];
    if (destination !== undefined && (typeof destination !== 'string' || destination === '')) throw new ConfigError(variable, `${at}.destination: expected a string`);
    out.set(app, {
      app,
      ruleArn: arn('ruleArn', RULE_ARN),
      from,
      to,
      steps: steps as number[],
      pauseSeconds: int('pauseSeconds', 300, 1, 86_400),
      minHealthyTargets: minHealthy,
      destination: destination as string | undefined,
    });
  }
  return out;
}

/** The traffic plans of TRAFFIC_PLANS (JSON) or TRAFFIC_PLANS_FILE; none when neither is set. */
export function loadTrafficPlans(env: Env = process.env): Map<string, TrafficPlanConfig> {
  const inline = text(env, 'TRAFFIC_PLANS');
  const file = text(env, 'TRAFFIC_PLANS_FILE');
  let plans = new Map<string, TrafficPlanConfig>();
  if (inline !== undefined) plans = parseTrafficPlans('TRAFFIC_PLANS', inline);
  else if (file !== undefined) {
    let json: string;
    try {
      json = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('TRAFFIC_PLANS_FILE', `cannot read ${file}: ${(err as Error).message}`);
    }
    plans = parseTrafficPlans('TRAFFIC_PLANS_FILE', json);
  }
  return plans;
}

/**
 * Where the plans are: TRAFFIC_PLANS_PATH (an SSM path, the deployed stack's way) or the plans of
 * TRAFFIC_PLANS / TRAFFIC_PLANS_FILE, never both. The function and `quiesce plan` read them the same way.
 */
export function trafficPlansSource(env: Env = process.env): { readonly plans: Map<string, TrafficPlanConfig>; readonly plansPath: string | undefined } {
  const plans = loadTrafficPlans(env);
  const plansPath = text(env, 'TRAFFIC_PLANS_PATH');
  if (plansPath !== undefined && !/^\/[A-Za-z0-9_.\-/]+$/.test(plansPath)) throw new ConfigError('TRAFFIC_PLANS_PATH', `expected an SSM path such as /quiesce/prod/traffic-plans, got "${plansPath}"`);
  if (plansPath !== undefined && plans.size > 0) throw new ConfigError('TRAFFIC_PLANS_PATH', 'set either TRAFFIC_PLANS_PATH or TRAFFIC_PLANS / TRAFFIC_PLANS_FILE, not both: which plans would count?');
  return { plans, plansPath };
}

/** Reads and validates the configuration. Throws `ConfigError` on the first bad variable. */
export function loadTrafficConfig(env: Env = process.env): TrafficConfig {
  const { plans, plansPath } = trafficPlansSource(env);
  const required = (name: string, why: string): string => {
    const v = text(env, name);
    if (v === undefined) throw new ConfigError(name, `required: ${why}`);
    return v;
  };
  return {
    plans,
    plansPath,
    stateTable: required('STATE_TABLE', 'the DynamoDB table for locks and idempotency keys'),
    stepEventBusArn: required('STEP_EVENT_BUS_ARN', 'the bus ARN the step schedules deliver to'),
    schedulerRoleArn: required('SCHEDULER_ROLE_ARN', 'the role EventBridge Scheduler assumes to put step events'),
    watchdogMarginSeconds: integer(env, 'WATCHDOG_MARGIN_SECONDS', 300, 60, 3600),
    dryRun: bool(env, 'DRY_RUN', false),
    rateLimits: parseRateLimits('RATE_LIMITS', text(env, 'RATE_LIMITS')),
    ...loadFailoverConfig(env),
  };
}
