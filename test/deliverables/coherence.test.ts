/**
 * One coherent deployment (issue 12): for one stage, the packaged stack, the kustomize overlay and the
 * terraform inputs `npm run render` writes from the stack's outputs, the terraform module, the ArgoCD config
 * and the README's deploy commands, and no name that one of them uses is missing from what another creates.
 *
 * The stack's outputs are what CloudFormation would answer for this template (each Ref / GetAtt resolved
 * to the name the template gives the resource, in a made-up account), so the overlay is rendered exactly as
 * an operator's would be; kubectl renders it (bases, cluster access, the ServiceMonitor component).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { stageNames } from '../../functions/cli/stage-names.ts';
import { packageVersion, parseStackOutputs, projectHome, renderStage, type StackOutputs } from '../../bin/render.ts';
import { POD_EVENT_SOURCE } from '#core/contracts/pod-terminating.ts';
import { packaged, packagedTemplate } from '../package/packaged.ts';
import { available, renderKustomization, skipReason } from './tools.ts';

const root = new URL('../../', import.meta.url).pathname;
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

type Json = Record<string, unknown>;
interface Template {
  Resources: Record<string, { Type: string; Properties: Json }>;
  Outputs: Record<string, { Value: unknown }>;
}
interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Json;
  data?: Record<string, string>;
  subjects?: { kind: string; name: string; namespace?: string }[];
  roleRef?: { name: string };
}

/** What CloudFormation would give for an output value of this template: names from the resources' properties. */
function resolveOutput(t: Template, stackName: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: string }).Ref;
  const att = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  const sub = (value as { 'Fn::Sub'?: string })['Fn::Sub'];
  if (ref === 'AWS::StackName') return stackName;
  if (ref === 'AWS::Region') return REGION;
  const nameOf = (id: string): string => {
    const p = t.Resources[id]?.Properties ?? {};
    const name = p['Name'] ?? p['TableName'] ?? p['QueueName'] ?? p['TopicName'] ?? p['DashboardName'] ?? p['RepositoryName'] ?? p['RoleName'] ?? p['FunctionName'];
    if (typeof name === 'string') return name;
    return typeof name === 'object' ? String((name as { 'Fn::Sub'?: string })['Fn::Sub']).replaceAll('${AWS::Region}', REGION) : id;
  };
  if (ref) return nameOf(ref);
  if (att) {
    const [id, attr] = att;
    const type = t.Resources[id]?.Type;
    if (type === 'AWS::ECR::Repository' && attr === 'RepositoryUri') return `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${nameOf(id)}`;
    if (type === 'AWS::Lambda::Url') return 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/';
    return `arn:aws:${type?.split('::')[1]?.toLowerCase()}:${REGION}:${ACCOUNT}:${nameOf(id)}`;
  }
  if (sub) return sub.replaceAll('${AWS::Region}', REGION);
  throw new Error(`cannot resolve output value ${JSON.stringify(value)}`);
}

const hasKubectl = available('kubectl', ['version', '--client']);
const hasTerraformDir = readdirSync(join(root, 'infra', 'terraform', 'modules', 'traffic-shift')).some((f) => f.endsWith('.tf'));

describe.skipIf(!hasKubectl)(`one stage, every artifact, the same names${skipReason(hasKubectl, 'kubectl is not on PATH')}`, () => {
  const out = mkdtempSync(join(tmpdir(), 'quiesce-coherence-'));
  let t: Template;
  let stackName: string;
  let outputs: StackOutputs;
  let objects: KubeObject[];
  const names = stageNames('prod');
  const kube = (kind: string, name: string): KubeObject => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (!o) throw new Error(`the rendered overlay has no ${kind} ${name}: ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
    return o;
  };
  const resource = (type: string): Json[] => Object.values(t.Resources).filter((r) => r.Type === type).map((r) => r.Properties);

  beforeAll(async () => {
    const p = await packaged();
    t = await packagedTemplate<Template>();
    stackName = (JSON.parse(readFileSync(join(dirname(p.templatePath), 'serverless-state.json'), 'utf8')) as { service: { provider: { stackName: string } } }).service.provider.stackName;
    outputs = Object.fromEntries(Object.entries(t.Outputs).map(([k, o]) => [k, resolveOutput(t, stackName, o.Value)]));
    for (const [file, text] of renderStage(outputs, { outDir: out, serviceMonitor: true })) {
      mkdirSync(dirname(join(out, file)), { recursive: true });
      writeFileSync(join(out, file), text);
    }
    const r = await renderKustomization<KubeObject>(join(out, 'cluster'));
    if (!r.ok) throw new Error(`kubectl kustomize of the rendered overlay failed: ${r.error}`);
    objects = r.objects;
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('the stack is the stage\'s, named from infra/names.yml', () => {
    expect(stackName).toBe(names.stack);
    expect(outputs['StackName']).toBe(names.stack);
    expect(outputs['EventBusName']).toBe(names.eventBus);
  });

  it('the forwarder publishes to a bus the stack creates, as the cluster the stack serves, in its region', () => {
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('pod-forwarder-config'))?.data ?? {};
    const buses = resource('AWS::Events::EventBus').map((b) => b['Name']);
    expect(buses).toContain(config['EVENT_BUS_NAME']);
    expect(config['CLUSTER_NAME']).toBe(outputs['ClusterName']);
    expect(config['AWS_REGION']).toBe(REGION);
    // ...and the rule of pod-events on that bus listens to what it sends.
    const podRules = resource('AWS::Events::Rule').filter((r) => JSON.stringify(r['EventPattern'] ?? {}).includes(POD_EVENT_SOURCE));
    expect(podRules.length).toBeGreaterThan(0);
    for (const r of podRules) expect(r['EventBusName']).toEqual({ 'Fn::GetAtt': ['QuiesceBus', 'Name'] });
  });

  it('the forwarder runs as the ServiceAccount, in the namespace, that the stack\'s Pod Identity association names', () => {
    const [association, ...more] = resource('AWS::EKS::PodIdentityAssociation');
    expect(more).toEqual([]);
    const sa = kube('ServiceAccount', String(association?.['ServiceAccount']));
    expect(sa.metadata.namespace).toBe(association?.['Namespace']);
    expect(kube('Namespace', String(association?.['Namespace']))).toBeDefined();
    const deployment = kube('Deployment', 'pod-forwarder');
    const pod = (deployment.spec?.['template'] as { spec: { serviceAccountName: string; containers: { image: string }[]; priorityClassName: string } }).spec;
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(deployment.metadata.namespace).toBe(association?.['Namespace']);
    expect(association?.['ClusterName']).toBe(outputs['ClusterName']);
    // Its RBAC binds that ServiceAccount; its priority class exists in the same render.
    const binding = kube('ClusterRoleBinding', 'quiesce-pod-forwarder');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    expect(kube('PriorityClass', pod.priorityClassName)).toBeDefined();
  });

  it('the forwarder\'s image is the release\'s, tagged with the version the stack says it runs, never latest', () => {
    const deployment = kube('Deployment', 'pod-forwarder');
    const [container] = (deployment.spec?.['template'] as { spec: { containers: { image: string }[] } }).spec.containers;
    expect(outputs['Version']).toBe(packageVersion());
    expect(container?.image).toBe(`${projectHome().image}:${outputs['Version']}`);
    expect((deployment.metadata as { labels?: Record<string, string> }).labels?.['app.kubernetes.io/version']).toBe(outputs['Version']);
    const manifests = readdirSync(join(root, 'infra', 'k8s'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && /\.ya?ml$/.test(d.name));
    for (const d of manifests) {
      const text = readFileSync(join(d.parentPath, d.name), 'utf8');
      expect(text, d.name).not.toMatch(/newTag:\s*latest|image:\s*\S+:latest\b/);
      for (const tag of text.matchAll(/(?:newTag|app\.kubernetes\.io\/version):\s*(\S+)/g)) expect(tag[1], `${d.parentPath}/${d.name}`).toBe(packageVersion());
      for (const ref of text.matchAll(/\?ref=(\S+)/g)) expect(ref[1], `${d.parentPath}/${d.name}`).toBe(`v${packageVersion()}`);
    }
  });

  it('the functions\' EKS access entries map to the group the rendered RBAC binds, read-only', () => {
    const groups = new Set(resource('AWS::EKS::AccessEntry').flatMap((e) => e['KubernetesGroups'] as string[]));
    expect([...groups]).toEqual([outputs['ReaderGroup']]);
    const binding = kube('ClusterRoleBinding', 'quiesce-reader');
    expect(binding.subjects).toEqual([{ kind: 'Group', name: outputs['ReaderGroup'], apiGroup: 'rbac.authorization.k8s.io' }]);
    const role = kube('ClusterRole', binding.roleRef?.name ?? '') as KubeObject & { rules: { verbs: string[]; resources: string[] }[] };
    expect(role.rules.flatMap((r) => r.verbs).every((v) => v === 'get' || v === 'list')).toBe(true);
    // What adapters/kube/kube-client.ts lists: pods, Services, EndpointSlices (spot candidates), TargetGroupBindings.
    expect(role.rules.flatMap((r) => r.resources).sort()).toEqual(['endpointslices', 'pods', 'services', 'targetgroupbindings']);
  });

  it('the optional ServiceMonitor selects the forwarder\'s Service by a label it has, on a port it has', () => {
    const monitor = kube('ServiceMonitor', 'pod-forwarder') as KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } };
    const service = kube('Service', 'pod-forwarder') as KubeObject & { metadata: { labels: Record<string, string> }; spec: { ports: { name: string }[] } };
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels[k], k).toBe(v);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]?.port);
  });

  it.skipIf(!hasTerraformDir)('the terraform names the stage\'s stack as osls does, reads only outputs it has, and creates nothing else the stack owns', () => {
    const hcl = (dir: string): string =>
      readdirSync(join(root, 'infra', 'terraform', dir))
        .filter((f) => f.endsWith('.tf'))
        .map((f) => readFileSync(join(root, 'infra', 'terraform', dir, f), 'utf8'))
        .join('\n');
    const [stack, shift] = [hcl('modules/quiesce'), hcl('modules/traffic-shift')];
    // The stack's name, from the stage, as infra/names.yml makes it.
    expect(names.stack).toBe('quiesce-prod');
    expect(stack).toMatch(/resource "aws_cloudformation_stack" "quiesce" \{\s*\n\s*#[^\n]*\n\s*name\s+=\s+"quiesce-\$\{var\.stage\}"/);
    expect(shift).toMatch(/data\s+"aws_cloudformation_stack"\s+"quiesce"\s*\{\s*name\s*=\s*"quiesce-\$\{var\.quiesce_stage\}"/);
    const read = [...shift.matchAll(/local\.quiesce\["([A-Za-z]+)"\]/g)].map((m) => m[1] as string);
    expect(new Set(read)).toEqual(new Set(['ClusterName', 'TargetGroupTagKey', 'TrafficPlansPath']));
    for (const key of read) expect(Object.keys(t.Outputs), key).toContain(key);
    // The stack owns these; a terraform copy would be a second source of names. The one SSM parameter the
    // traffic-shift module writes is its app's plan, under the path the stack gives.
    const owned = ['aws_dynamodb_table', 'aws_ssm_parameter', 'aws_scheduler_schedule_group', 'aws_iam_role', 'aws_cloudwatch_event_bus', 'aws_sqs_queue', 'aws_sns_topic', 'aws_eks_access_entry', 'aws_eks_pod_identity_association', 'aws_ecr_repository', 'aws_lambda_function'];
    const created = (text: string) => [...text.matchAll(/^resource\s+"([a-z0-9_]+)"/gm)].map((m) => m[1] ?? '');
    expect(created(stack).sort()).toEqual(['aws_cloudformation_stack', 'aws_s3_object', 'aws_s3_object']);
    expect(created(shift).filter((r) => owned.includes(r))).toEqual(['aws_ssm_parameter']);
    expect(shift).toMatch(/name\s+=\s+"\$\{local\.quiesce\["TrafficPlansPath"\]\}\/\$\{var\.app\}"/);
    expect(outputs['TrafficPlansPath']).toBe(names.trafficPlansPath);
    expect(shift).not.toMatch(/"quiesce[-/](?!\$\{var\.quiesce_stage\})/);
    // The target groups carry the tag the stack's DeregisterTargets condition requires.
    const conditionKeys = JSON.stringify(t.Resources['SweeperRole']?.Properties['Policies']).match(/aws:ResourceTag\/([^"]+)":"prod"/);
    expect(conditionKeys?.[1]).toBe(outputs['TargetGroupTagKey']);
    expect(shift).toMatch(/\(local\.quiesce\["TargetGroupTagKey"\]\)\s*=\s*each\.value/);
  });

  it('the Argo CD config is the stage\'s: its service, template and trigger named per stage, the URL the stack\'s, the token in the secret', () => {
    const patch = parseAllDocuments(readFileSync(join(out, 'argocd', 'notifications', 'argocd-notifications-cm.yaml'), 'utf8')).map((d) => d.toJS() as KubeObject);
    expect(patch.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['ConfigMap/argocd-notifications-cm']);
    const data = patch[0]?.data ?? {};
    expect(Object.keys(data).sort()).toEqual([`service.webhook.${names.argocdService}`, `template.${names.argocdTemplate}`, `trigger.${names.argocdTrigger}`].sort());
    const service = data[`service.webhook.${names.argocdService}`] ?? '';
    expect(service).toContain(`url: ${outputs['DeployWebhookUrl']}`);
    expect([...service.matchAll(/\$([\w-]+)/g)].map((m) => m[1])).toEqual([names.argocdTokenKey]);
    const token = parseAllDocuments(readFileSync(join(out, 'argocd', 'token', 'external-secret.yaml'), 'utf8')).map((d) => d.toJS() as { spec: { data: { secretKey: string; remoteRef: { key: string } }[] } })[0];
    expect(token?.spec.data).toEqual([{ secretKey: names.argocdTokenKey, remoteRef: { key: outputs['WebhookTokenParameterName'] } }]);
    expect(outputs['WebhookTokenParameterName']).toBe(names.webhookTokenParameter);
  });

  it('the docs\' deploy commands: the whole deploy is `npx osls deploy --stage`, no setting on a command line, only names infra/names.yml names', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = (text: string, heading: string): string => text.slice(text.indexOf(`\n${heading}\n`), text.indexOf('\n## ', text.indexOf(`\n${heading}\n`) + 1));
    const deployDoc = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8');
    const blocks = (text: string): string => [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').join('\n');
    // Every command in the docs: osls never given a setting, Argo CD never patched, no token on a command line.
    const everywhere = [readme, deployDoc, readFileSync(join(root, 'docs', 'configuration.md'), 'utf8')].map(blocks).join('\n') + [readme, deployDoc].map((d) => [...d.matchAll(/`([^`\n]*osls [^`\n]*)`/g)].map((m) => m[1]).join('\n')).join('\n');
    for (const osls of everywhere.matchAll(/osls (?:deploy|package|remove|rollback)[^\n]*/g)) expect(osls[0]).not.toMatch(/--param|--region|dryRun/);
    expect(everywhere).not.toMatch(/--param\b|kubectl (?:-n \S+ )?patch|--from-literal/);
    // The deploy itself, top to bottom (README and docs/deploy.md): one command, names from infra/names.yml.
    const commands = [section(readme, '## Deploy'), section(deployDoc, '## Deploy a stage')].map(blocks).join('\n');
    expect(commands).toMatch(/npx osls deploy --stage "?\$STAGE"?/);
    // A name is `quiesce-$STAGE...` or `/quiesce/$STAGE/...` standing alone (not the tail of a path).
    const used = [...commands.matchAll(/(?<![\w.-])(\/?quiesce[-/]\$\{?STAGE\}?[\w/-]*)/g)].map((m) => (m[1] ?? '').replace(/\$\{?STAGE\}?/, 'prod'));
    expect(used.length).toBeGreaterThan(0);
    const known = new Set(Object.values(names));
    for (const name of used) expect(known, name).toContain(name);
    // No account id, ARN or URL typed in by hand: those come from the stack's outputs.
    expect(commands).not.toMatch(/\b\d{12}\b|arn:aws:|lambda-url/);
  });
});

describe('the committed examples', () => {
  it('are what `npm run render` writes for the stack outputs next to the overlay (render again rather than edit)', () => {
    const dir = join(root, 'infra', 'k8s', 'forwarder', 'overlays', 'example');
    const files = renderStage(parseStackOutputs(readFileSync(join(dir, 'stack-outputs.json'), 'utf8')), { outDir: join(root, 'dist', 'example') });
    expect(files.size).toBe(6);
    for (const [name, text] of files) {
      const committed = name.startsWith('cluster/') ? join(dir, name.slice('cluster/'.length)) : join(root, 'infra', 'argocd', 'example', name.slice('argocd/'.length));
      expect(readFileSync(committed, 'utf8'), name).toBe(text);
    }
  });
});
