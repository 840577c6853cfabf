/**
 * Renders the packaged CloudFormation the way CloudFormation would for one set of parameter values: every
 * intrinsic (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If, conditions) resolved to
 * the physical names and ARNs the stack would create in one account and Region, resources whose Condition
 * is false dropped, `AWS::NoValue` removed. What the policy checks evaluate (functions/_core/policy/resource-policy.ts), and
 * what the deployed-policy scenarios install into the fake AWS.
 *
 * Physical ids follow each resource's name property (every quiesce resource that others refer to is named:
 * infra/names.yml); role ids come from the fake IAM (`roleIdOf`), so a rendered `!GetAtt Role.RoleId` is the
 * id the fake SQS writes in that role's SenderIds; an unnamed resource gets a generated name. An intrinsic
 * the renderer does not know throws, so a template change that needs more is noticed; attributes nobody
 * checks render as placeholders.
 */

type Json = unknown;

/** One rendered resource. */
export interface RenderedResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/** Options of {@link renderTemplate}. */
export interface RenderOptions {
  readonly accountId: string;
  readonly region: string;
  /** CloudFormation parameter values (overriding the template's defaults). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** The unique id IAM gives a role, by role name. */
  readonly roleIdOf: (roleName: string) => string;
}

/** The rendered stack. */
export interface RenderedStack {
  readonly resources: Readonly<Record<string, RenderedResource>>;
  readonly parameters: Readonly<Record<string, string>>;
  /** The ARN (or other attribute) a resource would have. */
  attribute(logicalId: string, name: string): string;
}

interface Template {
  Parameters?: Record<string, { Default?: string }>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, unknown> }>;
}

const NO_VALUE = Symbol('AWS::NoValue');

/** Renders `template` for one account, Region and set of parameters. */
export function renderTemplate(template: Template, options: RenderOptions): RenderedStack {
  const { accountId, region } = options;
  const partition = 'aws';
  const parameters: Record<string, string> = {};
  for (const [k, p] of Object.entries(template.Parameters ?? {})) parameters[k] = options.parameters?.[k] ?? p.Default ?? '';
  for (const k of Object.keys(options.parameters ?? {})) if (!(k in parameters)) throw new Error(`no parameter ${k} in the template`);
  const conditions = new Map<string, boolean>();

  const condition = (name: string): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const def = template.Conditions?.[name];
    if (def === undefined) throw new Error(`no condition ${name}`);
    const value = evalCondition(def);
    conditions.set(name, value);
    return value;
  };
  const evalCondition = (c: Json): boolean => {
    const o = c as Record<string, Json[]>;
    if ('Fn::Equals' in o) {
      const [a, b] = o['Fn::Equals']!.map(resolve);
      return a === b;
    }
    if ('Fn::Not' in o) return !evalCondition(o['Fn::Not']![0]);
    if ('Fn::And' in o) return o['Fn::And']!.every(evalCondition);
    if ('Fn::Or' in o) return o['Fn::Or']!.some(evalCondition);
    if ('Condition' in o) return condition((o as unknown as { Condition: string }).Condition);
    throw new Error(`condition not understood: ${JSON.stringify(c)}`);
  };

  const resourceOf = (id: string) => {
    const r = template.Resources[id];
    if (!r) throw new Error(`no resource ${id}`);
    return r;
  };
  // An unnamed resource gets a name CloudFormation generates (`<stack>-<logical id>-<random>`): one that no
  // policy can name in advance, which is what the checks need to know about it.
  const nameProperty = (id: string, key: string): string => {
    const v = resolve(resourceOf(id).Properties?.[key]);
    return typeof v === 'string' ? v : `stack-${id}-GENERATED`;
  };
  const ref = (id: string): string => {
    if (id === 'AWS::AccountId') return accountId;
    if (id === 'AWS::Region') return region;
    if (id === 'AWS::Partition') return partition;
    if (id === 'AWS::URLSuffix') return 'amazonaws.com';
    if (id in parameters) return parameters[id]!;
    const r = resourceOf(id);
    switch (r.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${accountId}/${nameProperty(id, 'QueueName')}`;
      case 'AWS::Events::EventBus':
        return nameProperty(id, 'Name');
      case 'AWS::IAM::Role':
        return nameProperty(id, 'RoleName');
      case 'AWS::Events::Rule':
        return nameProperty(id, 'Name');
      case 'AWS::Lambda::Function':
        return nameProperty(id, 'FunctionName');
      case 'AWS::DynamoDB::Table':
        return nameProperty(id, 'TableName');
      case 'AWS::Scheduler::ScheduleGroup':
        return nameProperty(id, 'Name');
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${region}:${accountId}:${nameProperty(id, 'TopicName')}`;
      default:
        return `${id}-physical-id`;
    }
  };
  const attribute = (id: string, name: string): string => {
    const r = resourceOf(id);
    const key = `${r.Type}.${name}`;
    switch (key) {
      case 'AWS::SQS::Queue.Arn':
        return `arn:${partition}:sqs:${region}:${accountId}:${nameProperty(id, 'QueueName')}`;
      case 'AWS::SQS::Queue.QueueName':
        return nameProperty(id, 'QueueName');
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${accountId}:role/${nameProperty(id, 'RoleName')}`;
      case 'AWS::IAM::Role.RoleId':
        return options.roleIdOf(nameProperty(id, 'RoleName'));
      case 'AWS::Events::EventBus.Arn':
        return `arn:${partition}:events:${region}:${accountId}:event-bus/${nameProperty(id, 'Name')}`;
      case 'AWS::Events::EventBus.Name':
        return nameProperty(id, 'Name');
      case 'AWS::Events::Rule.Arn': {
        const bus = resolve(r.Properties?.['EventBusName']);
        const name = nameProperty(id, 'Name');
        return `arn:${partition}:events:${region}:${accountId}:rule/${typeof bus === 'string' && bus !== 'default' ? `${bus}/` : ''}${name}`;
      }
      case 'AWS::Lambda::Function.Arn':
        return `arn:${partition}:lambda:${region}:${accountId}:function:${nameProperty(id, 'FunctionName')}`;
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:${partition}:dynamodb:${region}:${accountId}:table/${nameProperty(id, 'TableName')}`;
      case 'AWS::Scheduler::ScheduleGroup.Arn':
        return `arn:${partition}:scheduler:${region}:${accountId}:schedule-group/${nameProperty(id, 'Name')}`;
      case 'AWS::ECR::Repository.RepositoryUri':
        return `${accountId}.dkr.ecr.${region}.amazonaws.com/${nameProperty(id, 'RepositoryName')}`;
      default:
        return `${id}.${name}`;
    }
  };

  const sub = (text: string, vars: Record<string, Json>): string =>
    text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
      if (name in vars) return String(resolve(vars[name]));
      const dot = name.indexOf('.');
      return dot > 0 && !name.startsWith('AWS::') ? attribute(name.slice(0, dot), name.slice(dot + 1)) : ref(name);
    });

  const resolve = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(resolve).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = o[k];
      switch (k) {
        case 'Ref':
          return arg === 'AWS::NoValue' ? NO_VALUE : ref(arg as string);
        case 'Fn::GetAtt': {
          const [id, name] = (typeof arg === 'string' ? arg.split('.') : arg) as [string, string];
          return attribute(id, name);
        }
        case 'Fn::Sub':
          return typeof arg === 'string' ? sub(arg, {}) : sub((arg as [string, Record<string, Json>])[0], (arg as [string, Record<string, Json>])[1]);
        case 'Fn::Join': {
          const [sep, list] = arg as [string, Json];
          return (resolve(list) as Json[]).map(String).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, Json];
          return String(resolve(text)).split(sep);
        }
        case 'Fn::Select': {
          const [i, list] = arg as [Json, Json];
          return (resolve(list) as Json[])[Number(resolve(i))];
        }
        case 'Fn::If': {
          const [name, a, b] = arg as [string, Json, Json];
          return resolve(condition(name) ? a : b);
        }
        default:
          if (k.startsWith('Fn::')) throw new Error(`intrinsic ${k} not understood by the renderer`);
      }
    }
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(o)) {
      const r = resolve(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  };

  const resources: Record<string, RenderedResource> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Condition !== undefined && !condition(r.Condition)) continue;
    resources[id] = { Type: r.Type, Properties: (resolve(r.Properties ?? {}) as Record<string, unknown>) ?? {} };
  }
  return { resources, parameters, attribute };
}
