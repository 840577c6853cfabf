/**
 * The ArgoCD notifications config (infra/argocd/argocd-notifications-cm.yaml) renders, as the
 * notifications engine renders it (go-template.ts: Go text/template rules, Sprig's toJson), to a body
 * the deploy webhook (functions/deploy-webhook/webhook.ts, the real request handler) accepts: for a
 * single-source and for a multi-source Application.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { handleWebhook, type WebhookDeps } from '../../functions/deploy-webhook/webhook.ts';
import { createLogger } from '../../functions/_core/telemetry.ts';
import { renderGoTemplate } from './go-template.ts';

const TOKEN = 'test-token';
const cm = parseAllDocuments(readFileSync(new URL('../../infra/argocd/argocd-notifications-cm.yaml', import.meta.url), 'utf8'))
  .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> })
  .find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'argocd-notifications-cm');
const template = parse(cm?.data?.['template.quiesce-deployment-synced'] ?? '') as { webhook: { quiesce: { method: string; body: string } } };

/** A synced, healthy Application as the notifications engine sees it (`.app`), single source. */
const singleSource = {
  metadata: { name: 'shop', namespace: 'argocd' },
  spec: {
    project: 'default',
    destination: { name: 'green', namespace: 'shop' },
    source: { repoURL: 'https://git.example.com/platform/shop.git', path: 'deploy/green', targetRevision: 'main' },
  },
  status: {
    sync: { status: 'Synced', revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62' },
    health: { status: 'Healthy' },
    operationState: {
      phase: 'Succeeded',
      finishedAt: '2026-11-21T11:59:58Z',
      syncResult: { revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62' },
    },
  },
};

/**
 * The same app with two sources: ArgoCD fills `revisions` (one per source) and leaves `revision` ""
 * (SyncOperationResult.revision has no omitempty; docs/aws-facts.md#argo-cd-multi-source-revisions).
 */
const multiSource = {
  ...singleSource,
  spec: { ...singleSource.spec, source: undefined, sources: [singleSource.spec.source, { repoURL: 'https://charts.example.com', chart: 'shop', targetRevision: '1.4.2' }] },
  status: {
    ...singleSource.status,
    sync: { status: 'Synced', revision: '', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] },
    operationState: { ...singleSource.status.operationState, syncResult: { revision: '', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] } },
  },
};

function deps(): WebhookDeps {
  return {
    config: { tokenParameter: '/quiesce/test/webhook-token', maxBodyBytes: 4096, replayWindowSeconds: 3600 },
    secrets: { get: async () => TOKEN },
    store: { putIfAbsent: async () => true, get: async () => undefined, updateIfOwner: async () => true, replaceIfOwner: async () => true, deleteIfOwner: async () => true },
    bus: { publish: async () => ({ failed: [] }) },
    logger: createLogger('argocd-notifications-test'),
    now: () => new Date('2026-11-21T12:00:00Z'),
  } as WebhookDeps;
}

async function deliver(app: unknown): Promise<{ statusCode: number; body: unknown }> {
  const body = renderGoTemplate(template.webhook.quiesce.body, { app });
  const res = await handleWebhook(deps(), { headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body, isBase64Encoded: false });
  return { statusCode: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : undefined };
}

describe('ArgoCD notifications template -> deploy webhook', () => {
  it('is a POST webhook template for the quiesce service', () => {
    expect(cm?.data?.['service.webhook.quiesce']).toContain('Bearer $quiesce-token');
    expect(template.webhook.quiesce.method).toBe('POST');
  });

  it('renders, for a single-source app, a body the webhook accepts', async () => {
    const body = JSON.parse(renderGoTemplate(template.webhook.quiesce.body, { app: singleSource })) as Record<string, unknown>;
    expect(body).toMatchObject({ app: 'shop', revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', phase: 'Succeeded', health: 'Healthy' });
    expect(await deliver(singleSource)).toEqual({ statusCode: 202, body: { status: 'accepted', app: 'shop', revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62' } });
  });

  it('renders, for a multi-source app, "revision": "" and the revisions, which the webhook accepts as one sync of both', async () => {
    const body = JSON.parse(renderGoTemplate(template.webhook.quiesce.body, { app: multiSource })) as Record<string, unknown>;
    expect(body).toMatchObject({ revision: '', revisions: ['9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62', '1.4.2'] });
    expect(await deliver(multiSource)).toEqual({ statusCode: 202, body: { status: 'accepted', app: 'shop', revision: '9f1c2ab7e4d85c3a1b0f6e29d7c4a8b5e3f10d62,1.4.2' } });
  });

  it('keys the trigger (oncePer) on what identifies a sync of either kind, not on revision alone', () => {
    const trigger = parse(cm?.data?.['trigger.on-synced-healthy-quiesce'] ?? '') as { oncePer: string }[];
    // notifications-engine formats the oncePer value with %v: revision alone is "" for every multi-source sync.
    expect(trigger[0]?.oncePer).toBe('[app.status.operationState.syncResult.revision, app.status.operationState.syncResult.revisions]');
  });

  it('is what a stage\'s component (npm run render) puts into argocd-notifications-cm, renamed per stage, accepted the same', async () => {
    const stageCm = parse(readFileSync(new URL('../../infra/argocd/example/notifications/argocd-notifications-cm.yaml', import.meta.url), 'utf8')) as { data: Record<string, string> };
    const stageTemplate = parse(stageCm.data['template.quiesce-prod-deployment-synced'] ?? '') as { webhook: Record<string, { method: string; body: string }> };
    expect(Object.keys(stageTemplate.webhook)).toEqual(['quiesce-prod']);
    expect(stageTemplate.webhook['quiesce-prod']?.body).toBe(template.webhook.quiesce.body);
    expect(stageCm.data['service.webhook.quiesce-prod']).toContain('Bearer $quiesce-prod-webhook-token');
    const trigger = parse(stageCm.data['trigger.on-synced-healthy-quiesce-prod'] ?? '') as { send: string[]; oncePer: string }[];
    expect(trigger[0]?.send).toEqual(['quiesce-prod-deployment-synced']);
    expect(trigger[0]?.oncePer).toBe('[app.status.operationState.syncResult.revision, app.status.operationState.syncResult.revisions]');
  });

  it('a template the renderer does not implement fails loudly instead of rendering wrongly', () => {
    expect(() => renderGoTemplate('{{ range .app.spec.sources }}x{{ end }}', { app: multiSource })).toThrow(/outside the subset/);
    expect(() => renderGoTemplate('{{ .app.status.nothing.here | toJson }}', { app: singleSource })).toThrow(/nil pointer evaluating interface \{\}\.here/);
    expect(renderGoTemplate('{{ .app.spec.destination.server | toJson }} {{ .app.spec.destination.server }}', { app: singleSource })).toBe('null <no value>');
  });
});
