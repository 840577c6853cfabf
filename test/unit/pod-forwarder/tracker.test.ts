import { describe, expect, it } from 'vitest';
import { PodTracker, type TerminationSignal } from '../../../functions/pod-forwarder/tracker.ts';
import { memoryLogger } from '../../../functions/pod-forwarder/log.ts';
import { pod } from './pods.ts';

const TS = '2026-11-21T12:00:30Z';

function tracker(forwardNotReady = false) {
  const signals: TerminationSignal[] = [];
  const log = memoryLogger();
  const t = new PodTracker({ cluster: 'c', forwardNotReady, emit: (s) => signals.push(s), log, now: () => new Date('2026-11-21T12:00:00Z') });
  return { t, signals, log };
}

describe('PodTracker', () => {
  it('emits one deletion per uid across MODIFIED, DELETED and a later re-list', () => {
    const { t, signals } = tracker();
    t.observe(pod(), 'added');
    t.observe(pod({ deletionTimestamp: TS }), 'modified');
    t.observe(pod({ deletionTimestamp: TS }), 'modified');
    const s = t.startRelist(undefined);
    t.observe(pod({ deletionTimestamp: TS }), 'list', s);
    t.finishRelist(s);
    t.observe(pod({ deletionTimestamp: TS }), 'deleted');
    // a stale list must not resurrect a pod already signalled and gone
    t.observe(pod({ deletionTimestamp: TS }), 'list');
    expect(signals.map((x) => [x.detail.uid, x.detail.reason])).toEqual([['uid-web-1', 'deletion']]);
    expect(t.size).toBe(1);
  });

  it('a deletion that happened during a watch gap is emitted by the re-list', () => {
    const { t, signals } = tracker();
    t.observe(pod(), 'list');
    const s = t.startRelist(undefined);
    t.observe(pod({ deletionTimestamp: TS }), 'list', s);
    t.finishRelist(s);
    expect(signals).toHaveLength(1);
  });

  it('a pod gone from the re-list without a signal is logged, not emitted', () => {
    const { t, signals, log } = tracker();
    t.observe(pod({ uid: 'a', name: 'a' }), 'list');
    t.observe(pod({ uid: 'b', name: 'b', namespace: 'other' }), 'list');
    const s = t.startRelist('shop');
    t.finishRelist(s);
    expect(signals).toEqual([]);
    expect(t.size).toBe(1);
    expect(log.lines.find((l) => l.message.includes('vanished'))?.fields).toMatchObject({ uid: 'a', namespace: 'shop', name: 'a' });
  });

  it('emits a DELETED pod never seen terminating (force delete), once', () => {
    const { t, signals } = tracker();
    t.observe(pod(), 'added');
    t.observe(pod({ deletionTimestamp: TS, deletionGracePeriodSeconds: 0 }), 'deleted');
    expect(signals.map((x) => x.detail.gracePeriodSeconds)).toEqual([0]);
    expect(t.size).toBe(0);
  });

  it('skips pods without an IP (nothing to deregister) and logs it', () => {
    const { t, signals, log } = tracker();
    t.observe(pod({ ip: undefined, deletionTimestamp: TS }), 'added');
    expect(signals).toEqual([]);
    expect(log.lines.some((l) => l.message.includes('no IP'))).toBe(true);
  });

  it('forwards Ready -> NotReady when enabled', () => {
    const { t, signals } = tracker(true);
    t.observe(pod(), 'added');
    t.observe(pod({ ready: false }), 'modified');
    expect(signals.map((x) => x.detail.reason)).toEqual(['not-ready']);
  });
});
