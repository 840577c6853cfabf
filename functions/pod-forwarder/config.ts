/**
 * Environment -> typed configuration, validated once at start. A forwarder that starts with a typo in its
 * bus name would silently drop every termination, so every problem is reported at once, by variable name,
 * and the process exits before it watches anything.
 */
import { isDns1123Label, isEksClusterName } from '../_core/contracts/names.ts';

/** The forwarder's configuration (see the Deployment and the overlay for how each is set). */
export interface ForwarderConfig {
  /** CLUSTER_NAME: copied into every event so one bus can serve several clusters. */
  readonly clusterName: string;
  /** EVENT_BUS_NAME: name or ARN of the target bus. */
  readonly eventBusName: string;
  /** QUEUE_MAX: queue capacity before drop-oldest (default 10,000). */
  readonly queueMax: number;
  /** BATCH_MAX_WAIT_MS: how long a partial batch waits for more entries (default 100 ms). */
  readonly batchMaxWaitMs: number;
  /** FORWARD_NOT_READY: also send "Pod Not Ready" on Ready -> NotReady (default false). */
  readonly forwardNotReady: boolean;
  /** NAMESPACES: comma-separated namespaces to watch; undefined = all namespaces (one cluster-wide watch). */
  readonly namespaces: readonly string[] | undefined;
  /** LABEL_SELECTOR: only pods matching it (server-side selector). */
  readonly labelSelector: string | undefined;
  /** METRICS_PORT: port of /metrics and /healthz (default 8080; 0 = any free port, for tests). */
  readonly metricsPort: number;
  /** HEALTH_STALE_SECONDS: /healthz stays ok this long after the watch was last connected (default 60). */
  readonly healthStaleSeconds: number;
  /** SHUTDOWN_TIMEOUT_MS: how long SIGTERM may spend flushing the queue (default 20,000). */
  readonly shutdownTimeoutMs: number;
  /**
   * PUBLISH_UNHEALTHY_SECONDS: PutEvents failing this long with nothing accepted since makes the pod not
   * ready (/readyz 503, quiesce_forwarder_publish_failing 1) until an entry is accepted again (default 60).
   * Liveness (/healthz) does not follow it: a restart does not mend a denied PutEvents.
   */
  readonly publishUnhealthySeconds: number;
}

/** Thrown when the environment is invalid; the message lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid forwarder configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const BUS_ARN = /^arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;

/**
 * Parses and validates the forwarder's environment.
 *
 * @throws ConfigError listing every invalid or missing variable.
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ForwarderConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return def;
    }
    return n;
  };

  const clusterName = str('CLUSTER_NAME');
  if (clusterName === undefined) problems.push('CLUSTER_NAME is required (the EKS cluster name, copied into every event)');
  else if (!isEksClusterName(clusterName)) problems.push(`CLUSTER_NAME "${clusterName}" is not a valid EKS cluster name`);

  const eventBusName = str('EVENT_BUS_NAME');
  if (eventBusName === undefined) problems.push('EVENT_BUS_NAME is required (event bus name or ARN)');
  else if (!BUS_NAME.test(eventBusName) && !BUS_ARN.test(eventBusName)) problems.push(`EVENT_BUS_NAME "${eventBusName}" is neither a bus name nor an event-bus ARN`);

  const notReadyRaw = str('FORWARD_NOT_READY')?.toLowerCase();
  let forwardNotReady = false;
  if (notReadyRaw === 'true') forwardNotReady = true;
  else if (notReadyRaw !== undefined && notReadyRaw !== 'false') problems.push(`FORWARD_NOT_READY must be "true" or "false", got "${notReadyRaw}"`);

  let namespaces: string[] | undefined;
  const nsRaw = str('NAMESPACES');
  if (nsRaw !== undefined) {
    namespaces = [...new Set(nsRaw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
    const bad = namespaces.filter((n) => !isDns1123Label(n));
    if (bad.length > 0) problems.push(`NAMESPACES contains invalid namespace names: ${bad.join(', ')}`);
    if (namespaces.length === 0) namespaces = undefined;
  }

  const labelSelector = str('LABEL_SELECTOR');
  if (labelSelector !== undefined && /[\n\r]/.test(labelSelector)) problems.push('LABEL_SELECTOR must be a single line');

  const config: ForwarderConfig = {
    clusterName: clusterName ?? '',
    eventBusName: eventBusName ?? '',
    queueMax: int('QUEUE_MAX', 10_000, 1, 1_000_000),
    batchMaxWaitMs: int('BATCH_MAX_WAIT_MS', 100, 0, 60_000),
    forwardNotReady,
    namespaces,
    labelSelector,
    metricsPort: int('METRICS_PORT', 8080, 0, 65_535),
    healthStaleSeconds: int('HEALTH_STALE_SECONDS', 60, 1, 3600),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 20_000, 0, 600_000),
    publishUnhealthySeconds: int('PUBLISH_UNHEALTHY_SECONDS', 60, 1, 3600),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
