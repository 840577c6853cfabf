/**
 * A fake Kubernetes API server for tests: real TLS on 127.0.0.1 with its own test CA, EKS bearer-token
 * authentication, list with `limit`/`continue` paging, and watch with resourceVersions, compaction (410
 * Gone), bookmarks and dropped connections. It exists because both the Lambda's small fetch client
 * (adapters/kube) and the in-cluster pod forwarder (@kubernetes/client-node informers) must be tested
 * against the wire behaviour that breaks them in production: expired continue tokens, too-old
 * resourceVersions, watches cut by load balancers, and an API server that is briefly unavailable.
 *
 * State is global per instance and versioned like etcd: one monotonic resourceVersion counter shared by all
 * kinds, every mutation gets the next version and is appended to the kind's watch history, in order.
 *
 * @example
 * const kube = new FakeKubeApi();
 * const { endpoint, caData } = await kube.start();
 * kube.addPod({ namespace: 'shop', name: 'web-1', ip: '10.0.1.5', nodeName: 'ip-10-0-1-1' });
 * kube.markTerminating('shop', 'web-1', 30); // MODIFIED event on every open watch
 * await kube.stop();
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { checkEksToken, TokenRejected, type TokenCheckOptions } from './eks-token-check.ts';
import {
  buildEndpointSlice,
  buildPod,
  buildService,
  buildTargetGroupBinding,
  compileFilter,
  patchPod,
  type KubeObject,
  type ObjectFilter,
  type EndpointSliceSeed,
  type PodSeed,
  type ServiceSeed,
  type TargetGroupBindingSeed,
} from './objects.ts';

const certFile = (name: string): string => readFileSync(new URL(`./certs/${name}`, import.meta.url), 'utf8');

/** The test CA (PEM) that signed the fake's server certificate. Test-only; protects nothing. */
export const FAKE_KUBE_CA_PEM: string = certFile('ca.pem');

/** The resource kinds the fake serves. */
export type FakeKind = 'pods' | 'targetgroupbindings' | 'services' | 'endpointslices';

const KINDS: readonly FakeKind[] = ['pods', 'targetgroupbindings', 'services', 'endpointslices'];

/** A watch event as the API server streams it (one JSON object per line). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject | Record<string, unknown>;
}

/** One request the fake received, for assertions (e.g. "the Lambda paged with limit=2"). */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The bearer token as sent (without `Bearer `), or undefined when there was none. */
  token: string | undefined;
  watch: boolean;
  /** The HTTP status the fake answered with (200 for watches that started streaming). */
  status: number;
}

/** Options fixed for the life of the fake (kept by `reset()`). */
export interface FakeKubeApiOptions {
  /** The fake's clock for timestamps and token age; default real time. */
  now?: () => Date;
  /** How many watch events per kind are kept before the oldest are compacted away. Default 1000. */
  historyLimit?: number;
  /**
   * How a watch from a compacted resourceVersion fails: `event` (HTTP 200 then an ERROR event with a 410
   * Status, what the real watch cache does) or `status` (HTTP 410 Status response). Default `event`.
   */
  expiredWatchAs?: 'event' | 'status';
  /**
   * Token checks beyond the format: `verify` recomputes the signature with known credentials and cluster
   * name; `maxExpiresSeconds` caps X-Amz-Expires (default 900). Tokens older than 15 minutes by `now` are
   * rejected unless `checkAge: false` (for tests that pin an old signing date).
   */
  token?: Omit<TokenCheckOptions, 'now'> & { checkAge?: boolean };
  /** Send a BOOKMARK to watches that asked for them every this many ms; default 0 = only on `bookmark()`. */
  bookmarkIntervalMs?: number;
  /**
   * Who a (well-formed) token is, as EKS's authenticator says: the access key id that signed it in, the
   * user name and groups of its access entry out (fakes/aws eks.ts `accessEntry`); undefined = 401, as for an
   * IAM principal the cluster has no access entry for. Unset = every well-formed token is let in (as
   * `system:masters` would be), which is what tests that do not exercise access need.
   */
  authenticate?: KubeAuthenticator;
}

/** The user a request is made as (an access entry's user name and Kubernetes groups). */
export interface KubeUser {
  readonly username: string;
  readonly groups: readonly string[];
}

/** Who signed a token in: the access key id of its presigned STS URL. */
export type KubeAuthenticator = (signer: { readonly accessKeyId: string }) => KubeUser | undefined;

/** An RBAC rule as a ClusterRole carries it. */
interface RbacRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs?: readonly string[];
}

/** What one request asks to do, in RBAC's terms. */
export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
}

interface StoredEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  prev: KubeObject | undefined;
}

interface OpenWatch {
  kind: FakeKind;
  filter: ObjectFilter;
  res: ServerResponse;
  bookmarks: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface ListSnapshot {
  kind: FakeKind;
  rv: number;
  items: KubeObject[];
  expired: boolean;
}

const KIND_META: Record<FakeKind, { apiVersion: string; kind: string; listKind: string }> = {
  pods: { apiVersion: 'v1', kind: 'Pod', listKind: 'PodList' },
  targetgroupbindings: { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding', listKind: 'TargetGroupBindingList' },
  services: { apiVersion: 'v1', kind: 'Service', listKind: 'ServiceList' },
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', listKind: 'EndpointSliceList' },
};

/** The API group of each kind (RBAC rules name groups; "" is the core group). */
const KIND_GROUP: Record<FakeKind, string> = { pods: '', services: '', targetgroupbindings: 'elbv2.k8s.aws', endpointslices: 'discovery.k8s.io' };

/** The API server's 403 message. */
function forbidden(user: KubeUser, a: ResourceAttributes): string {
  const where = a.namespace === undefined ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
  return `${a.resource}${a.group ? `.${a.group}` : ''} is forbidden: User "${user.username}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${where}`;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Builds a `Status` object like the API server's error bodies (also the object of an ERROR watch event). */
export function kubeStatus(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const START_RV = 1000;
const key = (ns: string, name: string): string => `${ns}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

/** The fake API server. One per test file is enough; `reset()` between tests. */
export class FakeKubeApi {
  readonly #options: FakeKubeApiOptions;
  #server: Server | undefined;
  #endpoint = '';
  #rv = START_RV;
  readonly #store: Record<FakeKind, Map<string, KubeObject>> = { pods: new Map(), targetgroupbindings: new Map(), services: new Map(), endpointslices: new Map() };
  readonly #history: Record<FakeKind, StoredEvent[]> = { pods: [], targetgroupbindings: [], services: [], endpointslices: [] };
  /** Watches from a resourceVersion below this get 410: the events after it are gone. */
  readonly #compacted: Record<FakeKind, number> = { pods: START_RV, targetgroupbindings: START_RV, services: START_RV, endpointslices: START_RV };
  readonly #watches = new Set<OpenWatch>();
  readonly #snapshots = new Map<string, ListSnapshot>();
  #requests: RecordedRequest[] = [];
  #unavailable = false;
  #latencyMs = 0;
  #failures: { remaining: number; status: number; reason: string | undefined } = { remaining: 0, status: 500, reason: undefined };
  #bookmarkTimer: NodeJS.Timeout | undefined;
  /** ClusterRoles by name and ClusterRoleBindings; undefined = no RBAC: every authenticated user may do anything. */
  #rbac: { roles: Map<string, readonly RbacRule[]>; bindings: { role: string; subjects: { kind: string; name: string }[] }[] } | undefined;
  readonly #watchWaiters = new Set<() => void>();
  /** Every TCP socket ever accepted and not yet closed, TLS handshake included (see {@link stop}). */
  readonly #sockets = new Set<Socket>();

  constructor(options: FakeKubeApiOptions = {}) {
    this.#options = options;
  }

  /**
   * Listens on 127.0.0.1 on a random port. `caData` is the base64 of the CA PEM, exactly what EKS
   * DescribeCluster returns in `certificateAuthority.data`, so it can be seeded into the fake EKS as is.
   */
  async start(): Promise<{ endpoint: string; caData: string }> {
    if (!this.#server) {
      const server = createServer({ key: certFile('server-key.pem'), cert: certFile('server.pem') }, (req, res) => {
        this.#handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) this.#sendJson(res, 500, kubeStatus(500, String(err)));
          else res.destroy();
        });
      });
      // No idle timeout (see the fake AWS server): an idle socket the server closes races the client reusing
      // it. stop() destroys every socket itself.
      server.keepAliveTimeout = 0;
      server.on('connection', (socket: Socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      this.#server = server;
      this.#endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const interval = this.#options.bookmarkIntervalMs ?? 0;
      if (interval > 0) {
        this.#bookmarkTimer = setInterval(() => this.bookmark(), interval);
        this.#bookmarkTimer.unref();
      }
    }
    return { endpoint: this.#endpoint, caData: Buffer.from(FAKE_KUBE_CA_PEM).toString('base64') };
  }

  /**
   * Closes the listener and every connection, watches included, and resolves once all are gone.
   *
   * Why raw sockets and not only `closeAllConnections()`: an HTTPS server tracks a connection only after
   * its TLS handshake. A client that connected just before stop (an informer restarting its watch) would
   * finish the handshake afterwards, open a watch that never ends, and keep `close()` from ever resolving:
   * the test file's afterAll then times out. Destroying every accepted socket leaves nothing to wait for.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    if (this.#bookmarkTimer) clearInterval(this.#bookmarkTimer);
    this.#bookmarkTimer = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.dropWatches('reset');
    server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  /** Forgets all objects, history, recorded requests and injected failures; drops open watches. Keeps listening. */
  reset(): void {
    this.dropWatches('reset');
    this.#rv = START_RV;
    for (const kind of KINDS) {
      this.#store[kind].clear();
      this.#history[kind] = [];
      this.#compacted[kind] = START_RV;
    }
    this.#snapshots.clear();
    this.#requests = [];
    this.#unavailable = false;
    this.#latencyMs = 0;
    this.#failures = { remaining: 0, status: 500, reason: undefined };
    this.#rbac = undefined;
  }

  /**
   * Turns RBAC on with these objects (ClusterRoles and ClusterRoleBindings, as parsed from manifests such
   * as infra/k8s/cluster-access): every request is then authorized as the API server's RBAC authorizer
   * does (https://kubernetes.io/docs/reference/access-authn-authz/rbac/): allowed when a binding to one of
   * the user's subjects (its name, its groups, `system:authenticated`) names a role with a rule matching the
   * API group, resource and verb (`*` matches all); else 403 Forbidden with the API server's message. As
   * for `system:basic-user`, every authenticated user may create SelfSubjectAccessReviews.
   */
  setRbac(objects: readonly unknown[]): void {
    const roles = new Map<string, readonly RbacRule[]>();
    const bindings: { role: string; subjects: { kind: string; name: string }[] }[] = [];
    for (const o of objects as { kind?: string; metadata?: { name?: string }; rules?: RbacRule[]; roleRef?: { name?: string }; subjects?: { kind: string; name: string }[] }[]) {
      if (o.kind === 'ClusterRole') roles.set(o.metadata?.name ?? '', o.rules ?? []);
      else if (o.kind === 'ClusterRoleBinding') bindings.push({ role: o.roleRef?.name ?? '', subjects: o.subjects ?? [] });
      else throw new Error(`setRbac: ${o.kind ?? 'an object'} is not modelled (ClusterRole and ClusterRoleBinding only)`);
    }
    this.#rbac = { roles, bindings };
  }

  /** Whether RBAC lets `user` do what `attrs` asks (always, without RBAC). */
  allows(user: KubeUser, attrs: ResourceAttributes): boolean {
    if (!this.#rbac) return true;
    const subjects = new Set([`User:${user.username}`, ...[...user.groups, 'system:authenticated'].map((g) => `Group:${g}`)]);
    const has = (list: readonly string[] | undefined, v: string): boolean => (list ?? []).some((x) => x === '*' || x === v);
    return this.#rbac.bindings.some(
      (b) => b.subjects.some((s) => subjects.has(`${s.kind}:${s.name}`)) && (this.#rbac?.roles.get(b.role) ?? []).some((r) => has(r.apiGroups, attrs.group) && has(r.resources, attrs.resource) && has(r.verbs, attrs.verb)),
    );
  }

  /** `https://127.0.0.1:PORT` once started. */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** The current (latest) resourceVersion, as the API server spells it: a decimal string. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Every request received since the last reset, in order. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** How many watch connections are open right now. */
  get openWatches(): number {
    return this.#watches.size;
  }

  /** Resolves once at least `count` watches are open: lets a test mutate only after an informer is watching. */
  async waitForWatches(count = 1, timeoutMs = 5000): Promise<void> {
    if (this.#watches.size >= count) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.#watches.size >= count) {
          clearTimeout(timer);
          this.#watchWaiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        this.#watchWaiters.delete(check);
        reject(new Error(`timed out waiting for ${count} open watch(es); ${this.#watches.size} open`));
      }, timeoutMs);
      this.#watchWaiters.add(check);
    });
  }

  // ---- state: pods -------------------------------------------------------------------------------------

  /** Adds a pod (ADDED event). Throws if it exists: tests should say `updatePod` when they mean it. */
  addPod(seed: PodSeed): KubeObject {
    const k = key(seed.namespace, seed.name);
    if (this.#store.pods.has(k)) throw new Error(`pod ${k} already exists`);
    return this.#commit('pods', 'ADDED', buildPod(seed, seed.uid ?? randomUUID(), this.#nowIso()));
  }

  /** Changes a pod (MODIFIED event): seed fields to set, or a function that edits the stored JSON in place. */
  updatePod(
    namespace: string,
    name: string,
    patch: Partial<Omit<PodSeed, 'namespace' | 'name' | 'uid'>> | ((pod: KubeObject) => void),
  ): KubeObject {
    const pod = clone(this.#get('pods', namespace, name));
    if (typeof patch === 'function') patch(pod);
    else patchPod(pod, patch);
    return this.#commit('pods', 'MODIFIED', pod);
  }

  /**
   * What `kubectl delete` does first: sets deletionTimestamp = now + grace and deletionGracePeriodSeconds
   * (MODIFIED event). The pod stays listed, and Ready, until `deletePod`; that window is what quiesce is for.
   */
  markTerminating(namespace: string, name: string, graceSeconds: number): KubeObject {
    const pod = clone(this.#get('pods', namespace, name));
    pod.metadata.deletionTimestamp = new Date(this.#now().getTime() + graceSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    pod.metadata.deletionGracePeriodSeconds = graceSeconds;
    return this.#commit('pods', 'MODIFIED', pod);
  }

  /** Removes a pod (DELETED event carrying the last state with a new resourceVersion). */
  deletePod(namespace: string, name: string): KubeObject {
    return this.#commit('pods', 'DELETED', clone(this.#get('pods', namespace, name)));
  }

  /** The stored pod JSON (a copy), or undefined. */
  getPod(namespace: string, name: string): KubeObject | undefined {
    const pod = this.#store.pods.get(key(namespace, name));
    return pod && clone(pod);
  }

  // ---- state: TargetGroupBindings ----------------------------------------------------------------------

  /** Adds a TargetGroupBinding (ADDED event). */
  addTargetGroupBinding(seed: TargetGroupBindingSeed): KubeObject {
    const k = key(seed.namespace, seed.name);
    if (this.#store.targetgroupbindings.has(k)) throw new Error(`targetgroupbinding ${k} already exists`);
    return this.#commit('targetgroupbindings', 'ADDED', buildTargetGroupBinding(seed, seed.uid ?? randomUUID(), this.#nowIso()));
  }

  /** Edits a TargetGroupBinding's JSON in place (MODIFIED event). */
  updateTargetGroupBinding(namespace: string, name: string, edit: (tgb: KubeObject) => void): KubeObject {
    const tgb = clone(this.#get('targetgroupbindings', namespace, name));
    edit(tgb);
    return this.#commit('targetgroupbindings', 'MODIFIED', tgb);
  }

  /** Removes a TargetGroupBinding (DELETED event). */
  deleteTargetGroupBinding(namespace: string, name: string): KubeObject {
    return this.#commit('targetgroupbindings', 'DELETED', clone(this.#get('targetgroupbindings', namespace, name)));
  }

  // ---- state: Services and EndpointSlices ---------------------------------------------------------------

  /** Adds a Service (ADDED event): what a TargetGroupBinding's serviceRef names; its selector picks the pods. */
  addService(seed: ServiceSeed): KubeObject {
    const k = key(seed.namespace, seed.name);
    if (this.#store.services.has(k)) throw new Error(`service ${k} already exists`);
    return this.#commit('services', 'ADDED', buildService(seed, seed.uid ?? randomUUID(), this.#nowIso()));
  }

  /** Removes a Service (DELETED event). */
  deleteService(namespace: string, name: string): KubeObject {
    return this.#commit('services', 'DELETED', clone(this.#get('services', namespace, name)));
  }

  /** Adds an EndpointSlice (ADDED event), as the EndpointSlice controller writes one per Service (or more). */
  addEndpointSlice(seed: EndpointSliceSeed): KubeObject {
    const k = key(seed.namespace, seed.name);
    if (this.#store.endpointslices.has(k)) throw new Error(`endpointslice ${k} already exists`);
    return this.#commit('endpointslices', 'ADDED', buildEndpointSlice(seed, seed.uid ?? randomUUID(), this.#nowIso()));
  }

  /** Removes an EndpointSlice (DELETED event). */
  deleteEndpointSlice(namespace: string, name: string): KubeObject {
    return this.#commit('endpointslices', 'DELETED', clone(this.#get('endpointslices', namespace, name)));
  }

  // ---- failure injection -------------------------------------------------------------------------------

  /** While true, every request (auth included) gets 503 ServiceUnavailable, like a control plane upgrade. */
  setUnavailable(unavailable: boolean): void {
    this.#unavailable = unavailable;
  }

  /**
   * Every request waits this long (real time) before it is answered: an API server behind a saturated
   * control plane, or a private endpoint the caller reaches only through a slow path. 0 = answer at once.
   */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** The next `count` requests fail with `status` (a Status body; 429 also sends Retry-After: 1). */
  failNext(count: number, status: number, reason?: string): void {
    this.#failures = { remaining: count, status, reason };
  }

  /**
   * Ends every open watch: `reset` destroys the socket (a load balancer cutting the connection), `end`
   * finishes the chunked response cleanly (the API server's own timeout), `expire` first sends an ERROR
   * event with a 410 Status (the watch fell too far behind) then ends.
   */
  dropWatches(mode: 'reset' | 'end' | 'expire' = 'reset'): void {
    for (const w of [...this.#watches]) {
      if (mode === 'expire') this.#write(w, { type: 'ERROR', object: this.#tooOld(w.kind, 0) });
      this.#closeWatch(w, mode === 'reset');
    }
  }

  /** Sends a BOOKMARK with the current resourceVersion to every open watch that allowed bookmarks. */
  bookmark(): void {
    for (const w of this.#watches) {
      if (!w.bookmarks) continue;
      const meta = KIND_META[w.kind];
      this.#write(w, { type: 'BOOKMARK', object: { kind: meta.kind, apiVersion: meta.apiVersion, metadata: { resourceVersion: String(this.#rv) } } });
    }
  }

  /** Discards all watch history up to now (etcd compaction): watches from any older resourceVersion get 410. */
  compact(): void {
    for (const kind of KINDS) {
      this.#history[kind] = [];
      this.#compacted[kind] = this.#rv;
    }
    for (const s of this.#snapshots.values()) s.expired = true;
  }

  /** Makes every continue token issued so far answer 410 Expired (as after compaction), without touching watches. */
  expireContinueTokens(): void {
    for (const s of this.#snapshots.values()) s.expired = true;
  }

  // ---- internals: state ---------------------------------------------------------------------------------

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #nowIso(): string {
    return this.#now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  #get(kind: FakeKind, namespace: string, name: string): KubeObject {
    const obj = this.#store[kind].get(key(namespace, name));
    if (!obj) throw new Error(`${kind} ${namespace}/${name} does not exist`);
    return obj;
  }

  /** Stamps the next resourceVersion, stores, records history and fans the event out, all synchronously. */
  #commit(kind: FakeKind, type: StoredEvent['type'], obj: KubeObject): KubeObject {
    const k = key(obj.metadata.namespace, obj.metadata.name);
    const prev = this.#store[kind].get(k);
    this.#rv += 1;
    obj.metadata.resourceVersion = String(this.#rv);
    if (type === 'DELETED') this.#store[kind].delete(k);
    else this.#store[kind].set(k, obj);
    const event: StoredEvent = { rv: this.#rv, type, object: clone(obj), prev: prev && clone(prev) };
    const history = this.#history[kind];
    history.push(event);
    const limit = this.#options.historyLimit ?? 1000;
    while (history.length > limit) {
      const dropped = history.shift();
      if (dropped) this.#compacted[kind] = dropped.rv;
    }
    for (const w of this.#watches) {
      if (w.kind !== kind) continue;
      const out = this.#project(event, w.filter);
      if (out) this.#write(w, out);
    }
    return clone(obj);
  }

  /** What a watcher with this filter sees of a stored event (objects moving in or out of a selector included). */
  #project(event: StoredEvent, filter: ObjectFilter): WatchEvent | undefined {
    const now = filter(event.object);
    if (event.type === 'MODIFIED') {
      const before = event.prev !== undefined && filter(event.prev);
      if (now && before) return { type: 'MODIFIED', object: event.object };
      if (now) return { type: 'ADDED', object: event.object };
      if (before) return { type: 'DELETED', object: event.object };
      return undefined;
    }
    return now ? { type: event.type, object: event.object } : undefined;
  }

  #tooOld(kind: FakeKind, requested: number): Record<string, unknown> {
    return kubeStatus(410, `too old resource version: ${requested} (${this.#compacted[kind]})`, 'Expired');
  }

  // ---- internals: HTTP ----------------------------------------------------------------------------------

  #sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://fake.invalid');
    const query = Object.fromEntries(url.searchParams);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const watch = query['watch'] === 'true' || query['watch'] === '1';
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, token, watch, status: 0 };
    this.#requests.push(record);
    const fail = (status: number, message: string, reason?: string, headers?: Record<string, string>): void => {
      record.status = status;
      this.#sendJson(res, status, kubeStatus(status, message, reason), headers);
    };

    if (this.#latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#latencyMs).unref());
    if (this.#unavailable) return fail(503, 'the server is currently unable to handle the request');
    if (this.#failures.remaining > 0) {
      this.#failures.remaining -= 1;
      const { status, reason } = this.#failures;
      return fail(status, `injected failure ${status}`, reason, status === 429 ? { 'retry-after': '1' } : {});
    }
    if (token === undefined) return fail(401, 'Unauthorized');
    let user: KubeUser = { username: 'kubernetes-admin', groups: ['system:masters'] };
    try {
      const check = this.#options.token ?? {};
      const decoded = await checkEksToken(token, { ...check, ...(check.checkAge === false ? {} : { now: this.#now() }) });
      if (this.#options.authenticate) {
        const who = this.#options.authenticate({ accessKeyId: decoded.url.searchParams.get('X-Amz-Credential')?.split('/')[0] ?? '' });
        if (!who) return fail(401, 'Unauthorized');
        user = who;
      }
    } catch (err) {
      if (err instanceof TokenRejected) return fail(401, 'Unauthorized');
      throw err;
    }
    if (req.method === 'POST' && /^\/apis\/authorization\.k8s\.io\/v1\/(self)?subjectaccessreviews$/.test(url.pathname)) {
      return this.#accessReview(req, url.pathname.includes('/selfsubject'), user, record, res, fail);
    }
    if (req.method !== 'GET') return fail(405, `method ${req.method ?? ''} not allowed by the fake`);

    const route = this.#route(url.pathname);
    if (!route) return fail(404, `the server could not find the requested resource (${url.pathname})`);
    const verb = route.name !== undefined ? 'get' : watch ? 'watch' : 'list';
    const attrs: ResourceAttributes = { verb, group: KIND_GROUP[route.kind], resource: route.kind, ...(route.namespace !== undefined ? { namespace: route.namespace } : {}) };
    if (!this.allows(user, attrs)) return fail(403, forbidden(user, attrs), 'Forbidden');
    if (route.name !== undefined) {
      const obj = this.#store[route.kind].get(key(route.namespace ?? '', route.name));
      if (!obj) return fail(404, `${route.kind} "${route.name}" not found`);
      record.status = 200;
      return this.#sendJson(res, 200, obj);
    }
    const filter = compileFilter(route.namespace, url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'));
    if (watch) return this.#startWatch(route.kind, filter, url.searchParams, res, record, fail);
    return this.#list(route.kind, filter, url.searchParams, res, record, fail);
  }

  /**
   * POST of a SelfSubjectAccessReview (may this user do X?) or a SubjectAccessReview (may that user do X?,
   * which itself needs `create subjectaccessreviews`): answered with `status.allowed` and why, as the
   * authorization.k8s.io/v1 API does. Nothing is stored.
   */
  async #accessReview(req: IncomingMessage, self: boolean, user: KubeUser, record: RecordedRequest, res: ServerResponse, fail: (status: number, message: string, reason?: string) => void): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: { spec?: { resourceAttributes?: Partial<ResourceAttributes>; user?: string; groups?: string[] } };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return fail(400, 'the request body is not JSON');
    }
    const ra = body.spec?.resourceAttributes;
    if (!ra?.verb || ra.resource === undefined) return fail(422, 'spec.resourceAttributes.verb and .resource are required', 'Invalid');
    const kind = self ? 'SelfSubjectAccessReview' : 'SubjectAccessReview';
    if (!self) {
      const attrs: ResourceAttributes = { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews' };
      if (!this.allows(user, attrs)) return fail(403, forbidden(user, attrs), 'Forbidden');
    }
    const subject: KubeUser = self ? user : { username: body.spec?.user ?? '', groups: body.spec?.groups ?? [] };
    const attrs: ResourceAttributes = { verb: ra.verb, group: ra.group ?? '', resource: ra.resource, ...(ra.namespace ? { namespace: ra.namespace } : {}) };
    const allowed = this.allows(subject, attrs);
    record.status = 201;
    this.#sendJson(res, 201, { kind, apiVersion: 'authorization.k8s.io/v1', metadata: {}, spec: body.spec, status: { allowed, ...(allowed ? { reason: 'RBAC: allowed by a ClusterRoleBinding' } : {}) } });
  }

  #route(path: string): { kind: FakeKind; namespace: string | undefined; name: string | undefined } | undefined {
    const seg = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    let rest: string[];
    let kind: FakeKind;
    if (seg[0] === 'api' && seg[1] === 'v1') {
      rest = seg.slice(2);
      // core/v1 serves pods and services: /api/v1/<kind> or /api/v1/namespaces/<ns>/<kind>[/<name>].
      kind = rest[0] === 'services' || (rest[0] === 'namespaces' && rest[2] === 'services') ? 'services' : 'pods';
    } else if (seg[0] === 'apis' && seg[1] === 'elbv2.k8s.aws' && seg[2] === 'v1beta1') {
      rest = seg.slice(3);
      kind = 'targetgroupbindings';
    } else if (seg[0] === 'apis' && seg[1] === 'discovery.k8s.io' && seg[2] === 'v1') {
      rest = seg.slice(3);
      kind = 'endpointslices';
    } else return undefined;
    if (rest.length === 1 && rest[0] === kind) return { kind, namespace: undefined, name: undefined };
    if (rest[0] === 'namespaces' && rest[1] !== undefined && rest[2] === kind) {
      if (rest.length === 3) return { kind, namespace: rest[1], name: undefined };
      if (rest.length === 4) return { kind, namespace: rest[1], name: rest[3] };
    }
    return undefined;
  }

  #list(
    kind: FakeKind,
    filter: ObjectFilter,
    params: URLSearchParams,
    res: ServerResponse,
    record: RecordedRequest,
    fail: (status: number, message: string, reason?: string) => void,
  ): void {
    const limitText = params.get('limit');
    const limit = limitText === null || limitText === '' ? 0 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0) return fail(400, `invalid limit ${limitText ?? ''}`);
    const cont = params.get('continue');
    let snapshot: ListSnapshot;
    let snapshotId: string;
    let offset = 0;
    if (cont) {
      let decoded: { id?: unknown; offset?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { id?: unknown; offset?: unknown };
      } catch {
        return fail(400, 'invalid continue token');
      }
      const found = typeof decoded.id === 'string' ? this.#snapshots.get(decoded.id) : undefined;
      if (!found || found.kind !== kind || typeof decoded.offset !== 'number') return fail(400, 'invalid continue token');
      if (found.expired || found.rv < this.#compacted[kind]) {
        return fail(
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          'Expired',
        );
      }
      snapshot = found;
      snapshotId = decoded.id as string;
      offset = decoded.offset;
    } else {
      const items = [...this.#store[kind].entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o)
        .filter(filter)
        .map(clone);
      snapshot = { kind, rv: this.#rv, items, expired: false };
      snapshotId = randomUUID();
    }
    const end = limit > 0 ? Math.min(offset + limit, snapshot.items.length) : snapshot.items.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snapshot.rv) };
    if (end < snapshot.items.length) {
      if (!this.#snapshots.has(snapshotId)) this.#snapshots.set(snapshotId, snapshot);
      metadata['continue'] = Buffer.from(JSON.stringify({ id: snapshotId, offset: end, rv: snapshot.rv })).toString('base64url');
      metadata['remainingItemCount'] = snapshot.items.length - end;
    }
    const meta = KIND_META[kind];
    record.status = 200;
    this.#sendJson(res, 200, { kind: meta.listKind, apiVersion: meta.apiVersion, metadata, items: snapshot.items.slice(offset, end) });
  }

  #startWatch(
    kind: FakeKind,
    filter: ObjectFilter,
    params: URLSearchParams,
    res: ServerResponse,
    record: RecordedRequest,
    fail: (status: number, message: string, reason?: string) => void,
  ): void {
    const rvText = params.get('resourceVersion') ?? '';
    const timeoutText = params.get('timeoutSeconds');
    const timeoutSeconds = timeoutText === null ? 0 : Number(timeoutText);
    let backlog: WatchEvent[];
    let expired: Record<string, unknown> | undefined;
    if (rvText === '' || rvText === '0') {
      // "Start at most recent" / "any": synthetic ADDED for the current state, in key order.
      backlog = [...this.#store[kind].entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o)
        .filter(filter)
        .map((o) => ({ type: 'ADDED' as const, object: clone(o) }));
    } else {
      const from = Number(rvText);
      if (!Number.isInteger(from) || from < 0) return fail(400, `invalid resourceVersion ${rvText}`);
      if (from < this.#compacted[kind]) {
        expired = this.#tooOld(kind, from);
        if ((this.#options.expiredWatchAs ?? 'event') === 'status') {
          return fail(410, String(expired['message']), 'Expired');
        }
        backlog = [];
      } else {
        backlog = this.#history[kind]
          .filter((e) => e.rv > from)
          .map((e) => this.#project(e, filter))
          .filter((e): e is WatchEvent => e !== undefined);
      }
    }

    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
    res.flushHeaders();
    const watch: OpenWatch = { kind, filter, res, bookmarks: params.get('allowWatchBookmarks') === 'true', timer: undefined };
    if (expired) {
      this.#write(watch, { type: 'ERROR', object: expired });
      res.end();
      return;
    }
    for (const e of backlog) this.#write(watch, e);
    this.#watches.add(watch);
    res.on('close', () => this.#closeWatch(watch, false));
    if (timeoutSeconds > 0) {
      watch.timer = setTimeout(() => this.#closeWatch(watch, false), timeoutSeconds * 1000);
      watch.timer.unref();
    }
    for (const waiter of [...this.#watchWaiters]) waiter();
  }

  #write(w: OpenWatch, event: WatchEvent): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(`${JSON.stringify(event)}\n`);
  }

  #closeWatch(w: OpenWatch, abrupt: boolean): void {
    if (!this.#watches.delete(w) && !abrupt) {
      if (!w.res.writableEnded) w.res.end();
      return;
    }
    if (w.timer) clearTimeout(w.timer);
    if (abrupt) w.res.socket?.destroy();
    else if (!w.res.writableEnded) w.res.end();
  }
}
