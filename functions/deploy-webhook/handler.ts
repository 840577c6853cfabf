/**
 * Trigger: the HTTPS endpoint (Lambda function URL, auth type NONE: the shared token is the auth) that
 * ArgoCD notifications call after a sync. Thin: wiring once per container, then webhook.ts.
 *
 * Environment: WEBHOOK_TOKEN_PARAMETER (SSM SecureString name), STATE_TABLE, EVENT_BUS (or
 * AUDIT_EVENT_BUS), WEBHOOK_MAX_BODY_BYTES (default 16384), WEBHOOK_REPLAY_WINDOW_SECONDS (default 30 days),
 * WEBHOOK_TOKEN_CACHE_SECONDS (default 300), DRY_RUN.
 *
 * Its writes (the replay claim in the state table, "Deployment Synced" on the bus) are the write port's
 * (ports/writes.ts): with DRY_RUN=true they are recorded, not sent, so a dry run starts no shift.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ApiBudget, AwsEventBus, sdkClientConfig } from '#core/adapters/aws/index.ts';
import { AwsDynamoStateStore } from '#core/adapters/aws/dynamo-state-store.ts';
import { clientForWrites, WriteRecorder } from '#core/adapters/aws/recording.ts';
import { AwsSsmParameters } from '#core/adapters/aws/ssm-parameters.ts';
import { bool, integer, text, type Env } from '#core/config.ts';
import type { WriteMode } from '#core/ports/writes.ts';
import { writeModeFor } from '#core/write-mode.ts';
import { ConfigError } from '#core/errors.ts';
import { publishMetrics } from '#core/middleware/publish-metrics.ts';
import { createLogger, createMetrics, logLambdaContext, type Logger, type Metrics } from '#core/telemetry.ts';
import { handleWebhook, type WebhookDeps, type WebhookResponse } from './webhook.ts';

/** Options of {@link buildWebhookDeps}. */
export interface WebhookWiring {
  readonly env?: Env;
  /** Only the EventBridge client is used (tests pass theirs; the function builds just this one: no EC2 in its bundle). */
  readonly clients?: { readonly eventBridge: EventBridgeClient };
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
  /** The write port's mode when the caller chooses it; by default DRY_RUN decides. */
  readonly writes?: WriteMode;
}

/** Wires the webhook to AWS through the SDK's standard configuration. */
export function buildWebhookDeps(wiring: WebhookWiring = {}): WebhookDeps {
  const env = wiring.env ?? process.env;
  const required = (name: string): string => {
    const v = text(env, name);
    if (v === undefined) throw new ConfigError(name, 'required');
    return v;
  };
  const now = wiring.now ?? (() => new Date());
  const logger = wiring.logger ?? createLogger('deploy-webhook');
  const clients = wiring.clients ?? { eventBridge: new EventBridgeClient(sdkClientConfig()) };
  const budget = new ApiBudget();
  const busName = text(env, 'EVENT_BUS') ?? text(env, 'AUDIT_EVENT_BUS');
  if (!busName) throw new ConfigError('EVENT_BUS', 'required: the bus "Deployment Synced" is published to');
  const mode = writeModeFor({ dryRun: bool(env, 'DRY_RUN', false) }, wiring.writes);
  const recorder = new WriteRecorder();
  return {
    config: {
      tokenParameter: required('WEBHOOK_TOKEN_PARAMETER'),
      maxBodyBytes: integer(env, 'WEBHOOK_MAX_BODY_BYTES', 16_384, 256, 1_048_576),
      replayWindowSeconds: integer(env, 'WEBHOOK_REPLAY_WINDOW_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600),
    },
    secrets: new AwsSsmParameters(new SSMClient(sdkClientConfig()), budget, {
      ttlMs: integer(env, 'WEBHOOK_TOKEN_CACHE_SECONDS', 300, 0, 3600) * 1000,
      now: () => now().getTime(),
    }),
    store: new AwsDynamoStateStore(clientForWrites(mode, recorder, new DynamoDBClient(sdkClientConfig()), 'dynamodb'), budget, required('STATE_TABLE')),
    bus: new AwsEventBus(clientForWrites(mode, recorder, clients.eventBridge, 'events'), budget, busName),
    logger,
    ...(wiring.metrics ? { metrics: wiring.metrics } : {}),
    now,
  };
}

/**
 * Middy middleware: an error escaping the webhook (a configuration error at first use, an unexpected
 * failure) is logged loudly and answered 500 with no detail: the caller learns nothing about the inside, and
 * ArgoCD retries on 5xx. Expected outcomes (401, 413, 400, 503) are answers of webhook.ts, not errors.
 */
function answerErrorsWith500(logger: Logger): MiddlewareObj<APIGatewayProxyEventV2, WebhookResponse> {
  return {
    onError: async (request) => {
      logger.error('webhook failed', { error: request.error as Error });
      request.response = { statusCode: 500, headers: {}, body: '' };
      request.error = null;
    },
  };
}

/** Builds the handler around a dependency factory (called once per container, on first use). */
export function makeHandler(getDeps: () => WebhookDeps, logger: Logger = createLogger('deploy-webhook'), metrics: Metrics = createMetrics('deploy-webhook')) {
  let deps: WebhookDeps | undefined;
  return middy(async (event: APIGatewayProxyEventV2): Promise<WebhookResponse> => handleWebhook((deps ??= getDeps()), event))
    .use(logLambdaContext(logger))
    .use(answerErrorsWith500(logger))
    .use(publishMetrics(metrics));
}

/**
 * The Lambda entry point: one logger for the handler and the webhook, so every line carries the Lambda
 * context; `failed` (a claim not released) goes to the handler's metrics.
 */
const logger = createLogger('deploy-webhook');
const metrics = createMetrics('deploy-webhook');
export const handler = makeHandler(() => buildWebhookDeps({ logger, metrics }), logger, metrics);
