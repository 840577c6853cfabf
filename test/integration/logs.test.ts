/**
 * What an operator reads in CloudWatch Logs: a line from each of the five functions, written during an
 * invocation, carries the Lambda context (Powertools' injectLambdaContext, telemetry.ts `logLambdaContext`),
 * and a rejection's line says why under `reason` (Powertools drops the reserved key `message` from a line's
 * attributes, and with it the explanation). Each handler is built as production builds it (makeHandler with
 * the one logger its dependencies share) and given an event it must reject.
 */
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { loadConfig } from '#core/config.ts';
import { createLogger, createMetrics, type Logger } from '#core/telemetry.ts';
import type { WebhookDeps } from '../../functions/deploy-webhook/webhook.ts';
import { makeHandler as makeWebhookHandler } from '../../functions/deploy-webhook/handler.ts';
import { loadPodEventsConfig } from '../../functions/pod-events/config.ts';
import { makeHandler as makePodHandler } from '../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../functions/pod-events/wiring.ts';
import { makeHandler as makeSpotHandler } from '../../functions/spot-interruption/handler.ts';
import { buildNodeWorkflowDeps } from '../../functions/spot-interruption/wiring.ts';
import { loadSweeperConfig } from '../../functions/sweeper/config.ts';
import { buildSweepDeps } from '../../functions/sweeper/deps.ts';
import { makeHandler as makeSweepHandler } from '../../functions/sweeper/handler.ts';
import { makeHandler as makeTrafficHandler } from '../../functions/traffic-shift/handler.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { PROD_ENV } from '../fakes/topology.ts';
import { seedTrafficTopology, trafficDeps, WEBHOOK_TOKEN } from '../fakes/traffic.ts';
import { lambdaContext } from './harness.ts';

type Line = Record<string, unknown>;

/** A logger at INFO whose lines are kept, parsed. */
function recordingLogger(service: string): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, logger: createLogger(service, { logLevel: 'INFO', write: (l) => lines.push(JSON.parse(l) as Line) }) };
}

type Invoke = (logger: Logger) => Promise<unknown>;
const context = (name: string) => ({ ...lambdaContext, functionName: `quiesce-prod-${name}`, invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:quiesce-prod-${name}`, awsRequestId: `req-${name}` });

const webhookDeps = (logger: Logger): WebhookDeps =>
  ({
    config: { tokenParameter: '/quiesce/prod/webhook-token', maxBodyBytes: 4096, replayWindowSeconds: 3600 },
    secrets: { get: async () => WEBHOOK_TOKEN },
    store: { putIfAbsent: async () => true, get: async () => undefined, updateIfOwner: async () => true, replaceIfOwner: async () => true, deleteIfOwner: async () => true },
    bus: { publish: async () => ({ failed: [] }) },
    logger,
    now: () => new Date(fakeAws.clock.now()),
  }) as WebhookDeps;

/** Each function with an event it rejects, and the line that says so. */
const CASES: Record<string, { invoke: Invoke; line: string }> = {
  'spot-interruption': {
    line: 'event rejected',
    invoke: (logger) =>
      makeSpotHandler(() => buildNodeWorkflowDeps('spot-interruption', { config: loadConfig(PROD_ENV), clients: createAwsClients(), logger }), logger, createMetrics('spot-interruption'))(
        { source: 'aws.ec2', 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: {} } as never,
        context('spot-interruption'),
      ),
  },
  sweeper: {
    line: 'event rejected',
    invoke: (logger) =>
      makeSweepHandler(() => buildSweepDeps({ config: loadSweeperConfig({ ...PROD_ENV, AWS_REGION: 'us-east-1' }), clients: createAwsClients(), logger }), logger, createMetrics('sweeper'))(
        { source: 'aws.ec2', 'detail-type': 'Scheduled Event', detail: {} } as never,
        context('sweeper'),
      ),
  },
  'pod-events': {
    line: 'event rejected',
    invoke: (logger) =>
      makePodHandler(() => buildPodWorkflowDeps({ config: loadPodEventsConfig(PROD_ENV), clients: createAwsClients(), logger }), logger, createMetrics('pod-events'))(
        { source: 'quiesce.kubernetes', 'detail-type': 'Pod Terminating', detail: { version: 1 } } as never,
        context('pod-events'),
      ),
  },
  'deploy-webhook': {
    line: 'webhook: invalid payload',
    invoke: (logger) =>
      makeWebhookHandler(() => webhookDeps(logger), logger)(
        { headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' }, body: '{"app": 7}', isBase64Encoded: false } as never,
        context('deploy-webhook'),
      ),
  },
  'traffic-shift': {
    line: 'event rejected',
    invoke: (logger) => makeTrafficHandler(() => trafficDeps(fakeAws, seedTrafficTopology(fakeAws)), logger)({ source: 'quiesce', 'detail-type': 'Nothing Known', detail: {} } as never, context('traffic-shift')),
  },
};

describe('log lines of every function', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: its rejection line carries the Lambda context and the reason`, async () => {
      const { logger, lines } = recordingLogger(name);
      await c.invoke(logger);
      const line = lines.find((l) => l['message'] === c.line);
      expect(line, JSON.stringify(lines)).toBeDefined();
      expect(line).toMatchObject({
        level: 'WARN',
        service: name,
        function_name: `quiesce-prod-${name}`,
        function_request_id: `req-${name}`,
        function_arn: `arn:aws:lambda:us-east-1:123456789012:function:quiesce-prod-${name}`,
        function_memory_size: '256',
        cold_start: expect.any(Boolean),
        reason: expect.stringMatching(/\S/),
      });
      // Nothing was dropped as a reserved key on the way.
      expect(lines.filter((l) => String(l['message']).includes('reserved key'))).toEqual([]);
    });
  }

  it('a line written before any invocation carries no request id', async () => {
    const { logger, lines } = recordingLogger('traffic-shift');
    logger.info('before any invocation');
    await CASES['traffic-shift']!.invoke(logger);
    expect(lines[0]).not.toHaveProperty('function_request_id');
    expect(lines.find((l) => l['message'] === 'event rejected')).toHaveProperty('function_request_id', 'req-traffic-shift');
  });
});
