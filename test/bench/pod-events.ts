/**
 * Bench of issue 4: the pod-events handler's AWS calls per event with a cold vs a warm registration index
 * (200 target groups), and the pod forwarder's watch -> PutEvents latency for a burst of 1,000 deletions and
 * its resident memory while watching 5,000 pods (measured in a child process, so the fakes' memory is not
 * counted). Runs under plain `tsx`: `npx tsx test/bench/run.ts pod-events`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { EKSClient } from '@aws-sdk/client-eks';
import { createAwsClients, sdkClientConfig } from '#core/adapters/aws/index.ts';
import { DEFAULT_ELB_SHARE, elbLimits } from '#core/adapters/aws/budget.ts';
import { createLogger, createMetrics } from '#core/telemetry.ts';
import { loadPodEventsConfig } from '../../functions/pod-events/config.ts';
import { makeHandler } from '../../functions/pod-events/handler.ts';
import { buildPodWorkflowDeps } from '../../functions/pod-events/wiring.ts';
import { startForwarder } from '../../functions/pod-forwarder/forwarder.ts';
import { memoryLogger } from '../../functions/pod-forwarder/log.ts';
import { FakeAws } from '../fakes/aws/index.ts';
import { FakeKubeApi } from '../fakes/kube/index.ts';
import { unsignedEksToken as eksToken } from '../fakes/kube/unsigned-token.ts';
// The bench environment (AWS_REGION, quiet telemetry) before any handler is wired.
import './support.ts';
import { median, percentile, type BenchSection } from './table.ts';

// EMF metrics would print to stdout between the tables.
process.env['POWERTOOLS_METRICS_DISABLED'] ??= 'true';

const VPC = 'vpc-0bec0000000000a1';
const GROUPS = 200;
const TARGETS_PER_GROUP = 20;
const SERVICES = 20;
const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const context = { functionName: 'quiesce-pod-events', awsRequestId: 'bench', getRemainingTimeInMillis: () => 60_000 } as never;

const ipOf = (g: number, t: number): string => `10.1.${g}.${t + 10}`;

function podEvent(ip: string, name: string, at: Date): Record<string, unknown> {
  return {
    'detail-type': 'Pod Terminating',
    source: 'quiesce.kubernetes',
    id: name,
    detail: {
      version: 1, cluster: 'bench', namespace: 'shop', name, uid: `uid-${name}`, podIPs: [ip], nodeName: 'node-1',
      containerPorts: [{ containerPort: 8080, protocol: 'TCP' }], labels: {}, deletionTimestamp: new Date(at.getTime() + 30_000).toISOString(),
      gracePeriodSeconds: 30, reason: 'deletion', observedAt: at.toISOString(),
    },
  };
}

async function handlerCalls(): Promise<BenchSection> {
  const fake = new FakeAws();
  const { endpoint } = await fake.start();
  try {
    for (let g = 0; g < GROUPS; g++) {
      fake.elbv2.seedTargetGroup({ name: `k8s-bench-${g}`, vpcId: VPC, targetType: 'ip', port: 8080, targets: Array.from({ length: TARGETS_PER_GROUP }, (_, t) => ({ id: ipOf(g, t) })) });
    }
    const ns = fake.cloudMap.seedNamespace('mesh.local');
    for (let s = 0; s < SERVICES; s++) {
      const svc = fake.cloudMap.seedService(ns, `svc-${s}`);
      for (let t = 0; t < 5; t++) fake.cloudMap.seedInstance(svc, ipOf(s, t), { AWS_INSTANCE_IPV4: ipOf(s, t), 'k8s.io/pod': `pod-${s}-${t}`, 'k8s.io/namespace': 'shop' });
    }
    const overrides = { endpoint, region: 'us-east-1', credentials };
    const deps = buildPodWorkflowDeps({
      config: loadPodEventsConfig({ CLUSTER_NAME: 'bench', VPC_ID: VPC, CLOUDMAP_NAMESPACES: 'mesh.local', EXPORTER_ENABLED: 'false', LOG_LEVEL: 'SILENT' }),
      clients: createAwsClients({ overrides }),
      eks: new EKSClient(sdkClientConfig({ overrides })),
      logger: createLogger('pod-events'),
      now: () => new Date(fake.clock.now()),
      sleep: async (ms) => fake.clock.advance(ms),
    });
    deps.logger.setLogLevel('SILENT');
    const handler = makeHandler(() => deps, deps.logger, createMetrics('pod-events'));
    const describe = elbLimits()['elb-describe'];
    const rows: (string | number)[][] = [];
    const measure = async (label: string, ip: string, name: string): Promise<void> => {
      const before = fake.calls.records.length;
      const t0 = performance.now();
      const r = (await handler(podEvent(ip, name, new Date(fake.clock.now())) as never, context)) as { lookup?: string; counts?: Record<string, number> };
      const ms = performance.now() - t0;
      const calls = fake.calls.records.slice(before);
      const n = (op: string): number => calls.filter((c) => c.operation === op).length;
      rows.push([label, r.lookup ?? '-', calls.length, n('DescribeTargetGroups'), n('DescribeTargetHealth'), n('ListInstances') + n('ListServices') + n('ListNamespaces'), n('DeregisterTargets') + n('DeregisterInstance'), ms.toFixed(0)]);
      fake.clock.advance(1_000);
    };
    await measure('cold (first event in a container)', ipOf(7, 3), 'pod-7-3');
    await measure('warm, pod in 1 group + 1 service', ipOf(8, 2), 'pod-8-2');
    await measure('warm, pod in 1 group, no Cloud Map', ipOf(150, 4), 'pod-150-4');
    await measure('warm, unknown IP: index past INDEX_MISS_REFRESH_SECONDS, one rescan', '10.9.9.9', 'nowhere');
    fake.clock.advance(3_000);
    await measure('another unknown IP 3 s after that rescan: none', '10.9.9.8', 'nowhere-2');
    fake.clock.advance(31_000);
    await measure('after TTL (30 s): rescan', ipOf(9, 1), 'pod-9-1');
    return {
      title: `pod-events handler: AWS calls per event, ${GROUPS} ip target groups x ${TARGETS_PER_GROUP} targets, ${SERVICES} Cloud Map services`,
      columns: ['event', 'lookup', 'AWS calls', 'DescribeTargetGroups', 'DescribeTargetHealth', 'Cloud Map reads', 'writes', 'ms'],
      rows,
      notes: [
        `Real handler, SDK v3 clients and ApiBudget (default elb-describe ${describe.ratePerSecond}/s burst ${describe.burst}: ${DEFAULT_ELB_SHARE * 100}% of the ELB account bucket) against the loopback fake AWS; writes = DeregisterTargets + DeregisterInstance (no AUDIT_EVENT_BUS set here).`,
        'Warm = the in-container index (INDEX_TTL_SECONDS=30) names the groups/services; each hit is verified by a fresh describe of only those before planning. Index ages are fake-clock time, which the executor\'s Cloud Map operation waits also move: by the first unknown IP the index is past INDEX_MISS_REFRESH_SECONDS (5 s).',
        `Cold = no STATE_TABLE here, so no stored registration index from the sweeper: the first event scans all ${GROUPS} groups, paced by the elb-describe budget (${GROUPS} DescribeTargetHealth at ${describe.ratePerSecond}/s after a burst of ${describe.burst}), by design: quiesce leaves the shared ELB bucket to the Load Balancer Controller. Deployed with STATE_TABLE, pod-events reads the sweeper's index instead (docs/pod-events.md).`,
      ],
    };
  } finally {
    await fake.stop();
  }
}

async function forwarderLatency(): Promise<BenchSection> {
  const fake = new FakeAws();
  const kube = new FakeKubeApi();
  const { endpoint } = await fake.start();
  const { caData } = await kube.start();
  const N = 1000;
  try {
    fake.events.handle('CreateEventBus', { Name: 'bench' });
    for (let i = 0; i < N; i++) kube.addPod({ namespace: 'shop', name: `web-${i}`, ip: `10.2.${i >> 8}.${i & 255}`, containerPorts: [8080] });
    const sent: number[] = [];
    const apiToWatch: number[] = [];
    const committedAt = new Map<string, number>();
    const { EventBridgeClient } = await import('@aws-sdk/client-eventbridge');
    const { putEventsVia } = await import('../../functions/pod-forwarder/publisher.ts');
    const fwd = await startForwarder(
      { clusterName: 'bench', eventBusName: 'bench', queueMax: 10_000, batchMaxWaitMs: 10, forwardNotReady: false, namespaces: undefined, labelSelector: undefined, metricsPort: 0, healthStaleSeconds: 60, shutdownTimeoutMs: 5000, publishUnhealthySeconds: 60 },
      {
        kube: { server: kube.endpoint, caData, token: eksToken() },
        putEvents: putEventsVia(new EventBridgeClient(sdkClientConfig({ overrides: { endpoint, region: 'us-east-1', credentials } }))),
        log: memoryLogger(),
        publisher: { onSent: (l) => sent.push(...l) },
        onSignal: (s) => {
          const t = committedAt.get(s.detail.name);
          if (t !== undefined) apiToWatch.push(performance.now() - t);
        },
      },
    );
    await kube.waitForWatches(1);
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      committedAt.set(`web-${i}`, performance.now());
      kube.markTerminating('shop', `web-${i}`, 30);
    }
    while (sent.length < N && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
    const total = performance.now() - t0;
    await fwd.stop(2000);
    const published = fake.events.published('bench').length;
    return {
      title: `pod forwarder: burst of ${N} deletions, watch event -> PutEvents accepted (loopback)`,
      columns: ['measure', 'median ms', 'p99 ms', 'max ms'],
      rows: [
        ['API write -> forwarder sees the watch event', median(apiToWatch).toFixed(1), percentile(apiToWatch, 99).toFixed(1), Math.max(...apiToWatch).toFixed(1)],
        ['watch event -> PutEvents accepted', median(sent).toFixed(1), percentile(sent, 99).toFixed(1), Math.max(...sent).toFixed(1)],
      ],
      notes: [
        `${published} events published (${N} expected), ${fwd.metrics.eventsDropped} dropped, whole burst drained in ${total.toFixed(0)} ms; BATCH_MAX_WAIT_MS=10, 4 PutEvents in flight, 10 entries per call.`,
        'Real forwarder (HTTPS watch with EKS-shaped token, SDK EventBridge client) against FakeKubeApi + fake EventBridge in the same process.',
      ],
    };
  } finally {
    await kube.stop();
    await fake.stop();
  }
}

/** The child's entry: a forwarder with a no-op PutEvents, printing its RSS once the initial list is in. */
const CHILD_SOURCE = (root: string): string => `
import { startForwarder } from ${JSON.stringify(`${root}/functions/pod-forwarder/forwarder.ts`)};
import { memoryLogger } from ${JSON.stringify(`${root}/functions/pod-forwarder/log.ts`)};
const pods = Number(process.env.BENCH_PODS);
const fwd = await startForwarder(
  { clusterName: 'bench', eventBusName: 'bench', queueMax: 10000, batchMaxWaitMs: 10, forwardNotReady: false, namespaces: undefined, labelSelector: undefined, metricsPort: 0, healthStaleSeconds: 60, shutdownTimeoutMs: 1000, publishUnhealthySeconds: 60 },
  { kube: { server: process.env.BENCH_SERVER, caData: process.env.BENCH_CA, token: process.env.BENCH_TOKEN }, putEvents: async (e) => e.map(() => ({ EventId: 'b' })), log: memoryLogger() },
);
const t0 = Date.now();
while (fwd.tracker.size < pods && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 1000));
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 200));
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ tracked: fwd.tracker.size, rss: m.rss, heapUsed: m.heapUsed }) + '\\n');
await fwd.stop(500);
process.exit(0);
`;

async function forwarderMemory(): Promise<BenchSection> {
  const root = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-bench-'));
  writeFileSync(join(dir, 'entry.ts'), CHILD_SOURCE(root));
  const outfile = join(dir, 'forwarder.mjs');
  // Bundled like the image runs it (compiled JS, no TypeScript loader in the measured process).
  await build({ entryPoints: [join(dir, 'entry.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  const rows: (string | number)[][] = [];
  for (const pods of [0, 5000]) {
    const kube = new FakeKubeApi();
    const { caData } = await kube.start();
    for (let i = 0; i < pods; i++) {
      kube.addPod({ namespace: `ns-${i % 50}`, name: `app-${i}`, ip: `10.3.${i >> 8}.${i & 255}`, containerPorts: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }], labels: { app: `app-${i % 100}`, 'app.kubernetes.io/part-of': 'bench', 'pod-template-hash': 'abcdef123' } });
    }
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--expose-gc', outfile], {
        env: { ...process.env, BENCH_PODS: String(pods), BENCH_SERVER: kube.endpoint, BENCH_CA: caData, BENCH_TOKEN: eksToken() },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let buf = '';
      child.stdout.on('data', (d: Buffer) => (buf += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(buf) : reject(new Error(`child exited ${code}`))));
    });
    await kube.stop();
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { tracked: number; rss: number; heapUsed: number };
    rows.push([pods, r.tracked, (r.rss / 2 ** 20).toFixed(0), (r.heapUsed / 2 ** 20).toFixed(1)]);
  }
  return {
    title: 'pod forwarder: resident memory while watching (goal: under 150 MB at 5,000 pods)',
    columns: ['pods', 'tracked', 'RSS MB', 'heap used MB'],
    rows,
    notes: ['The forwarder bundled with esbuild and run alone under plain node in a child process (as in its image), RSS after the initial list and a GC; the fake API server runs in the parent. Pods carry 2 ports and 3 labels each.'],
  };
}

/** Runs the pod-events bench sections. */
export async function run(): Promise<BenchSection[]> {
  return [await handlerCalls(), await forwarderLatency(), await forwarderMemory()];
}
