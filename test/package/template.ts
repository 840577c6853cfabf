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
