/**
 * `quiesce audit`'s summary of the trail: a plan split into parts is one plan again (by planId, wherever its
 * parts fall), outcomes counted by kind per trigger and per group, held-back actions by guard with examples,
 * failures grouped by group and error, the other events counted.
 */
import { describe, expect, it } from 'vitest';
import { groupOfAction, summariseAudit } from '#core/audit-summary.ts';

const plan = (detail: Record<string, unknown>) => ({ 'detail-type': 'Deregistration Plan Applied', source: 'quiesce', time: '2026-11-21T12:00:00Z', detail });
const window = { from: new Date('2026-11-20T12:00:00Z'), to: new Date('2026-11-21T12:00:00Z') };

describe('the audit summary', () => {
  it('joins a plan\'s parts, and counts each outcome once, by trigger and by group', () => {
    const s = summariseAudit(
      [
        plan({ planId: 'p1', trigger: 'spot-interruption', dryRun: true, part: 1, parts: 2, outcomes: [{ action: 'target k8s-web 10.0.1.5:8080', status: 'dry-run' }], heldBack: [] }),
        plan({ planId: 'p2', trigger: 'sweeper', dryRun: false, part: 1, parts: 1, outcomes: [{ action: 'target k8s-web 10.0.9.9:8080', status: 'deregistered' }, { action: 'cloudmap payments 10.0.9.9', status: 'failed', error: 'AccessDeniedException: no' }], heldBack: [{ action: 'target k8s-api 10.0.9.8:8080', guard: 'max-fraction', reason: 'half the group already going' }] }),
        { 'detail-type': 'Event Rejected', detail: {} },
        plan({ planId: 'p1', trigger: 'spot-interruption', dryRun: true, part: 2, parts: 2, outcomes: [{ action: 'target k8s-web 10.0.1.6:8080', status: 'dry-run' }], heldBack: [{ action: 'target k8s-admin 10.0.1.7:8080', guard: 'min-healthy', reason: 'last healthy' }] }),
        { 'detail-type': 'Traffic Shift Aborted', detail: {} },
        { 'detail-type': 'Preflight Checked', time: '2026-11-21T11:00:00Z', detail: { function: 'sweeper', ok: false, checks: [{ status: 'fail', title: 'T', detail: 'D' }, { status: 'pass', title: 'U', detail: 'E' }] } },
      ],
      window,
    );
    expect(s.plans).toEqual({ total: 2, dryRun: 1, live: 1 });
    expect(s.byTrigger).toEqual({
      'spot-interruption': { plans: 1, applied: 0, wouldApply: 2, heldBack: 1, failed: 0 },
      sweeper: { plans: 1, applied: 1, wouldApply: 0, heldBack: 1, failed: 1 },
    });
    expect(s.byGroup['target k8s-web']).toEqual({ applied: 1, wouldApply: 2, heldBack: 0, failed: 0 });
    expect(s.byGroup['cloudmap payments']).toEqual({ applied: 0, wouldApply: 0, heldBack: 0, failed: 1 });
    expect(s.guards).toEqual({ 'max-fraction': { count: 1, examples: ['half the group already going'] }, 'min-healthy': { count: 1, examples: ['last healthy'] } });
    expect(s.failures).toEqual([{ action: 'cloudmap payments', error: 'AccessDeniedException: no', count: 1 }]);
    expect(s.rejected).toBe(1);
    expect(s.shifts).toEqual({ aborted: 1 });
    expect(s.preflights).toEqual([{ function: 'sweeper', time: '2026-11-21T11:00:00Z', ok: false, failed: ['T: D'] }]);
  });

  it('names the group of each kind of action', () => {
    expect(groupOfAction('target k8s-web [2001:db8::1]:8080')).toBe('target k8s-web');
    expect(groupOfAction('cloudmap payments 10.0.1.5')).toBe('cloudmap payments');
    expect(groupOfAction('weights arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/a/b/c/d')).toBe('weights arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/a/b/c/d');
  });
});
