/**
 * A function's own preflight, on its first invocation in a container while the stage is in dry run: the
 * cluster as its role reaches it, the reads it makes and its writes judged by the policy simulator
 * (run.ts), logged and published as a `Preflight Checked` audit event. Why in the function too, when
 * `quiesce doctor` exists: it runs with exactly the function's credentials, network and configuration (a
 * private endpoint, a VPC without an endpoint to IAM), on every deploy, with nobody having to remember it.
 *
 * Why only in dry run: a dry run is when nothing else would notice a missing grant, and when the extra
 * seconds cost nothing (the first invocation's own work is done first: this runs after it, bounded, and
 * never fails the invocation). Live, the writes themselves are the proof, and the alarms watch them.
 *
 * Its role ARN comes from QUIESCE_ROLE_ARN (the stack sets it), so it calls no STS; its role may simulate
 * its own policies and nothing else (iam:SimulatePrincipalPolicy on itself: infra/serverless/iam.yml).
 */
import type { MiddlewareObj } from '@middy/core';
import { AwsEventBus } from '../adapters/aws/index.ts';
import { AwsPolicySimulator } from '../adapters/aws/policy-simulator.ts';
import type { QuiesceConfig } from '../config.ts';
import { AuditDetailType, QUIESCE_SOURCE } from '../contracts/node-events.ts';
import type { Logger } from '../telemetry.ts';
import type { AwsDeps } from '../wiring.ts';
import { writeModeFor } from '../write-mode.ts';
import { clusterAutoScalingGroups } from './auto-scaling-groups.ts';
import { checklist, formatChecklist, type Checklist, type PreflightFunction } from './checklist.ts';
import { describeThroughBudget } from './cluster.ts';
import { preflightAsFunction } from './run.ts';
import { NEEDS, partitionOf, type PreflightTarget } from './target.ts';

/** Options of {@link preflightOnColdStart}. */
export interface ColdStartPreflight {
  readonly fn: PreflightFunction;
  readonly logger: Logger;
  /** The function's configuration once built (undefined before its deps exist: then nothing runs). */
  readonly config: () => QuiesceConfig | undefined;
  /** The container's AWS side (its one client per API and its one budget): the checks spend from it too. */
  readonly aws: () => AwsDeps | undefined;
  /** The environment (QUIESCE_ROLE_ARN, QUIESCE_STAGE, AWS_REGION); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** At most this long (default 15 s; less when the invocation has less left). */
  readonly timeoutMs?: number;
  /** Called with the checklist (tests). */
  readonly onChecklist?: (list: Checklist) => void;
}

/** Runs the function's preflight once (see the module comment); never throws. */
export async function runColdStartPreflight(options: ColdStartPreflight, config: QuiesceConfig, aws: AwsDeps, remainingMs: number): Promise<Checklist | undefined> {
  const { fn, logger } = options;
  const env = options.env ?? process.env;
  const role = env['QUIESCE_ROLE_ARN'];
  const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  if (!role || !region) {
    logger.warn('preflight skipped: QUIESCE_ROLE_ARN or AWS_REGION is not set (the stack sets both)');
    return undefined;
  }
  const { clients, budget } = aws;
  const target: PreflightTarget = {
    stage: env['QUIESCE_STAGE'] ?? 'this stage',
    partition: partitionOf(role),
    accountId: /:iam::(\d{12}):/.exec(role)?.[1] ?? '',
    region,
    config,
    roles: { [fn]: role },
    readerGroup: '<the stack\'s ReaderGroup output>',
  };
  try {
    // The token is signed with the credentials the preflight's own clients use: one identity for every check.
    const credentials = await clients.iam.config.credentials();
    const run = preflightAsFunction(
      fn,
      {
        elbv2: aws.elbv2,
        cloudMap: aws.cloudMap,
        simulator: new AwsPolicySimulator(clients.iam, budget),
        cluster: { eks: describeThroughBudget(clients.eks, budget), credentials },
        ...(NEEDS[fn].writes.includes('autoscaling:CompleteLifecycleAction') ? { autoScalingGroups: () => clusterAutoScalingGroups(clients.ec2, budget, config.clusterName) } : {}),
      },
      target,
      role,
    );
    const limit = Math.max(1000, Math.min(options.timeoutMs ?? 15_000, remainingMs - 3000));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), limit);
    });
    const checks = await Promise.race([run, timedOut]);
    clearTimeout(timer);
    if (!checks) {
      logger.warn('preflight did not finish in time: run `quiesce doctor` for the whole checklist', { timeoutMs: limit });
      return undefined;
    }
    const list = checklist(target.stage, config.clusterName, { [fn]: role }, checks);
    const failed = list.checks.filter((c) => c.status === 'fail');
    if (list.ok) logger.info('preflight passed: what this function needs is in place', { preflight: list.checks, text: formatChecklist(list) });
    else logger.error(`PREFLIGHT FAILED: ${failed.length} check(s) would fail once dry run is off`, { preflight: list.checks, failed: failed.map((c) => `${c.title}: ${c.detail}`), text: formatChecklist(list) });
    if (config.auditEventBus) {
      const bus = new AwsEventBus(clients.eventBridge, budget, config.auditEventBus);
      const { failed: notPublished } = await bus.publish([{ source: QUIESCE_SOURCE, detailType: AuditDetailType.preflightChecked, detail: { function: fn, stage: target.stage, cluster: config.clusterName, role, dryRun: writeModeFor(config) === 'recording', ok: list.ok, checks: list.checks } }]);
      for (const f of notPublished) logger.error('preflight result not published', { errorCode: f.errorCode, errorMessage: f.errorMessage });
    }
    options.onChecklist?.(list);
    return list;
  } catch (err) {
    logger.error('preflight could not run', { error: err as Error });
    return undefined;
  }
}

/**
 * Middy middleware: after the first invocation of a container (its work done, success or failure), when the
 * function's configuration says dry run, runs the function's preflight (bounded by the invocation's
 * remaining time). Later invocations, and every invocation of a live stage, pass through untouched.
 */
export function preflightOnColdStart(options: ColdStartPreflight): MiddlewareObj<unknown, unknown> {
  let done = false;
  const once = async (request: { context: unknown }): Promise<void> => {
    if (done) return;
    const config = options.config();
    const aws = options.aws();
    if (!config || !aws) return;
    done = true;
    // The wiring's one decision (write-mode.ts): a container that records its writes checks what it would need to make them.
    if (writeModeFor(config) !== 'recording') return;
    const remaining = (request.context as { getRemainingTimeInMillis?: () => number } | undefined)?.getRemainingTimeInMillis?.() ?? 30_000;
    await runColdStartPreflight(options, config, aws, remaining);
  };
  return { after: once, onError: once };
}
