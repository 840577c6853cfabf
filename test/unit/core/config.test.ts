import { describe, expect, it } from 'vitest';
import { fraction, loadConfig, parseBudgetShare, parseFraction } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

describe('loadConfig', () => {
  it('has documented defaults', () => {
    expect(loadConfig({ CLUSTER_NAME: 'prod' })).toEqual({
      clusterName: 'prod',
      cloudMapNamespaces: [],
      cloudMapOwnerAttributes: {},
      targetGroupTagSelector: {},
      rebalanceAction: 'ignore',
      minHealthyTargets: 1,
      maxDeregisterFraction: undefined,
      guardDeadlineSeconds: 150,
      guardIntervalSeconds: 15,
      recheckQueueUrl: undefined,
      internalSenderIds: [],
      scheduledChangeSenderIds: [],
      dryRun: false,
      auditEventBus: undefined,
      concurrency: 16,
      rateLimits: {},
      elbAccountBuckets: {},
      elbBudgetShare: {},
      stateTable: undefined,
      coordinationLeaseSeconds: 10,
      coordinationWindowSeconds: 60,
      coordinationWaitSeconds: 5,
      maxEventAgeSeconds: 600,
      scheduledChangeLeadSeconds: 600,
      scheduledChangeSchedule: undefined,
      cloudMapOperationWaitSeconds: 20,
      retryDelaySeconds: 2,
      retryMaxDelaySeconds: 30,
      clusterCandidates: true,
      clusterTimeoutMs: 2000,
      scopeMaxAgeSeconds: 1800,
      indexVouchSeconds: 3600,
      sharedElbBudget: true,
      podEventSilenceHours: 24,
      sweepOverdueFactor: 3,
    });
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', CLUSTER_CANDIDATES: 'maybe' })).toThrow(/CLUSTER_CANDIDATES/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', CLUSTER_TIMEOUT_MS: '5' })).toThrow(/CLUSTER_TIMEOUT_MS/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', SCOPE_MAX_AGE_SECONDS: '-1' })).toThrow(/SCOPE_MAX_AGE_SECONDS/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', INDEX_VOUCH_SECONDS: '1h' })).toThrow(/INDEX_VOUCH_SECONDS/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', SHARED_ELB_BUDGET: 'sometimes' })).toThrow(/SHARED_ELB_BUDGET/);
  });

  it('takes the scheduled-change schedule target as a pair of ARNs, or not at all', () => {
    const queue = 'arn:aws:sqs:us-east-1:123456789012:quiesce-prod-node-signals';
    const role = 'arn:aws:iam::123456789012:role/quiesce-prod-scheduled-change';
    expect(loadConfig({ CLUSTER_NAME: 'prod', SCHEDULED_CHANGE_QUEUE_ARN: queue, SCHEDULED_CHANGE_ROLE_ARN: role, SCHEDULER_GROUP: 'quiesce-prod' }).scheduledChangeSchedule).toEqual({ queueArn: queue, roleArn: role, group: 'quiesce-prod' });
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', SCHEDULED_CHANGE_QUEUE_ARN: queue })).toThrow(/SCHEDULED_CHANGE_ROLE_ARN/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', SCHEDULED_CHANGE_ROLE_ARN: role, SCHEDULED_CHANGE_QUEUE_ARN: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' })).toThrow(/SCHEDULED_CHANGE_QUEUE_ARN/);
  });

  it('takes the senders of the function\'s own messages as IAM unique ids', () => {
    const c = loadConfig({ CLUSTER_NAME: 'prod', INTERNAL_SENDER_IDS: 'AROAEXAMPLEROLEID0001', SCHEDULED_CHANGE_SENDER_IDS: 'AROAEXAMPLEROLEID0002, AIDAIT2UOQQY3AUEKVGXU' });
    expect([c.internalSenderIds, c.scheduledChangeSenderIds]).toEqual([['AROAEXAMPLEROLEID0001'], ['AROAEXAMPLEROLEID0002', 'AIDAIT2UOQQY3AUEKVGXU']]);
    // A session (role id:session) or an ARN is not what the variable takes: the role id stands for every session.
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', INTERNAL_SENDER_IDS: 'AROAEXAMPLEROLEID0001:quiesce-prod-spot-interruption' })).toThrow(/INTERNAL_SENDER_IDS/);
    expect(() => loadConfig({ CLUSTER_NAME: 'prod', SCHEDULED_CHANGE_SENDER_IDS: 'arn:aws:iam::123456789012:role/x' })).toThrow(/SCHEDULED_CHANGE_SENDER_IDS/);
  });

  it('parses lists, key=value pairs with slashes and dots, and rate limits', () => {
    const c = loadConfig({
      CLUSTER_NAME: 'prod',
      CLOUDMAP_NAMESPACES: 'mesh.local, other ',
      CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30,CLUSTER_ID=prod',
      TARGET_GROUP_TAG_SELECTOR: 'elbv2.k8s.aws/cluster=prod',
      RATE_LIMITS: 'elb-describe=10:20,elb-register=2.5:5',
      DRY_RUN: 'yes',
    });
    expect(c.cloudMapNamespaces).toEqual(['mesh.local', 'other']);
    expect(c.cloudMapOwnerAttributes).toEqual({ ver: 'v1-30', CLUSTER_ID: 'prod' });
    expect(c.targetGroupTagSelector).toEqual({ 'elbv2.k8s.aws/cluster': 'prod' });
    expect(c.rateLimits).toEqual({ 'elb-describe': { ratePerSecond: 10, burst: 20 }, 'elb-register': { ratePerSecond: 2.5, burst: 5 } });
    expect(c.dryRun).toBe(true);
  });

  const bad: [Record<string, string>, string][] = [
    [{}, 'CLUSTER_NAME'],
    [{ CLUSTER_NAME: 'p', MIN_HEALTHY_TARGETS: '0' }, 'MIN_HEALTHY_TARGETS'],
    [{ CLUSTER_NAME: 'p', MIN_HEALTHY_TARGETS: 'one' }, 'MIN_HEALTHY_TARGETS'],
    [{ CLUSTER_NAME: 'p', REBALANCE_ACTION: 'panic' }, 'REBALANCE_ACTION'],
    [{ CLUSTER_NAME: 'p', MAX_DEREGISTER_FRACTION: '1.5' }, 'MAX_DEREGISTER_FRACTION'],
    [{ CLUSTER_NAME: 'p', CLOUDMAP_OWNER_ATTRIBUTES: 'ver' }, 'CLOUDMAP_OWNER_ATTRIBUTES'],
    [{ CLUSTER_NAME: 'p', CLOUDMAP_OWNER_ATTRIBUTES: 'a=1,a=2' }, 'CLOUDMAP_OWNER_ATTRIBUTES'],
    [{ CLUSTER_NAME: 'p', RATE_LIMITS: 'elb-describe=fast' }, 'RATE_LIMITS'],
    [{ CLUSTER_NAME: 'p', DRY_RUN: 'maybe' }, 'DRY_RUN'],
    [{ CLUSTER_NAME: 'p', POD_EVENT_SILENCE_HOURS: '0' }, 'POD_EVENT_SILENCE_HOURS'],
    [{ CLUSTER_NAME: 'p', POD_EVENT_SILENCE_HOURS: '169' }, 'POD_EVENT_SILENCE_HOURS'],
    [{ CLUSTER_NAME: 'p', SWEEP_OVERDUE_FACTOR: '1' }, 'SWEEP_OVERDUE_FACTOR'],
  ];
  for (const [env, variable] of bad) {
    it(`rejects a bad ${variable} by name`, () => {
      let err: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
    });
  }
});

describe('fractions (MAX_DEREGISTER_FRACTION, SWEEP_MAX_FRACTION, SWEEP_DESCRIBE_SHARE, ELB_BUDGET_SHARE)', () => {
  it('reads a plain decimal in (0, 1]', () => {
    expect(['1', '0.5', '.25', '1.0', '0.001'].map((v) => parseFraction('F', v))).toEqual([1, 0.5, 0.25, 1, 0.001]);
    expect(fraction({ F: ' 0.5 ' }, 'F', 0.1)).toBe(0.5);
    expect(fraction({}, 'F', 0.1)).toBe(0.1);
    expect(fraction({ F: '' }, 'F', undefined)).toBeUndefined();
  });

  it('rejects zero, more than all and any other spelling, naming the variable', () => {
    for (const v of ['0', '0.0', '1.5', '-0.5', '5e-1', '50%', '0,5', 'half', 'NaN', 'Infinity', '0.5x']) {
      expect(() => parseFraction('F', v), v).toThrow(ConfigError);
      expect(() => parseFraction('F', v), v).toThrow(`F: expected a number in (0, 1], got "${v}"`);
    }
  });

  it('is the one rule every fraction variable is read with', () => {
    expect(() => loadConfig({ CLUSTER_NAME: 'p', MAX_DEREGISTER_FRACTION: '5e-1' })).toThrow('MAX_DEREGISTER_FRACTION: expected a number in (0, 1]');
    expect(loadConfig({ CLUSTER_NAME: 'p', MAX_DEREGISTER_FRACTION: '0.5' }).maxDeregisterFraction).toBe(0.5);
    expect(() => parseBudgetShare('ELB_BUDGET_SHARE', 'describe=1.5')).toThrow('ELB_BUDGET_SHARE: expected a number in (0, 1], got "1.5"');
  });
});
