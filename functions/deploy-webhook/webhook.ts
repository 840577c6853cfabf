/**
 * The deploy webhook's workflow for one HTTP request from ArgoCD notifications:
 *
 *   token (401, no detail) -> size (413) -> JSON + fields (400 naming the field) -> only a succeeded,
 *   synced, healthy sync goes on -> claim app + revision once (replays: 200 duplicate) -> publish
 *   "Deployment Synced" -> 202
 *
 * ArgoCD retries on 5xx and sends once per revision (`oncePer`); a replay must not start a second shift, so
 * the claim is durable (DynamoDB) and taken before the publish, and released again when the publish fails
 * (then the 503 makes ArgoCD retry, and the retry is not a "duplicate"). The claim says `publishing` until
 * the publish is confirmed (`published`): a claim still `publishing` is one whose publish failed and whose
 * release failed too, so the retry takes it over (compare-and-set on its owner) instead of answering
 * "duplicate". A failed release is logged and counted (`failed`, alarm `deploy-webhook-failed-writes`).
 * Only a confirmed publish makes a replay a duplicate; at worst a retry racing a publish in flight
 * publishes twice, and the traffic shift claims each shift once.
 */
import { InvalidEventError } from '#core/errors.ts';
import { QUIESCE_SOURCE } from '#core/contracts/node-events.ts';
import type { EventBusPort } from '#core/ports/index.ts';
import type { SecretParameterPort } from '#core/ports/parameters.ts';
import type { StateStorePort } from '#core/ports/state-store.ts';
import { MetricUnit, type Logger, type Metrics } from '#core/telemetry.ts';
import { parseDeploymentSynced, TrafficDetailType } from '#core/contracts/traffic.ts';
import { bearerToken, tokensMatch } from './auth.ts';

/** Settings of the webhook. */
export interface WebhookConfig {
  /** SSM parameter (SecureString) holding the shared token. */
  readonly tokenParameter: string;
  /** Bodies above this many bytes get 413 (ArgoCD's payload is a few hundred bytes). */
  readonly maxBodyBytes: number;
  /** How long a revision stays claimed. */
  readonly replayWindowSeconds: number;
}

/** What the webhook needs. */
export interface WebhookDeps {
  readonly config: WebhookConfig;
  readonly secrets: SecretParameterPort;
  readonly store: StateStorePort;
  readonly bus: EventBusPort;
  readonly logger: Logger;
  /** `failed` counts claims that could not be released (alarmed); optional for callers without metrics. */
  readonly metrics?: Metrics;
  readonly now: () => Date;
}

/** The HTTP request as a Lambda function URL / HTTP API (payload 2.0) delivers it. */
export interface WebhookRequest {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** The HTTP response. */
export interface WebhookResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const json = (statusCode: number, body: unknown): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: body === undefined ? '' : JSON.stringify(body),
});

/**
 * Checks the invocation is an HTTP request as a function URL delivers it (an object; headers a map of
 * strings; body a string or null; isBase64Encoded a boolean). Only a direct invocation can send anything
 * else; it gets a 400 naming the field, before the token is read or anything is written.
 */
export function parseWebhookRequest(raw: unknown): WebhookRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidEventError('the request must be an object (function URL payload 2.0)', 'request');
  const { headers, body, isBase64Encoded } = raw as Record<string, unknown>;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) throw new InvalidEventError('headers must be an object', 'headers');
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && typeof value !== 'string') throw new InvalidEventError(`header ${JSON.stringify(name.slice(0, 64))} must be a string`, 'headers');
    }
  }
  if (body !== undefined && body !== null && typeof body !== 'string') throw new InvalidEventError('body must be a string', 'body');
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') throw new InvalidEventError('isBase64Encoded must be a boolean', 'isBase64Encoded');
  return {
    ...(headers ? { headers: headers as Record<string, string | undefined> } : {}),
    body: (body as string | null | undefined) ?? null,
    ...(isBase64Encoded !== undefined ? { isBase64Encoded } : {}),
  };
}

/** The idempotency key of one revision of one app. */
export const revisionKey = (app: string, revision: string): string => `deploy#${app}#${revision}`;

/** Handles one request. Never throws for bad input; throws only when AWS fails (-> 5xx, ArgoCD retries). */
export async function handleWebhook(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookResponse> {
  const { logger } = deps;
  let req: WebhookRequest;
  try {
    req = parseWebhookRequest(request);
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    logger.warn('webhook: malformed request', { field: err.field, reason: err.message });
    return json(400, { error: 'InvalidRequest', field: err.field, message: err.message });
  }
  let expected: string;
  try {
    expected = await deps.secrets.get(deps.config.tokenParameter);
  } catch (err) {
    logger.error('webhook token not readable: answering 503 so ArgoCD retries', { error: err as Error });
    return json(503, { message: 'temporarily unavailable' });
  }
  const presented = bearerToken(req.headers) ?? '';
  if (!tokensMatch(presented, expected)) {
    logger.warn('webhook: unauthenticated request');
    return { statusCode: 401, headers: {}, body: '' };
  }
  const raw = req.body ?? '';
  const body = req.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (body.byteLength > deps.config.maxBodyBytes) {
    logger.warn('webhook: body too large', { bytes: body.byteLength, max: deps.config.maxBodyBytes });
    return json(413, { message: `body exceeds ${deps.config.maxBodyBytes} bytes` });
  }
  const now = deps.now();
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    return json(400, { error: 'InvalidPayload', field: 'body', message: 'body is not JSON' });
  }
  let synced;
  try {
    synced = parseDeploymentSynced(payload, now.toISOString());
  } catch (err) {
    if (err instanceof InvalidEventError) {
      logger.warn('webhook: invalid payload', { field: err.field, reason: err.message });
      return json(400, { error: 'InvalidPayload', field: err.field, message: err.message });
    }
    throw err;
  }
  if (synced.phase !== 'Succeeded' || synced.syncStatus !== 'Synced' || synced.health !== 'Healthy') {
    return json(202, { status: 'ignored', reason: `${synced.phase}/${synced.syncStatus}/${synced.health} is not Succeeded/Synced/Healthy` });
  }
  const key = revisionKey(synced.app, synced.revision);
  const owner = `${synced.app}@${synced.revision}@${now.toISOString()}`;
  const claim = (status: 'publishing' | 'published') => ({
    key,
    owner,
    expiresAt: new Date(now.getTime() + deps.config.replayWindowSeconds * 1000),
    data: { app: synced.app, revision: synced.revision, status },
  });
  let claimed = await deps.store.putIfAbsent(claim('publishing'), now);
  if (!claimed) {
    const held = await deps.store.get(key, now);
    // Never confirmed: an earlier attempt failed to publish and to release its claim. Take it over.
    if (held?.data['status'] === 'publishing') claimed = await deps.store.replaceIfOwner(key, held.owner, claim('publishing'), now);
    if (claimed) logger.warn('webhook: taking over a claim whose publish was never confirmed', { app: synced.app, revision: synced.revision, heldBy: held?.owner });
  }
  if (!claimed) {
    logger.info('webhook: replay of an already published revision', { app: synced.app, revision: synced.revision });
    return json(200, { status: 'duplicate', app: synced.app, revision: synced.revision });
  }
  const { failed } = await deps.bus.publish([{ source: QUIESCE_SOURCE, detailType: TrafficDetailType.deploymentSynced, detail: synced }]).catch((err: unknown) => ({
    failed: [{ errorCode: (err as Error).name, errorMessage: (err as Error).message }],
  }));
  if (failed.length > 0) {
    const released = await deps.store.deleteIfOwner(key, owner).catch((err: unknown) => err as Error);
    if (released !== true) {
      // The retry still goes through (the claim says `publishing`), but a role or table problem must be seen.
      deps.metrics?.addMetric('failed', MetricUnit.Count, 1);
      logger.error('webhook: claim not released after a failed publish; the retry takes it over', { key, error: released === false ? 'held by another delivery' : released });
    }
    logger.error('webhook: Deployment Synced not published: 503 so ArgoCD retries', { failed: failed.map((f) => `${f.errorCode}: ${f.errorMessage}`) });
    return json(503, { message: 'temporarily unavailable' });
  }
  // Confirmed: from now on a replay is a duplicate. If this write fails, a replay publishes again (harmless).
  await deps.store.replaceIfOwner(key, owner, claim('published'), now).catch((err: unknown) => logger.warn('webhook: claim not marked published', { key, error: err as Error }));
  logger.info('Deployment Synced published', { app: synced.app, revision: synced.revision });
  return json(202, { status: 'accepted', app: synced.app, revision: synced.revision });
}
