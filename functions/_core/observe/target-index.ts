/**
 * The registration index: which target groups and Cloud Map services hold a given pod IP (or pod name),
 * kept across warm Lambda invocations so a pod event does not cost a DescribeTargetHealth of every group.
 *
 * What is cached, and why that is safe:
 * - The list of target groups and services in scope, and an index IP -> group ARNs, IP/pod -> service ids,
 *   built from one full scan and kept for a short TTL (default 30 s).
 * - The index is only ever a HINT of where to look. A hit is verified by a fresh DescribeTargetHealth of only
 *   the groups it names (and a fresh ListInstances of only the services it names); the plan is made from those
 *   fresh answers, never from the cache. So a stale entry cannot cause a wrong deregistration: a target that
 *   moved, changed port or went away is simply not in the fresh answer.
 * - What staleness CAN do is miss something: a group created, or a registration made, after the last scan.
 *   That costs only the early deregistration (the Load Balancer Controller and App Mesh controller still take
 *   the pod out on their normal path). To keep that window small, a miss on an index older than
 *   `missRefreshMs` (default 5 s) rebuilds it once and looks again; refreshes are single-flight, so a burst of
 *   events for pods that are registered nowhere costs at most one full scan per `missRefreshMs`.
 */
import type { CloudMapRegistration, TargetGroup, TargetRegistration } from '../domain/registration.ts';
import type { CloudMapServiceRef } from '../contracts/node-events.ts';
import { mapWithConcurrency } from '../concurrency.ts';
import { awsErrorName } from '../errors.ts';
import type { CloudMapPort, Elbv2Port } from '../ports/index.ts';
import { observeCloudMap, observeTargets } from './index.ts';
import { addressKey } from '../domain/ip.ts';

/** What the index is asked for: the pod's IPs, and its name for Cloud Map records that carry k8s.io/pod. */
export interface IndexQuery {
  readonly ips: readonly string[];
  readonly pod?: { readonly namespace: string; readonly name: string };
  /**
   * Groups the cluster says hold the pod (its Services' TargetGroupBindings: observe/candidates.ts). Those
   * in scope are described fresh even when no scan saw the pod's IP in them: a registration made since the
   * last scan is found without rebuilding the index.
   */
  readonly groupArns?: readonly string[];
}

/** One full scan, indexed. Built by {@link buildIndexSnapshot}; pure data. */
export interface IndexSnapshot {
  /** Epoch ms when the scan started (a registration made after this may be missing). */
  readonly builtAt: number;
  readonly targetGroups: readonly TargetGroup[];
  readonly services: readonly CloudMapServiceRef[];
  /** IP (canonical form) -> ARNs of the groups that had a target with that id. */
  readonly groupsByIp: ReadonlyMap<string, ReadonlySet<string>>;
  /** `ip:<ip>` or `pod:<namespace>/<name>` -> ids of the services that had such an instance. */
  readonly servicesByKey: ReadonlyMap<string, ReadonlySet<string>>;
  /** The observations the scan made (fresh at `builtAt`: the cold path plans from these directly). */
  readonly targets: readonly TargetRegistration[];
  readonly instances: readonly CloudMapRegistration[];
}

/** The fresh registrations that may point at the pod, and how they were found. */
export interface IndexLookup {
  /** `cold`: no usable index, a full scan was made; `warm`: index hit (or a confident miss); `refreshed`: a miss rebuilt it. */
  readonly path: 'cold' | 'warm' | 'refreshed';
  /** The groups named for the pod, with ALL their targets (fresh: the guards' census needs the whole group). */
  readonly targetGroups: readonly TargetGroup[];
  readonly targets: readonly TargetRegistration[];
  /** All instances of the services named for the pod (fresh). */
  readonly instances: readonly CloudMapRegistration[];
  /** Index age in ms when it answered (0 on a cold scan). */
  readonly ageMs: number;
}

const addTo = <K, V>(m: Map<K, Set<V>>, k: K, v: V): void => {
  const s = m.get(k);
  if (s) s.add(v);
  else m.set(k, new Set([v]));
};

/** The index keys a Cloud Map instance is found under (addresses in canonical form: any spelling finds it). */
export function instanceKeys(instance: CloudMapRegistration): string[] {
  const keys: string[] = [];
  for (const a of ['AWS_INSTANCE_IPV4', 'AWS_INSTANCE_IPV6']) {
    const ip = instance.attributes[a];
    if (ip !== undefined) keys.push(`ip:${addressKey(ip)}`);
  }
  const pod = instance.attributes['k8s.io/pod'];
  const ns = instance.attributes['k8s.io/namespace'];
  if (pod !== undefined && ns !== undefined) keys.push(`pod:${ns}/${pod}`);
  return keys;
}

/** The index keys a query looks under. */
export function queryKeys(q: IndexQuery): string[] {
  return [...q.ips.map((ip) => `ip:${addressKey(ip)}`), ...(q.pod ? [`pod:${q.pod.namespace}/${q.pod.name}`] : [])];
}

/** Builds the index from one scan's observations (pure). */
export function buildIndexSnapshot(
  builtAt: number,
  targetGroups: readonly TargetGroup[],
  targets: readonly TargetRegistration[],
  instances: readonly CloudMapRegistration[],
): IndexSnapshot {
  const groupsByIp = new Map<string, Set<string>>();
  for (const t of targets) addTo(groupsByIp, addressKey(t.id), t.targetGroupArn);
  const servicesByKey = new Map<string, Set<string>>();
  const services = new Map<string, CloudMapServiceRef>();
  for (const i of instances) {
    services.set(i.serviceId, { namespaceId: i.namespaceId, namespaceName: i.namespaceName, serviceId: i.serviceId, serviceName: i.serviceName });
    for (const k of instanceKeys(i)) addTo(servicesByKey, k, i.serviceId);
  }
  return { builtAt, targetGroups, services: [...services.values()], groupsByIp, servicesByKey, targets, instances };
}

/** Where the index should look in a snapshot (pure): group ARNs and service ids named by any key. */
export function namedBy(snapshot: IndexSnapshot, q: IndexQuery): { groupArns: Set<string>; serviceIds: Set<string> } {
  const groupArns = new Set<string>();
  for (const ip of q.ips) for (const arn of snapshot.groupsByIp.get(addressKey(ip)) ?? []) groupArns.add(arn);
  const inScope = new Set(snapshot.targetGroups.map((g) => g.arn));
  for (const arn of q.groupArns ?? []) if (inScope.has(arn)) groupArns.add(arn);
  const serviceIds = new Set<string>();
  for (const k of queryKeys(q)) for (const id of snapshot.servicesByKey.get(k) ?? []) serviceIds.add(id);
  return { groupArns, serviceIds };
}

/** How the index scans and how long it trusts a scan. */
export interface RegistrationIndexOptions {
  readonly elbv2: Pick<Elbv2Port, 'listTargetGroups' | 'tagsOf' | 'targetHealth'>;
  readonly cloudMap: Pick<CloudMapPort, 'listNamespaces' | 'listServices' | 'listInstances'>;
  /** The VPCs whose groups are in scope, resolved lazily once (a pod IP means nothing in another VPC). */
  readonly vpcIds: () => Promise<readonly string[]>;
  readonly tagSelector: Readonly<Record<string, string>>;
  /** Groups opted in for this cluster by `quiesce.io/deregister-by` are in scope too (domain/ownership.ts). */
  readonly clusterName?: string;
  readonly cloudMapNamespaces: readonly string[];
  readonly concurrency: number;
  /** How long a scan is trusted as a hint; 0 = never cached (every lookup scans). */
  readonly ttlMs: number;
  /** A miss on an index at least this old rebuilds it once before answering "nothing". */
  readonly missRefreshMs: number;
  /** Epoch ms (the Lambda: Date.now; tests: the fake clock). */
  readonly now: () => number;
}

/**
 * The cache itself: one per Lambda container (module scope via the handler's deps), shared by every
 * invocation the container serves. See the module comment for why a stale entry is harmless.
 */
export class RegistrationIndex {
  readonly #o: RegistrationIndexOptions;
  #snapshot: IndexSnapshot | undefined;
  #inflight: Promise<IndexSnapshot> | undefined;
  /** Full scans made (for logs, metrics and the bench). */
  scans = 0;

  constructor(options: RegistrationIndexOptions) {
    this.#o = options;
  }

  /** Drops the cached scan: the next lookup scans (after a target group vanished, or on demand). */
  invalidate(): void {
    this.#snapshot = undefined;
  }

  /** The age of the cached scan in ms, or undefined when there is none. */
  age(): number | undefined {
    return this.#snapshot ? this.#o.now() - this.#snapshot.builtAt : undefined;
  }

  /** Finds the fresh registrations that may point at the pod. Never plans from the cache: see the module comment. */
  async lookup(q: IndexQuery): Promise<IndexLookup> {
    const cached = this.#usable();
    if (!cached) return this.#fromScan(await this.#refresh(), q, 'cold');
    const named = namedBy(cached, q);
    const age = this.#o.now() - cached.builtAt;
    if (named.groupArns.size === 0 && named.serviceIds.size === 0 && age >= this.#o.missRefreshMs) {
      return this.#fromScan(await this.#refresh(), q, 'refreshed');
    }
    return this.#verify(cached, named, age);
  }

  /**
   * Whether a lookup now would describe groups or list services for this pod: the index is warm and names
   * some. Those calls are the pod's own (a cold or refreshed scan is the container's, made once for every
   * pod after it), so a caller that can tell a copy of the event apart decides before them (pod-events'
   * claims by pod uid). No I/O.
   */
  verifiesFor(q: IndexQuery): boolean {
    const cached = this.#usable();
    if (!cached) return false;
    const named = namedBy(cached, q);
    return named.groupArns.size > 0 || named.serviceIds.size > 0;
  }

  #usable(): IndexSnapshot | undefined {
    const s = this.#snapshot;
    if (!s || this.#o.ttlMs <= 0) return undefined;
    return this.#o.now() - s.builtAt < this.#o.ttlMs ? s : undefined;
  }

  /** One full scan at a time; concurrent lookups share it. */
  #refresh(): Promise<IndexSnapshot> {
    this.#inflight ??= this.#scan().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #scan(): Promise<IndexSnapshot> {
    const builtAt = this.#o.now();
    this.scans++;
    const vpcIds = await this.#o.vpcIds();
    const [scan, cm] = await Promise.all([
      observeTargets(this.#o.elbv2, { vpcIds, tagSelector: this.#o.tagSelector, ...(this.#o.clusterName ? { clusterName: this.#o.clusterName } : {}), concurrency: this.#o.concurrency, ipOnly: true }),
      observeCloudMap(this.#o.cloudMap, this.#o.cloudMapNamespaces, this.#o.concurrency),
    ]);
    const snapshot = buildIndexSnapshot(builtAt, scan.targetGroups, scan.targets, cm.registrations);
    this.#snapshot = snapshot;
    return snapshot;
  }

  /** Cold / refreshed: the scan's own observations are fresh; keep the named groups and services whole. */
  #fromScan(s: IndexSnapshot, q: IndexQuery, path: 'cold' | 'refreshed'): IndexLookup {
    const { groupArns, serviceIds } = namedBy(s, q);
    return {
      path,
      targetGroups: s.targetGroups.filter((g) => groupArns.has(g.arn)),
      targets: s.targets.filter((t) => groupArns.has(t.targetGroupArn)),
      instances: s.instances.filter((i) => serviceIds.has(i.serviceId)),
      ageMs: 0,
    };
  }

  /** Warm: describe only the named groups and list only the named services, now. */
  async #verify(s: IndexSnapshot, named: { groupArns: Set<string>; serviceIds: Set<string> }, ageMs: number): Promise<IndexLookup> {
    const groups = s.targetGroups.filter((g) => named.groupArns.has(g.arn));
    const services = s.services.filter((r) => named.serviceIds.has(r.serviceId));
    let vanished = false;
    const [perGroup, perService] = await Promise.all([
      mapWithConcurrency(groups, this.#o.concurrency, async (g) => {
        try {
          return { g, targets: await this.#o.elbv2.targetHealth(g.arn, g.name) };
        } catch (err) {
          // A deleted group holds nothing any more; the index is out of date, rebuild it next time.
          if (!/TargetGroupNotFound/.test(awsErrorName(err))) throw err;
          vanished = true;
          return undefined;
        }
      }),
      mapWithConcurrency(services, this.#o.concurrency, (r) =>
        this.#o.cloudMap.listInstances({ id: r.serviceId, name: r.serviceName }, { id: r.namespaceId, name: r.namespaceName }),
      ),
    ]);
    if (vanished) this.invalidate();
    const found = perGroup.filter((x): x is NonNullable<typeof x> => x !== undefined);
    return {
      path: 'warm',
      targetGroups: found.map((x) => x.g),
      targets: found.flatMap((x) => x.targets),
      instances: perService.flat(),
      ageMs,
    };
  }
}
