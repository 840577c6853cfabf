import { describe, expect, it } from 'vitest';
import { FreshTags } from '#core/observe/fresh-tags.ts';

/** A DescribeTags stand-in that answers TargetGroupNotFound for the whole call when one ARN is gone, as ELB does. */
function elbv2(gone: ReadonlySet<string> = new Set()) {
  const calls: string[][] = [];
  return {
    calls,
    tagsOf: async (arns: readonly string[]) => {
      calls.push([...arns]);
      if (arns.length > 20) throw new Error('more than 20');
      if (arns.some((a) => gone.has(a))) throw Object.assign(new Error('gone'), { name: 'TargetGroupNotFoundException' });
      return new Map(arns.map((a) => [a, { 'elbv2.k8s.aws/cluster': 'prod', arn: a }]));
    },
  };
}
const arns = (n: number): string[] => Array.from({ length: n }, (_, i) => `arn:tg/${i}`);

describe('FreshTags', () => {
  it('reads the groups asked for up front 20 to a call, once each', async () => {
    const e = elbv2();
    const tags = new FreshTags(e);
    tags.prefetch(arns(30));
    tags.prefetch(arns(30));
    expect((await tags.of('arn:tg/25'))?.['arn']).toBe('arn:tg/25');
    expect(e.calls.map((c) => c.length)).toEqual([20, 10]);
  });

  it('gathers the groups asked for one by one into shared calls', async () => {
    const e = elbv2();
    const tags = new FreshTags(e, { windowMs: 5 });
    const got = await Promise.all(arns(25).map((a) => tags.of(a)));
    expect(got.every((t) => t?.['elbv2.k8s.aws/cluster'] === 'prod')).toBe(true);
    expect(e.calls.map((c) => c.length)).toEqual([20, 5]);
  });

  it('answers undefined for a group that no longer exists, and still reads the others of its call', async () => {
    const e = elbv2(new Set(['arn:tg/3']));
    const tags = new FreshTags(e);
    tags.prefetch(arns(5));
    expect(await tags.of('arn:tg/3')).toBeUndefined();
    expect((await tags.of('arn:tg/4'))?.['arn']).toBe('arn:tg/4');
    expect(e.calls.length).toBe(1 + 5);
  });
});
