/**
 * A deliberately small Kubernetes API client for Lambda: GET + JSON over node:https, trusting only the
 * cluster's CA, with the EKS bearer token, timeouts and list paging. Why not @kubernetes/client-node: it
 * pulls in megabytes (openid-client, ws, undici, a generated API) for three read-only calls, which costs cold
 * start on every spot warning, exactly when time is shortest.
 */
import { Agent, request } from 'node:https';
import { KubeApiError, type KubeTransportReason } from './kube-api-error.ts';
import { toKubeEndpointSlice, toKubePod, toKubeService, toKubeTargetGroupBinding, type KubeEndpointSlice, type KubePod, type KubeService, type KubeTargetGroupBinding } from './kube-objects.ts';

/** How to reach one cluster. */
export interface KubeClientOptions {
  /** The API server URL, e.g. EKS DescribeCluster `endpoint`. */
  endpoint: string;
  /** The cluster CA in PEM; the only CA trusted (public roots are not). */
  caPem: string;
  /** The bearer token (EKS: `eksToken()`), or a function returning it per request. */
  token: string | (() => Promise<string>);
  /** Per request, headers to last byte. Default 10 s: well inside a Lambda's budget, far above a healthy API server. */
  timeoutMs?: number;
  /** `limit` per list page. Default 500, what kubectl uses. */
  pageSize?: number;
  /** How often a list restarts from scratch after its continue token expired (410). Default 2. */
  maxListRestarts?: number;
  userAgent?: string;
}

/** Narrowing for list calls; selectors are passed to the API server as is. */
export interface KubeListOptions {
  /** Only this namespace; default all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** What an access review asks: a verb on a resource of an API group ("" = core), in a namespace or cluster-wide. */
export interface AccessAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
}

/** The API server's answer to an access review. */
export interface AccessReview {
  readonly allowed: boolean;
  readonly reason?: string;
}

/** A full list: every item of every page, and the resourceVersion a watch could start from. */
export interface KubeList {
  readonly items: unknown[];
  readonly resourceVersion: string;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME|TLS/;

/**
 * Read-only Kubernetes client for the pods and TargetGroupBindings quiesce looks at.
 *
 * @example
 * const kube = new KubeClient({ endpoint, caPem, token: await eksToken('prod', { region }) });
 * try {
 *   const pods = await kube.listPods();
 * } finally {
 *   kube.close();
 * }
 */
export class KubeClient {
  readonly #endpoint: string;
  readonly #token: string | (() => Promise<string>);
  readonly #agent: Agent;
  readonly #timeoutMs: number;
  readonly #pageSize: number;
  readonly #maxRestarts: number;
  readonly #userAgent: string;

  constructor(options: KubeClientOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.#token = options.token;
    this.#agent = new Agent({ ca: options.caPem, keepAlive: true, maxSockets: 4 });
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#pageSize = options.pageSize ?? 500;
    this.#maxRestarts = options.maxListRestarts ?? 2;
    this.#userAgent = options.userAgent ?? 'quiesce';
  }

  /** Every pod (of all namespaces unless `namespace` is given), all pages. */
  async listPods(options: KubeListOptions = {}): Promise<KubePod[]> {
    const base = options.namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`;
    const list = await this.list(base, options);
    return list.items.map(toKubePod);
  }

  /** Every TargetGroupBinding (elbv2.k8s.aws/v1beta1), all pages. */
  async listTargetGroupBindings(options: KubeListOptions = {}): Promise<KubeTargetGroupBinding[]> {
    const group = '/apis/elbv2.k8s.aws/v1beta1';
    const base =
      options.namespace === undefined
        ? `${group}/targetgroupbindings`
        : `${group}/namespaces/${encodeURIComponent(options.namespace)}/targetgroupbindings`;
    const list = await this.list(base, options);
    return list.items.map(toKubeTargetGroupBinding);
  }

  /** Every Service (core/v1), all pages: a TargetGroupBinding's serviceRef names one, its selector names the pods. */
  async listServices(options: KubeListOptions = {}): Promise<KubeService[]> {
    const base = options.namespace === undefined ? '/api/v1/services' : `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/services`;
    return (await this.list(base, options)).items.map(toKubeService);
  }

  /** Every EndpointSlice (discovery.k8s.io/v1), all pages: each endpoint names its node and pod. */
  async listEndpointSlices(options: KubeListOptions = {}): Promise<KubeEndpointSlice[]> {
    const group = '/apis/discovery.k8s.io/v1';
    const base = options.namespace === undefined ? `${group}/endpointslices` : `${group}/namespaces/${encodeURIComponent(options.namespace)}/endpointslices`;
    return (await this.list(base, options)).items.map(toKubeEndpointSlice);
  }

  /** One pod, or undefined when it does not exist (404). */
  async getPod(namespace: string, name: string): Promise<KubePod | undefined> {
    try {
      return toKubePod(await this.getJson(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * Lists a collection page by page (`limit` + `continue`). When a continue token has expired (410, the
   * snapshot was compacted), the pages read so far are discarded and the list starts over, as client-go's
   * pager does: mixing pages of two snapshots could miss or duplicate pods.
   */
  async list(path: string, options: Omit<KubeListOptions, 'namespace'> = {}): Promise<KubeList> {
    for (let attempt = 0; ; attempt += 1) {
      const items: unknown[] = [];
      let resourceVersion = '';
      let cont: string | undefined;
      try {
        do {
          const query: Record<string, string> = { limit: String(this.#pageSize) };
          if (options.labelSelector) query['labelSelector'] = options.labelSelector;
          if (options.fieldSelector) query['fieldSelector'] = options.fieldSelector;
          if (cont) query['continue'] = cont;
          const page = (await this.getJson(path, query)) as {
            items?: unknown;
            metadata?: { continue?: unknown; resourceVersion?: unknown };
          };
          if (!Array.isArray(page.items)) {
            throw new KubeApiError(`list ${path}: response has no items`, { status: 200, reason: 'InvalidResponse', path });
          }
          items.push(...(page.items as unknown[]));
          if (typeof page.metadata?.resourceVersion === 'string') resourceVersion = page.metadata.resourceVersion;
          cont = typeof page.metadata?.continue === 'string' && page.metadata.continue !== '' ? page.metadata.continue : undefined;
        } while (cont);
        return { items, resourceVersion };
      } catch (err) {
        if (err instanceof KubeApiError && err.expired && cont !== undefined && attempt < this.#maxRestarts) continue;
        throw err;
      }
    }
  }

  /** GET one JSON document; any non-2xx becomes a `KubeApiError` with the Status reason. */
  async getJson(path: string, query: Record<string, string> = {}): Promise<unknown> {
    const token = typeof this.#token === 'string' ? this.#token : await this.#token();
    const qs = new URLSearchParams(query).toString();
    const url = `${this.#endpoint}${path}${qs ? `?${qs}` : ''}`;
    const { status, body } = await this.#get(url, path, token).catch((err: unknown) => {
      // A kept-alive socket the server (or a Lambda freeze) closed while idle fails the next request at once:
      // a GET is safe to send once more, on a fresh socket.
      if (err instanceof KubeApiError && err.reason === 'NetworkError' && /ECONNRESET|EPIPE|socket hang up/.test(err.message)) return this.#get(url, path, token);
      throw err;
    });
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch (cause) {
      if (status >= 200 && status < 300) {
        throw new KubeApiError(`GET ${path}: response is not JSON`, { status, reason: 'InvalidResponse', path, cause });
      }
    }
    if (status >= 200 && status < 300) return parsed;
    const s = (parsed ?? {}) as { reason?: unknown; message?: unknown };
    const reason = typeof s.reason === 'string' && s.reason !== '' ? s.reason : httpReason(status);
    const message = typeof s.message === 'string' ? s.message : `HTTP ${status}`;
    throw new KubeApiError(`GET ${path}: ${status} ${reason}: ${message}`, { status, reason, path });
  }

  /**
   * Asks the API server whether this client's user may do something (a SelfSubjectAccessReview): what
   * `quiesce doctor` asks for every list the functions make, without making it. Every authenticated user may
   * ask (the `system:basic-user` ClusterRole), so it needs no RBAC of its own; nothing is stored.
   */
  async selfSubjectAccessReview(attributes: AccessAttributes): Promise<AccessReview> {
    return this.#review('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { resourceAttributes: attributes });
  }

  /**
   * The same question about another user (a SubjectAccessReview: its user name and groups), which needs
   * `create subjectaccessreviews` itself: how `quiesce doctor` checks a role it could not assume.
   */
  async subjectAccessReview(user: string, groups: readonly string[], attributes: AccessAttributes): Promise<AccessReview> {
    return this.#review('/apis/authorization.k8s.io/v1/subjectaccessreviews', { user, groups: [...groups], resourceAttributes: attributes });
  }

  async #review(path: string, spec: Record<string, unknown>): Promise<AccessReview> {
    const token = typeof this.#token === 'string' ? this.#token : await this.#token();
    const kind = path.endsWith('/selfsubjectaccessreviews') ? 'SelfSubjectAccessReview' : 'SubjectAccessReview';
    const body = JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind, spec });
    const { status, body: raw } = await this.#get(`${this.#endpoint}${path}`, path, token, body);
    let parsed: { status?: { allowed?: unknown; reason?: unknown }; reason?: unknown; message?: unknown } = {};
    try {
      parsed = JSON.parse(raw.toString('utf8')) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (status < 200 || status >= 300) {
      const reason = typeof parsed.reason === 'string' && parsed.reason !== '' ? parsed.reason : httpReason(status);
      throw new KubeApiError(`POST ${path}: ${status} ${reason}: ${typeof parsed.message === 'string' ? parsed.message : `HTTP ${status}`}`, { status, reason, path });
    }
    return { allowed: parsed.status?.allowed === true, ...(typeof parsed.status?.reason === 'string' ? { reason: parsed.status.reason } : {}) };
  }

  /** Releases kept-alive sockets; call at the end of a handler run so the Lambda can freeze cleanly. */
  close(): void {
    this.#agent.destroy();
  }

  /** One request: a GET, or a POST of `body` (JSON). */
  #get(url: string, path: string, token: string, body?: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (reason: KubeTransportReason, message: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new KubeApiError(`GET ${path}: ${message}`, { status: undefined, reason, path, cause }));
      };
      const req = request(url, {
        method: body === undefined ? 'GET' : 'POST',
        agent: this.#agent,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'user-agent': this.#userAgent,
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
        },
      });
      const timer = setTimeout(() => {
        fail('Timeout', `no complete answer within ${this.#timeoutMs} ms`);
        req.destroy();
      }, this.#timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const tls = TLS_CODES.test(err.code ?? '');
        fail(tls ? 'TLSVerificationFailed' : 'NetworkError', `${err.code ?? ''} ${err.message}`.trim(), err);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail('NetworkError', err.message, err));
        res.on('aborted', () => fail('NetworkError', 'response aborted'));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) });
        });
      });
      req.end(body);
    });
  }
}

function httpReason(status: number): string {
  switch (status) {
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 410:
      return 'Expired';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return status >= 500 ? 'InternalError' : 'Unknown';
  }
}
