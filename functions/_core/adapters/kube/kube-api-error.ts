/**
 * The one error the Kubernetes client throws, so callers can tell "the token is wrong" (401, fix the access
 * entry, do not retry) from "the control plane is busy" (429/5xx/network, retry) without parsing messages.
 */
import { QuiesceError } from '../../errors.ts';

/** Why a Kubernetes request failed when there was no HTTP status (status is then undefined). */
export type KubeTransportReason = 'NetworkError' | 'Timeout' | 'TLSVerificationFailed' | 'InvalidResponse';

/**
 * A failed Kubernetes API request. `reason` is the API server's `Status.reason` (Unauthorized, Forbidden,
 * NotFound, Expired, TooManyRequests, ServiceUnavailable, ...) or a transport reason.
 */
export class KubeApiError extends QuiesceError {
  /** HTTP status, or undefined when the request never got an answer. */
  readonly status: number | undefined;
  readonly reason: string;
  /** The request path (no query: continue tokens are long and useless in logs). */
  readonly path: string;
  constructor(message: string, options: { status: number | undefined; reason: string; path: string; cause?: unknown }) {
    const s = options.status;
    const retryable =
      s === undefined
        ? options.reason === 'NetworkError' || options.reason === 'Timeout'
        : s === 429 || s >= 500;
    super(message, { retryable, cause: options.cause });
    this.status = s;
    this.reason = options.reason;
    this.path = options.path;
  }

  /** True for 410 Gone with reason Expired: a continue token or resourceVersion too old; start over. */
  get expired(): boolean {
    return this.status === 410;
  }
}

/** The cluster could not be described (missing endpoint or CA): a configuration problem, not retried. */
export class ClusterAccessError extends QuiesceError {
  readonly clusterName: string;
  constructor(clusterName: string, message: string, cause?: unknown) {
    super(`${clusterName}: ${message}`, { retryable: false, cause });
    this.clusterName = clusterName;
  }
}
