/**
 * Sweeper bench: 1,000 target groups x 50 targets and 300 Cloud Map services x 50 instances (50,000 pods),
 * 5% stale, 20 ms injected latency per AWS call, the default API budget. Measures one sweep's wall time and
 * API calls next to the floor the budget allows, and the sweeper's memory.
 *
 * Why the fakes run in a child process: the fake AWS and the fake Kubernetes API hold 50,000 targets, 15,000
 * instances and 50,000 pods; in the same process they would dominate the RSS we want to compare against a
 * 256 MB function. The parent process is only the sweeper (SDK clients, adapters, planner, executor).
 *
 *   npx tsx test/bench/sweeper.ts
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS, type ApiFamily } from '#core/adapters/aws/budget.ts';
import type { BenchSection } from './table.ts';

const GROUPS = 1000;
const TARGETS = 50;
const SERVICES = 300;
const INSTANCES = 50;
const NAMESPACES = 10; // Cloud Map quota: 2,000 instances per namespace
const STALE_GROUPS = 100; // 2,500 stale targets = 5%, 25 in each of 100 groups (see notes)
const LATENCY_MS = 20;
const CLUSTER = 'bench';

const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (Math.floor(n / 2 ** s) % 256).toString()).join('.');
const POD_BASE = (10 << 24) >>> 0 | (1 << 16); // 10.1.0.0
const DEAD_TG_BASE = ((10 << 24) >>> 0) + (250 << 16); // 10.250.0.0: on no ENI
const DEAD_CM_BASE = ((10 << 24) >>> 0) + (251 << 16);
const podIp = (i: number): string => intToIp(POD_BASE + i);

interface Ready {
  endpoint: string;
  kubeEndpoint: string;
  caData: string;
  seededMs: number;
}

/** Child: the fakes, seeded, answering until told to stop. */
async function child(): Promise<void> {
  const { FakeAws } = await import('../fakes/aws/index.ts');
  const { FakeKubeApi } = await import('../fakes/kube/index.ts');
  const t0 = performance.now();
  const fake = new FakeAws();
  const { endpoint } = await fake.start();
  await fake.preload('ec2', 'elasticloadbalancing', 'servicediscovery', 'eks', 'events');
  const kube = new FakeKubeApi({ historyLimit: 10 });
  const { endpoint: kubeEndpoint, caData } = await kube.start();
  const VPC = 'vpc-0be0c0be0c0be0c0b';
  fake.eks.seedCluster({ name: CLUSTER, endpoint: kubeEndpoint, caData, vpcId: VPC });
  // Pods on nodes with prefix delegation: 112 addresses (7 x /28) per node.
  const pods = GROUPS * TARGETS;
  for (let n = 0; n * 112 < pods; n++) {
    const prefixes = Array.from({ length: 7 }, (_, k) => `${podIp(n * 112 + k * 16)}/28`);
    fake.ec2.seedInstance({
      instanceId: `i-0${n.toString(16).padStart(16, '0')}`,
      vpcId: VPC,
      tags: { [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' },
      enis: [{ privateIps: [intToIp(((10 << 24) >>> 0) + (200 << 16) + n)], ipv4Prefixes: prefixes }],
    });
  }
  for (let i = 0; i < pods; i++) kube.addPod({ namespace: `ns-${i % 20}`, name: `pod-${i}`, ip: podIp(i), startTime: '2026-11-21T10:00:00Z' });
  let deadTg = 0;
  for (let g = 0; g < GROUPS; g++) {
    const targets = Array.from({ length: TARGETS }, (_, j) =>
      g < STALE_GROUPS && j < TARGETS / 2 ? { id: intToIp(DEAD_TG_BASE + deadTg++), state: 'unhealthy' as const } : { id: podIp(g * TARGETS + j) },
    );
    fake.elbv2.seedTargetGroup({ name: `k8s-g${g}`, vpcId: VPC, targetType: 'ip', port: 8080, tags: { 'elbv2.k8s.aws/cluster': CLUSTER }, targets });
  }
  const nsIds = Array.from({ length: NAMESPACES }, (_, n) => fake.cloudMap.seedNamespace(`mesh-${n}.local`));
  let deadCm = 0;
  for (let s = 0; s < SERVICES; s++) {
    const svc = fake.cloudMap.seedService(nsIds[s % NAMESPACES] as string, `svc-${s}`);
    const stale = s < SERVICES / 2 ? 3 : 2; // 750 = 5% of 15,000
    for (let j = 0; j < INSTANCES; j++) {
      const ip = j < stale ? intToIp(DEAD_CM_BASE + deadCm++) : podIp(s * INSTANCES + j);
      fake.cloudMap.seedInstance(svc, ip, { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', 'k8s.io/pod': `pod-${s * INSTANCES + j}`, ver: 'v1-30' });
    }
  }
  fake.events.handle('CreateEventBus', { Name: 'quiesce-audit' });
  fake.faults.latency(LATENCY_MS);
  const ready: Ready = { endpoint, kubeEndpoint, caData, seededMs: performance.now() - t0 };
  process.send?.({ ready });
  process.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    process.send?.({ calls: fake.calls.byOperation(), kubeRequests: kube.requests.length }, () => {
      void Promise.all([fake.stop(), kube.stop()]).then(() => process.exit(0));
    });
  });
}

const READ_FAMILIES: readonly ApiFamily[] = ['elb-describe', 'cloudmap-read', 'ec2-describe', 'eks'];
const WRITE_FAMILIES: readonly ApiFamily[] = ['elb-register', 'cloudmap-write', 'events'];

/** Seconds the token bucket needs for `calls` calls: the burst is free, the rest comes at the rate. */
const floorOf = (family: ApiFamily, calls: number): number => Math.max(0, calls - DEFAULT_LIMITS[family].burst) / DEFAULT_LIMITS[family].ratePerSecond;

/** Runs the sweeper bench; returns its table. */
export async function run(): Promise<BenchSection[]> {
  process.env['LOG_LEVEL'] ??= 'SILENT';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  const proc = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, SWEEPER_BENCH_CHILD: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    proc.once('message', (m: { ready: Ready }) => resolve(m.ready));
    proc.once('exit', (code) => reject(new Error(`bench fakes exited with ${code}`)));
  });
  // The sweep itself: the BUNDLED Lambda handler in a fresh plain-node process (what a 256 MB function
  // runs), configured only through the environment, as in AWS.
  const { buildFunction } = await import('../../bin/build.ts');
  const built = await buildFunction('sweeper');
  const runner = fileURLToPath(new URL('./lambda-runner.mjs', import.meta.url));
  const eventFile = fileURLToPath(new URL('../../events/scheduled-sweep.json', import.meta.url));
  const { execFileSync } = await import('node:child_process');
  const line = execFileSync(process.execPath, [runner, built.outfile, eventFile], {
    env: {
      PATH: process.env['PATH'],
      AWS_ENDPOINT_URL: ready.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      CLUSTER_NAME: CLUSTER,
      CLOUDMAP_OWNER_ATTRIBUTES: 'ver=v1-30',
      AUDIT_EVENT_BUS: 'quiesce-audit',
      LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    maxBuffer: 16 * 1024 * 1024,
  }).toString();
  const out = JSON.parse(line.trim().split('\n').pop() as string) as {
    ms: number;
    importMs: number;
    maxRssMB: number;
    error?: string;
    result?: { counts: Record<string, number>; stale: number; heldBack: number };
  };
  if (out.error || !out.result) throw new Error(`the bundled sweeper failed: ${out.error}`);
  const done = await new Promise<{ calls: Record<string, number>; kubeRequests: number }>((resolve) => {
    proc.on('message', (m: { calls?: Record<string, number>; kubeRequests: number }) => m.calls && resolve(m as { calls: Record<string, number>; kubeRequests: number }));
    proc.send({ stop: true });
  });
  // Calls per API family, counted by the fake server (every attempt, retries included).
  const FAMILY_OF: Record<string, ApiFamily> = {
    DescribeTargetGroups: 'elb-describe', DescribeTargetHealth: 'elb-describe', DescribeTags: 'elb-describe',
    DeregisterTargets: 'elb-register', ListNamespaces: 'cloudmap-read', ListServices: 'cloudmap-read', ListInstances: 'cloudmap-read',
    DeregisterInstance: 'cloudmap-write', DescribeInstances: 'ec2-describe', DescribeNetworkInterfaces: 'ec2-describe',
    DescribeCluster: 'eks', PutEvents: 'events',
  };
  const familyCalls = new Map<ApiFamily, number>();
  for (const [key, n] of Object.entries(done.calls)) {
    const f = FAMILY_OF[key.split('.')[1] ?? ''];
    if (f) familyCalls.set(f, (familyCalls.get(f) ?? 0) + n);
  }
  const stats = Object.fromEntries([...familyCalls].map(([f, calls]) => [f, { calls, retries: 0 }])) as Partial<Record<ApiFamily, { calls: number; retries: number }>>;

  const perFamily = (fams: readonly ApiFamily[]) => fams.map((f) => ({ f, calls: (stats[f]?.calls ?? 0) + (stats[f]?.retries ?? 0) }));
  const reads = perFamily(READ_FAMILIES);
  const writes = perFamily(WRITE_FAMILIES);
  const readFloor = Math.max(...reads.map((r) => floorOf(r.f, r.calls)));
  const writeFloor = Math.max(...writes.map((r) => floorOf(r.f, r.calls)));
  const allFloor = Math.max(readFloor, writeFloor);
  const wall = out.ms / 1000;
  const fam = (xs: { f: ApiFamily; calls: number }[]) => xs.filter((x) => x.calls > 0).map((x) => `${x.f} ${x.calls} (${floorOf(x.f, x.calls).toFixed(1)} s)`).join(', ');
  const totalCalls = Object.values(done.calls).reduce((a, b) => a + b, 0);
  return [
    {
      title: `Sweeper: ${GROUPS} target groups x ${TARGETS} targets, ${SERVICES} Cloud Map services x ${INSTANCES} instances, 5% stale, ${LATENCY_MS} ms per call, default budget`,
      columns: ['measure', 'value'],
      rows: [
        ['sweep wall time (one invocation)', `${wall.toFixed(1)} s`],
        ['floor: read phase (max over parallel read families)', `${readFloor.toFixed(1)} s`],
        ['floor: write phase (max over parallel write families)', `${writeFloor.toFixed(1)} s`],
        ['floor: read + write phases (critical path)', `${(readFloor + writeFloor).toFixed(1)} s — wall = ${(wall / (readFloor + writeFloor)).toFixed(2)}x`],
        ['floor: max over all families (if reads and writes overlapped)', `${allFloor.toFixed(1)} s — wall = ${(wall / allFloor).toFixed(2)}x`],
        ['AWS API calls (fake server count)', `${totalCalls}`],
        ['read families: calls (floor)', fam(reads)],
        ['write families: calls (floor)', fam(writes)],
        ['Kubernetes API requests', `${done.kubeRequests}`],
        ['stale found / deregistered+submitted / held back / failed', `${out.result.stale} / ${(out.result.counts['deregistered'] ?? 0) + (out.result.counts['submitted'] ?? 0)} / ${out.result.heldBack} / ${out.result.counts['failed'] ?? 0}`],
        ['peak RSS of the bundled handler process (maxRSS; the fakes run elsewhere)', `${out.maxRssMB.toFixed(0)} MB of a 256 MB function`],
        ['bundle import (cold start, same process)', `${out.importMs.toFixed(0)} ms`],
      ],
      notes: [
        `floor per family = (calls - burst) / rate with DEFAULT_LIMITS (elb-describe 40/s, cloudmap-read 20/s, elb-register 4/s, cloudmap-write 10/s); seeding the fakes took ${(ready.seededMs / 1000).toFixed(0)} s (not counted)`,
        `stale targets are concentrated: 25 in each of ${STALE_GROUPS} groups (the 50% cap is exactly met); spread over all 1,000 groups the write floor would be ~250 s (1,000 DeregisterTargets at 4/s)`,
        'reads and writes cannot overlap: the truths (ENIs, pods) are read after the registrations, and the plan needs all of them',
        'the sweep is the bundled Lambda (dist/sweeper/index.mjs) invoked once by test/bench/lambda-runner.mjs in a fresh plain-node process, configured by environment only; wall time includes its cold DescribeCluster and EKS token',
      ],
    },
  ];
}

if (process.env['SWEEPER_BENCH_CHILD'] === '1') {
  void child();
} else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { renderSection } = await import('./table.ts');
  for (const s of await run()) console.log(renderSection(s));
}
