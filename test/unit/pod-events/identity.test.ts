/** The pure identity and claim rules of pod-events (functions/pod-events/identity.ts). */
import { describe, expect, it } from 'vitest';
import type { KubePod } from '#core/adapters/kube/index.ts';
import { claimContradiction, identityFromCluster } from '../../../functions/pod-events/identity.ts';

const POD = { namespace: 'shop', name: 'web-1', uid: 'u1', ips: ['10.0.1.12'], ports: [8080] };
const kubePod = (over: Partial<KubePod> = {}): KubePod => ({
  namespace: 'shop', name: 'web-1', uid: 'u1', ip: '10.0.1.12', ips: ['10.0.1.12'], nodeName: 'n', phase: 'Running', ready: true,
  startTime: undefined, deletionTimestamp: undefined, labels: {}, containerPorts: [], hostNetwork: false, ...over,
});

describe('claimContradiction', () => {
  it('a deletion needs a deletionTimestamp; a not-ready needs Ready not True', () => {
    expect(claimContradiction(POD, kubePod(), 'deletion')).toMatch(/not terminating/);
    expect(claimContradiction(POD, kubePod({ deletionTimestamp: '2026-11-21T12:00:30Z' }), 'deletion')).toBeUndefined();
    expect(claimContradiction(POD, kubePod(), 'not-ready')).toMatch(/Ready now/);
    expect(claimContradiction(POD, kubePod({ ready: false }), 'not-ready')).toBeUndefined();
    // Not ready and being deleted: both claims hold.
    expect(claimContradiction(POD, kubePod({ ready: false, deletionTimestamp: '2026-11-21T12:00:30Z' }), 'deletion')).toBeUndefined();
  });
});

describe('identityFromCluster', () => {
  it('refuses every IP of a pod the cluster says is not going, and says why', () => {
    const v = identityFromCluster(POD, kubePod(), new Map(), 'deletion');
    expect(v).toMatchObject({ ips: [], unconfirmed: expect.stringMatching(/no deletionTimestamp/) });
    expect(v.refused.map((r) => r.ip)).toEqual(['10.0.1.12']);
  });

  it('takes the IPs the terminating pod still holds', () => {
    expect(identityFromCluster(POD, kubePod({ deletionTimestamp: '2026-11-21T12:00:30Z' }), new Map(), 'deletion')).toMatchObject({ ips: ['10.0.1.12'], refused: [] });
  });

  it('a pod gone (or its name another uid\'s) makes no claim false: its IP goes unless a live pod holds it', () => {
    expect(identityFromCluster(POD, undefined, new Map(), 'deletion')).toMatchObject({ ips: ['10.0.1.12'] });
    expect(identityFromCluster(POD, kubePod({ uid: 'u2' }), new Map([['10.0.1.12', [kubePod({ uid: 'u2' })]]]), 'deletion')).toMatchObject({ ips: [], refused: [{ ip: '10.0.1.12' }] });
    expect(identityFromCluster(POD, kubePod({ uid: 'u2' }), new Map(), 'deletion').unconfirmed).toBeUndefined();
  });
});
