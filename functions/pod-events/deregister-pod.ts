/**
 * The pod-events workflow for one signal: resolve the pod (from the event, or through the cluster API for
 * kubernetes-event-exporter's events), find the registrations that may point at it (the cached registration
 * index, verified fresh), plan (pure), guard, apply, audit.
 *
 *   signal -> pod (ips, uid) -> stale? -> identity (the IP is still this pod's) -> index lookup (fresh)
 *          -> plan -> guards -> apply (under each group's lease) -> audit
 *
 * Every "nothing to do" is an `ignored` result with a reason that is logged: an unknown pod or IP is a
 * no-op with a log line, never an error and never a write.
 */
import { randomUUID } from 'node:crypto';
import type { ForwarderHeartbeatPort } from '#core/adapters/aws/forwarder-heartbeat.ts';
import type { AwsDeps } from '#core/wiring.ts';
import type { ClusterConnection, EksClusterPortFactory } from '#core/adapters/kube/index.ts';
import type { AuditSink } from '#core/audit.ts';
import { guardPlan } from '#core/domain/guards.ts';
import { planSummary, type Plan } from '#core/domain/plan.ts';
import { planWarning, warningsOf } from '#core/domain/warnings.ts';
import { planPodDeregistration, type TerminatingPod } from '#core/domain/planners/pod-deregistration.ts';
import { candidatesOfPod, readClusterView } from '#core/observe/candidates.ts';
import type { ApplyResult, Executor } from '#core/executor/executor.ts';
import type { IndexLookup, RegistrationIndex } from '#core/observe/target-index.ts';
import { observationsOf } from '#core/executor/cross-writer.ts';
import { verifyPodIdentity, type PodClaim } from './identity.ts';
import type { Logger } from '#core/telemetry.ts';
import type { PodEventsConfig } from './config.ts';
import type { PodSignal } from './events.ts';
import type { Claim, PodSignalClaims } from './duplicates.ts';

/** What the workflow needs; the handler builds it once per container (the index lives as long). */
export interface PodWorkflowDeps {
  readonly config: PodEventsConfig;
  readonly index: RegistrationIndex;
  /**
   * The cluster API: resolves exporter events (they carry no pod IP) and proves a forwarder event's IP is
   * still its pod's. Undefined = exporter events are ignored and identity rests on the event's age.
   */
  readonly cluster: EksClusterPortFactory | undefined;
  readonly executor: Executor;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Claims by pod uid (STATE_TABLE): a copy of a termination already claimed costs no ELB call. */
  readonly claims?: PodSignalClaims;
  /** Records that a forwarder event arrived (`quiesce doctor` reads it); undefined without STATE_TABLE. */
  readonly heartbeat?: ForwarderHeartbeatPort;
  /** The container's AWS side (its clients and budget), for its preflight on a cold start in dry run. */
  readonly aws?: AwsDeps;
}

/** What happened to one signal. */
export interface PodWorkflowResult {
  readonly status: 'applied' | 'dry-run' | 'ignored';
  readonly reason?: string;
  readonly pod?: TerminatingPod;
  readonly plan?: Plan;
  readonly result?: ApplyResult;
  /** How the registrations were found (cold scan, warm index, refreshed on a miss). */
  readonly lookup?: IndexLookup['path'];
  /** Deregistrations left undone (failed, retryably or not): the caller must fail so it is retried and alarmed. */
  readonly retry: boolean;
}

/**
 * The pod and why it is going; `observedAt` (forwarder events) is when the forwarder saw it, for the
 * identity check's fallback. Exporter events are resolved through the cluster by uid, so already verified.
 */
type Resolved = { pod: TerminatingPod; deletionTimestamp: string | null; why: string; observedAt?: string; claim?: PodClaim; boundGroups?: readonly string[] } | { ignored: string };

/** The pod a signal is about, or why there is nothing to do. */
async function resolvePod(signal: PodSignal, deps: PodWorkflowDeps): Promise<Resolved> {
  switch (signal.kind) {
    case 'exporter-ignored':
      return { ignored: signal.reason };
    case 'forwarder': {
      const d = signal.detail;
      if (d.reason === 'not-ready' && deps.config.notReadyAction === 'ignore') return { ignored: `pod ${d.namespace}/${d.name} not ready: ignored (NOT_READY_ACTION=ignore)` };
      const why = d.reason === 'deletion' ? `pod terminating (deletionTimestamp ${d.deletionTimestamp ?? '?'})` : 'pod turned NotReady (NOT_READY_ACTION=deregister)';
      const pod: TerminatingPod = {
        namespace: d.namespace,
        name: d.name,
        uid: d.uid,
        ips: d.podIPs,
        ports: d.containerPorts.map((p) => p.containerPort),
        ...(d.hostNetwork ? { hostNetwork: true } : {}),
      };
      return { pod, deletionTimestamp: d.deletionTimestamp, why, observedAt: d.observedAt, claim: d.reason };
    }
    case 'exporter-killing': {
      const at = `${signal.namespace}/${signal.name}`;
      if (!deps.config.exporterEnabled || !deps.cluster) return { ignored: `exporter event for ${at}: EXPORTER_ENABLED=false` };
      let conn: ClusterConnection | undefined;
      try {
        conn = await deps.cluster.connect();
        const pod = await conn.getPod(signal.namespace, signal.name);
        if (!pod) return { ignored: `pod ${at} no longer exists: nothing to resolve its IP from (its IP may be reused)` };
        if (signal.uid !== undefined && pod.uid !== signal.uid) return { ignored: `pod ${at} is a newer incarnation (uid ${pod.uid}, event for ${signal.uid})` };
        if (!pod.deletionTimestamp) return { ignored: `pod ${at} is not terminating: Killing without deletion is a container restart` };
        const ips = pod.ips.length > 0 ? pod.ips : pod.ip ? [pod.ip] : [];
        // The cluster's view of the pod (the spot trigger's, observe/candidates.ts): the groups its Services'
        // bindings name, described fresh. Not the ports: a Service's targetPort is no proof a host-network pod
        // listens there (another host-network pod on the node may; nodeIP:port is then both of theirs), so a
        // host-network pod that declares no ports keeps its node-IP targets held back as evidence.
        const connected = conn;
        const view = deps.config.clusterCandidates ? await readClusterView({ connect: async () => ({ connection: connected, vpcId: undefined }) }, { pods: [pod] }, deps.config.clusterTimeoutMs) : undefined;
        if (view && !view.ok) deps.logger.warn('cluster view of the pod unavailable: the registration index alone decides', { pod: at, error: view.error });
        const ports = pod.containerPorts.map((p) => p.containerPort);
        return {
          pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid, ips, ports, hostNetwork: pod.hostNetwork },
          deletionTimestamp: pod.deletionTimestamp,
          why: `Killing event (${signal.message || 'kubelet'}), pod terminating`,
          ...(view?.ok ? { boundGroups: [...candidatesOfPod(view.value, pod).groups.keys()] } : {}),
        };
      } finally {
        conn?.close();
      }
    }
  }
}

/** Runs the workflow for one signal. Never throws for an AWS write failure: see `retry`. */
export async function deregisterPod(signal: PodSignal, deps: PodWorkflowDeps): Promise<PodWorkflowResult> {
  const { config, logger } = deps;
  const now = deps.now();
  const ignore = (reason: string, extra: Partial<PodWorkflowResult> = {}): PodWorkflowResult => {
    logger.info('event ignored', { reason, eventId: signal.eventId });
    return { status: 'ignored', reason, retry: false, ...extra };
  };
  const resolved = await resolvePod(signal, deps);
  if ('ignored' in resolved) return ignore(resolved.ignored);
  const subject = `${resolved.pod.namespace}/${resolved.pod.name}`;
  if (resolved.deletionTimestamp !== null) {
    const late = now.getTime() - Date.parse(resolved.deletionTimestamp);
    if (late > config.staleAfterSeconds * 1000) {
      return ignore(`stale event: pod ${subject} was due to die ${Math.round(late / 1000)} s ago; its IP may belong to another pod now`, { pod: resolved.pod });
    }
  }
  if (resolved.pod.ips.length === 0) return ignore(`pod ${subject} has no IP`, { pod: resolved.pod });
  const kind = signal.kind === 'forwarder' && signal.detail.reason === 'not-ready' ? 'not-ready' : 'terminating';
  const claim = new ClaimOnce(deps, { uid: resolved.pod.uid, kind, eventId: signal.eventId }, now);
  try {
    const out = await handleSignal(resolved, signal, deps, now, claim);
    await claim.releaseIf(out.retry);
    return out;
  } catch (err) {
    await claim.releaseIf(true);
    throw err;
  }
}

/** What a claim names: the pod incarnation, the kind of signal, and the event that claims it. */
type ClaimedSignal = Parameters<PodSignalClaims['claim']>[0];

/**
 * This event's claim of the pod (by uid and kind), taken at most once and only before the calls a copy of
 * the event should not repeat: the pod's own ELB and Cloud Map reads (a warm index's named groups) and its
 * writes. A signal with nothing to write (no registration points at the pod, identity refused) takes none,
 * so it writes nothing at all, and a copy decides for itself.
 */
class ClaimOnce {
  readonly #deps: PodWorkflowDeps;
  readonly #signal: ClaimedSignal;
  readonly #now: Date;
  #claim: Claim | undefined;

  constructor(deps: PodWorkflowDeps, signal: ClaimedSignal, now: Date) {
    this.#deps = deps;
    this.#signal = signal;
    this.#now = now;
  }

  /** Claims the pod (once); the event that holds it otherwise (this one is a copy), else undefined. */
  async heldBy(): Promise<string | undefined> {
    if (!this.#deps.claims) return undefined;
    this.#claim ??= await this.#deps.claims.claim(this.#signal, this.#now);
    return this.#claim.first ? undefined : this.#claim.by;
  }

  /** Releases this event's claim after a failure, so a copy or a retry does the work. */
  async releaseIf(failed: boolean): Promise<void> {
    const c = this.#claim;
    const eventId = this.#signal.eventId;
    if (!failed || !c?.first || c.key === undefined || eventId === undefined) return;
    await this.#deps.claims?.release(c.key, eventId).catch((err: unknown) => this.#deps.logger.warn('claim not released: a copy of this event is ignored until it expires', { error: String(err) }));
  }
}

/** The rest of the workflow: identity, lookup, plan, apply, with the claim taken before the pod's own calls. */
async function handleSignal(resolved: Exclude<Resolved, { ignored: string }>, signal: PodSignal, deps: PodWorkflowDeps, now: Date, claim: ClaimOnce): Promise<PodWorkflowResult> {
  const { config, logger } = deps;
  const ignore = (reason: string, extra: Partial<PodWorkflowResult> = {}): PodWorkflowResult => {
    logger.info('event ignored', { reason, eventId: signal.eventId });
    return { status: 'ignored', reason, retry: false, ...extra };
  };
  const subject = `${resolved.pod.namespace}/${resolved.pod.name}`;
  const copy = async (): Promise<PodWorkflowResult | undefined> => {
    const by = await claim.heldBy();
    return by === undefined ? undefined : ignore(`pod ${subject} (uid ${resolved.pod.uid}) already handled or in hand by event ${by}: a copy (both forwarder replicas send each termination)`, { pod: resolved.pod });
  };

  const prepared = deps.executor.prepare(); // the state table's connection opens while the cluster is asked
  // Identity before address: only IPs still proven to be this pod's (forwarder events; exporter events were
  // resolved by uid through the cluster a moment ago).
  const identity = resolved.observedAt
    ? await verifyPodIdentity(resolved.pod, deps.cluster, { observedAt: resolved.observedAt, now, freshSeconds: config.identityFreshSeconds, ...(resolved.claim ? { claim: resolved.claim } : {}) })
    : { ips: resolved.pod.ips, refused: [], how: 'resolved through the cluster API by uid' };
  if ('unconfirmed' in identity && identity.unconfirmed !== undefined) {
    // The pod is there and the cluster says otherwise: a forged event, or one the pod has outlived.
    logger.warn('pod event refused: the cluster contradicts it', { pod: subject, reason: identity.unconfirmed, eventId: signal.eventId });
    await deps.audit.rejected({ status: 'refused', error: 'ClaimNotConfirmed', message: identity.unconfirmed, pod: subject, ...(signal.eventId ? { eventId: signal.eventId } : {}) });
    return ignore(`refused: ${identity.unconfirmed}`, { pod: resolved.pod });
  }
  for (const r of identity.refused) logger.warn('pod IP not deregistered: identity not proven', { pod: subject, ip: r.ip, reason: r.reason });
  if (identity.ips.length === 0) {
    const reason = identity.refused.map((r) => r.reason).join('; ');
    await deps.audit.rejected({ status: 'refused', error: 'IdentityUnproven', message: reason, pod: subject });
    // No claim taken: another copy may be fresher (its observedAt within IDENTITY_FRESH_SECONDS) and try.
    return ignore(`refused: ${reason}`, { pod: resolved.pod });
  }
  const pod: TerminatingPod = { ...resolved.pod, ips: identity.ips };

  const observedAt = now.getTime();
  const query = { ips: pod.ips, pod: { namespace: pod.namespace, name: pod.name }, ...(resolved.boundGroups ? { groupArns: resolved.boundGroups } : {}) };
  // A warm index describes the pod's groups now: a copy of this event stops before those calls.
  if (deps.index.verifiesFor(query)) {
    const ignored = await copy();
    if (ignored) return ignored;
  }
  const lookup = await deps.index.lookup(query);
  const raw = planPodDeregistration({
    planId: randomUUID(),
    trigger: 'pod-events',
    pod,
    reason: resolved.why,
    targetGroups: lookup.targetGroups,
    targets: lookup.targets,
    cloudMap: lookup.instances,
    ownerAttributes: config.cloudMapOwnerAttributes,
    now,
  });
  const guarded = guardPlan(raw, { minHealthy: config.minHealthyTargets, maxFraction: config.maxDeregisterFraction, subject: `pod ${subject}` });
  const plan: Plan = { ...guarded, warnings: [...guarded.warnings, ...identity.refused.map((r) => planWarning('identity-unproven', `not deregistered: ${r.reason}`))] };
  if (plan.actions.length === 0 && plan.heldBack.length === 0) {
    return ignore(`no registration points at pod ${subject} (${pod.ips.join(', ')})`, { pod, plan, lookup: lookup.path });
  }
  // Before the writes (and the executor's fresh reads under its leases): a copy stops here at the latest.
  const ignored = await copy();
  if (ignored) return ignored;
  logger.info('plan', { planId: plan.id, subject: plan.subject, summary: planSummary(plan), writes: deps.executor.mode, lookup: lookup.path, indexAgeMs: lookup.ageMs, warnings: plan.warnings });
  for (const w of warningsOf(plan.warnings, 'single-point-of-failure')) logger.warn(w.text, { code: w.code });
  await prepared;
  const result = await deps.executor.apply(plan, { observed: observationsOf([...lookup.targets, ...lookup.instances], observedAt), subject: `pod ${subject}` });
  await deps.audit.record(plan, result);
  return { status: result.dryRun ? 'dry-run' : 'applied', pod, plan, result, lookup: lookup.path, retry: result.retryableFailures + result.permanentFailures > 0 };
}
