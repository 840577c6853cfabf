/**
 * Fake AWS Cloud Map (signing name `servicediscovery`, awsJson1_1, target `Route53AutoNaming_v20170314.*`).
 *
 * The rules quiesce depends on:
 * - RegisterInstance and DeregisterInstance are asynchronous: they return an OperationId whose status goes
 *   SUBMITTED -> PENDING -> SUCCESS (or FAIL) as the FakeClock advances; the instance appears in (or leaves)
 *   ListInstances only when its operation reaches SUCCESS.
 * - A second request for the same service + instance while one is in flight: DuplicateRequest.
 * - DeregisterInstance of an instance that is not registered (including a registration that has not
 *   propagated yet): InstanceNotFound.
 * - List* paging: MaxResults 1-100, NextToken; filters are applied AFTER the page is sliced, so a filtered
 *   page can be empty while NextToken is set (callers must keep paging).
 *
 * Simplifications (documented, deliberate): namespaces exist as soon as Create*Namespace returns (their
 * CREATE_NAMESPACE operation is SUCCESS at once); no DNS records, health checks, tags or DiscoverInstances.
 */
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';
import { FAKE_ACCOUNT_ID, FAKE_REGION } from './sts.ts';

type Attributes = Record<string, string>;
type OperationStatus = 'SUBMITTED' | 'PENDING' | 'SUCCESS' | 'FAIL';
type OperationType =
  | 'CREATE_NAMESPACE'
  | 'DELETE_NAMESPACE'
  | 'UPDATE_NAMESPACE'
  | 'UPDATE_SERVICE'
  | 'REGISTER_INSTANCE'
  | 'DEREGISTER_INSTANCE';

interface Namespace {
  Id: string;
  Arn: string;
  Name: string;
  Type: 'HTTP' | 'DNS_PRIVATE';
  Description?: string;
  Vpc?: string;
  CreatorRequestId?: string;
  createdAt: number;
}

interface Service {
  Id: string;
  Arn: string;
  Name: string;
  NamespaceId: string;
  Type: 'HTTP' | 'DNS_HTTP' | 'DNS';
  Description?: string;
  DnsConfig?: { DnsRecords?: Array<{ Type?: string; TTL?: number }>; RoutingPolicy?: string };
  HealthCheckConfig?: unknown;
  HealthCheckCustomConfig?: unknown;
  CreatorRequestId?: string;
  createdAt: number;
}

interface Operation {
  Id: string;
  Type: OperationType;
  Targets: Record<string, string>;
  createdAt: number;
  /** Whether this operation ends in FAIL (see failOperations). */
  fails: boolean;
  /** Set once the terminal status was applied. */
  settled: boolean;
  serviceId?: string;
  instanceId?: string;
  creatorRequestId?: string;
  /** The state change applied on SUCCESS. */
  apply?: () => void;
}

/** A Cloud Map operation as the JS helpers show it (times in epoch milliseconds). */
export interface CloudMapOperationView {
  Id: string;
  Type: OperationType;
  Status: OperationStatus;
  Targets: Record<string, string>;
  CreateDate: number;
  UpdateDate: number;
  ErrorCode?: string;
}

/** When asynchronous operations move on, relative to their submission (fake milliseconds). */
export interface CloudMapTiming {
  pendingAfterMs: number;
  successAfterMs: number;
}

// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html (Attributes: reserved keys)
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set([
  'AWS_ALIAS_DNS_NAME',
  'AWS_EC2_INSTANCE_ID',
  'AWS_INIT_HEALTH_STATUS',
  'AWS_INSTANCE_CNAME',
  'AWS_INSTANCE_IPV4',
  'AWS_INSTANCE_IPV6',
  'AWS_INSTANCE_PORT',
]);
// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html ("up to 30 custom attributes")
export const MAX_CUSTOM_ATTRIBUTES = 30;
// https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html (instances per service / namespace)
export const MAX_INSTANCES_PER_SERVICE = 1000;
export const MAX_INSTANCES_PER_NAMESPACE = 2000;

const DEFAULT_TIMING: CloudMapTiming = { pendingAfterMs: 1000, successAfterMs: 2000 };

function invalid(message: string): FakeAwsError {
  return new FakeAwsError('InvalidInput', message, 400);
}

function optString(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

function reqString(input: Record<string, unknown>, key: string): string {
  const v = optString(input, key);
  if (v === undefined || v === '') throw invalid(`${key} is required`);
  return v;
}

function seconds(ms: number): number {
  return ms / 1000;
}

interface Filter {
  Name: string;
  Values: string[];
  Condition: string;
}

function parseFilters(input: Record<string, unknown>): Filter[] {
  const raw = input.Filters;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('Filters must be a list');
  return raw.map((f: unknown) => {
    const o = (f ?? {}) as Record<string, unknown>;
    const Name = reqString(o, 'Name');
    const Values = o.Values;
    if (!Array.isArray(Values) || Values.length === 0 || !Values.every((v) => typeof v === 'string')) {
      throw invalid(`Filter ${Name}: Values must be a non-empty list of strings`);
    }
    return { Name, Values: Values as string[], Condition: optString(o, 'Condition') ?? 'EQ' };
  });
}

function matches(value: string, f: Filter): boolean {
  switch (f.Condition) {
    case 'EQ':
      if (f.Values.length !== 1) throw invalid(`Filter ${f.Name}: EQ takes exactly one value`);
      return value === f.Values[0];
    case 'IN':
      return f.Values.includes(value);
    case 'BEGINS_WITH':
      if (f.Values.length !== 1) throw invalid(`Filter ${f.Name}: BEGINS_WITH takes exactly one value`);
      return value.startsWith(f.Values[0] ?? '');
    default:
      throw invalid(`Filter ${f.Name}: unsupported condition ${f.Condition}`);
  }
}

/**
 * One page of a List* call. The page is sliced from the WHOLE collection first and filtered afterwards, so
 * a filtered page may be empty while NextToken is set.
 * https://docs.aws.amazon.com/cloud-map/latest/api/API_ListServices.html (MaxResults 1-100; "If you specify
 * Filters ... Cloud Map might return an empty page with a NextToken")
 */
function page<T>(input: Record<string, unknown>, all: readonly T[]): { items: T[]; NextToken?: string } {
  const max = input.MaxResults;
  let size = 100;
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) {
      throw invalid(`MaxResults must be between 1 and 100, got ${String(max)}`);
    }
    size = max;
  }
  let offset = 0;
  const token = optString(input, 'NextToken');
  if (token !== undefined) {
    const m = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!m) throw invalid('NextToken is not valid');
    offset = Number(m[1]);
  }
  const end = offset + size;
  const items = all.slice(offset, end);
  return end < all.length ? { items, NextToken: Buffer.from(`o${end}`).toString('base64url') } : { items };
}

export class FakeCloudMap implements FakeService {
  readonly signingName = 'servicediscovery';
  /** When asynchronous operations reach PENDING and SUCCESS/FAIL; tests may change it. */
  timing: CloudMapTiming = { ...DEFAULT_TIMING };

  readonly #clock: FakeClock;
  #namespaces = new Map<string, Namespace>();
  #services = new Map<string, Service>();
  /** serviceId -> instanceId -> attributes: what ListInstances shows (only SUCCESS operations applied). */
  #instances = new Map<string, Map<string, Attributes>>();
  #operations = new Map<string, Operation>();
  #seq = 0;
  #failNext = 0;
  #history = new Map<string, { seq: number; at: number; op: string; live: number }[]>();
  #historySeq = 0;

  constructor(clock: FakeClock) {
    this.#clock = clock;
    clock.onAdvance(() => this.#settle());
  }

  reset(): void {
    this.timing = { ...DEFAULT_TIMING };
    this.#namespaces = new Map();
    this.#services = new Map();
    this.#instances = new Map();
    this.#operations = new Map();
    this.#seq = 0;
    this.#failNext = 0;
    this.#history = new Map();
    this.#historySeq = 0;
  }

  /**
   * The service's recorded history: after every register/deregister call, how many instances are live,
   * counting an instance whose deregistration was submitted (and has not failed) as gone already: that is
   * when quiesce's write took it out of its budget, whatever DNS still answers.
   */
  liveHistory(serviceId: string): { seq: number; at: number; op: string; live: number }[] {
    return [...(this.#history.get(serviceId) ?? [])];
  }

  #record(serviceId: string, op: string): void {
    const leaving = new Set(
      [...this.#operations.values()].filter((o) => o.Type === 'DEREGISTER_INSTANCE' && o.serviceId === serviceId && !o.settled && !o.fails).map((o) => o.instanceId),
    );
    const live = [...(this.#instances.get(serviceId)?.keys() ?? [])].filter((id) => !leaving.has(id)).length;
    const list = this.#history.get(serviceId) ?? [];
    list.push({ seq: ++this.#historySeq, at: this.#clock.now(), op, live });
    this.#history.set(serviceId, list);
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    this.#settle();
    switch (operation) {
      case 'CreateHttpNamespace':
        return this.#createNamespace(input, 'HTTP');
      case 'CreatePrivateDnsNamespace':
        return this.#createNamespace(input, 'DNS_PRIVATE');
      case 'ListNamespaces':
        return this.#listNamespaces(input);
      case 'GetNamespace':
        return { Namespace: this.#namespaceShape(this.#namespace(reqString(input, 'Id'))) };
      case 'CreateService':
        return this.#createService(input);
      case 'ListServices':
        return this.#listServices(input);
      case 'GetService':
        return { Service: this.#serviceShape(this.#service(reqString(input, 'Id'))) };
      case 'RegisterInstance':
        return this.#registerInstance(input);
      case 'DeregisterInstance':
        return this.#deregisterInstance(input);
      case 'ListInstances':
        return this.#listInstances(input);
      case 'GetInstance':
        return this.#getInstance(input);
      case 'GetOperation':
        return this.#getOperation(input);
      case 'ListOperations':
        return this.#listOperations(input);
      default:
        throw new UnknownOperationError('UnknownOperationException', `${operation} is not supported by the fake Cloud Map`, 400);
    }
  }

  // ---- JS helpers for tests and the demo -------------------------------------------------------------

  /** Creates an HTTP namespace at once; returns its id. */
  seedNamespace(name: string): string {
    return this.#addNamespace({ Name: name }, 'HTTP').Id;
  }

  /** Creates an HTTP service in a namespace at once; returns its id. */
  seedService(namespaceId: string, name: string): string {
    return this.#addService(this.#namespace(namespaceId), { Name: name }).Id;
  }

  /** Registers (or replaces) an instance immediately, with no operation. */
  seedInstance(serviceId: string, instanceId: string, attributes: Attributes): void {
    this.#service(serviceId);
    this.#instanceMap(serviceId).set(instanceId, { ...attributes });
    this.#record(serviceId, 'seed');
  }

  /** The instances ListInstances would show now, in registration order. */
  instancesOf(serviceId: string): Array<{ Id: string; Attributes: Attributes }> {
    return [...(this.#instances.get(serviceId) ?? new Map<string, Attributes>())].map(([Id, a]) => ({
      Id,
      Attributes: { ...a },
    }));
  }

  /** Every operation so far, oldest first, with its status at the clock's current time. */
  operations(): CloudMapOperationView[] {
    this.#settle();
    return [...this.#operations.values()].map((op) => this.#view(op));
  }

  /** The next `n` operations created end in FAIL (ErrorCode INTERNAL_FAILURE) without changing state. */
  failOperations(n: number): void {
    this.#failNext = n;
  }

  // ---- namespaces --------------------------------------------------------------------------------------

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
  // https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html
  #createNamespace(input: Record<string, unknown>, type: Namespace['Type']): unknown {
    const name = reqString(input, 'Name');
    const creatorRequestId = optString(input, 'CreatorRequestId');
    if (type === 'DNS_PRIVATE') reqString(input, 'Vpc');
    const existing = [...this.#namespaces.values()].find((n) => n.Name === name);
    if (existing) {
      // A retry with the same CreatorRequestId is idempotent: it returns the original operation.
      const op = [...this.#operations.values()].find(
        (o) => o.Type === 'CREATE_NAMESPACE' && o.Targets.NAMESPACE === existing.Id,
      );
      if (creatorRequestId !== undefined && creatorRequestId === existing.CreatorRequestId && op) {
        return { OperationId: op.Id };
      }
      throw new FakeAwsError('NamespaceAlreadyExists', `Namespace ${name} already exists (NamespaceId ${existing.Id})`, 400);
    }
    const ns = this.#addNamespace(
      {
        Name: name,
        Description: optString(input, 'Description'),
        Vpc: optString(input, 'Vpc'),
        CreatorRequestId: creatorRequestId,
      },
      type,
    );
    // Simplification: the namespace exists at once and its operation is already SUCCESS.
    const op = this.#newOperation('CREATE_NAMESPACE', { NAMESPACE: ns.Id });
    op.fails = false;
    op.settled = true;
    return { OperationId: op.Id };
  }

  #addNamespace(fields: Partial<Namespace> & { Name: string }, type: Namespace['Type']): Namespace {
    const id = `ns-${this.#id(16)}`;
    const ns: Namespace = {
      ...fields,
      Id: id,
      Arn: `arn:aws:servicediscovery:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:namespace/${id}`,
      Type: type,
      createdAt: this.#clock.now(),
    };
    this.#namespaces.set(id, ns);
    return ns;
  }

  #namespace(id: string): Namespace {
    const ns = this.#namespaces.get(id);
    // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html (NamespaceNotFound)
    if (!ns) throw new FakeAwsError('NamespaceNotFound', `Namespace not found: ${id}`, 404);
    return ns;
  }

  #namespaceShape(ns: Namespace): Record<string, unknown> {
    return {
      Id: ns.Id,
      Arn: ns.Arn,
      ResourceOwner: FAKE_ACCOUNT_ID,
      Name: ns.Name,
      Type: ns.Type,
      ...(ns.Description !== undefined ? { Description: ns.Description } : {}),
      ServiceCount: [...this.#services.values()].filter((s) => s.NamespaceId === ns.Id).length,
      Properties:
        ns.Type === 'HTTP'
          ? { DnsProperties: {}, HttpProperties: { HttpName: ns.Name } }
          : {
              DnsProperties: { HostedZoneId: `Z${ns.Id.slice(3).toUpperCase()}`, SOA: { TTL: 15 } },
              HttpProperties: { HttpName: ns.Name },
            },
      CreateDate: seconds(ns.createdAt),
      ...(ns.CreatorRequestId !== undefined ? { CreatorRequestId: ns.CreatorRequestId } : {}),
    };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_ListNamespaces.html (filters TYPE, NAME, HTTP_NAME)
  #listNamespaces(input: Record<string, unknown>): unknown {
    const filters = parseFilters(input);
    const { items, NextToken } = page(input, [...this.#namespaces.values()]);
    const kept = items.filter((ns) =>
      filters.every((f) => {
        switch (f.Name) {
          case 'TYPE':
            return matches(ns.Type, f);
          case 'NAME':
          case 'HTTP_NAME':
            return matches(ns.Name, f);
          default:
            throw invalid(`Unsupported namespace filter ${f.Name}`);
        }
      }),
    );
    const Namespaces = kept.map((ns) => {
      const { CreatorRequestId: _omit, ...summary } = this.#namespaceShape(ns);
      return summary;
    });
    return NextToken ? { Namespaces, NextToken } : { Namespaces };
  }

  // ---- services ----------------------------------------------------------------------------------------

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
  #createService(input: Record<string, unknown>): unknown {
    const name = reqString(input, 'Name');
    const dnsConfig = input.DnsConfig as Service['DnsConfig'] & { NamespaceId?: string } | undefined;
    const namespaceId = optString(input, 'NamespaceId') ?? dnsConfig?.NamespaceId;
    if (namespaceId === undefined) throw invalid('NamespaceId is required');
    const ns = this.#namespace(namespaceId);
    const clash = [...this.#services.values()].find((s) => s.NamespaceId === ns.Id && s.Name === name);
    if (clash) {
      const creatorRequestId = optString(input, 'CreatorRequestId');
      if (creatorRequestId !== undefined && creatorRequestId === clash.CreatorRequestId) {
        return { Service: this.#serviceShape(clash) };
      }
      throw new FakeAwsError('ServiceAlreadyExists', `Service ${name} already exists (ServiceId ${clash.Id})`, 400);
    }
    if (ns.Type === 'HTTP' && dnsConfig) throw invalid('DnsConfig is not allowed for services in an HTTP namespace');
    const svc = this.#addService(ns, {
      Name: name,
      Description: optString(input, 'Description'),
      DnsConfig: dnsConfig ? { DnsRecords: dnsConfig.DnsRecords, RoutingPolicy: dnsConfig.RoutingPolicy } : undefined,
      HealthCheckConfig: input.HealthCheckConfig,
      HealthCheckCustomConfig: input.HealthCheckCustomConfig,
      CreatorRequestId: optString(input, 'CreatorRequestId'),
      Type: input.Type === 'HTTP' || !dnsConfig ? 'HTTP' : 'DNS_HTTP',
    });
    return { Service: this.#serviceShape(svc) };
  }

  #addService(ns: Namespace, fields: Partial<Service> & { Name: string }): Service {
    const id = `srv-${this.#id(16)}`;
    const svc: Service = {
      Type: 'HTTP',
      ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      Name: fields.Name,
      Id: id,
      Arn: `arn:aws:servicediscovery:${FAKE_REGION}:${FAKE_ACCOUNT_ID}:service/${id}`,
      NamespaceId: ns.Id,
      createdAt: this.#clock.now(),
    };
    this.#services.set(id, svc);
    return svc;
  }

  #service(id: string): Service {
    const svc = this.#services.get(id);
    // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetService.html (ServiceNotFound)
    if (!svc) throw new FakeAwsError('ServiceNotFound', `Service not found: ${id}`, 404);
    return svc;
  }

  #serviceShape(s: Service): Record<string, unknown> {
    const out: Record<string, unknown> = {
      Id: s.Id,
      Arn: s.Arn,
      ResourceOwner: FAKE_ACCOUNT_ID,
      Name: s.Name,
      NamespaceId: s.NamespaceId,
      Type: s.Type,
      InstanceCount: this.#instances.get(s.Id)?.size ?? 0,
      CreateDate: seconds(s.createdAt),
      CreatedByAccount: FAKE_ACCOUNT_ID,
    };
    if (s.Description !== undefined) out.Description = s.Description;
    if (s.DnsConfig !== undefined) out.DnsConfig = { NamespaceId: s.NamespaceId, ...s.DnsConfig };
    if (s.HealthCheckConfig !== undefined) out.HealthCheckConfig = s.HealthCheckConfig;
    if (s.HealthCheckCustomConfig !== undefined) out.HealthCheckCustomConfig = s.HealthCheckCustomConfig;
    if (s.CreatorRequestId !== undefined) out.CreatorRequestId = s.CreatorRequestId;
    return out;
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_ListServices.html (filters NAMESPACE_ID, RESOURCE_OWNER)
  #listServices(input: Record<string, unknown>): unknown {
    const filters = parseFilters(input);
    const { items, NextToken } = page(input, [...this.#services.values()]);
    const kept = items.filter((s) =>
      filters.every((f) => {
        switch (f.Name) {
          case 'NAMESPACE_ID':
            return matches(s.NamespaceId, f);
          case 'RESOURCE_OWNER':
            return matches(f.Values[0] === 'SELF' ? 'SELF' : FAKE_ACCOUNT_ID, f);
          default:
            throw invalid(`Unsupported service filter ${f.Name}`);
        }
      }),
    );
    const Services = kept.map((s) => {
      const { CreatorRequestId: _c, NamespaceId: _n, ...summary } = this.#serviceShape(s);
      return summary;
    });
    return NextToken ? { Services, NextToken } : { Services };
  }

  // ---- instances ---------------------------------------------------------------------------------------

  #instanceMap(serviceId: string): Map<string, Attributes> {
    let m = this.#instances.get(serviceId);
    if (!m) {
      m = new Map();
      this.#instances.set(serviceId, m);
    }
    return m;
  }

  /** The operation for this service + instance that has not reached SUCCESS/FAIL yet, if any. */
  #inFlight(serviceId: string, instanceId: string): Operation | undefined {
    return [...this.#operations.values()].find(
      (o) => !o.settled && o.serviceId === serviceId && o.instanceId === instanceId,
    );
  }

  #duplicate(op: Operation): FakeAwsError {
    // https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html (DuplicateRequest, HTTP 409;
    // the response carries DuplicateOperationId)
    const err = new FakeAwsError(
      'DuplicateRequest',
      `The operation ${op.Id} for instance ${op.instanceId ?? ''} is already in progress.`,
      409,
    );
    return Object.assign(err, { DuplicateOperationId: op.Id });
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
  #registerInstance(input: Record<string, unknown>): unknown {
    const serviceId = reqString(input, 'ServiceId');
    const instanceId = reqString(input, 'InstanceId');
    const creatorRequestId = optString(input, 'CreatorRequestId');
    // InstanceId: max 64 characters, pattern ^[0-9a-zA-Z_/:.@-]+$
    if (instanceId.length > 64 || !/^[0-9a-zA-Z_/:.@-]+$/.test(instanceId)) {
      throw invalid(`InstanceId ${instanceId} is not valid`);
    }
    const raw = input.Attributes;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Attributes is required');
    const attributes: Attributes = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      // Attribute keys up to 255 characters, values up to 1,024 characters.
      if (typeof v !== 'string') throw invalid(`Attribute ${k} must be a string`);
      if (k.length > 255) throw invalid(`Attribute key ${k.slice(0, 32)}... is longer than 255 characters`);
      if (v.length > 1024) throw invalid(`Attribute ${k} value is longer than 1024 characters`);
      attributes[k] = v;
    }
    const svc = this.#service(serviceId);
    const custom = Object.keys(attributes).filter((k) => !RESERVED_ATTRIBUTES.has(k)).length;
    if (custom > MAX_CUSTOM_ATTRIBUTES) {
      throw invalid(`You can add up to ${MAX_CUSTOM_ATTRIBUTES} custom attributes; got ${custom}`);
    }
    // "If the service includes DnsConfig for an A record, AWS_INSTANCE_IPV4 is required; SRV: AWS_INSTANCE_PORT".
    for (const r of svc.DnsConfig?.DnsRecords ?? []) {
      if (r.Type === 'A' && attributes.AWS_INSTANCE_IPV4 === undefined) throw invalid('AWS_INSTANCE_IPV4 is required');
      if (r.Type === 'AAAA' && attributes.AWS_INSTANCE_IPV6 === undefined) throw invalid('AWS_INSTANCE_IPV6 is required');
      if (r.Type === 'SRV' && attributes.AWS_INSTANCE_PORT === undefined) throw invalid('AWS_INSTANCE_PORT is required');
    }

    const pending = this.#inFlight(serviceId, instanceId);
    if (pending) {
      // A retry of the same request (same CreatorRequestId, which the SDK reuses on its retries) is idempotent.
      if (pending.Type === 'REGISTER_INSTANCE' && creatorRequestId !== undefined && pending.creatorRequestId === creatorRequestId) {
        return { OperationId: pending.Id };
      }
      throw this.#duplicate(pending);
    }

    const registered = this.#instanceMap(serviceId);
    if (!registered.has(instanceId)) {
      // https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html (ResourceLimitExceeded)
      const incoming = [...this.#operations.values()].filter(
        (o) =>
          !o.settled &&
          o.Type === 'REGISTER_INSTANCE' &&
          !o.fails &&
          o.serviceId === serviceId &&
          !registered.has(o.instanceId ?? ''),
      ).length;
      if (registered.size + incoming >= MAX_INSTANCES_PER_SERVICE) {
        throw new FakeAwsError('ResourceLimitExceeded', `The service ${serviceId} already has ${MAX_INSTANCES_PER_SERVICE} instances`, 400);
      }
      let inNamespace = incoming;
      for (const s of this.#services.values()) {
        if (s.NamespaceId === svc.NamespaceId) inNamespace += this.#instances.get(s.Id)?.size ?? 0;
      }
      if (inNamespace >= MAX_INSTANCES_PER_NAMESPACE) {
        throw new FakeAwsError('ResourceLimitExceeded', `The namespace ${svc.NamespaceId} already has ${MAX_INSTANCES_PER_NAMESPACE} instances`, 400);
      }
    }

    const op = this.#newOperation('REGISTER_INSTANCE', { NAMESPACE: svc.NamespaceId, SERVICE: serviceId, INSTANCE: instanceId });
    op.serviceId = serviceId;
    op.instanceId = instanceId;
    if (creatorRequestId !== undefined) op.creatorRequestId = creatorRequestId;
    // An upsert: on SUCCESS the instance's attributes are replaced as a whole.
    op.apply = () => {
      if (this.#services.has(serviceId)) this.#instanceMap(serviceId).set(instanceId, attributes);
    };
    return { OperationId: op.Id };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html
  #deregisterInstance(input: Record<string, unknown>): unknown {
    const serviceId = reqString(input, 'ServiceId');
    const instanceId = reqString(input, 'InstanceId');
    const svc = this.#service(serviceId);
    // InstanceNotFound also while a fresh registration has not propagated yet (it is not registered yet).
    if (!this.#instances.get(serviceId)?.has(instanceId)) {
      throw new FakeAwsError('InstanceNotFound', `Instance not found: ${instanceId}`, 404);
    }
    const pending = this.#inFlight(serviceId, instanceId);
    if (pending) throw this.#duplicate(pending);
    const op = this.#newOperation('DEREGISTER_INSTANCE', { NAMESPACE: svc.NamespaceId, SERVICE: serviceId, INSTANCE: instanceId });
    op.serviceId = serviceId;
    op.instanceId = instanceId;
    op.apply = () => {
      this.#instances.get(serviceId)?.delete(instanceId);
    };
    this.#record(serviceId, 'DeregisterInstance');
    return { OperationId: op.Id };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_ListInstances.html
  #listInstances(input: Record<string, unknown>): unknown {
    const serviceId = reqString(input, 'ServiceId');
    this.#service(serviceId);
    const { items, NextToken } = page(input, this.instancesOf(serviceId));
    const Instances = items.map((i) => ({ ...i, CreatedByAccount: FAKE_ACCOUNT_ID }));
    return { ResourceOwner: FAKE_ACCOUNT_ID, Instances, ...(NextToken ? { NextToken } : {}) };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetInstance.html
  #getInstance(input: Record<string, unknown>): unknown {
    const serviceId = reqString(input, 'ServiceId');
    const instanceId = reqString(input, 'InstanceId');
    this.#service(serviceId);
    const a = this.#instances.get(serviceId)?.get(instanceId);
    if (!a) throw new FakeAwsError('InstanceNotFound', `Instance not found: ${instanceId}`, 404);
    return { ResourceOwner: FAKE_ACCOUNT_ID, Instance: { Id: instanceId, Attributes: { ...a }, CreatedByAccount: FAKE_ACCOUNT_ID } };
  }

  // ---- operations --------------------------------------------------------------------------------------

  #newOperation(type: OperationType, targets: Record<string, string>): Operation {
    const fails = this.#failNext > 0;
    if (fails) this.#failNext -= 1;
    const op: Operation = {
      Id: `${this.#id(32)}-${this.#id(8)}`,
      Type: type,
      Targets: targets,
      createdAt: this.#clock.now(),
      fails,
      settled: false,
    };
    this.#operations.set(op.Id, op);
    return op;
  }

  /** The status an operation has at `now` (time-driven; see `timing`). */
  #status(op: Operation, now: number): OperationStatus {
    const age = now - op.createdAt;
    if (age >= this.timing.successAfterMs || op.settled) return op.fails ? 'FAIL' : 'SUCCESS';
    if (age >= this.timing.pendingAfterMs) return 'PENDING';
    return 'SUBMITTED';
  }

  #updatedAt(op: Operation, now: number): number {
    const status = this.#status(op, now);
    if (status === 'SUBMITTED') return op.createdAt;
    if (status === 'PENDING') return op.createdAt + this.timing.pendingAfterMs;
    return Math.min(now, op.createdAt + this.timing.successAfterMs);
  }

  /** Applies, in completion order, every operation that reached SUCCESS or FAIL by now. */
  #settle(): void {
    const now = this.#clock.now();
    const due = [...this.#operations.values()]
      .filter((o) => !o.settled && now - o.createdAt >= this.timing.successAfterMs)
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const op of due) {
      op.settled = true;
      if (!op.fails) op.apply?.();
    }
  }

  #view(op: Operation): CloudMapOperationView {
    const now = this.#clock.now();
    const Status = this.#status(op, now);
    return {
      Id: op.Id,
      Type: op.Type,
      Status,
      Targets: { ...op.Targets },
      CreateDate: op.createdAt,
      UpdateDate: this.#updatedAt(op, now),
      ...(Status === 'FAIL' ? { ErrorCode: 'INTERNAL_FAILURE' } : {}),
    };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html
  #getOperation(input: Record<string, unknown>): unknown {
    const id = reqString(input, 'OperationId');
    const op = this.#operations.get(id);
    if (!op) throw new FakeAwsError('OperationNotFound', `Operation not found: ${id}`, 404);
    const v = this.#view(op);
    return {
      Operation: {
        Id: v.Id,
        OwnerAccount: FAKE_ACCOUNT_ID,
        Type: v.Type,
        Status: v.Status,
        ...(v.Status === 'FAIL' ? { ErrorCode: 'INTERNAL_FAILURE', ErrorMessage: 'Internal failure (injected by the fake).' } : {}),
        CreateDate: seconds(v.CreateDate),
        UpdateDate: seconds(v.UpdateDate),
        Targets: v.Targets,
      },
    };
  }

  // https://docs.aws.amazon.com/cloud-map/latest/api/API_ListOperations.html
  // (filters NAMESPACE_ID, SERVICE_ID, STATUS, TYPE with EQ/IN; UPDATE_DATE with BETWEEN, epoch seconds)
  #listOperations(input: Record<string, unknown>): unknown {
    const filters = parseFilters(input);
    const now = this.#clock.now();
    const { items, NextToken } = page(input, [...this.#operations.values()]);
    const kept = items.filter((op) =>
      filters.every((f) => {
        switch (f.Name) {
          case 'NAMESPACE_ID':
            return matches(op.Targets.NAMESPACE ?? '', f);
          case 'SERVICE_ID':
            return matches(op.Targets.SERVICE ?? '', f);
          case 'STATUS':
            return matches(this.#status(op, now), f);
          case 'TYPE':
            return matches(op.Type, f);
          case 'UPDATE_DATE': {
            if (f.Condition !== 'BETWEEN' || f.Values.length !== 2) throw invalid('UPDATE_DATE takes BETWEEN with two values');
            const t = seconds(this.#updatedAt(op, now));
            return t >= Number(f.Values[0]) && t <= Number(f.Values[1]);
          }
          default:
            throw invalid(`Unsupported operation filter ${f.Name}`);
        }
      }),
    );
    const Operations = kept.map((op) => ({ Id: op.Id, Status: this.#status(op, now) }));
    return NextToken ? { Operations, NextToken } : { Operations };
  }

  /** Deterministic lowercase alphanumeric ids (reset with the fake). */
  #id(len: number): string {
    this.#seq += 1;
    const base = this.#seq.toString(36);
    return ('0'.repeat(len) + base).slice(-len).replace(/^0{4}/, 'fake');
  }
}
