/**
 * Configuration of the pod-events trigger: the shared `QuiesceConfig` plus the few settings only this
 * trigger has (the registration index's TTL, what counts as a stale event, where exporter events come from).
 * Parsed once, a bad value is a `ConfigError` naming the variable before any AWS call.
 */
import { bool, integer, list, loadConfig, text, type Env, type QuiesceConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/** What to do with a forwarder "Pod Not Ready" event (a Ready pod turned NotReady, not deleted). */
export type NotReadyAction = 'ignore' | 'deregister';

/** The pod-events trigger's configuration. */
export interface PodEventsConfig extends QuiesceConfig {
  /** How long a full scan of target groups / Cloud Map is trusted as a hint; 0 = scan on every event. */
  readonly indexTtlSeconds: number;
  /** A miss on an index at least this old rebuilds it once (catches pods registered since the last scan). */
  readonly indexMissRefreshSeconds: number;
  /**
   * An event whose pod's deletionTimestamp (the time the kubelet kills it) lies more than this far in the
   * past is ignored: the pod is gone and its IP may already belong to another pod (EventBridge retries for
   * up to 24 h). The Load Balancer Controller has long removed it by then.
   */
  readonly staleAfterSeconds: number;
  /** EventBridge sources of kubernetes-event-exporter events (the exporter's `source` is free text). */
  readonly exporterSources: readonly string[];
  /** The cluster's VPC; unset = asked of EKS DescribeCluster once per container. */
  readonly vpcId: string | undefined;
  readonly notReadyAction: NotReadyAction;
  /** Whether kubernetes-event-exporter events are resolved through the cluster API (needs an EKS access entry). */
  readonly exporterEnabled: boolean;
  /**
   * Identity before address: when the cluster API cannot say whether a pod's IP is still that pod's, an
   * event younger than this (by the forwarder's observedAt) proceeds on the event alone; an older one, a
   * retry that may meet the IP reused by another pod, is refused with the reason.
   */
  readonly identityFreshSeconds: number;
  /**
   * DUPLICATE_WINDOW_SECONDS: a pod termination (by uid) already claimed by another event within this
   * window is ignored before any ELB call (both forwarder replicas send each one: duplicates.ts). Needs
   * STATE_TABLE; 0 = every copy is handled.
   */
  readonly duplicateWindowSeconds: number;
}

/** Reads the pod-events configuration (shared variables plus this trigger's own). */
export function loadPodEventsConfig(env: Env = process.env): PodEventsConfig {
  const base = loadConfig(env);
  const notReady = (text(env, 'NOT_READY_ACTION') ?? 'ignore').toLowerCase();
  if (notReady !== 'ignore' && notReady !== 'deregister') throw new ConfigError('NOT_READY_ACTION', `expected ignore or deregister, got "${notReady}"`);
  const vpcId = text(env, 'VPC_ID');
  if (vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) throw new ConfigError('VPC_ID', `not a VPC id: "${vpcId}"`);
  const sources = list(env, 'EXPORTER_SOURCES');
  return {
    ...base,
    indexTtlSeconds: integer(env, 'INDEX_TTL_SECONDS', 30, 0, 900),
    indexMissRefreshSeconds: integer(env, 'INDEX_MISS_REFRESH_SECONDS', 5, 0, 900),
    staleAfterSeconds: integer(env, 'STALE_AFTER_SECONDS', 60, 0, 86_400),
    exporterSources: sources.length > 0 ? sources : ['kubernetes-event-exporter'],
    vpcId,
    notReadyAction: notReady,
    exporterEnabled: bool(env, 'EXPORTER_ENABLED', true),
    identityFreshSeconds: integer(env, 'IDENTITY_FRESH_SECONDS', 5, 0, 3600),
    duplicateWindowSeconds: integer(env, 'DUPLICATE_WINDOW_SECONDS', 300, 0, 3600),
  };
}
