import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAcrossWriters, EMPTY_LEDGER, type GroupLedger } from '#core/domain/cross-writer-guard.ts';
import type { DeregisterTargetAction } from '#core/domain/plan.ts';
import type { TargetRegistration } from '#core/domain/registration.ts';
import { cm, target, tg } from './fixtures.ts';

const web = tg('web');
const remove = (t: TargetRegistration): DeregisterTargetAction => ({ kind: 'deregister-target', target: t, why: 'test' });
const options = (minHealthy: number, maxFraction?: number) => ({ minHealthy, maxFraction, subject: 'x' });

describe('decideAcrossWriters', () => {
  it("counts another writer's commitment that DescribeTargetHealth does not show yet", () => {
    const fresh = [target(web, '10.0.0.1'), target(web, '10.0.0.2')];
    const first = decideAcrossWriters({ actions: [remove(fresh[0]!)], fresh, ledger: EMPTY_LEDGER, now: 1000, windowMs: 60_000, writer: 'a', options: options(1) });
    expect(first.allowed).toHaveLength(1);
    // The second writer reads both still healthy (the first write has not landed): the ledger says otherwise.
    const second = decideAcrossWriters({ actions: [remove(fresh[1]!)], fresh, ledger: first.ledger, now: 1001, windowMs: 60_000, writer: 'b', options: options(1) });
    expect(second.allowed).toEqual([]);
    expect(second.heldBack).toEqual([expect.objectContaining({ guard: 'min-healthy' })]);
    expect(second.census).toEqual({ registered: 2, healthy: 1 });
  });

  it('writes a commitment again without counting it twice (a retry of a failed write)', () => {
    const fresh = [target(web, '10.0.0.1'), target(web, '10.0.0.2')];
    const ledger: GroupLedger = { entries: [{ key: '10.0.0.1:8080', at: 1000, by: 'a' }] };
    const d = decideAcrossWriters({ actions: [remove(fresh[0]!)], fresh, ledger, now: 2000, windowMs: 60_000, writer: 'a2', options: options(1) });
    expect(d.allowed).toHaveLength(1);
    expect(d.ledger.entries).toHaveLength(1);
  });

  it('forgets commitments older than the window, and skips what is already draining or gone', () => {
    const fresh = [target(web, '10.0.0.1', 'draining'), target(web, '10.0.0.2'), target(web, '10.0.0.3')];
    const ledger: GroupLedger = { entries: [{ key: '10.0.0.1:8080', at: 0, by: 'old' }] };
    const d = decideAcrossWriters({ actions: [remove(fresh[0]!), remove(target(web, '10.0.0.9')), remove(fresh[1]!)], fresh, ledger, now: 120_000, windowMs: 60_000, writer: 'w', options: options(1) });
    expect(d.alreadyGoing.map((g) => g.reason)).toEqual(['already draining', 'no longer registered']);
    expect(d.allowed.map((a) => (a as DeregisterTargetAction).target.id)).toEqual(['10.0.0.2']);
    expect(d.ledger.entries.map((e) => e.key)).toEqual(['10.0.0.2:8080']);
  });

  it('holds back a Cloud Map record that now names another pod (the IP was reused since planning)', () => {
    const planned = cm('payments', '10.0.1.5', { AWS_INSTANCE_IPV4: '10.0.1.5', 'k8s.io/pod': 'old', 'k8s.io/namespace': 'shop' });
    const now = cm('payments', '10.0.1.5', { AWS_INSTANCE_IPV4: '10.0.1.5', 'k8s.io/pod': 'new', 'k8s.io/namespace': 'shop' });
    const other = cm('payments', '10.0.1.6', { AWS_INSTANCE_IPV4: '10.0.1.6' });
    const d = decideAcrossWriters({ actions: [{ kind: 'deregister-instance', instance: planned, why: 'x' }], fresh: [now, other], ledger: EMPTY_LEDGER, now: 1, windowMs: 60_000, writer: 'w', options: options(1) });
    expect(d.allowed).toEqual([]);
    expect(d.heldBack[0]?.reason).toMatch(/k8s.io\/pod was old, now new/);
  });

  it('holds back a removal that rests on a target not answering once the fresh read finds it answering (sweeper verdicts only)', () => {
    const planned = target(web, '10.0.0.1', 'unhealthy');
    const judged = (t: TargetRegistration): DeregisterTargetAction => ({ ...remove(t), unlessAnswering: true });
    const others = [target(web, '10.0.0.2'), target(web, '10.0.0.3')];
    const decide = (action: DeregisterTargetAction, state: TargetRegistration['state']) =>
      decideAcrossWriters({ actions: [action], fresh: [target(web, '10.0.0.1', state), ...others], ledger: EMPTY_LEDGER, now: 1, windowMs: 60_000, writer: 'w', options: options(1) });
    // The address went to a new pod that answers its health checks: the verdict no longer holds.
    const healthy = decide(judged(planned), 'healthy');
    expect(healthy.allowed).toEqual([]);
    expect(healthy.heldBack).toEqual([expect.objectContaining({ guard: 'evidence', reason: expect.stringMatching(/was unhealthy when judged, healthy now/) })]);
    expect(healthy.ledger.entries).toEqual([]);
    // Registered again since (initial after unhealthy): held too.
    expect(decide(judged(planned), 'initial').allowed).toEqual([]);
    // Still not answering: removed.
    expect(decide(judged(planned), 'unhealthy').allowed).toHaveLength(1);
    expect(decide(judged(target(web, '10.0.0.1', 'initial')), 'initial').allowed).toHaveLength(1);
    // A dying node's or pod's target carries no such condition: it goes whatever its health.
    expect(decide(remove(planned), 'healthy').allowed).toHaveLength(1);
  });

  it('property: writers in any order, seeing or not seeing each other\'s writes, never go below the minimum or past the fraction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.array(fc.nat(7), { maxLength: 4 }), { minLength: 2, maxLength: 5 }),
        fc.constantFrom(1, 2),
        fc.constantFrom(undefined, 0.5, 0.34),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (health, writers, minHealthy, maxFraction, visible) => {
          let targets = health.map((h, i) => target(web, `10.0.0.${i + 1}`, h ? 'healthy' : 'unhealthy'));
          const initialHealthy = targets.filter((t) => t.state === 'healthy').length;
          let ledger = EMPTY_LEDGER;
          const removed = new Set<string>();
          writers.forEach((picks, w) => {
            const actions = [...new Set(picks.filter((p) => p < targets.length))].map((p) => remove(targets[p]!));
            const d = decideAcrossWriters({ actions, fresh: targets, ledger, now: 1000 + w, windowMs: 60_000, writer: `w${w}`, options: options(minHealthy, maxFraction) });
            ledger = d.ledger;
            for (const a of d.allowed) removed.add((a as DeregisterTargetAction).target.id);
            // Whether the writes show up before the next writer reads is up to AWS: both must be safe.
            if (visible[w % visible.length]) targets = targets.map((t) => (removed.has(t.id) ? { ...t, state: 'draining' as const } : t));
          });
          const healthyLeft = health.filter((h, i) => h && !removed.has(`10.0.0.${i + 1}`)).length;
          if (initialHealthy >= minHealthy) expect(healthyLeft).toBeGreaterThanOrEqual(minHealthy);
          else expect(healthyLeft).toBe(initialHealthy);
          if (maxFraction !== undefined) expect(removed.size).toBeLessThanOrEqual(Math.max(1, Math.floor(health.length * maxFraction)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
