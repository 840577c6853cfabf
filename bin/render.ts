/**
 * `npm run render`: everything a stage needs outside the stack, written from the stack's own outputs, so no
 * name is typed by hand (README, Deploy):
 *
 *   <out>/kustomization.yaml, <out>/namespace.yaml   the cluster side: the pod forwarder (its image in the
 *                                                    stack's repository, tagged with package.json's version;
 *                                                    the stack's bus; this cluster and region) and the
 *                                                    read-only RBAC of the functions' access entries
 *   <out>/terraform.tfvars.json                      the inputs of infra/terraform (the stack it reads)
 *   <out>/argocd-notifications-cm.yaml               the ArgoCD notifications config to merge (its URL and
 *                                                    token are Secret references the README fills in)
 *
 *   aws cloudformation describe-stacks --stack-name quiesce-$STAGE > stack.json
 *   npm run render -- --outputs stack.json [--out dist/deploy/$STAGE] [--service-monitor]
 *   kubectl apply -k dist/deploy/$STAGE
 *
 * The outputs file is what `describe-stacks` prints (or a plain {"OutputKey": "value"} map).
 * infra/k8s/forwarder/overlays/example is this script's output for the outputs file next to it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The stack outputs the rendering reads (serverless.yml `Outputs`). */
export const RENDER_OUTPUTS = ['StackName', 'Stage', 'ClusterName', 'Region', 'EventBusName', 'ForwarderImageRepositoryUri', 'ForwarderNamespace'] as const;
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

/** package.json's version: the forwarder image's tag. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Options of {@link renderStage}. */
export interface RenderOptions {
  /** Where the files will live: the overlay's paths to the bases are relative to it. */
  readonly outDir: string;
  /** Add the prometheus-operator ServiceMonitor component. */
  readonly serviceMonitor?: boolean;
  readonly version?: string;
}

const HEADER = (outputs: StackOutputs): string =>
  `# Written by \`npm run render\` (bin/render.ts) from the outputs of stack ${outputs['StackName']}: render again rather than edit.\n`;

/** The files of one stage, by name: pure (the outputs and the options in, the file contents out). */
export function renderStage(outputs: StackOutputs, options: RenderOptions): Map<string, string> {
  const missing = RENDER_OUTPUTS.filter((k) => !outputs[k]);
  if (missing.length > 0) throw new Error(`stack outputs lack ${missing.join(', ')}: is this a quiesce stack, deployed from this version?`);
  const rel = (...p: string[]): string => relative(options.outDir, join(root, ...p)).split('\\').join('/');
  const version = options.version ?? packageVersion();
  const namespace = outputs['ForwarderNamespace'] as string;
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace,
    resources: ['namespace.yaml', rel('infra', 'k8s', 'forwarder', 'base'), rel('infra', 'k8s', 'cluster-access')],
    ...(options.serviceMonitor ? { components: [rel('infra', 'k8s', 'forwarder', 'components', 'service-monitor')] } : {}),
    images: [{ name: 'quiesce-pod-forwarder', newName: outputs['ForwarderImageRepositoryUri'], newTag: version }],
    configMapGenerator: [
      {
        name: 'pod-forwarder-config',
        behavior: 'merge',
        literals: [`CLUSTER_NAME=${outputs['ClusterName']}`, `EVENT_BUS_NAME=${outputs['EventBusName']}`, `AWS_REGION=${outputs['Region']}`],
      },
    ],
  };
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  return new Map([
    ['kustomization.yaml', HEADER(outputs) + stringify(kustomization)],
    ['namespace.yaml', HEADER(outputs) + stringify(ns)],
    ['terraform.tfvars.json', `${JSON.stringify({ quiesce_stack_name: outputs['StackName'] }, null, 2)}\n`],
    ['argocd-notifications-cm.yaml', HEADER(outputs) + stringify(argocdNotificationsConfigMap())],
  ]);
}

/**
 * The ConfigMap of infra/argocd/argocd-notifications-cm.yaml alone (the file also shows the Secret's keys
 * and a subscribed Application), as a merge patch for `kubectl patch configmap --type merge --patch-file`.
 */
export function argocdNotificationsConfigMap(file = join(root, 'infra', 'argocd', 'argocd-notifications-cm.yaml')): Record<string, unknown> {
  const cm = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } })
    .find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'argocd-notifications-cm');
  if (!cm) throw new Error(`${file}: no ConfigMap argocd-notifications-cm`);
  return cm as Record<string, unknown>;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outputs: { type: 'string' }, out: { type: 'string' }, 'service-monitor': { type: 'boolean', default: false } } });
  try {
    if (!values.outputs) throw new Error('usage: npm run render -- --outputs <describe-stacks.json> [--out <dir>] [--service-monitor]');
    const outputs = parseStackOutputs(readFileSync(values.outputs, 'utf8'));
    const outDir = resolve(values.out ?? join(root, 'dist', 'deploy', outputs['Stage'] ?? 'stage'));
    mkdirSync(outDir, { recursive: true });
    for (const [name, text] of renderStage(outputs, { outDir, serviceMonitor: values['service-monitor'] })) {
      writeFileSync(join(outDir, name), text);
      console.log(`wrote ${relative(process.cwd(), join(outDir, name))}`);
    }
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
