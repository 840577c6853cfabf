/**
 * `kubectl kustomize` renders every kustomize base and overlay under infra/k8s, and every object it
 * renders is valid against the Kubernetes API schemas of the version the README supports (1.33): the
 * OpenAPI schemas of Kubernetes v1.33.0 as the `kubernetes-models` package (4.5) ships them, compiled to
 * ajv validators, one per apiVersion + kind. An apiVersion + kind the package has no schema for fails.
 *
 * Why not the yannh/kubernetes-json-schema files kubeconform uses: they are not on the npm registry (the
 * only registry this project installs from); kubernetes-models is, and pins the version by its own.
 * Custom resources are checked against their project's models of the same family: the prometheus-operator
 * ServiceMonitor (an optional component) against @kubernetes-models/prometheus-operator 4.4, Argo CD's
 * Application against @kubernetes-models/argo-cd 2.7, the External Secrets Operator's ExternalSecret
 * against @kubernetes-models/external-secrets 0.5 (its v1beta1 API).
 * The example overlay's bases are remote, at the release tag: tools.ts renders it from this checkout.
 * Limits: these schemas, like the API server's, accept unknown fields, so a misspelt field is not caught
 * here; and the package also keeps schemas of group-versions removed before 1.33 (extensions/v1beta1),
 * so an API that 1.33 no longer serves is not caught either.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { stageNames } from '../../functions/cli/stage-names.ts';
import { packageVersion, parseStackOutputs, renderStage } from '../../bin/render.ts';
import { egressAllows, type NetworkPolicyObject } from './network-policy.ts';
import { available, remoteBases, renderKustomization, skipReason } from './tools.ts';

const root = new URL('../../', import.meta.url).pathname;

/** The Kubernetes minor version the README supports; the schema package below must match it. */
export const KUBERNETES_VERSION = '1.33';

/** Every directory under `dir` with a kustomization file (bases and overlays alike). */
export function kustomizations(dir = join(root, 'infra', 'k8s')): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && /^(kustomization\.ya?ml|Kustomization)$/.test(e.name))) out.push(d);
    for (const e of entries) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(dir);
  return out.sort();
}

interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

/** API groups of custom resources the manifests use -> the models package that has their schemas. */
const CRD_MODELS: Readonly<Record<string, string>> = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'argoproj.io': '@kubernetes-models/argo-cd',
  'external-secrets.io': '@kubernetes-models/external-secrets',
};

/** Validates one object against its apiVersion + kind's schema; returns the problems (none = valid). */
export async function schemaProblems(obj: KubeObject): Promise<string[]> {
  const { apiVersion = '', kind = '' } = obj;
  if (!apiVersion || !kind) return ['no apiVersion or kind'];
  // kubernetes-models lays out one module per kind: core group `v1/<Kind>`, others `<group>/<version>/<Kind>`.
  const pkg = CRD_MODELS[apiVersion.split('/')[0] ?? ''] ?? 'kubernetes-models';
  let model: { new (data: unknown): { validate(): void } } | undefined;
  try {
    const mod = (await import(`${pkg}/${apiVersion}/${kind}`)) as Record<string, unknown>;
    model = mod[kind] as typeof model;
  } catch {
    model = undefined;
  }
  if (!model) return [`no schema for ${apiVersion} ${kind} in kubernetes-models (Kubernetes ${KUBERNETES_VERSION})`];
  try {
    new model(obj).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Renders a kustomization with kubectl (tools.ts). */
export const render = (dir: string) => renderKustomization<KubeObject>(dir);

const hasKubectl = available('kubectl', ['version', '--client']);
if (!hasKubectl) console.warn('kustomize checks SKIPPED: kubectl is not on PATH');

describe.skipIf(!hasKubectl)(`kustomize bases and overlays${skipReason(hasKubectl, 'kubectl is not on PATH')}`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'quiesce-kustomize-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const dirs = kustomizations();

  it('finds the forwarder base, its component, the cluster access and the example overlay', () => {
    expect(dirs.map((d) => relative(root, d))).toEqual(['infra/k8s/cluster-access', 'infra/k8s/forwarder/base', 'infra/k8s/forwarder/components/service-monitor', 'infra/k8s/forwarder/overlays/example']);
  });

  for (const dir of dirs) {
    it(`${relative(root, dir)} renders, and every object is valid Kubernetes ${KUBERNETES_VERSION}`, async () => {
      const r = await render(dir);
      if (!r.ok) throw new Error(`kubectl kustomize failed: ${r.error}`);
      expect(r.objects.length).toBeGreaterThan(0);
      for (const obj of r.objects) expect(await schemaProblems(obj), `${obj.kind}/${obj.metadata?.name}`).toEqual([]);
    });
  }

  it('points the example overlay at this release\'s tag, not at the local clone', () => {
    const text = readFileSync(join(root, 'infra', 'k8s', 'forwarder', 'overlays', 'example', 'kustomization.yaml'), 'utf8');
    const bases = remoteBases(text);
    expect(bases.map((b) => [b.path, b.ref])).toEqual([
      ['infra/k8s/forwarder/base', `v${packageVersion()}`],
      ['infra/k8s/cluster-access', `v${packageVersion()}`],
    ]);
    expect(text).not.toMatch(/\.\.\//);
  });

  it('Argo CD: two stages\' notification components on one Argo CD install render side by side; the ExternalSecret and the Applications are valid', async () => {
    const install = join(scratch, 'argocd-install');
    const green = join(scratch, 'green');
    mkdirSync(install, { recursive: true });
    // What Argo CD's install manifests ship: the ConfigMap and the Secret, empty.
    writeFileSync(join(install, 'argocd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-notifications-cm\n  namespace: argocd\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: argocd-notifications-secret\n  namespace: argocd\ntype: Opaque\n');
    const outputs = parseStackOutputs(readFileSync(join(root, 'infra', 'k8s', 'forwarder', 'overlays', 'example', 'stack-outputs.json'), 'utf8'));
    const greenOutputs = { ...outputs, StackName: 'quiesce-green', Stage: 'green', DeployWebhookUrl: 'https://green0123456789.lambda-url.eu-west-1.on.aws/', WebhookTokenParameterName: '/quiesce/green/webhook-token' };
    for (const [name, text] of renderStage(greenOutputs, { outDir: green })) {
      mkdirSync(dirname(join(green, name)), { recursive: true });
      writeFileSync(join(green, name), text);
    }
    const example = join(root, 'infra', 'argocd', 'example');
    writeFileSync(
      join(install, 'kustomization.yaml'),
      `resources: [argocd.yaml]\ncomponents:\n${[join(example, 'notifications'), join(example, 'token'), join(green, 'argocd', 'notifications'), join(green, 'argocd', 'token')].map((c) => `  - ${relative(install, c)}\n`).join('')}`,
    );
    const r = await render(install);
    if (!r.ok) throw new Error(`kubectl kustomize failed: ${r.error}`);
    for (const obj of r.objects) expect(await schemaProblems(obj), `${obj.kind}/${obj.metadata?.name}`).toEqual([]);
    const cm = r.objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    const keys = (stage: string) => {
      const n = stageNames(stage);
      return [`service.webhook.${n.argocdService}`, `template.${n.argocdTemplate}`, `trigger.${n.argocdTrigger}`];
    };
    expect(Object.keys(cm.data).sort()).toEqual([...keys('prod'), ...keys('green')].sort());
    expect(cm.data[`service.webhook.${stageNames('green').argocdService}`]).toContain(`url: ${greenOutputs.DeployWebhookUrl}`);
    expect(cm.data[`service.webhook.${stageNames('prod').argocdService}`]).toContain(`Bearer $${stageNames('prod').argocdTokenKey}`);
    const secrets = r.objects.filter((o) => o.kind === 'ExternalSecret') as (KubeObject & { spec: { target: { name: string }; data: { secretKey: string; remoteRef: { key: string } }[] } })[];
    expect(secrets.map((e) => [e.spec.target.name, e.spec.data[0]?.secretKey, e.spec.data[0]?.remoteRef.key]).sort()).toEqual([
      ['argocd-notifications-secret', stageNames('green').argocdTokenKey, stageNames('green').webhookTokenParameter],
      ['argocd-notifications-secret', stageNames('prod').argocdTokenKey, stageNames('prod').webhookTokenParameter],
    ]);
    // The Application examples: valid Argo CD objects; the app subscribes to prod's trigger and service.
    const apps = parseAllDocuments(readFileSync(join(root, 'infra', 'argocd', 'applications.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject & { metadata: { annotations?: Record<string, string> } });
    for (const app of apps) expect(await schemaProblems(app), app.metadata.name).toEqual([]);
    const n = stageNames('prod');
    expect(Object.keys(apps[1]?.metadata.annotations ?? {})).toEqual([`notifications.argoproj.io/subscribe.${n.argocdTrigger}.${n.argocdService}`]);
  });

  // An IPv6 cluster (the README supports them): pods have IPv6 addresses only, the API server and EventBridge
  // answer on IPv6, and the Pod Identity agent is at [fd00:ec2::23] (docs/aws-facts.md#pod-identity-agent-addresses).
  it('the forwarder works on an IPv6 cluster as on an IPv4 one: its NetworkPolicy lets it reach the Pod Identity agent, the API server, EventBridge and DNS in either family; nothing pins IPv4', async () => {
    const r = await render(join(root, 'infra', 'k8s', 'forwarder', 'overlays', 'example'));
    if (!r.ok) throw new Error(r.error);
    const policy = r.objects.find((o) => o.kind === 'NetworkPolicy') as (KubeObject & NetworkPolicyObject) | undefined;
    if (!policy) throw new Error('no NetworkPolicy rendered');
    // The Pod Identity agent, both families; a neighbour of either address is not let through.
    expect(egressAllows(policy, { ip: '169.254.170.23', protocol: 'TCP', port: 80 })).toBe(true);
    expect(egressAllows(policy, { ip: 'fd00:ec2::23', protocol: 'TCP', port: 80 })).toBe(true);
    expect(egressAllows(policy, { ip: 'fd00:ec2:0:0:0:0:0:23', protocol: 'TCP', port: 80 })).toBe(true);
    expect(egressAllows(policy, { ip: 'fd00:ec2::24', protocol: 'TCP', port: 80 })).toBe(false);
    expect(egressAllows(policy, { ip: '169.254.170.24', protocol: 'TCP', port: 80 })).toBe(false);
    // The API server's and EventBridge's endpoints on 443, IPv6 and IPv4.
    for (const ip of ['2600:1f18:4a0c:7f00::10', '10.0.12.7']) {
      expect(egressAllows(policy, { ip, protocol: 'TCP', port: 443 }), ip).toBe(true);
    }
    // CoreDNS is reached by selector, whatever its address family.
    expect(egressAllows(policy, { pod: true, protocol: 'UDP', port: 53 })).toBe(true);
    expect(egressAllows(policy, { pod: true, protocol: 'TCP', port: 53 })).toBe(true);
    // Nothing else: the agent's port on another address, an arbitrary port.
    expect(egressAllows(policy, { ip: '2600:1f18:4a0c:7f00::10', protocol: 'TCP', port: 80 })).toBe(false);
    expect(egressAllows(policy, { ip: '2600:1f18:4a0c:7f00::10', protocol: 'TCP', port: 8443 })).toBe(false);

    // Nothing in the manifests pins IPv4: no Service restricted to it, no host network, no probe or
    // variable naming an IPv4 address; the only IPv4 literal is the agent's, next to its IPv6 twin.
    for (const svc of r.objects.filter((o) => o.kind === 'Service') as (KubeObject & { spec: { ipFamilies?: string[]; ipFamilyPolicy?: string } })[]) {
      expect(svc.spec.ipFamilies ?? ['IPv6'], svc.metadata?.name).toContain('IPv6');
    }
    const text = JSON.stringify(r.objects);
    expect(text).not.toMatch(/"hostNetwork":true/);
    expect([...new Set(text.match(/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d+)?\b/g) ?? [])]).toEqual(['169.254.170.23/32']);
    expect(text).toContain('fd00:ec2::23/128');
  });

  it('catches a deliberately broken copy: a patch to a missing object, and an invalid field', async () => {
    const copy = join(scratch, 'forwarder');
    cpSync(join(root, 'infra', 'k8s', 'forwarder'), copy, { recursive: true });
    cpSync(join(root, 'infra', 'k8s', 'cluster-access'), join(scratch, 'cluster-access'), { recursive: true });
    const overlay = join(copy, 'overlays', 'example');
    writeFileSync(join(overlay, 'patch.yaml'), 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: no-such-account\n  namespace: quiesce\n');
    writeFileSync(join(overlay, 'kustomization.yaml'), `${readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')}patches:\n  - path: patch.yaml\n`);
    const missing = await render(overlay);
    expect(missing.ok).toBe(false);
    expect(missing.ok ? '' : missing.error).toMatch(/no-such-account/);

    const r = await render(join(root, 'infra', 'k8s', 'forwarder', 'base'));
    if (!r.ok) throw new Error(r.error);
    const deployment = structuredClone(r.objects.find((o) => o.kind === 'Deployment')) as KubeObject & { spec: { replicas: unknown } };
    deployment.spec.replicas = 'one';
    expect((await schemaProblems(deployment)).join()).toMatch(/replicas must be integer/);
    // A custom resource is held to its own schema too.
    expect((await schemaProblems({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'x' }, spec: { selector: {}, endpoints: 'all' } } as KubeObject)).join()).toMatch(/endpoints must be array/);
    expect(await schemaProblems({ apiVersion: 'apps/v1', kind: 'NoSuchKind', metadata: { name: 'x' } })).toEqual([
      `no schema for apps/v1 NoSuchKind in kubernetes-models (Kubernetes ${KUBERNETES_VERSION})`,
    ]);
  });
});
