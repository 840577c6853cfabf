/**
 * `npm run render`: everything a stage needs outside the stack, written from the stack's own outputs into a
 * directory meant to be committed to the GitOps repository Argo CD syncs (no name typed by hand):
 *
 *   <out>/cluster/                the cluster side, a kustomize overlay of the release's remote bases at the
 *                                 stack's release tag (the pod forwarder, the functions' read-only RBAC):
 *                                 this cluster, this bus, this region; an Argo CD Application syncs it
 *   <out>/argocd/notifications/   a kustomize Component for the Argo CD install: the stage's notifications
 *                                 service, template and trigger patched into argocd-notifications-cm, all
 *                                 named per stage (two stages in one Argo CD do not overwrite each other),
 *                                 the token read from argocd-notifications-secret
 *   <out>/argocd/token/           an optional Component: an ExternalSecret that puts the stage's token
 *                                 (the SSM SecureString) into argocd-notifications-secret, no command line
 *
 *   aws cloudformation describe-stacks --stack-name quiesce-$STAGE > stack.json
 *   npm run render -- --outputs stack.json --out <gitops repo>/quiesce/$STAGE [--service-monitor]
 *     [--image <repository>] [--secret-store <name>]
 *
 * The outputs file is what `describe-stacks` prints (or a plain {"OutputKey": "value"} map). A stack of a
 * release (Version x.y.z) gets remote bases at the tag vx.y.z and the release's image; a development build
 * (x.y.z-dev.g<commit>) has no tag: its overlay points at this clone and at the stack's own image repository
 * (where that build's image is pushed under its own tag), and the script says so.
 * infra/k8s/forwarder/overlays/example and infra/argocd/example are this script's output for the outputs
 * file next to the first (test/deliverables/coherence.test.ts keeps them so).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { stageNames } from '../functions/cli/stage-names.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The stack outputs the rendering reads (serverless.yml `Outputs`). */
export const RENDER_OUTPUTS = ['StackName', 'Version', 'Stage', 'ClusterName', 'Region', 'EventBusName', 'ForwarderNamespace', 'ForwarderImageRepositoryUri', 'DeployWebhookUrl', 'WebhookTokenParameterName'] as const;
export type StackOutputs = Readonly<Record<string, string>>;

/** Reads `describe-stacks` JSON (Stacks[0].Outputs), an Outputs list, or a plain map, into a map. */
export function parseStackOutputs(text: string): StackOutputs {
  const doc = JSON.parse(text) as unknown;
  const list = (doc as { Stacks?: { Outputs?: unknown }[] })?.Stacks?.[0]?.Outputs ?? doc;
  if (Array.isArray(list)) {
    return Object.fromEntries(list.map((o) => [String((o as { OutputKey: unknown }).OutputKey), String((o as { OutputValue: unknown }).OutputValue)]));
  }
  if (list && typeof list === 'object') return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));
  throw new Error('stack outputs: expected `aws cloudformation describe-stacks` JSON or a {"OutputKey": "value"} map');
}

/** package.json's version: the release a checkout is (its tag is v<version>). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Where the project lives (package.json `repository`): the remote bases' and the image's home. */
export function projectHome(): { readonly repository: string; readonly image: string } {
  const url = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { repository?: { url?: string } }).repository?.url ?? '';
  const m = /^(?:git\+)?https:\/\/github\.com\/([^/]+)\/([^/.]+)(?:\.git)?$/.exec(url);
  if (!m) throw new Error(`package.json repository.url must be https://github.com/<owner>/<name>.git, got "${url}"`);
  return { repository: `https://github.com/${m[1]}/${m[2]}`, image: `ghcr.io/${m[1]}/quiesce-pod-forwarder` };
}

/** A released version (x.y.z): the only kind with a tag to point at. */
export const isRelease = (version: string): boolean => /^\d+\.\d+\.\d+$/.test(version);

/** Options of {@link renderStage}. */
export interface RenderOptions {
  /** Where the files will live: a development build's overlay points at this clone relative to it. */
  readonly outDir: string;
  /** Add the prometheus-operator ServiceMonitor component. */
  readonly serviceMonitor?: boolean;
  /** The forwarder image's repository instead of the release's (a mirror, e.g. the stack's ECR repository). */
  readonly image?: string;
  /** The External Secrets Operator (Cluster)SecretStore that reads SSM Parameter Store (default aws-parameter-store). */
  readonly secretStore?: string;
}

const HEADER = (outputs: StackOutputs): string =>
  `# Written by \`npm run render\` (bin/render.ts) from the outputs of stack ${outputs['StackName']}: render again rather than edit.\n`;

/** A path of this repository as a kustomize resource: remote at the release's tag, or relative to `outDir`. */
function base(path: string, version: string, outDir: string): string {
  if (isRelease(version)) return `${projectHome().repository}//${path}?ref=v${version}`;
  return relative(outDir, join(root, path)).split('\\').join('/');
}

/** The files of one stage, by path under the output directory: pure (the outputs and options in, the texts out). */
export function renderStage(outputs: StackOutputs, options: RenderOptions): Map<string, string> {
  const missing = RENDER_OUTPUTS.filter((k) => !outputs[k]);
  if (missing.length > 0) throw new Error(`stack outputs lack ${missing.join(', ')}: is this a quiesce stack, deployed from this version?`);
  const version = outputs['Version'] as string;
  const stage = outputs['Stage'] as string;
  const release = isRelease(version);
  const clusterDir = join(options.outDir, 'cluster');
  const namespace = outputs['ForwarderNamespace'] as string;
  // A development build's image is the one pushed to the stack's repository under the build's own tag.
  const image = options.image ?? (release ? undefined : outputs['ForwarderImageRepositoryUri']);
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace,
    resources: ['namespace.yaml', base('infra/k8s/forwarder/base', version, clusterDir), base('infra/k8s/cluster-access', version, clusterDir)],
    ...(options.serviceMonitor ? { components: [base('infra/k8s/forwarder/components/service-monitor', version, clusterDir)] } : {}),
    ...(image ? { images: [{ name: 'quiesce-pod-forwarder', newName: image, newTag: version }] } : {}),
    configMapGenerator: [
      {
        name: 'pod-forwarder-config',
        behavior: 'merge',
        literals: [`CLUSTER_NAME=${outputs['ClusterName']}`, `EVENT_BUS_NAME=${outputs['EventBusName']}`, `AWS_REGION=${outputs['Region']}`],
      },
    ],
  };
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  const names = stageNames(stage);
  const notifications = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    patches: [{ path: 'argocd-notifications-cm.yaml' }],
  };
  const token = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    resources: ['external-secret.yaml'],
  };
  const externalSecret = {
    apiVersion: 'external-secrets.io/v1beta1',
    kind: 'ExternalSecret',
    metadata: { name: `${names.argocdService}-webhook-token`, namespace: 'argocd' },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: options.secretStore ?? 'aws-parameter-store' },
      // Merge: argocd-notifications-secret is Argo CD's, shared by every notification service.
      target: { name: 'argocd-notifications-secret', creationPolicy: 'Merge' },
      data: [{ secretKey: names.argocdTokenKey, remoteRef: { key: outputs['WebhookTokenParameterName'] } }],
    },
  };
  return new Map([
    ['cluster/kustomization.yaml', HEADER(outputs) + (release ? '' : `# A development build (${version}): the bases are this clone, not a release tag.\n`) + stringify(kustomization)],
    ['cluster/namespace.yaml', HEADER(outputs) + stringify(ns)],
    ['argocd/notifications/kustomization.yaml', HEADER(outputs) + '# Add to the kustomization that installs Argo CD (namespace argocd): components: [<this directory>]\n' + stringify(notifications)],
    ['argocd/notifications/argocd-notifications-cm.yaml', HEADER(outputs) + stringify(argocdNotificationsPatch(outputs), { blockQuote: 'literal' })],
    ['argocd/token/kustomization.yaml', HEADER(outputs) + '# Optional, with the External Secrets Operator: the webhook token from SSM into argocd-notifications-secret.\n' + stringify(token)],
    ['argocd/token/external-secret.yaml', HEADER(outputs) + stringify(externalSecret)],
  ]);
}

/**
 * The stage's part of argocd-notifications-cm, from the stage-neutral definition in
 * infra/argocd/argocd-notifications-cm.yaml: its service, template and trigger renamed per stage
 * (infra/names.yml), the URL the stack's DeployWebhookUrl, the token a key of argocd-notifications-secret.
 */
export function argocdNotificationsPatch(outputs: StackOutputs, file = join(root, 'infra', 'argocd', 'argocd-notifications-cm.yaml')): Record<string, unknown> {
  const cm = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> })
    .find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'argocd-notifications-cm');
  const data = cm?.data ?? {};
  const service = data['service.webhook.quiesce'];
  const template = data['template.quiesce-deployment-synced'];
  const trigger = data['trigger.on-synced-healthy-quiesce'];
  if (!service || !template || !trigger) throw new Error(`${file}: expected service.webhook.quiesce, template.quiesce-deployment-synced and trigger.on-synced-healthy-quiesce`);
  const names = stageNames(outputs['Stage'] as string);
  const templateDoc = parse(template) as { webhook: Record<string, unknown> };
  templateDoc.webhook = { [names.argocdService]: templateDoc.webhook['quiesce'] };
  const triggerDoc = (parse(trigger) as Record<string, unknown>[]).map((t) => ({ ...t, send: [names.argocdTemplate] }));
  const serviceText = service.replace('$quiesce-url', outputs['DeployWebhookUrl'] as string).replace('$quiesce-token', `$${names.argocdTokenKey}`);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-notifications-cm', namespace: 'argocd' },
    data: {
      [`service.webhook.${names.argocdService}`]: serviceText,
      [`template.${names.argocdTemplate}`]: stringify(templateDoc, { lineWidth: 0 }),
      [`trigger.${names.argocdTrigger}`]: stringify(triggerDoc, { lineWidth: 0 }),
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { outputs: { type: 'string' }, out: { type: 'string' }, 'service-monitor': { type: 'boolean', default: false }, image: { type: 'string' }, 'secret-store': { type: 'string' } },
  });
  try {
    if (!values.outputs) throw new Error('usage: npm run render -- --outputs <describe-stacks.json> [--out <dir>] [--service-monitor] [--image <repository>] [--secret-store <name>]');
    const outputs = parseStackOutputs(readFileSync(values.outputs, 'utf8'));
    const outDir = resolve(values.out ?? join(root, 'dist', 'deploy', outputs['Stage'] ?? 'stage'));
    const files = renderStage(outputs, { outDir, serviceMonitor: values['service-monitor'], ...(values.image ? { image: values.image } : {}), ...(values['secret-store'] ? { secretStore: values['secret-store'] } : {}) });
    for (const [name, text] of files) {
      mkdirSync(dirname(join(outDir, name)), { recursive: true });
      writeFileSync(join(outDir, name), text);
      console.log(`wrote ${relative(process.cwd(), join(outDir, name))}`);
    }
    if (!isRelease(outputs['Version'] ?? '')) console.warn(`${outputs['Version']} is a development build: the overlay points at this clone (${root}), for trying it out only; deploy a release for Argo CD.`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
