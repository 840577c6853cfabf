/**
 * Fake Elastic Load Balancing v2 (signing name `elasticloadbalancing`, awsQuery). Stateful: load balancers,
 * target groups with targets whose health evolves on the FakeClock, listeners, rules, tags.
 *
 * Semantics follow the ELBv2 API reference (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/)
 * and docs/aws-facts.md#elastic-load-balancing; each encoded rule cites its page.
 */
import { isIPv6 } from 'node:net';
import { FakeAwsError, UnknownOperationError } from './core.ts';
import type { FakeClock, FakeService } from './core.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const ARN_PREFIX = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}`;

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unhealthy.draining' | 'unused' | 'draining' | 'unavailable';

interface Tag {
  Key: string;
  Value?: string;
}

interface Target {
  id: string;
  port: number;
  availabilityZone?: string;
  registeredAt: number;
  /** Fake time at which the initial health checks pass. */
  healthyAt: number;
  /** Set while draining: fake time at which the target is gone. */
  drainingUntil?: number;
  forced?: { state: TargetState; reason?: string; description?: string };
}

interface TargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  protocolVersion?: string;
  port?: number;
  vpcId?: string;
  targetType: string;
  ipAddressType: string;
  healthCheck: Record<string, unknown>;
  attributes: Map<string, string>;
  targets: Map<string, Target>;
  healthCheckSettleMs: number;
  createdSeq: number;
}

interface LoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  vpcId?: string;
  dnsName: string;
  createdAt: Date;
  subnets: string[];
  securityGroups: string[];
  ipAddressType: string;
}

interface Listener {
  arn: string;
  loadBalancerArn: string;
  protocol?: string;
  port?: number;
  defaultRuleArn: string;
}

export type Action = Record<string, unknown> & { Type?: string };

interface Rule {
  arn: string;
  listenerArn: string;
  priority: string;
  conditions: unknown[];
  actions: Action[];
  previousActions?: Action[];
  isDefault: boolean;
}

export interface DeregisterEvent {
  targetGroupArn: string;
  targets: { id: string; port: number }[];
  /** Fake time. */
  at: number;
}

export interface SeedTarget {
  id: string;
  port?: number;
  /** Default `healthy` (registered long enough ago); `initial` = just registered; `draining` = deregistering. */
  state?: TargetState;
  availabilityZone?: string;
}

export interface SeedTargetGroupOptions {
  name: string;
  vpcId?: string;
  targetType?: 'ip' | 'instance';
  protocol?: string;
  port?: number;
  targets?: SeedTarget[];
  tags?: Record<string, string>;
  deregistrationDelaySeconds?: number;
  healthCheckSettleMs?: number;
  /** `ipv4` (default) or `ipv6`: the family of the group's ip targets. */
  ipAddressType?: 'ipv4' | 'ipv6';
}

/**
 * One point of a target group's recorded history: after every call or hook that changes its targets, how
 * many were healthy and registered (not draining). Tests assert "at every moment" on it, not just at the end.
 */
export interface HealthSample {
  /** Order across all groups (one counter for the whole fake). */
  readonly seq: number;
  /** Fake time. */
  readonly at: number;
  readonly op: string;
  readonly healthy: number;
  readonly registered: number;
}

export interface TargetSnapshot {
  id: string;
  port: number;
  state: TargetState;
  reason?: string;
}

const DEFAULT_SETTLE_MS = 10_000;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const validation = (message: string): FakeAwsError => new FakeAwsError('ValidationError', message, 400);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : undefined);
const arr = <T = Record<string, unknown>>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** Marker = base64 of the next index. */
function page<T>(items: T[], input: Record<string, unknown>, max = 400): { items: T[]; next?: string } {
  const size = num(input.PageSize);
  if (size !== undefined && (!Number.isInteger(size) || size < 1 || size > max)) {
    throw validation(`1 validation error detected: Value '${size}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and ${max}`);
  }
  const marker = str(input.Marker);
  let start = 0;
  if (marker !== undefined) {
    start = Number(Buffer.from(marker, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw validation('Invalid marker');
  }
  const n = size ?? max;
  const slice = items.slice(start, start + n);
  return start + n < items.length ? { items: slice, next: Buffer.from(String(start + n)).toString('base64') } : { items: slice };
}

export class FakeElbv2 implements FakeService {
  readonly signingName = 'elasticloadbalancing';
  readonly #clock: FakeClock;
  #seq = 0;
  #lbs = new Map<string, LoadBalancer>();
  #tgs = new Map<string, TargetGroup>();
  /** Groups that may hold a draining target (what `#settle` looks at). */
  readonly #draining = new Set<TargetGroup>();
  #listeners = new Map<string, Listener>();
  #rules = new Map<string, Rule>();
  #tags = new Map<string, Map<string, string>>();
  #staleReads = new Map<string, number>();
  #observers = new Set<(e: DeregisterEvent) => void>();
  #maxDeregisterBatch = 0;
  #maxRegisterBatch = 0;
  #history = new Map<string, HealthSample[]>();
  #historySeq = 0;

  constructor(clock: FakeClock) {
    this.#clock = clock;
    clock.onAdvance(() => this.#settle());
  }

  reset(): void {
    this.#seq = 0;
    this.#lbs.clear();
    this.#tgs.clear();
    this.#draining.clear();
    this.#listeners.clear();
    this.#rules.clear();
    this.#tags.clear();
    this.#staleReads.clear();
    this.#observers.clear();
    this.#maxDeregisterBatch = 0;
    this.#maxRegisterBatch = 0;
    this.#history.clear();
    this.#historySeq = 0;
  }

  /** The group's recorded history (see {@link HealthSample}), oldest first. */
  healthHistory(tgArn: string): HealthSample[] {
    return [...(this.#history.get(tgArn) ?? [])];
  }

  #record(tg: TargetGroup, op: string): void {
    let healthy = 0;
    let registered = 0;
    for (const t of tg.targets.values()) {
      const state = this.#health(t).state;
      if (state === 'healthy') healthy++;
      if (state !== 'draining' && state !== 'unused' && state !== 'unhealthy.draining') registered++;
    }
    const list = this.#history.get(tg.arn) ?? [];
    list.push({ seq: ++this.#historySeq, at: this.#clock.now(), op, healthy, registered });
    this.#history.set(tg.arn, list);
  }

  // ------------------------------------------------------------------------------------------------------
  // JS hooks
  // ------------------------------------------------------------------------------------------------------

  /** Largest number of targets seen in one DeregisterTargets call. */
  get maxDeregisterBatch(): number {
    return this.#maxDeregisterBatch;
  }

  get maxRegisterBatch(): number {
    return this.#maxRegisterBatch;
  }

  /** Observes every DeregisterTargets call that starts draining at least one target. Returns an unsubscribe. */
  onDeregister(cb: (e: DeregisterEvent) => void): () => void {
    this.#observers.add(cb);
    return () => this.#observers.delete(cb);
  }

  /** The client secret a rule's authenticate-oidc action holds (what Describe* never show). */
  clientSecretOf(ruleArn: string): string | undefined {
    const a = this.#rules.get(ruleArn)?.actions.find((x) => x.Type === 'authenticate-oidc');
    return str(((a?.AuthenticateOidcConfig ?? {}) as Record<string, unknown>)['ClientSecret']);
  }

  /** The next `n` DescribeRules answers that include `ruleArn` report its actions from before the last ModifyRule. */
  staleRuleReads(ruleArn: string, n: number): void {
    this.#staleReads.set(ruleArn, n);
  }

  /** How long (fake ms) new targets of this group stay `initial` before turning `healthy` (default 10 s). */
  setHealthCheckSettle(tgArn: string, ms: number): void {
    this.#tg(tgArn).healthCheckSettleMs = ms;
  }

  /** Forces the reported health of a registered (Id, Port); `state: undefined` returns to the simulated one. */
  setTargetHealth(tgArn: string, id: string, port: number | undefined, state: TargetState | undefined, reason?: string, description?: string): void {
    const tg = this.#tg(tgArn);
    const t = tg.targets.get(key(id, port ?? tg.port ?? 0));
    if (!t) throw new Error(`target ${id}:${port} is not registered in ${tgArn}`);
    t.forced = state === undefined ? undefined : { state, reason: reason ?? defaultReason(state), description };
    this.#record(tg, 'setTargetHealth');
  }

  /** Current targets of a group with their reported state (draining ones included until their delay ends). */
  targets(tgArn: string): TargetSnapshot[] {
    this.#settle();
    return [...this.#tg(tgArn).targets.values()].map((t) => {
      const h = this.#health(t);
      return h.reason === undefined ? { id: t.id, port: t.port, state: h.state } : { id: t.id, port: t.port, state: h.state, reason: h.reason };
    });
  }

  targetGroupArnByName(name: string): string | undefined {
    return [...this.#tgs.values()].find((t) => t.name === name)?.arn;
  }

  seedLoadBalancer(opts: { name: string; vpcId?: string; type?: 'application' | 'network' }): string {
    const out = this.handle('CreateLoadBalancer', { Name: opts.name, Type: opts.type ?? 'application' }) as {
      LoadBalancers: { LoadBalancerArn: string }[];
    };
    const arn = out.LoadBalancers[0]!.LoadBalancerArn;
    if (opts.vpcId) this.#lbs.get(arn)!.vpcId = opts.vpcId;
    return arn;
  }

  /** Creates a target group (through handle()) and registers targets, already healthy unless told otherwise. */
  seedTargetGroup(opts: SeedTargetGroupOptions): string {
    const out = this.handle('CreateTargetGroup', {
      Name: opts.name,
      Protocol: opts.protocol ?? 'HTTP',
      Port: opts.port ?? 80,
      VpcId: opts.vpcId ?? 'vpc-00000000000000001',
      TargetType: opts.targetType ?? 'ip',
      ...(opts.ipAddressType ? { IpAddressType: opts.ipAddressType } : {}),
      Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }) as { TargetGroups: { TargetGroupArn: string }[] };
    const arn = out.TargetGroups[0]!.TargetGroupArn;
    const tg = this.#tg(arn);
    if (opts.deregistrationDelaySeconds !== undefined) {
      this.handle('ModifyTargetGroupAttributes', {
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(opts.deregistrationDelaySeconds) }],
      });
    }
    if (opts.healthCheckSettleMs !== undefined) tg.healthCheckSettleMs = opts.healthCheckSettleMs;
    const targets = opts.targets ?? [];
    if (targets.length > 0) {
      this.#register(tg, targets.map((t) => ({ Id: t.id, Port: t.port, AvailabilityZone: t.availabilityZone })), false);
      const now = this.#clock.now();
      for (const s of targets) {
        const t = tg.targets.get(key(s.id, s.port ?? tg.port ?? 0))!;
        const state = s.state ?? 'healthy';
        if (state === 'healthy') t.healthyAt = now;
        else if (state === 'draining') {
          t.drainingUntil = now + this.#delayMs(tg);
          this.#draining.add(tg);
        }
        else if (state !== 'initial') t.forced = { state, reason: defaultReason(state) };
      }
    }
    this.#record(tg, 'seed');
    return arn;
  }

  /** A listener with a default forward action to `defaultTargetGroupArn` (or a fixed 404). Returns its ARN. */
  seedListener(opts: { loadBalancerArn: string; port?: number; protocol?: string; defaultTargetGroupArn?: string }): string {
    const DefaultActions: Action[] = opts.defaultTargetGroupArn
      ? [{ Type: 'forward', TargetGroupArn: opts.defaultTargetGroupArn }]
      : [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain' } }];
    const out = this.handle('CreateListener', {
      LoadBalancerArn: opts.loadBalancerArn,
      Port: opts.port ?? 80,
      Protocol: opts.protocol ?? 'HTTP',
      DefaultActions,
    }) as { Listeners: { ListenerArn: string }[] };
    return out.Listeners[0]!.ListenerArn;
  }

  /** A rule forwarding to weighted target groups. Returns its ARN. */
  seedRule(opts: {
    listenerArn: string;
    priority: number;
    targetGroups: { arn: string; weight?: number }[];
    conditions?: unknown[];
    tags?: Record<string, string>;
    /** An authenticate-oidc / -cognito action before the forward (Order 1; the forward gets Order 2). */
    authenticate?: Action;
  }): string {
    const forward: Action = {
      Type: 'forward',
      ForwardConfig: { TargetGroups: opts.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight ?? 1 })) },
    };
    const out = this.handle('CreateRule', {
      ListenerArn: opts.listenerArn,
      Priority: opts.priority,
      Conditions: opts.conditions ?? [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/r${opts.priority}/*`] } }],
      Actions: opts.authenticate ? [{ ...opts.authenticate, Order: 1 }, { ...forward, Order: 2 }] : [forward],
      Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }) as { Rules: { RuleArn: string }[] };
    return out.Rules[0]!.RuleArn;
  }

  // ------------------------------------------------------------------------------------------------------
  // API
  // ------------------------------------------------------------------------------------------------------

  handle(operation: string, input: Record<string, unknown>): unknown {
    this.#settle();
    switch (operation) {
      case 'CreateLoadBalancer':
        return this.#createLoadBalancer(input);
      case 'DescribeLoadBalancers':
        return this.#describeLoadBalancers(input);
      case 'CreateTargetGroup':
        return this.#createTargetGroup(input);
      case 'DeleteTargetGroup':
        return this.#deleteTargetGroup(input);
      case 'DescribeTargetGroups':
        return this.#describeTargetGroups(input);
      case 'ModifyTargetGroupAttributes':
        return this.#modifyTargetGroupAttributes(input);
      case 'DescribeTargetGroupAttributes':
        return { Attributes: this.#attributes(this.#tg(str(input.TargetGroupArn))) };
      case 'AddTags':
        return this.#addTags(input);
      case 'RemoveTags':
        return this.#removeTags(input);
      case 'DescribeTags':
        return this.#describeTags(input);
      case 'RegisterTargets':
        return this.#registerTargets(input);
      case 'DeregisterTargets':
        return this.#deregisterTargets(input);
      case 'DescribeTargetHealth':
        return this.#describeTargetHealth(input);
      case 'CreateListener':
        return this.#createListener(input);
      case 'DescribeListeners':
        return this.#describeListeners(input);
      case 'ModifyListener':
        return this.#modifyListener(input);
      case 'CreateRule':
        return this.#createRule(input);
      case 'DescribeRules':
        return this.#describeRules(input);
      case 'ModifyRule':
        return this.#modifyRule(input);
      case 'DeleteRule':
        return this.#deleteRule(input);
      default:
        throw new UnknownOperationError('InvalidAction', `The action ${operation} is not valid for this web service (fake).`, 400);
    }
  }

  // ---- load balancers ----------------------------------------------------------------------------------

  #createLoadBalancer(input: Record<string, unknown>): unknown {
    const name = str(input.Name);
    if (!name) throw validation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
    const existing = [...this.#lbs.values()].find((l) => l.name === name);
    if (existing) return { LoadBalancers: [this.#lbOut(existing)] };
    const type = str(input.Type) ?? 'application';
    const id = this.#hex();
    const lb: LoadBalancer = {
      arn: `${ARN_PREFIX}:loadbalancer/${type === 'network' ? 'net' : 'app'}/${name}/${id}`,
      name,
      type,
      scheme: str(input.Scheme) ?? 'internet-facing',
      vpcId: 'vpc-00000000000000001',
      dnsName: `${name}-${id.slice(0, 10)}.${REGION}.elb.amazonaws.com`,
      createdAt: new Date(this.#clock.now()),
      subnets: arr<string>(input.Subnets),
      securityGroups: arr<string>(input.SecurityGroups),
      ipAddressType: str(input.IpAddressType) ?? 'ipv4',
    };
    this.#lbs.set(lb.arn, lb);
    this.#setTags(lb.arn, arr<Tag>(input.Tags));
    return { LoadBalancers: [this.#lbOut(lb)] };
  }

  #lbOut(lb: LoadBalancer): unknown {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: lb.createdAt,
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: lb.vpcId,
      State: { Code: 'active' },
      Type: lb.type,
      AvailabilityZones: lb.subnets.map((s, i) => ({ ZoneName: `${REGION}${'abc'[i % 3]}`, SubnetId: s })),
      SecurityGroups: lb.securityGroups,
      IpAddressType: lb.ipAddressType,
    };
  }

  #describeLoadBalancers(input: Record<string, unknown>): unknown {
    const arns = arr<string>(input.LoadBalancerArns);
    const names = arr<string>(input.Names);
    let lbs = [...this.#lbs.values()];
    if (arns.length) {
      lbs = arns.map((a) => {
        const lb = this.#lbs.get(a);
        if (!lb) throw new FakeAwsError('LoadBalancerNotFound', `Load balancer '${a}' not found`);
        return lb;
      });
    } else if (names.length) {
      lbs = names.map((n) => {
        const lb = lbs.find((l) => l.name === n);
        if (!lb) throw new FakeAwsError('LoadBalancerNotFound', `Load balancers '[${n}]' not found`);
        return lb;
      });
    }
    const p = page(lbs, input);
    return { LoadBalancers: p.items.map((l) => this.#lbOut(l)), NextMarker: p.next };
  }

  // ---- target groups -----------------------------------------------------------------------------------

  #createTargetGroup(input: Record<string, unknown>): unknown {
    const name = str(input.Name);
    if (!name || !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
      throw validation(`Target group name '${name ?? ''}' can only contain characters that are alphanumeric characters or hyphens(-), must be 1-32 characters, and must not begin or end with a hyphen`);
    }
    const targetType = str(input.TargetType) ?? 'instance';
    const existing = [...this.#tgs.values()].find((t) => t.name === name);
    // CreateTargetGroup: "This operation is idempotent ... if you attempt to create multiple target groups with
    // the same settings, each call succeeds"; different settings -> DuplicateTargetGroupName.
    if (existing) {
      if (existing.port !== num(input.Port) || existing.targetType !== targetType || existing.vpcId !== str(input.VpcId)) {
        throw new FakeAwsError('DuplicateTargetGroupName', 'A target group with the same name exists, but with different settings');
      }
      return { TargetGroups: [this.#tgOut(existing)] };
    }
    if (targetType !== 'lambda' && (num(input.Port) === undefined || !str(input.VpcId) || !str(input.Protocol))) {
      throw validation('A port, protocol and VPC ID must be specified for this target type');
    }
    const port = num(input.Port);
    if (port !== undefined && (port < 1 || port > 65535)) throw validation('Port must be between 1 and 65535');
    // CreateTargetGroup `IpAddressType`: ipv4 (default) | ipv6 (botocore TargetGroupIpAddressTypeEnum);
    // `dualstack` is a load balancer's address type, not a target group's.
    const ipAddressType = str(input.IpAddressType) ?? 'ipv4';
    if (ipAddressType !== 'ipv4' && ipAddressType !== 'ipv6') {
      throw validation(`1 validation error detected: Value '${ipAddressType}' at 'ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, ipv6]`);
    }
    const tg: TargetGroup = {
      arn: `${ARN_PREFIX}:targetgroup/${name}/${this.#hex()}`,
      name,
      protocol: str(input.Protocol),
      protocolVersion: str(input.Protocol)?.startsWith('HTTP') ? (str(input.ProtocolVersion) ?? 'HTTP1') : undefined,
      port,
      vpcId: str(input.VpcId),
      targetType,
      ipAddressType,
      healthCheck: {
        HealthCheckProtocol: str(input.HealthCheckProtocol) ?? str(input.Protocol),
        HealthCheckPort: str(input.HealthCheckPort) ?? 'traffic-port',
        HealthCheckEnabled: input.HealthCheckEnabled ?? true,
        HealthCheckIntervalSeconds: num(input.HealthCheckIntervalSeconds) ?? 30,
        HealthCheckTimeoutSeconds: num(input.HealthCheckTimeoutSeconds) ?? 5,
        HealthyThresholdCount: num(input.HealthyThresholdCount) ?? 5,
        UnhealthyThresholdCount: num(input.UnhealthyThresholdCount) ?? 2,
        HealthCheckPath: str(input.HealthCheckPath) ?? (str(input.Protocol)?.startsWith('HTTP') ? '/' : undefined),
        Matcher: (input.Matcher as Record<string, unknown> | undefined) ?? (str(input.Protocol)?.startsWith('HTTP') ? { HttpCode: '200' } : undefined),
      },
      attributes: new Map([
        ['deregistration_delay.timeout_seconds', '300'],
        ['stickiness.enabled', 'false'],
        ['stickiness.type', 'lb_cookie'],
        ['load_balancing.algorithm.type', 'round_robin'],
        ['slow_start.duration_seconds', '0'],
      ]),
      targets: new Map(),
      healthCheckSettleMs: DEFAULT_SETTLE_MS,
      createdSeq: this.#seq,
    };
    this.#tgs.set(tg.arn, tg);
    this.#setTags(tg.arn, arr<Tag>(input.Tags));
    return { TargetGroups: [this.#tgOut(tg)] };
  }

  #loadBalancersOf(tgArn: string): string[] {
    const out = new Set<string>();
    for (const r of this.#rules.values()) {
      if (actionTargetGroups(r.actions).includes(tgArn)) out.add(this.#listeners.get(r.listenerArn)!.loadBalancerArn);
    }
    return [...out];
  }

  #tgOut(tg: TargetGroup): unknown {
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: tg.protocol,
      Port: tg.port,
      VpcId: tg.vpcId,
      ...tg.healthCheck,
      LoadBalancerArns: this.#loadBalancersOf(tg.arn),
      TargetType: tg.targetType,
      ProtocolVersion: tg.protocolVersion,
      IpAddressType: tg.ipAddressType,
    };
  }

  #deleteTargetGroup(input: Record<string, unknown>): unknown {
    const arn = str(input.TargetGroupArn);
    if (!arn) throw validation("TargetGroupArn is required");
    if (this.#tgs.has(arn) && this.#loadBalancersOf(arn).length > 0) {
      throw new FakeAwsError('ResourceInUse', `Target group '${arn}' is currently in use by a listener or a rule`);
    }
    this.#tgs.delete(arn);
    this.#tags.delete(arn);
    return {};
  }

  #describeTargetGroups(input: Record<string, unknown>): unknown {
    // DescribeTargetGroups: "You can specify only one of LoadBalancerArn, TargetGroupArns, Names".
    const lbArn = str(input.LoadBalancerArn);
    const arns = arr<string>(input.TargetGroupArns);
    const names = arr<string>(input.Names);
    if ([lbArn !== undefined, arns.length > 0, names.length > 0].filter(Boolean).length > 1) {
      throw validation('Target group names, target group ARNs, and a load balancer ARN cannot be specified at the same time');
    }
    let tgs = [...this.#tgs.values()];
    if (lbArn !== undefined) {
      if (!this.#lbs.has(lbArn)) throw new FakeAwsError('LoadBalancerNotFound', `Load balancer '${lbArn}' not found`);
      tgs = tgs.filter((t) => this.#loadBalancersOf(t.arn).includes(lbArn));
    } else if (arns.length) {
      const missing = arns.filter((a) => !this.#tgs.has(a));
      if (missing.length) throw new FakeAwsError('TargetGroupNotFound', `Target groups '${missing.join(', ')}' not found`);
      tgs = arns.map((a) => this.#tgs.get(a)!);
    } else if (names.length) {
      const missing = names.filter((n) => !tgs.some((t) => t.name === n));
      if (missing.length) throw new FakeAwsError('TargetGroupNotFound', `One or more target groups not found`);
      tgs = names.map((n) => tgs.find((t) => t.name === n)!);
    }
    const p = page(tgs, input);
    return { TargetGroups: p.items.map((t) => this.#tgOut(t)), NextMarker: p.next };
  }

  #attributes(tg: TargetGroup): { Key: string; Value: string }[] {
    return [...tg.attributes].map(([Key, Value]) => ({ Key, Value }));
  }

  #modifyTargetGroupAttributes(input: Record<string, unknown>): unknown {
    const tg = this.#tg(str(input.TargetGroupArn));
    const attrs = arr<{ Key?: string; Value?: string }>(input.Attributes);
    for (const a of attrs) {
      if (a.Key === 'deregistration_delay.timeout_seconds') {
        // Target group attributes: "The range is 0-3600 seconds. The default value is 300 seconds."
        const v = Number(a.Value);
        if (!Number.isInteger(v) || v < 0 || v > 3600) {
          throw validation(`'${a.Value}' must be an integer between 0 and 3600 for attribute 'deregistration_delay.timeout_seconds'`);
        }
      }
    }
    for (const a of attrs) if (a.Key !== undefined) tg.attributes.set(a.Key, a.Value ?? '');
    return { Attributes: this.#attributes(tg) };
  }

  // ---- tags --------------------------------------------------------------------------------------------

  #assertResource(arn: string): void {
    const kind = /:(loadbalancer|targetgroup|listener|listener-rule)\//.exec(arn)?.[1];
    const exists =
      kind === 'loadbalancer' ? this.#lbs.has(arn) : kind === 'targetgroup' ? this.#tgs.has(arn) : kind === 'listener' ? this.#listeners.has(arn) : kind === 'listener-rule' ? this.#rules.has(arn) : false;
    if (exists) return;
    if (kind === 'loadbalancer') throw new FakeAwsError('LoadBalancerNotFound', `Load balancer '${arn}' not found`);
    if (kind === 'listener') throw new FakeAwsError('ListenerNotFound', `Listener '${arn}' not found`);
    if (kind === 'listener-rule') throw new FakeAwsError('RuleNotFound', `Rule '${arn}' not found`);
    if (kind === 'targetgroup') throw new FakeAwsError('TargetGroupNotFound', `Target groups '${arn}' not found`);
    throw validation(`'${arn}' is not a valid resource ARN`);
  }

  #setTags(arn: string, tags: Tag[]): void {
    if (tags.length === 0) return;
    const m = this.#tags.get(arn) ?? new Map<string, string>();
    for (const t of tags) m.set(t.Key, t.Value ?? '');
    if (m.size > 50) throw new FakeAwsError('TooManyTags', 'You have reached the limit on the number of tags for this resource');
    this.#tags.set(arn, m);
  }

  #addTags(input: Record<string, unknown>): unknown {
    const arns = arr<string>(input.ResourceArns);
    const tags = arr<Tag>(input.Tags);
    if (arns.length > 20) throw validation("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20");
    const keys = tags.map((t) => t.Key);
    if (new Set(keys).size !== keys.length) throw new FakeAwsError('DuplicateTagKeys', 'A tag key was specified more than once');
    for (const a of arns) this.#assertResource(a);
    for (const a of arns) this.#setTags(a, tags);
    return {};
  }

  #removeTags(input: Record<string, unknown>): unknown {
    const arns = arr<string>(input.ResourceArns);
    for (const a of arns) this.#assertResource(a);
    for (const a of arns) for (const k of arr<string>(input.TagKeys)) this.#tags.get(a)?.delete(k);
    return {};
  }

  #describeTags(input: Record<string, unknown>): unknown {
    // DescribeTags: "ResourceArns ... You can specify up to 20 resources in a single call."
    const arns = arr<string>(input.ResourceArns);
    if (arns.length === 0) throw validation("1 validation error detected: Value null at 'resourceArns' failed to satisfy constraint: Member must not be null");
    if (arns.length > 20) throw validation("1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: Member must have length less than or equal to 20");
    for (const a of arns) this.#assertResource(a);
    return {
      TagDescriptions: arns.map((a) => ({ ResourceArn: a, Tags: [...(this.#tags.get(a) ?? [])].map(([Key, Value]) => ({ Key, Value })) })),
    };
  }

  // ---- targets -----------------------------------------------------------------------------------------

  #delayMs(tg: TargetGroup): number {
    return Number(tg.attributes.get('deregistration_delay.timeout_seconds') ?? '300') * 1000;
  }

  #validateTarget(tg: TargetGroup, t: Record<string, unknown>): { id: string; port: number } {
    const id = str(t.Id);
    if (!id) throw validation("1 validation error detected: Value null at 'targets.member.id' failed to satisfy constraint: Member must not be null");
    const port = num(t.Port) ?? tg.port ?? 0;
    if (tg.targetType !== 'lambda' && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw validation(`Port '${port}' must be between 1 and 65535`);
    }
    // RegisterTargets errors: InvalidTarget "The specified target does not exist, is not in the same VPC as the
    // target group, or has an unsupported instance type."
    if (tg.targetType === 'ip' && !IPV4.test(id) && !isIPv6(id)) {
      throw new FakeAwsError('InvalidTarget', `The IP address '${id}' is not a valid IPv4 address`);
    }
    // An IPv6 Id in an ipv4 group: `ValidationError: The IP address '…' is not a valid IPv4 address`
    // (docs/aws-facts.md#ipv6-target-groups: kube-ingress-aws-controller #495, ansible community.aws #1441). An ipv6
    // group takes only IPv6 Ids; the IPv4 message there is the mirror image (inferred: no public sample).
    if (tg.targetType === 'ip' && tg.ipAddressType === 'ipv4' && !IPV4.test(id)) {
      throw validation(`The IP address '${id}' is not a valid IPv4 address`);
    }
    if (tg.targetType === 'ip' && tg.ipAddressType === 'ipv6' && !isIPv6(id)) {
      throw validation(`The IP address '${id}' is not a valid IPv6 address`);
    }
    if (tg.targetType === 'instance' && !/^i-[0-9a-f]{8,17}$/.test(id)) {
      throw new FakeAwsError('InvalidTarget', `The following targets are not valid instances: '${id}'`);
    }
    return { id, port };
  }

  #register(tg: TargetGroup, targets: Record<string, unknown>[], _fromApi: boolean): void {
    // RegisterTargets: "By default, the load balancer routes requests to registered targets using the protocol
    // and port for the target group" -> Port defaults to the TG port; identity is (Id, Port).
    const parsed = targets.map((t) => ({ ...this.#validateTarget(tg, t), az: str(t.AvailabilityZone) }));
    const now = this.#clock.now();
    for (const { id, port, az } of parsed) {
      const k = key(id, port);
      const existing = tg.targets.get(k);
      if (existing && existing.drainingUntil === undefined) continue; // already registered: no-op
      // Re-registering a draining target starts it over as `initial` (new registration, new health checks).
      tg.targets.set(k, { id, port, availabilityZone: az, registeredAt: now, healthyAt: now + tg.healthCheckSettleMs });
    }
  }

  #registerTargets(input: Record<string, unknown>): unknown {
    const tg = this.#tg(str(input.TargetGroupArn));
    const targets = arr(input.Targets);
    if (targets.length === 0) throw validation("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null");
    this.#maxRegisterBatch = Math.max(this.#maxRegisterBatch, targets.length);
    this.#register(tg, targets, true);
    this.#record(tg, 'RegisterTargets');
    return {};
  }

  #deregisterTargets(input: Record<string, unknown>): unknown {
    const tg = this.#tg(str(input.TargetGroupArn));
    const targets = arr(input.Targets);
    if (targets.length === 0) throw validation("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null");
    // DeregisterTargets: no documented maximum per call; record the largest batch.
    this.#maxDeregisterBatch = Math.max(this.#maxDeregisterBatch, targets.length);
    const now = this.#clock.now();
    const delay = this.#delayMs(tg);
    const started: { id: string; port: number }[] = [];
    for (const t of targets) {
      const id = str(t.Id);
      if (!id) throw validation("1 validation error detected: Value null at 'targets.member.id' failed to satisfy constraint: Member must not be null");
      // DeregisterTargets: "If you specified a port override when you registered a target, you must specify both
      // the target ID and the port when you deregister it." Port defaults to the TG port; a target that is not
      // registered "returns successfully" -> silently nothing.
      const port = num(t.Port) ?? tg.port ?? 0;
      const existing = tg.targets.get(key(id, port));
      if (!existing || existing.drainingUntil !== undefined) continue;
      existing.forced = undefined;
      if (delay === 0) tg.targets.delete(key(id, port));
      else {
        existing.drainingUntil = now + delay;
        this.#draining.add(tg);
      }
      started.push({ id, port });
    }
    this.#record(tg, 'DeregisterTargets');
    if (started.length > 0) {
      const e: DeregisterEvent = { targetGroupArn: tg.arn, targets: started, at: now };
      for (const cb of this.#observers) cb(e);
    }
    return {};
  }

  #health(t: Target): { state: TargetState; reason?: string; description?: string } {
    const now = this.#clock.now();
    if (t.drainingUntil !== undefined) {
      return { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
    }
    if (t.forced) return t.forced;
    if (now < t.healthyAt) {
      return { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
    }
    return { state: 'healthy' };
  }

  #describeTargetHealth(input: Record<string, unknown>): unknown {
    // DescribeTargetHealth: one target group, optional Targets filter, no paging.
    const tg = this.#tg(str(input.TargetGroupArn));
    const filter = arr(input.Targets);
    const describe = (t: Target): unknown => {
      const h = this.#health(t);
      return {
        Target: { Id: t.id, Port: t.port, AvailabilityZone: t.availabilityZone },
        HealthCheckPort: String(t.port),
        TargetHealth: { State: h.state, Reason: h.reason, Description: h.description },
      };
    };
    if (filter.length === 0) return { TargetHealthDescriptions: [...tg.targets.values()].map(describe) };
    const out: unknown[] = [];
    for (const f of filter) {
      const id = str(f.Id) ?? '';
      const port = num(f.Port);
      // A filter without Port matches every registration of that Id.
      const hits = [...tg.targets.values()].filter((t) => t.id === id && (port === undefined || t.port === port));
      if (hits.length) out.push(...hits.map(describe));
      else {
        out.push({
          Target: { Id: id, Port: port ?? tg.port },
          HealthCheckPort: String(port ?? tg.port),
          TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' },
        });
      }
    }
    return { TargetHealthDescriptions: out };
  }

  // ---- listeners and rules -----------------------------------------------------------------------------

  /**
   * Authenticate actions (docs/aws-facts.md#authenticate-oidc-client-secret; botocore elbv2 model):
   * AuthenticateOidcConfig needs Issuer, AuthorizationEndpoint, TokenEndpoint, UserInfoEndpoint and ClientId;
   * ClientSecret "is required if you are creating a rule" and may be left out on modify only "if you set
   * UseExistingClientSecret to true" (then the rule keeps the secret it has); both at once is
   * `InvalidLoadBalancerAction: You cannot both specify a client secret and set UseExistingClientSecret to
   * true` (ansible-collections/amazon.aws #1877). A modify with neither is refused the same way (the
   * message is inferred). The secret is stored, never returned: Describe* have "no way to read the
   * ClientSecret" (terraform-provider-aws elbv2/listener.go). AuthenticateCognitoConfig needs UserPoolArn,
   * UserPoolClientId and UserPoolDomain and has no secret.
   */
  #validateAuth(a: Action, existing: readonly Action[] | undefined): Action {
    if (a.Type === 'authenticate-cognito') {
      const c = (a.AuthenticateCognitoConfig ?? {}) as Record<string, unknown>;
      for (const f of ['UserPoolArn', 'UserPoolClientId', 'UserPoolDomain']) if (!str(c[f])) throw validation(`AuthenticateCognitoConfig.${f} is required`);
      return a;
    }
    const c = (a.AuthenticateOidcConfig ?? {}) as Record<string, unknown>;
    for (const f of ['Issuer', 'AuthorizationEndpoint', 'TokenEndpoint', 'UserInfoEndpoint', 'ClientId']) if (!str(c[f])) throw validation(`AuthenticateOidcConfig.${f} is required`);
    const secret = str(c['ClientSecret']);
    const useExisting = c['UseExistingClientSecret'] === true;
    if (secret && useExisting) throw new FakeAwsError('InvalidLoadBalancerAction', 'You cannot both specify a client secret and set UseExistingClientSecret to true');
    let kept = secret;
    if (!secret) {
      if (!existing) throw validation('AuthenticateOidcConfig.ClientSecret is required when creating a rule or listener');
      if (!useExisting) throw new FakeAwsError('InvalidLoadBalancerAction', 'A client secret must be specified, or UseExistingClientSecret set to true');
      kept = str(((existing.find((e) => e.Type === 'authenticate-oidc')?.AuthenticateOidcConfig ?? {}) as Record<string, unknown>)['ClientSecret']);
      if (!kept) throw new FakeAwsError('InvalidLoadBalancerAction', 'UseExistingClientSecret is true, but the rule has no client secret to keep');
    }
    const { UseExistingClientSecret: _use, ...config } = c;
    void _use;
    return { ...a, AuthenticateOidcConfig: { ...config, ClientSecret: kept } };
  }

  /** `existing`: the actions being replaced (ModifyRule / ModifyListener); undefined when creating. */
  #validateActions(actions: Action[], existing?: readonly Action[]): Action[] {
    if (actions.length === 0) throw validation("1 validation error detected: Value null at 'actions' failed to satisfy constraint: Member must not be null");
    return actions.map((a) => {
      if (a.Type === 'authenticate-oidc' || a.Type === 'authenticate-cognito') return this.#validateAuth(a, existing);
      if (a.Type !== 'forward') return a;
      const fc = a.ForwardConfig as { TargetGroups?: { TargetGroupArn?: string; Weight?: number }[]; TargetGroupStickinessConfig?: unknown } | undefined;
      const single = str(a.TargetGroupArn);
      const groups = fc?.TargetGroups ?? (single ? [{ TargetGroupArn: single, Weight: 1 }] : []);
      if (groups.length === 0) throw validation('A target group ARN must be specified for a forward action');
      // ForwardActionConfig / TargetGroupTuple: up to 5 target groups per forward action; weight 0-999.
      if (groups.length > 5) throw validation('A forward action can have at most 5 target groups');
      for (const g of groups) {
        const w = g.Weight ?? 1;
        if (!Number.isInteger(w) || w < 0 || w > 999) throw validation(`Target group weight '${w}' must be between 0 and 999`);
        if (!g.TargetGroupArn || !this.#tgs.has(g.TargetGroupArn)) {
          throw new FakeAwsError('TargetGroupNotFound', `Target groups '${g.TargetGroupArn ?? ''}' not found`);
        }
      }
      if (single && fc?.TargetGroups && !(groups.length === 1 && groups[0]!.TargetGroupArn === single)) {
        throw validation('You cannot specify both a target group ARN and a forward config with different target groups');
      }
      const norm: Action = {
        ...a,
        ForwardConfig: {
          TargetGroups: groups.map((g) => ({ TargetGroupArn: g.TargetGroupArn, Weight: g.Weight ?? 1 })),
          TargetGroupStickinessConfig: fc?.TargetGroupStickinessConfig ?? { Enabled: false },
        },
      };
      if (groups.length === 1) norm.TargetGroupArn = groups[0]!.TargetGroupArn;
      else delete norm.TargetGroupArn;
      return norm;
    });
  }

  #listenerOut(l: Listener): unknown {
    return {
      ListenerArn: l.arn,
      LoadBalancerArn: l.loadBalancerArn,
      Port: l.port,
      Protocol: l.protocol,
      DefaultActions: withoutSecrets(this.#rules.get(l.defaultRuleArn)!.actions),
    };
  }

  #createListener(input: Record<string, unknown>): unknown {
    const lbArn = str(input.LoadBalancerArn);
    const lb = lbArn ? this.#lbs.get(lbArn) : undefined;
    if (!lb) throw new FakeAwsError('LoadBalancerNotFound', `Load balancer '${lbArn ?? ''}' not found`);
    const port = num(input.Port);
    const dup = [...this.#listeners.values()].find((l) => l.loadBalancerArn === lb.arn && l.port === port);
    if (dup) throw new FakeAwsError('DuplicateListener', 'A listener already exists on this port for this load balancer');
    const actions = this.#validateActions(arr<Action>(input.DefaultActions));
    const lbPath = lb.arn.split(':loadbalancer/')[1]!;
    const arn = `${ARN_PREFIX}:listener/${lbPath}/${this.#hex()}`;
    const ruleArn = `${ARN_PREFIX}:listener-rule/${lbPath}/${arn.split('/').pop()!}/${this.#hex()}`;
    this.#rules.set(ruleArn, { arn: ruleArn, listenerArn: arn, priority: 'default', conditions: [], actions, isDefault: true });
    const l: Listener = { arn, loadBalancerArn: lb.arn, protocol: str(input.Protocol), port, defaultRuleArn: ruleArn };
    this.#listeners.set(arn, l);
    this.#setTags(arn, arr<Tag>(input.Tags));
    return { Listeners: [this.#listenerOut(l)] };
  }

  #describeListeners(input: Record<string, unknown>): unknown {
    const lbArn = str(input.LoadBalancerArn);
    const arns = arr<string>(input.ListenerArns);
    if (!lbArn && arns.length === 0) throw validation('You must specify either listener ARNs or a load balancer ARN');
    let ls: Listener[];
    if (arns.length) {
      ls = arns.map((a) => {
        const l = this.#listeners.get(a);
        if (!l) throw new FakeAwsError('ListenerNotFound', `One or more listeners not found`);
        return l;
      });
    } else {
      if (!this.#lbs.has(lbArn!)) throw new FakeAwsError('LoadBalancerNotFound', `Load balancer '${lbArn!}' not found`);
      ls = [...this.#listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
    }
    const p = page(ls, input);
    return { Listeners: p.items.map((l) => this.#listenerOut(l)), NextMarker: p.next };
  }

  #modifyListener(input: Record<string, unknown>): unknown {
    const arn = str(input.ListenerArn) ?? '';
    const l = this.#listeners.get(arn);
    if (!l) throw new FakeAwsError('ListenerNotFound', `Listener '${arn}' not found`);
    if (input.Port !== undefined) l.port = num(input.Port);
    if (input.Protocol !== undefined) l.protocol = str(input.Protocol);
    // ModifyListener replaces the whole DefaultActions list.
    if (input.DefaultActions !== undefined) {
      const rule = this.#rules.get(l.defaultRuleArn)!;
      const next = this.#validateActions(arr<Action>(input.DefaultActions), rule.actions);
      rule.previousActions = rule.actions;
      rule.actions = next;
    }
    return { Listeners: [this.#listenerOut(l)] };
  }

  #ruleOut(r: Rule, stale: boolean): unknown {
    return {
      RuleArn: r.arn,
      Priority: r.priority,
      Conditions: r.conditions,
      Actions: withoutSecrets(stale && r.previousActions ? r.previousActions : r.actions),
      IsDefault: r.isDefault,
    };
  }

  #createRule(input: Record<string, unknown>): unknown {
    const listenerArn = str(input.ListenerArn) ?? '';
    const l = this.#listeners.get(listenerArn);
    if (!l) throw new FakeAwsError('ListenerNotFound', `Listener '${listenerArn}' not found`);
    const priority = num(input.Priority);
    if (priority === undefined || !Number.isInteger(priority) || priority < 1 || priority > 50000) {
      throw validation(`Priority '${String(priority)}' must be between 1 and 50000`);
    }
    if ([...this.#rules.values()].some((r) => r.listenerArn === listenerArn && r.priority === String(priority))) {
      throw new FakeAwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
    }
    const conditions = arr(input.Conditions);
    if (conditions.length === 0) throw validation('A rule must have at least one condition');
    const actions = this.#validateActions(arr<Action>(input.Actions));
    const parts = l.arn.split(':listener/')[1]!;
    const arn = `${ARN_PREFIX}:listener-rule/${parts}/${this.#hex()}`;
    const rule: Rule = { arn, listenerArn, priority: String(priority), conditions, actions, isDefault: false };
    this.#rules.set(arn, rule);
    this.#setTags(arn, arr<Tag>(input.Tags));
    return { Rules: [this.#ruleOut(rule, false)] };
  }

  #describeRules(input: Record<string, unknown>): unknown {
    // DescribeRules: "You must specify either a listener or one or more rules"; PageSize 1-400.
    const listenerArn = str(input.ListenerArn);
    const arns = arr<string>(input.RuleArns);
    if (!listenerArn && arns.length === 0) throw validation('You must specify either listener or rule ARNs');
    if (listenerArn && arns.length) throw validation('Listener ARN and rule ARNs cannot be specified at the same time');
    let rules: Rule[];
    if (arns.length) {
      rules = arns.map((a) => {
        const r = this.#rules.get(a);
        if (!r) throw new FakeAwsError('RuleNotFound', 'One or more rules not found');
        return r;
      });
    } else {
      if (!this.#listeners.has(listenerArn!)) throw new FakeAwsError('ListenerNotFound', `Listener '${listenerArn!}' not found`);
      rules = [...this.#rules.values()]
        .filter((r) => r.listenerArn === listenerArn)
        .sort((a, b) => (a.isDefault ? 1 : b.isDefault ? -1 : Number(a.priority) - Number(b.priority)));
    }
    const p = page(rules, input);
    const out = p.items.map((r) => {
      const n = this.#staleReads.get(r.arn) ?? 0;
      if (n > 0) this.#staleReads.set(r.arn, n - 1);
      return this.#ruleOut(r, n > 0);
    });
    return { Rules: out, NextMarker: p.next };
  }

  #modifyRule(input: Record<string, unknown>): unknown {
    const arn = str(input.RuleArn) ?? '';
    const r = this.#rules.get(arn);
    if (!r) throw new FakeAwsError('RuleNotFound', `Rule '${arn}' not found`);
    if (r.isDefault && input.Conditions !== undefined) throw new FakeAwsError('OperationNotPermitted', 'Default rule conditions cannot be modified');
    // ModifyRule: "To add an item to a list, remove an item from a list, or update an item in a list, you must
    // provide the entire list" -> Actions replaced as a whole.
    if (input.Actions !== undefined) {
      const next = this.#validateActions(arr<Action>(input.Actions), r.actions);
      r.previousActions = r.actions;
      r.actions = next;
    }
    if (input.Conditions !== undefined) r.conditions = arr(input.Conditions);
    return { Rules: [this.#ruleOut(r, false)] };
  }

  #deleteRule(input: Record<string, unknown>): unknown {
    const arn = str(input.RuleArn) ?? '';
    const r = this.#rules.get(arn);
    if (!r) throw new FakeAwsError('RuleNotFound', `Rule '${arn}' not found`);
    if (r.isDefault) throw new FakeAwsError('OperationNotPermitted', 'You cannot delete a default rule');
    this.#rules.delete(arn);
    this.#tags.delete(arn);
    return {};
  }

  // ---- helpers -----------------------------------------------------------------------------------------

  #tg(arn: string | undefined): TargetGroup {
    const tg = arn ? this.#tgs.get(arn) : undefined;
    if (!tg) throw new FakeAwsError('TargetGroupNotFound', `Target groups '${arn ?? ''}' not found`);
    return tg;
  }

  #hex(): string {
    this.#seq++;
    return (0x5e1f00000000 + this.#seq * 7919).toString(16).padStart(16, '0');
  }

  /** Drops targets whose deregistration delay has elapsed. */
  #settle(): void {
    const now = this.#clock.now();
    // Only the groups that have had a draining target: at 3,000 groups, scanning every target on every
    // request made the fake, not the code under test, the bench's CPU cost.
    for (const tg of this.#draining) {
      if (this.#tgs.get(tg.arn) !== tg) {
        this.#draining.delete(tg);
        continue;
      }
      let left = false;
      for (const [k, t] of tg.targets) {
        if (t.drainingUntil === undefined) continue;
        if (now >= t.drainingUntil) tg.targets.delete(k);
        else left = true;
      }
      if (!left) this.#draining.delete(tg);
    }
  }
}

/**
 * A target's identity, (Id, Port). An IPv6 Id is one address however it is spelled (the group parses it as
 * an address; the WHATWG URL host serializer gives one canonical text), while DescribeTargetHealth echoes
 * the spelling it was registered with: whether AWS does is not documented (docs/aws-facts.md#ipv6-target-groups), and
 * echoing is the harder case for a client, which must then compare canonicalised addresses itself.
 */
const key = (id: string, port: number): string => `${isIPv6(id) ? new URL(`http://[${id}]/`).hostname : id}:${port}`;

function defaultReason(state: TargetState): string | undefined {
  switch (state) {
    case 'unhealthy':
      return 'Target.FailedHealthChecks';
    case 'initial':
      return 'Elb.InitialHealthChecking';
    case 'draining':
      return 'Target.DeregistrationInProgress';
    case 'unused':
      return 'Target.NotRegistered';
    case 'unavailable':
      return 'Elb.InternalError';
    default:
      return undefined;
  }
}

/** Actions as Describe* return them: an OIDC action's ClientSecret is never read back. */
function withoutSecrets(actions: readonly Action[]): Action[] {
  return actions.map((a) => {
    if (a.Type !== 'authenticate-oidc') return a;
    const { ClientSecret: _secret, ...config } = (a.AuthenticateOidcConfig ?? {}) as Record<string, unknown>;
    void _secret;
    return { ...a, AuthenticateOidcConfig: config };
  });
}

function actionTargetGroups(actions: Action[]): string[] {
  const out: string[] = [];
  for (const a of actions) {
    if (a.Type !== 'forward') continue;
    const fc = a.ForwardConfig as { TargetGroups?: { TargetGroupArn?: string }[] } | undefined;
    for (const g of fc?.TargetGroups ?? []) if (g.TargetGroupArn) out.push(g.TargetGroupArn);
    if (typeof a.TargetGroupArn === 'string') out.push(a.TargetGroupArn);
  }
  return out;
}
