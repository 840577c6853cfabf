/**
 * The loopback HTTP server behind the real SDK v3 clients. It routes every request by the SigV4 credential
 * scope (`Credential=AKID/date/region/<signingName>/aws4_request`) to the FakeService with that signing name,
 * decodes the request with the AWS wire protocol that API uses, and encodes the answer (or the FakeAwsError)
 * the way the SDK's own deserializer expects it.
 *
 * Wire names come from the SDK's own operation schemas (the `Operation$` tuples exported by each installed
 * `@aws-sdk/client-*`): the query serializer's key rules (`member.N`, `entry.N.key`, EC2's flattened lists and
 * `ec2QueryName`s) are inverted for input, and the XML deserializer's rules (member `xmlName`, list item
 * `xmlName` ?? `member`, `xmlFlattened`) drive output. So the fakes speak the SDK's PascalCase shapes, even
 * EC2, whose irregular lowerCamel wire names (`networkInterfaceSet/item/privateIpAddressesSet/item`) come
 * out of the schema.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { NormalizedSchema } from '@smithy/core/schema';
import { FakeAwsError } from './core.ts';
import type { FakeService, RestRoute } from './core.ts';

// ---------------------------------------------------------------------------------------------------------
// Protocols per signing name
// ---------------------------------------------------------------------------------------------------------

type Protocol = 'awsQuery' | 'ec2Query' | 'awsJson1_0' | 'awsJson1_1' | 'restJson1';
type SdkModule = Record<string, unknown>;

interface ProtocolInfo {
  protocol: Protocol;
  /** The installed SDK client whose schemas describe this API (lazy: client-ec2 alone is 2 MB). */
  sdk?: () => Promise<SdkModule>;
  xmlns?: string;
  /** The throttling error the API documents (code, HTTP status). */
  throttle: { code: string; status: number; message: string };
}

const PROTOCOLS: Record<string, ProtocolInfo> = {
  elasticloadbalancing: {
    protocol: 'awsQuery',
    sdk: () => import('@aws-sdk/client-elastic-load-balancing-v2'),
    xmlns: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
    // "If you exceed an ELB API throttling limit, you get the ThrottlingException error code and a Rate exceeded
    // error message." https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html
    throttle: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  },
  // EC2 API reference, "Error codes": RequestLimitExceeded, HTTP 503.
  ec2: {
    protocol: 'ec2Query',
    sdk: () => import('@aws-sdk/client-ec2'),
    xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
    throttle: { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' },
  },
  // EC2 Auto Scaling API reference, "Common errors": Throttling (HTTP 400), "Rate exceeded".
  autoscaling: {
    protocol: 'awsQuery',
    sdk: () => import('@aws-sdk/client-auto-scaling'),
    xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
    throttle: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  },
  // STS API reference, "Common errors": Throttling (HTTP 400).
  sts: {
    protocol: 'awsQuery',
    sdk: () => import('@aws-sdk/client-sts'),
    xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
    throttle: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  },
  // IAM API reference, "Common errors": Throttling (HTTP 400). One global endpoint, signing region us-east-1.
  iam: {
    protocol: 'awsQuery',
    sdk: () => import('@aws-sdk/client-iam'),
    xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/',
    throttle: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  },
  // Cloud Map API reference, "Common errors": ThrottlingException (HTTP 400).
  servicediscovery: {
    protocol: 'awsJson1_1',
    sdk: () => import('@aws-sdk/client-servicediscovery'),
    throttle: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  },
  // EventBridge model: ThrottlingException (client error, HTTP 400).
  events: {
    protocol: 'awsJson1_1',
    sdk: () => import('@aws-sdk/client-eventbridge'),
    throttle: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  },
  // SQS model: RequestThrottled (awsQueryError RequestThrottled, HTTP 403).
  sqs: {
    protocol: 'awsJson1_0',
    sdk: () => import('@aws-sdk/client-sqs'),
    throttle: { code: 'RequestThrottled', status: 403, message: 'Rate exceeded' },
  },
  // CloudWatch Logs API reference, "Common errors": ThrottlingException (HTTP 400).
  logs: {
    protocol: 'awsJson1_1',
    sdk: () => import('@aws-sdk/client-cloudwatch-logs'),
    throttle: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  },
  // EKS model: ThrottlingException, HTTP 429.
  eks: {
    protocol: 'restJson1',
    sdk: () => import('@aws-sdk/client-eks'),
    throttle: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
  },
};

const GENERIC_THROTTLE = { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' };

/** The documented throttling error of an API (by signing name). */
export function throttlingErrorFor(signingName: string): FakeAwsError {
  const t = PROTOCOLS[signingName]?.throttle ?? GENERIC_THROTTLE;
  return new FakeAwsError(t.code, t.message, t.status);
}

/** A request as the fake answers it: what an HTTP listener or an in-process SDK handler hands over. */
export interface RawRequest {
  readonly method: string;
  /** Path and query. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

// ---------------------------------------------------------------------------------------------------------
// Call log
// ---------------------------------------------------------------------------------------------------------

export interface CallRecord {
  readonly service: string;
  readonly operation: string;
  /** The request as the fake received it (the SDK's PascalCase shape); undefined when it could not be decoded. */
  readonly input?: Readonly<Record<string, unknown>>;
  /** performance.now() at arrival / at answer. */
  readonly start: number;
  end: number;
  /** The AWS error code answered, if any. */
  error?: string;
}

export class CallLog {
  readonly records: CallRecord[] = [];

  /** Number of calls, optionally of one service (signing name) and/or one operation. */
  count(service?: string, operation?: string): number {
    return this.filter(service, operation).length;
  }

  filter(service?: string, operation?: string): CallRecord[] {
    return this.records.filter(
      (r) => (service === undefined || r.service === service) && (operation === undefined || r.operation === operation),
    );
  }

  /** Counts per `signingName.Operation`, sorted by key. */
  byOperation(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of [...this.records].sort((a, b) => `${a.service}.${a.operation}`.localeCompare(`${b.service}.${b.operation}`))) {
      const k = `${r.service}.${r.operation}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /**
   * Critical-path depth: the wave of a call is 1 + the highest wave among calls that ENDED before it STARTED;
   * the result is the highest wave (0 without calls). Calls still in flight count as ending now.
   */
  waves(): number {
    const recs = this.records.map((r) => ({ start: r.start, end: r.end, wave: 0 }));
    const byStart = [...recs].sort((a, b) => a.start - b.start);
    const byEnd = [...recs].sort((a, b) => a.end - b.end);
    let j = 0;
    let maxEnded = 0;
    let max = 0;
    for (const r of byStart) {
      while (j < byEnd.length && byEnd[j]!.end < r.start) {
        maxEnded = Math.max(maxEnded, byEnd[j]!.wave);
        j++;
      }
      r.wave = maxEnded + 1;
      max = Math.max(max, r.wave);
    }
    return max;
  }

  clear(): void {
    this.records.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------------------

export interface FaultScope {
  /** Signing name (`elasticloadbalancing`, `ec2`, ...). */
  service?: string;
  operation?: string;
}

interface LatencyRule extends FaultScope {
  ms: number;
}
interface ThrottleRule extends FaultScope {
  rate: number;
  next: () => number;
}
interface BucketRule {
  service: string;
  /** Operations drawing from this bucket (prefix match, e.g. `Describe`). */
  operationPrefix: string;
  capacity: number;
  refillPerSecond: number;
  tokens: number;
  updatedAt: number;
  now: () => number;
}
interface BarrierRule extends FaultScope {
  count: number;
  match: ((input: Record<string, unknown>) => boolean) | undefined;
  waiting: (() => void)[];
  released: boolean;
}
interface FailRule {
  operation: string;
  service?: string;
  remaining: number;
  code: string;
  message: string;
  status: number;
}

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const matches = (scope: FaultScope, service: string, operation: string): boolean =>
  (scope.service === undefined || scope.service === service) && (scope.operation === undefined || scope.operation === operation);

export class FaultInjector {
  #latency: LatencyRule[] = [];
  #throttle: ThrottleRule[] = [];
  #fail: FailRule[] = [];
  #buckets: BucketRule[] = [];
  #barriers: BarrierRule[] = [];

  /** Delays every matching call by `ms` real milliseconds (setTimeout) before it is answered. Rules add up. */
  latency(ms: number, scope: FaultScope = {}): void {
    this.#latency.push({ ...scope, ms });
  }

  /**
   * Answers a fraction `rate` (0..1) of matching calls with the API's documented throttling error, chosen by a
   * deterministic PRNG (`seed`, default 1). NB: the SDK retries throttling errors (3 attempts by default).
   */
  throttle(rate: number, scope: FaultScope & { seed?: number } = {}): void {
    const { seed = 1, ...rest } = scope;
    this.#throttle.push({ ...rest, rate, next: prng(seed) });
  }

  /**
   * An account-level token bucket, the way AWS throttles per account and Region: each matching call takes a
   * token; an empty bucket answers the API's throttling error. The ELB user guide documents the model with
   * the example "the bucket for non-mutating actions holds 40 tokens and refills 10 per second"
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-throttling.html).
   * Refills follow real time (performance.now) by default, because benchmarks measure real time; a test
   * passes `now` (milliseconds) to decide when time passes, so a slow machine cannot refill a token in
   * the middle of the burst it asserts on.
   */
  accountBucket(service: string, operationPrefix: string, capacity: number, refillPerSecond: number, now: () => number = () => performance.now()): void {
    this.#buckets.push({ service, operationPrefix, capacity, refillPerSecond, tokens: capacity, updatedAt: now(), now });
  }

  /**
   * A rendezvous: the first `count` matching calls (and whose input `match` accepts) are held until all
   * `count` have arrived, then answered together. For an interleaving a test must pin down whatever the
   * machine's load: "both writers read the group before either writes" is a barrier of 2 on that group's
   * read, where a latency only makes it likely. Held calls are let go after `timeoutMs` (default 10 s) real
   * time, so a test whose interleaving never comes fails on its assertions instead of hanging.
   */
  barrier(count: number, scope: FaultScope & { match?: (input: Record<string, unknown>) => boolean; timeoutMs?: number } = {}): void {
    const { match, timeoutMs = 10_000, ...rest } = scope;
    const rule: BarrierRule = { ...rest, count, match, waiting: [], released: false };
    this.#barriers.push(rule);
    const release = (): void => {
      rule.released = true;
      for (const go of rule.waiting.splice(0)) go();
    };
    setTimeout(release, timeoutMs).unref();
  }

  /** Waits at every barrier this call belongs to (see {@link barrier}). */
  async rendezvous(service: string, operation: string, input: Record<string, unknown>): Promise<void> {
    for (const b of this.#barriers) {
      if (b.released || !matches(b, service, operation) || (b.match && !b.match(input))) continue;
      await new Promise<void>((resolve) => {
        b.waiting.push(resolve);
        if (b.waiting.length >= b.count) {
          b.released = true;
          for (const go of b.waiting.splice(0)) go();
        }
      });
    }
  }

  /** The next `times` (default 1) calls of `operation` fail with `code` (default InternalFailure/500). */
  fail(
    operation: string,
    opts: { times?: number; code?: string; message?: string; status?: number; service?: string } = {},
  ): void {
    this.#fail.push({
      operation,
      service: opts.service,
      remaining: opts.times ?? 1,
      code: opts.code ?? 'InternalFailure',
      message: opts.message ?? 'injected failure',
      status: opts.status ?? (opts.code === undefined ? 500 : 400),
    });
  }

  reset(): void {
    this.#latency = [];
    this.#throttle = [];
    this.#fail = [];
    this.#buckets = [];
    for (const b of this.#barriers) {
      b.released = true;
      for (const go of b.waiting.splice(0)) go();
    }
    this.#barriers = [];
  }

  /** Milliseconds to delay this call. */
  delayFor(service: string, operation: string): number {
    return this.#latency.filter((r) => matches(r, service, operation)).reduce((s, r) => s + r.ms, 0);
  }

  /** The injected error for this call, if any (consumes `fail` budgets and PRNG draws). */
  errorFor(service: string, operation: string): FakeAwsError | undefined {
    const f = this.#fail.find((r) => r.remaining > 0 && r.operation === operation && (r.service === undefined || r.service === service));
    if (f) {
      f.remaining--;
      return new FakeAwsError(f.code, f.message, f.status);
    }
    for (const b of this.#buckets) {
      if (b.service !== service || !operation.startsWith(b.operationPrefix)) continue;
      const now = b.now();
      b.tokens = Math.min(b.capacity, b.tokens + ((now - b.updatedAt) / 1000) * b.refillPerSecond);
      b.updatedAt = now;
      if (b.tokens < 1) return throttlingErrorFor(service);
      b.tokens -= 1;
    }
    for (const r of this.#throttle) {
      if (matches(r, service, operation) && r.next() < r.rate) return throttlingErrorFor(service);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Query protocol input: form body -> PascalCase input, driven by the SDK's input schema
// ---------------------------------------------------------------------------------------------------------

interface KeyNode {
  value?: string;
  children: Map<string, KeyNode>;
}

function keyTree(params: URLSearchParams): KeyNode {
  const root: KeyNode = { children: new Map() };
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    let node = root;
    for (const part of key.split('.')) {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
    node.value = value;
  }
  return root;
}

const numbered = (node: KeyNode | undefined): KeyNode[] =>
  node
    ? [...node.children.entries()]
        .filter(([k]) => /^\d+$/.test(k))
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, v]) => v)
    : [];

function queryKey(name: string, traits: Record<string, unknown>, ec2: boolean, struct: boolean): string {
  if (ec2 && typeof traits.ec2QueryName === 'string') return traits.ec2QueryName;
  const key = typeof traits.xmlName === 'string' ? traits.xmlName : name;
  return ec2 && struct ? key[0]!.toUpperCase() + key.slice(1) : key;
}

function scalar(ns: NormalizedSchema, v: string): unknown {
  if (ns.isBooleanSchema()) return v === 'true';
  if (ns.isNumericSchema()) return Number(v);
  if (ns.isTimestampSchema()) return new Date(/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : v);
  return v;
}

function readQuery(ns: NormalizedSchema, node: KeyNode, ec2: boolean): unknown {
  if (ns.isListSchema()) {
    const member = ns.getValueSchema();
    const flat = ec2 || !!ns.getMergedTraits().xmlFlattened;
    const container = flat ? node : node.children.get(queryKey('member', member.getMergedTraits(), ec2, false));
    return numbered(container).map((n) => readQuery(member, n, ec2));
  }
  if (ns.isMapSchema()) {
    const k = ns.getKeySchema();
    const v = ns.getValueSchema();
    const flat = !!ns.getMergedTraits().xmlFlattened;
    const kName = queryKey('key', k.getMergedTraits(), ec2, false);
    const vName = queryKey('value', v.getMergedTraits(), ec2, false);
    const out: Record<string, unknown> = {};
    for (const e of numbered(flat ? node : node.children.get('entry'))) {
      const key = e.children.get(kName)?.value;
      const val = e.children.get(vName);
      if (key !== undefined && val) out[key] = readQuery(v, val, ec2);
    }
    return out;
  }
  if (ns.isStructSchema()) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of ns.structIterator()) {
      const child = node.children.get(queryKey(name, member.getMergedTraits(), ec2, true));
      if (child) out[name] = readQuery(member, child, ec2);
    }
    return out;
  }
  if (ns.isDocumentSchema()) return genericFromTree(node);
  return node.value === undefined ? undefined : scalar(ns, node.value);
}

/** Without a schema: `a.member.1.b` -> { a: [{ b }] } (best effort, strings only). */
function genericFromTree(node: KeyNode): unknown {
  if (node.children.size === 0) return node.value;
  const member = node.children.get('member');
  if (member && node.children.size === 1) return numbered(member).map(genericFromTree);
  const keys = [...node.children.keys()];
  if (keys.every((k) => /^\d+$/.test(k))) return numbered(node).map(genericFromTree);
  const out: Record<string, unknown> = {};
  for (const [k, v] of node.children) out[k] = genericFromTree(v);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// XML output, driven by the SDK's output schema (mirrors @aws-sdk/core XmlShapeDeserializer)
// ---------------------------------------------------------------------------------------------------------

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;');

function xmlScalar(ns: NormalizedSchema | undefined, v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (ns?.isTimestampSchema() && typeof v === 'number') return new Date(v).toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return esc(String(v));
}

function writeXml(ns: NormalizedSchema, value: unknown, out: string[]): void {
  if (value == null) return;
  if (ns.isListSchema()) {
    const item = ns.getValueSchema();
    const itemName = (item.getMergedTraits().xmlName as string | undefined) ?? 'member';
    for (const v of value as unknown[]) {
      if (v == null) continue;
      out.push(`<${itemName}>`);
      writeXml(item, v, out);
      out.push(`</${itemName}>`);
    }
    return;
  }
  if (ns.isMapSchema()) {
    const k = ns.getKeySchema();
    const v = ns.getValueSchema();
    const kName = (k.getMergedTraits().xmlName as string | undefined) ?? 'key';
    const vName = (v.getMergedTraits().xmlName as string | undefined) ?? 'value';
    for (const [key, val] of Object.entries(value as Record<string, unknown>)) {
      out.push(`<entry><${kName}>${esc(key)}</${kName}><${vName}>`);
      writeXml(v, val, out);
      out.push(`</${vName}></entry>`);
    }
    return;
  }
  if (ns.isStructSchema()) {
    const obj = value as Record<string, unknown>;
    for (const [name, member] of ns.structIterator()) {
      const v = obj[name];
      if (v == null) continue;
      const tag = (member.getMemberTraits().xmlName as string | undefined) ?? name;
      if (member.isListSchema() && member.getMergedTraits().xmlFlattened) {
        for (const item of v as unknown[]) {
          out.push(`<${tag}>`);
          writeXml(member.getValueSchema(), item, out);
          out.push(`</${tag}>`);
        }
        continue;
      }
      out.push(`<${tag}>`);
      writeXml(member, v, out);
      out.push(`</${tag}>`);
    }
    return;
  }
  if (ns.isDocumentSchema()) {
    writeGenericXml(value, out);
    return;
  }
  out.push(xmlScalar(ns, value));
}

function writeGenericXml(value: unknown, out: string[]): void {
  if (value == null) return;
  if (Array.isArray(value)) {
    for (const v of value) {
      out.push('<member>');
      writeGenericXml(v, out);
      out.push('</member>');
    }
  } else if (typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v == null) continue;
      out.push(`<${k}>`);
      writeGenericXml(v, out);
      out.push(`</${k}>`);
    }
  } else {
    out.push(xmlScalar(undefined, value));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------------------

type OpSchema = [number, string, string, Record<string, unknown>, unknown, unknown];

const deref = (x: unknown): unknown => (typeof x === 'function' ? (x as () => unknown)() : x);

function isOpSchema(x: unknown): x is OpSchema {
  return Array.isArray(x) && x[0] === 9 && x.length >= 6;
}

const norm = (x: unknown): NormalizedSchema => NormalizedSchema.of(deref(x) as Parameters<typeof NormalizedSchema.of>[0]);

interface CompiledRoute {
  method: string;
  regex: RegExp;
  labels: string[];
  operation: string;
}

function compileRoute(r: RestRoute): CompiledRoute {
  const labels: string[] = [];
  const pathOnly = r.path.split('?')[0]!;
  const src = pathOnly
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)(\+?)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      labels.push(m[1]!);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { method: r.method.toUpperCase(), regex: new RegExp(`^${src}/?$`), labels, operation: r.operation };
}

// ---------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------

const SIGNING_NAME = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;
/** The access key id of the credential scope: who signed (test/fakes/aws/iam.ts). */
const ACCESS_KEY = /Credential=([^/,\s]+)\/\d{8}\//;

interface Decoded {
  operation: string;
  input: Record<string, unknown>;
}

export class FakeAwsServer {
  readonly calls = new CallLog();
  readonly faults = new FaultInjector();
  readonly #services = new Map<string, FakeService>();
  readonly #modules = new Map<string, SdkModule>();
  readonly #routes = new Map<string, CompiledRoute[]>();
  #server: Server | undefined;
  #endpoint: string | undefined;
  #lastPort: number | undefined;

  register(service: FakeService): void {
    this.#services.set(service.signingName, service);
    this.#routes.delete(service.signingName);
  }

  get endpoint(): string {
    if (!this.#endpoint) throw new Error('FakeAwsServer not started');
    return this.#endpoint;
  }

  /**
   * Listens on 127.0.0.1. A server that was stopped and is started again takes the port it had before
   * when it is still free, so an SDK client built for the old endpoint (a handler's dependencies made at
   * first use in an earlier test file of the same vitest worker, the suite runs without isolation) still
   * reaches it; otherwise a random port.
   */
  async start(): Promise<{ endpoint: string }> {
    if (this.#endpoint) return { endpoint: this.#endpoint };
    const server = createServer((req, res) => {
      this.#serve(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e instanceof Error ? e.stack : e));
      });
    });
    // No idle timeout: a server that closes an idle kept-alive socket races the client reusing it (the
    // client's next request meets ECONNRESET), which under a loaded CI machine happens. stop() closes
    // every connection itself.
    server.keepAliveTimeout = 0;
    const listen = (port: number): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    await (this.#lastPort ? listen(this.#lastPort).catch(() => listen(0)) : listen(0));
    this.#server = server;
    this.#lastPort = (server.address() as AddressInfo).port;
    this.#endpoint = `http://127.0.0.1:${this.#lastPort}`;
    return { endpoint: this.#endpoint };
  }

  /** Closes the listener and every connection; resolves once both are gone. */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    this.#endpoint = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }

  /** Loads the SDK client module of an API (to have its schemas ready before the first call). */
  async preload(signingName: string): Promise<void> {
    await this.#module(signingName);
  }

  async #module(signingName: string): Promise<SdkModule | undefined> {
    const cached = this.#modules.get(signingName);
    if (cached) return cached;
    const load = PROTOCOLS[signingName]?.sdk;
    if (!load) return undefined;
    const mod = await load();
    this.#modules.set(signingName, mod);
    return mod;
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const out = await this.respond({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(out.status, { ...out.headers, 'content-length': Buffer.byteLength(out.body) });
    res.end(out.body);
  }

  /**
   * Answers one request as the loopback server would, without the socket: what both the HTTP listener and
   * {@link inProcessHandler} call.
   */
  async respond(req: RawRequest): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    const start = performance.now();
    const body = req.body;
    const url = new URL(req.url, 'http://localhost');
    const auth = String(req.headers['authorization'] ?? url.searchParams.get('X-Amz-Credential') ?? '');
    const signingName =
      SIGNING_NAME.exec(auth)?.[1] ?? /^[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request$/.exec(auth)?.[1] ?? 'unknown';
    const service = this.#services.get(signingName);
    const target = req.headers['x-amz-target'];
    const contentType = String(req.headers['content-type'] ?? '');
    const info = PROTOCOLS[signingName];
    const protocol: Protocol =
      info?.protocol ??
      (typeof target === 'string' ? 'awsJson1_1' : contentType.includes('x-www-form-urlencoded') ? 'awsQuery' : 'restJson1');
    const mod = await this.#module(signingName);

    let decoded: Decoded | undefined;
    let result: unknown;
    let error: FakeAwsError | undefined;
    try {
      if (!service) throw new FakeAwsError('UnrecognizedClientException', `no fake registered for '${signingName}'`, 400);
      decoded = await this.#decode(protocol, signingName, mod, req, url, body, service);
    } catch (e) {
      error = toAwsError(e);
    }
    const operation = decoded?.operation ?? 'Unknown';
    const record: CallRecord = { service: signingName, operation, ...(decoded ? { input: decoded.input } : {}), start, end: start };
    this.calls.records.push(record);
    if (!error && decoded && service) {
      await this.faults.rendezvous(signingName, operation, decoded.input);
      const delay = this.faults.delayFor(signingName, operation);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      error = this.faults.errorFor(signingName, operation);
      if (!error) {
        try {
          result = await service.handle(operation, decoded.input, { accessKeyId: ACCESS_KEY.exec(auth)?.[1] ?? /^([^/]+)\/\d{8}\//.exec(auth)?.[1] });
        } catch (e) {
          error = toAwsError(e);
        }
      }
    }
    const requestId = randomUUID();
    const out = error
      ? this.#encodeError(protocol, error, requestId)
      : this.#encode(protocol, signingName, mod, operation, result, requestId);
    record.end = performance.now();
    if (error) record.error = error.code;
    return { status: out.status, headers: { ...out.headers, 'x-amzn-requestid': requestId }, body: out.body };
  }

  async #decode(
    protocol: Protocol,
    signingName: string,
    mod: SdkModule | undefined,
    req: RawRequest,
    url: URL,
    body: string,
    service: FakeService,
  ): Promise<Decoded> {
    if (protocol === 'awsQuery' || protocol === 'ec2Query') {
      const params = new URLSearchParams(body || url.search);
      const operation = params.get('Action');
      if (!operation) throw new FakeAwsError('MissingAction', 'no Action', 400);
      const op = mod?.[`${operation}$`];
      const tree = keyTree(params);
      if (isOpSchema(op)) {
        const input = readQuery(norm(op[4]), tree, protocol === 'ec2Query');
        return { operation, input: (input ?? {}) as Record<string, unknown> };
      }
      if (mod) throw new FakeAwsError('InvalidAction', `${operation} is not valid for this web service`, 400);
      return { operation, input: (genericFromTree(tree) ?? {}) as Record<string, unknown> };
    }
    if (protocol === 'awsJson1_0' || protocol === 'awsJson1_1') {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.lastIndexOf('.') + 1);
      if (!operation) throw new FakeAwsError('UnknownOperationException', 'no X-Amz-Target', 400);
      return { operation, input: body ? (JSON.parse(body) as Record<string, unknown>) : {} };
    }
    // restJson1
    const routes = this.#restRoutes(signingName, mod, service);
    const method = req.method.toUpperCase();
    for (const r of routes) {
      if (r.method !== method) continue;
      const m = r.regex.exec(url.pathname);
      if (!m) continue;
      const input: Record<string, unknown> = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      r.labels.forEach((l, i) => (input[l] = decodeURIComponent(m[i + 1]!)));
      const op = mod?.[`${r.operation}$`];
      if (isOpSchema(op)) {
        const ns = norm(op[4]);
        if (ns.isStructSchema()) {
          for (const [name, member] of ns.structIterator()) {
            const t = member.getMergedTraits();
            if (typeof t.httpQuery === 'string' && url.searchParams.has(t.httpQuery)) {
              const all = url.searchParams.getAll(t.httpQuery);
              input[name] = member.isListSchema() ? all.map((v) => scalar(member.getValueSchema(), v)) : scalar(member, all[0]!);
            }
            if (typeof t.httpHeader === 'string' && req.headers[t.httpHeader.toLowerCase()] !== undefined) {
              input[name] = String(req.headers[t.httpHeader.toLowerCase()]);
            }
          }
        }
      } else {
        for (const [k, v] of url.searchParams) input[k] ??= v;
      }
      return { operation: r.operation, input };
    }
    throw new FakeAwsError('UnknownOperationException', `no route for ${method} ${url.pathname}`, 404);
  }

  #restRoutes(signingName: string, mod: SdkModule | undefined, service: FakeService): CompiledRoute[] {
    let routes = this.#routes.get(signingName);
    if (routes) return routes;
    const table: RestRoute[] = [...(service.restRoutes ?? [])];
    for (const [key, op] of Object.entries(mod ?? {})) {
      if (!key.endsWith('$') || !isOpSchema(op)) continue;
      const http = op[3].http;
      if (Array.isArray(http)) table.push({ method: String(http[0]), path: String(http[1]), operation: key.slice(0, -1) });
    }
    routes = table.map(compileRoute);
    this.#routes.set(signingName, routes);
    return routes;
  }

  #encode(
    protocol: Protocol,
    signingName: string,
    mod: SdkModule | undefined,
    operation: string,
    result: unknown,
    requestId: string,
  ): { status: number; headers: Record<string, string>; body: string } {
    const xmlns = PROTOCOLS[signingName]?.xmlns ?? '';
    const op = mod?.[`${operation}$`];
    if (protocol === 'awsQuery' || protocol === 'ec2Query') {
      const out: string[] = [];
      if (isOpSchema(op)) {
        const ns = norm(op[5]);
        if (!ns.isUnitSchema()) writeXml(ns, result ?? {}, out);
      } else {
        writeGenericXml(result, out);
      }
      const inner = out.join('');
      const xml =
        protocol === 'ec2Query'
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${inner}</${operation}Response>`
          : `<${operation}Response xmlns="${xmlns}"><${operation}Result>${inner}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
      return { status: 200, headers: { 'content-type': 'text/xml' }, body: xml };
    }
    const json = JSON.stringify(result ?? {}, function (this: Record<string, unknown>, key: string, v: unknown) {
      const orig = key === '' ? v : this[key];
      if (orig instanceof Date) return orig.getTime() / 1000;
      if (orig instanceof Uint8Array) return Buffer.from(orig).toString('base64');
      return v;
    });
    const ct = protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : protocol === 'awsJson1_1' ? 'application/x-amz-json-1.1' : 'application/json';
    let status = 200;
    if (protocol === 'restJson1' && isOpSchema(op) && Array.isArray(op[3].http)) status = Number(op[3].http[2] ?? 200);
    return { status, headers: { 'content-type': ct }, body: json };
  }

  #encodeError(protocol: Protocol, e: FakeAwsError, requestId: string): { status: number; headers: Record<string, string>; body: string } {
    if (protocol === 'awsQuery') {
      const type = e.status >= 500 ? 'Receiver' : 'Sender';
      return {
        status: e.status,
        headers: { 'content-type': 'text/xml' },
        body: `<ErrorResponse><Error><Type>${type}</Type><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    }
    if (protocol === 'ec2Query') {
      return {
        status: e.status,
        headers: { 'content-type': 'text/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(e.code)}</Code><Message>${esc(e.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    }
    const ct = protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : protocol === 'awsJson1_1' ? 'application/x-amz-json-1.1' : 'application/json';
    return {
      status: e.status,
      headers: { 'content-type': ct, 'x-amzn-errortype': e.code },
      body: JSON.stringify({ __type: e.code, message: e.message }),
    };
  }
}

function toAwsError(e: unknown): FakeAwsError {
  if (e instanceof FakeAwsError) return e;
  if (e instanceof SyntaxError) return new FakeAwsError('SerializationException', e.message, 400);
  return new FakeAwsError('InternalFailure', e instanceof Error ? (e.stack ?? e.message) : String(e), 500);
}

/** The parts of a smithy HttpRequest the in-process handler reads. */
interface SmithyRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * An SDK v3 `requestHandler` that hands each request to the fake directly instead of over a socket: the
 * real client still builds, signs and parses every call (serializers, SigV4, retries, deserializers), only
 * TCP and HTTP framing are skipped. For tests that make tens of thousands of calls (the concurrent-writers
 * property), where the sockets were a fifth of the time.
 *
 * @example
 * new ElasticLoadBalancingV2Client({ ...config, requestHandler: inProcessHandler(fakeAws) })
 */
export function inProcessHandler(server: Pick<FakeAwsServer, 'respond'>): { handle(request: SmithyRequest): Promise<{ response: unknown }>; updateHttpClientConfig(): void; httpHandlerConfigs(): Record<string, never>; destroy(): void } {
  return {
    async handle(request) {
      const { HttpResponse } = await import('@smithy/protocol-http');
      const query = Object.entries(request.query ?? {})
        .flatMap(([k, v]) => (v === null ? [encodeURIComponent(k)] : [v].flat().map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)))
        .join('&');
      const body = request.body === undefined || request.body === null ? '' : typeof request.body === 'string' ? request.body : Buffer.from(request.body as Uint8Array).toString('utf8');
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const out = await server.respond({ method: request.method, url: `${request.path}${query ? `?${query}` : ''}`, headers, body });
      return { response: new HttpResponse({ statusCode: out.status, headers: out.headers, body: new Uint8Array(Buffer.from(out.body, 'utf8')) }) };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}
