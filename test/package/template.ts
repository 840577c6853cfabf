/**
 * Reading the packaged CloudFormation the way CloudFormation does where a check must see every variant: a
 * value `Fn::If [condition, a, b]` stands for both `a` and `b` (whichever the stack's parameters pick), and
 * `Ref AWS::NoValue` (or an absent property) for nothing. The checks of roles and policies hold for either
 * branch.
 */

const isNoValue = (v: unknown): boolean => (v as { Ref?: unknown } | null)?.Ref === 'AWS::NoValue';

/** The values `v` can take: itself, or each branch of an `Fn::If` (nested ones too), `AWS::NoValue` dropped. */
export function variants<T>(v: T | { 'Fn::If': [string, unknown, unknown] }): T[] {
  if (v === undefined || isNoValue(v)) return [];
  const branches = (v as { 'Fn::If'?: [string, unknown, unknown] } | null)?.['Fn::If'];
  if (Array.isArray(branches)) return [...variants<T>(branches[1] as T), ...variants<T>(branches[2] as T)];
  return [v as T];
}

/** The statements of a policy document, each `Fn::If` statement as its branches. */
export function statementsOf<S>(document: { Statement: readonly unknown[] } | undefined): S[] {
  return (document?.Statement ?? []).flatMap((s) => variants<S>(s as S));
}

/** A CloudFormation template as JSON, loosely typed. */
export interface CfnTemplate {
  Parameters?: Record<string, { Default?: string; Type?: string }>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>>;
  Outputs?: Record<string, { Value: unknown }>;
  [key: string]: unknown;
}

/**
 * The template with every `Ref` to a parameter replaced by the parameter's Default, and `${Parameter}` in
 * `Fn::Sub` strings too (a Sub left with nothing to substitute becomes its string): what CloudFormation
 * deploys when the stack is given no parameter values, as `osls deploy` gives none. The Parameters section
 * stays, for checks of the parameters themselves.
 */
export function withParameterDefaults<T extends CfnTemplate>(template: T, values: Readonly<Record<string, string>> = {}): T {
  const params: Record<string, string | undefined> = Object.fromEntries(Object.entries(template.Parameters ?? {}).map(([k, p]) => [k, values[k] ?? p.Default]));
  const known = (name: string): boolean => params[name] !== undefined;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o['Ref'] === 'string' && known(o['Ref'])) return params[o['Ref']];
    if (keys.length === 1 && typeof o['Fn::Sub'] === 'string') {
      const s = o['Fn::Sub'].replace(/\$\{([A-Za-z0-9]+)\}/g, (m, name: string) => (known(name) ? (params[name] as string) : m));
      return /\$\{[^!]/.test(s) ? { 'Fn::Sub': s } : s.replace(/\$\{!/g, '${');
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k === 'Parameters' && x === template.Parameters ? x : walk(x)]));
  };
  return walk(template) as T;
}
