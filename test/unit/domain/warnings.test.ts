import { describe, expect, it } from 'vitest';
import { auditEvents } from '#core/audit.ts';
import type { Plan } from '#core/domain/plan.ts';
import { mergePlans } from '#core/domain/plan.ts';
import { alreadyGoingWarning, sumAlreadyGoing } from '#core/domain/planners/node-deregistration.ts';
import { planWarning, uniqueWarnings, warningsOf } from '#core/domain/warnings.ts';
import { countOutcomes, type ApplyResult } from '#core/executor/outcomes.ts';

const spof = planWarning('single-point-of-failure', 'SINGLE POINT OF FAILURE: target group web has 1 healthy registration(s) and 1 of them are on node i-1; they stay in traffic until it dies.');
const noEni = planWarning('node-without-eni', 'no ENI found on i-1 (already terminated?): its pod IPs are unknown; the sweeper removes what is left');

describe('plan warnings as data', () => {
  it('selects by code, never by the wording', () => {
    const reworded = planWarning('single-point-of-failure', 'Last healthy registrations of web are on i-1');
    expect(warningsOf([noEni, spof, reworded], 'single-point-of-failure')).toEqual([spof, reworded]);
    expect(warningsOf([noEni], 'single-point-of-failure')).toEqual([]);
  });

  it('keeps a warning once per code and text, in first-seen order', () => {
    const same = planWarning('cloud-map-off', 'CLOUDMAP_NAMESPACES is empty: Cloud Map is not looked at');
    expect(uniqueWarnings([noEni, same, { ...same }, spof, noEni])).toEqual([noEni, same, spof]);
    // Same text, another kind: both kept.
    expect(uniqueWarnings([same, { ...same, code: 'cluster-vpc-unknown' }])).toHaveLength(2);
  });

  it('sums the already-going warnings of per-group plans by their count, not by parsing the text', () => {
    expect(sumAlreadyGoing([alreadyGoingWarning(2), spof, alreadyGoingWarning(3)])).toEqual([spof, { code: 'already-going', count: 5, text: '5 target(s) on these nodes were already draining or unused: not planned again' }]);
    expect(sumAlreadyGoing([spof])).toEqual([spof]);
  });

  it('merges the parts of one decision with each warning once', () => {
    const part = (warnings: Plan['warnings']): Plan => ({ id: 'p', trigger: 't', subject: 's', createdAt: '', actions: [], heldBack: [], warnings, census: {} });
    expect(mergePlans({ id: 'p', trigger: 't', subject: 's', createdAt: '' }, [part([spof]), part([spof, noEni])], [noEni]).warnings).toEqual([noEni, spof]);
  });

  it('the audit event carries the text as it always did, and the codes beside it', () => {
    const plan: Plan = { id: 'p', trigger: 'spot-interruption', subject: 'i-1', createdAt: '2026-11-21T12:00:00.000Z', actions: [], heldBack: [], warnings: [noEni, spof], census: {} };
    const result: ApplyResult = { planId: 'p', dryRun: false, outcomes: [], ...countOutcomes([]) };
    const [event] = auditEvents(plan, result);
    expect(event?.detail).toMatchObject({ warnings: [noEni.text, spof.text], warningCodes: ['node-without-eni', 'single-point-of-failure'] });
  });
});
