/**
 * The deploy webhook end to end: the real handler and wiring (SSM token, DynamoDB claim, EventBridge publish)
 * against the fake AWS, fed the sample ArgoCD body in events/.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '#core/adapters/aws/index.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { fakeAws } from '../fakes/aws/shared.ts';
import { seedTrafficTopology, WEBHOOK_TOKEN, type TrafficTopology } from '../fakes/traffic.ts';
import { buildWebhookDeps, makeHandler } from '../../functions/deploy-webhook/handler.ts';
import { lambdaContext } from './harness.ts';
import { tokensMatch } from '../../functions/deploy-webhook/auth.ts';

const body = readFileSync(new URL('../../events/argocd-webhook-body.json', import.meta.url), 'utf8');

function webhook(t: TrafficTopology, env: Record<string, string> = {}) {
  const handler = makeHandler(() =>
    buildWebhookDeps({
      env: { WEBHOOK_TOKEN_PARAMETER: t.tokenParameter, STATE_TABLE: t.table, EVENT_BUS: t.bus, WEBHOOK_MAX_BODY_BYTES: '4096', ...env },
      clients: createAwsClients(),
      logger: createLogger('deploy-webhook'),
      now: () => new Date(fakeAws.clock.now()),
    }),
  );
  return (event: APIGatewayProxyEventV2) => handler(event, lambdaContext);
}
const request = (headers: Record<string, string>, b: string = body): APIGatewayProxyEventV2 => ({ headers, body: b, isBase64Encoded: false }) as unknown as APIGatewayProxyEventV2;
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const synced = () => fakeAws.events.published('quiesce-audit').filter((p) => p.event['detail-type'] === 'Deployment Synced');

describe('deploy webhook', () => {
  describe('auth matrix', () => {
    it.each([
      ['no token', {}],
      ['a wrong token of the same length', bearer(WEBHOOK_TOKEN.replace(/.$/, 'X'))],
      ['a shorter token (a prefix of the right one)', bearer(WEBHOOK_TOKEN.slice(0, 8))],
      ['a longer token (the right one plus more)', bearer(`${WEBHOOK_TOKEN}extra`)],
      ['another scheme', { authorization: `Basic ${WEBHOOK_TOKEN}` }],
    ])('%s: 401 with no detail, nothing published', async (_name, headers) => {
      const t = seedTrafficTopology(fakeAws);
      const res = await webhook(t)(request(headers));
      expect(res).toEqual({ statusCode: 401, headers: {}, body: '' });
      expect(synced()).toEqual([]);
      expect(fakeAws.calls.count('dynamodb')).toBe(0);
    });

    it('the right token: 202 and a normalized Deployment Synced on the bus', async () => {
      const t = seedTrafficTopology(fakeAws);
      const res = await webhook(t)(request(bearer(WEBHOOK_TOKEN)));
      expect(res.statusCode).toBe(202);
      expect(JSON.parse(res.body)).toMatchObject({ status: 'accepted', app: 'shop' });
      expect(synced()).toHaveLength(1);
      expect(synced()[0]!.event).toMatchObject({
        source: 'quiesce',
        detail: { app: 'shop', revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', health: 'Healthy', destination: { name: 'green' }, receivedAt: '2026-11-21T12:00:00.000Z' },
      });
    });

    it('reads the token with decryption once and serves it from the cache until the TTL', async () => {
      const t = seedTrafficTopology(fakeAws);
      const h = webhook(t, { WEBHOOK_TOKEN_CACHE_SECONDS: '60' });
      await h(request(bearer('wrong')));
      await h(request(bearer('wrong')));
      expect(fakeAws.calls.count('ssm', 'GetParameter')).toBe(1);
      // Rotated: the old token works until the cache expires, then only the new one.
      fakeAws.ssm.putParameter(t.tokenParameter, 'rotated-token');
      fakeAws.clock.advance(61_000);
      expect((await h(request(bearer(WEBHOOK_TOKEN)))).statusCode).toBe(401);
      expect((await h(request(bearer('rotated-token')))).statusCode).toBe(202);
      expect(fakeAws.calls.count('ssm', 'GetParameter')).toBe(2);
    });

    it('a missing token parameter is a 503 (ArgoCD retries), never an open door', async () => {
      const t = seedTrafficTopology(fakeAws);
      const res = await webhook(t, { WEBHOOK_TOKEN_PARAMETER: '/quiesce/missing' })(request(bearer(WEBHOOK_TOKEN)));
      expect(res.statusCode).toBe(503);
      expect(synced()).toEqual([]);
    });

    it('compares in constant time whatever the lengths (HMAC digests)', () => {
      expect(tokensMatch('abc', 'abc')).toBe(true);
      expect(tokensMatch('abc', 'abcd')).toBe(false);
      expect(tokensMatch('', '')).toBe(false);
    });
  });

  it('a configuration error is a 500 with no detail (ArgoCD retries), before any AWS call', async () => {
    seedTrafficTopology(fakeAws);
    const calls = fakeAws.calls.count();
    const handler = makeHandler(() => buildWebhookDeps({ env: { STATE_TABLE: 't', EVENT_BUS: 'b' }, clients: createAwsClients() }));
    expect(await handler(request(bearer(WEBHOOK_TOKEN)), lambdaContext)).toEqual({ statusCode: 500, headers: {}, body: '' });
    expect(fakeAws.calls.count()).toBe(calls);
  });

  it('413 for an oversized body, before parsing it', async () => {
    const t = seedTrafficTopology(fakeAws);
    const big = JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(5000) });
    const res = await webhook(t)(request(bearer(WEBHOOK_TOKEN), big));
    expect(res.statusCode).toBe(413);
    expect(synced()).toEqual([]);
  });

  it.each([
    ['not JSON', '{"app": ', 'body'],
    ['a JSON array', '[]', 'body'],
    ['no revision', JSON.stringify({ ...JSON.parse(body), revision: undefined }), 'revision'],
    ['an empty revision and no revisions', JSON.stringify({ ...JSON.parse(body), revision: '' }), 'revision'],
    ['revisions that are not a list of revisions', JSON.stringify({ ...JSON.parse(body), revision: '', revisions: ['a b'] }), 'revisions'],
    ['a bad app name', JSON.stringify({ ...JSON.parse(body), app: 'Shop App!' }), 'app'],
    ['a bad finishedAt', JSON.stringify({ ...JSON.parse(body), finishedAt: 'yesterday' }), 'finishedAt'],
    ['no destination', JSON.stringify({ ...JSON.parse(body), destination: {} }), 'destination'],
    ['an unknown health', JSON.stringify({ ...JSON.parse(body), health: 'Fine' }), 'health'],
  ])('400 naming the field for %s', async (_name, b, field) => {
    const t = seedTrafficTopology(fakeAws);
    const res = await webhook(t)(request(bearer(WEBHOOK_TOKEN), b));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'InvalidPayload', field });
    expect(synced()).toEqual([]);
  });

  it('a replay of the same app + revision publishes nothing more (200 duplicate); a new revision does', async () => {
    const t = seedTrafficTopology(fakeAws);
    const h = webhook(t);
    expect((await h(request(bearer(WEBHOOK_TOKEN)))).statusCode).toBe(202);
    const replay = await h(request(bearer(WEBHOOK_TOKEN)));
    expect(replay.statusCode).toBe(200);
    expect(JSON.parse(replay.body)).toMatchObject({ status: 'duplicate' });
    expect(synced()).toHaveLength(1);
    const next = JSON.stringify({ ...JSON.parse(body), revision: 'a0b1c2d' });
    expect((await h(request(bearer(WEBHOOK_TOKEN), next))).statusCode).toBe(202);
    expect(synced()).toHaveLength(2);
  });

  it('a failed publish releases the claim and answers 503, so the ArgoCD retry goes through', async () => {
    const t = seedTrafficTopology(fakeAws);
    const h = webhook(t);
    fakeAws.events.failNextEntries(4, 'InternalFailure');
    expect((await h(request(bearer(WEBHOOK_TOKEN)))).statusCode).toBe(503);
    expect(synced()).toEqual([]);
    expect((await h(request(bearer(WEBHOOK_TOKEN)))).statusCode).toBe(202);
    expect(synced()).toHaveLength(1);
  });

  it('a failed publish whose claim release fails too: logged, counted (failed), and the ArgoCD retry still goes through', async () => {
    const t = seedTrafficTopology(fakeAws);
    const logger = createLogger('deploy-webhook');
    const metrics = createMetrics('deploy-webhook');
    const errors = vi.spyOn(logger, 'error');
    const counted = vi.spyOn(metrics, 'addMetric');
    const h = makeHandler(
      () => buildWebhookDeps({ env: { WEBHOOK_TOKEN_PARAMETER: t.tokenParameter, STATE_TABLE: t.table, EVENT_BUS: t.bus }, clients: createAwsClients(), logger, metrics, now: () => new Date(fakeAws.clock.now()) }),
      logger,
      metrics,
    );
    fakeAws.events.failNextEntries(4, 'InternalFailure');
    fakeAws.faults.fail('DeleteItem', { service: 'dynamodb', code: 'AccessDeniedException', message: 'not authorized to perform: dynamodb:DeleteItem' });
    expect((await h(request(bearer(WEBHOOK_TOKEN)), lambdaContext)).statusCode).toBe(503);
    expect(errors.mock.calls.map((c) => c[0])).toContain('webhook: claim not released after a failed publish; the retry takes it over');
    expect(counted).toHaveBeenCalledWith('failed', 'Count', 1);
    const retry = await h(request(bearer(WEBHOOK_TOKEN)), lambdaContext);
    expect(retry.statusCode).toBe(202);
    expect(synced()).toHaveLength(1);
    // Confirmed now: the next replay is a duplicate.
    expect(JSON.parse((await h(request(bearer(WEBHOOK_TOKEN)), lambdaContext)).body)).toMatchObject({ status: 'duplicate' });
    expect(synced()).toHaveLength(1);
  });

  it('a multi-source sync (revision "", revisions) is claimed and published as one sync of its revisions', async () => {
    const t = seedTrafficTopology(fakeAws);
    const h = webhook(t);
    const multi = JSON.stringify({ ...JSON.parse(body), revision: '', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] });
    expect((await h(request(bearer(WEBHOOK_TOKEN), multi))).statusCode).toBe(202);
    expect(synced()[0]!.event.detail).toMatchObject({ revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62,1.4.2', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] });
    expect(JSON.parse((await h(request(bearer(WEBHOOK_TOKEN), multi))).body)).toMatchObject({ status: 'duplicate' });
    // A new chart version with the same git revision is another sync.
    const bumped = JSON.stringify({ ...JSON.parse(multi), revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.3'] });
    expect((await h(request(bearer(WEBHOOK_TOKEN), bumped))).statusCode).toBe(202);
    expect(synced()).toHaveLength(2);
  });

  it('a sync that is not healthy is accepted and ignored', async () => {
    const t = seedTrafficTopology(fakeAws);
    const res = await webhook(t)(request(bearer(WEBHOOK_TOKEN), JSON.stringify({ ...JSON.parse(body), health: 'Degraded' })));
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ignored' });
    expect(synced()).toEqual([]);
  });
});
