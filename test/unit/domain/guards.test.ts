import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { guardPlan } from '#core/domain/guards.ts';
import type { Plan } from '#core/domain/plan.ts';
import { planNodeDeregistration } from '#core/domain/planners/node-deregistration.ts';
import type { TargetState } from '#core/domain/registration.ts';
import { node, target, tg } from './fixtures.ts';

const web = tg('web');

function planFor(states: { ip: string; state: TargetState }[], onNode: string[]): Plan {
  return planNodeDeregistration({
    planId: 'p',
    trigger: 't',
    reasons: new Map(),
    nodes: [node('i-aaaaaaaa', onNode)],
    targetGroups: [web],
    targets: states.map((s) => target(web, s.ip, s.state)),
    cloudMap: [],
    ownerAttributes: {},
    now: new Date(0),
  });
}

describe('guardPlan', () => {
  it('keeps the last healthy target and warns of the single point of failure', () => {
    const guarded = guardPlan(planFor([{ ip: '10.0.0.1', state: 'healthy' }, { ip: '10.0.0.2', state: 'unhealthy' }], ['10.0.0.1']), {
      minHealthy: 1,
      maxFraction: undefined,
      subject: 'node i-aaaaaaaa',
    });
    expect(guarded.actions).toEqual([]);
    expect(guarded.heldBack).toEqual([expect.objectContaining({ guard: 'min-healthy' })]);
    expect(guarded.warnings).toEqual([{ code: 'single-point-of-failure', text: expect.stringMatching(/^SINGLE POINT OF FAILURE: target group web has 1 healthy/) }]);
  });

  it('removes unhealthy targets first: they carry no traffic worth keeping', () => {
    const guarded = guardPlan(
      planFor(
        [
          { ip: '10.0.0.1', state: 'healthy' },
          { ip: '10.0.0.2', state: 'unhealthy' },
          { ip: '10.0.0.3', state: 'healthy' },
        ],
        ['10.0.0.1', '10.0.0.2'],
      ),
      { minHealthy: 1, maxFraction: 0.34, subject: 'x' },
    );
    // 34% of 3 registrations = 1 per run: the unhealthy one goes first.
    expect(guarded.actions).toEqual([expect.objectContaining({ target: expect.objectContaining({ id: '10.0.0.2' }) })]);
    expect(guarded.heldBack).toEqual([expect.objectContaining({ guard: 'max-fraction' })]);
  });

  it('removes at least one dead registration per run, so an all-dead group is emptied of its dead', () => {
    const guarded = guardPlan(planFor([{ ip: '10.0.0.1', state: 'unhealthy' }], ['10.0.0.1']), { minHealthy: 1, maxFraction: 0.5, subject: 'x' });
    expect(guarded.actions).toHaveLength(1);
  });

  it('holds everything back when a group has no census (cannot prove safety)', () => {
    const plan = planFor([{ ip: '10.0.0.1', state: 'healthy' }, { ip: '10.0.0.3', state: 'healthy' }], ['10.0.0.1']);
    const guarded = guardPlan({ ...plan, census: {} }, { minHealthy: 1, maxFraction: undefined, subject: 'x' });
    expect(guarded.actions).toEqual([]);
    expect(guarded.heldBack[0]?.guard).toBe('never-empty');
  });

  it('never leaves a group below min-healthy nor above the fraction, and loses no action (property)', () => {
    const states: TargetState[] = ['healthy', 'unhealthy', 'initial', 'draining'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ state: fc.constantFrom(...states), onNode: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.double({ min: 0.05, max: 1, noNaN: true }), { nil: undefined }),
        (spec, minHealthy, maxFraction) => {
          const rows = spec.map((s, i) => ({ ip: `10.0.0.${i + 1}`, state: s.state, onNode: s.onNode }));
          const plan = planFor(rows, rows.filter((r) => r.onNode).map((r) => r.ip));
          const guarded = guardPlan(plan, { minHealthy, maxFraction, subject: 'x' });
          expect(guarded.actions.length + guarded.heldBack.length).toBe(plan.actions.length);
          const census = plan.census[web.arn] ?? { registered: 0, healthy: 0 };
          const removedHealthy = guarded.actions.filter((a) => a.kind === 'deregister-target' && a.target.state === 'healthy').length;
          if (removedHealthy > 0) expect(census.healthy - removedHealthy).toBeGreaterThanOrEqual(minHealthy);
          if (maxFraction !== undefined) expect(guarded.actions.length).toBeLessThanOrEqual(Math.max(1, Math.floor(census.registered * maxFraction)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
