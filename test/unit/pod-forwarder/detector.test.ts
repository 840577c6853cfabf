import { describe, expect, it } from 'vitest';
import { detect, type PodMemory } from '../../../functions/pod-forwarder/detector.ts';
import { pod } from './pods.ts';

const on = { forwardNotReady: true };
const off = { forwardNotReady: false };
const TS = '2026-11-21T12:00:30Z';

describe('detect', () => {
  it('signals deletion the first time a deletionTimestamp appears', () => {
    const first = detect(undefined, pod(), off);
    expect(first.signal).toBeUndefined();
    const second = detect(first.memory, pod({ deletionTimestamp: TS }), off);
    expect(second.signal).toBe('deletion');
    expect(second.memory.terminationSignalled).toBe(true);
  });

  it('never signals deletion twice (MODIFIED again, re-list, DELETED)', () => {
    let m: PodMemory = detect(undefined, pod({ deletionTimestamp: TS }), off).memory;
    for (let i = 0; i < 3; i += 1) {
      const d = detect(m, pod({ deletionTimestamp: TS, ready: i % 2 === 0 }), on);
      expect(d.signal).toBeUndefined();
      m = d.memory;
    }
  });

  it('signals deletion for a pod first seen already terminating (initial list, re-list after a gap)', () => {
    expect(detect(undefined, pod({ deletionTimestamp: TS }), off).signal).toBe('deletion');
  });

  it('accepts a Date deletionTimestamp (list API shape) as well as a string (watch shape)', () => {
    const p = pod();
    p.metadata!.deletionTimestamp = new Date(TS);
    expect(detect(undefined, p, off).signal).toBe('deletion');
  });

  it('signals not-ready only on a Ready -> NotReady flip, only when enabled', () => {
    const ready = detect(undefined, pod(), on).memory;
    expect(detect(ready, pod({ ready: false }), on).signal).toBe('not-ready');
    expect(detect(ready, pod({ ready: false }), off).signal).toBeUndefined();
    expect(detect(undefined, pod({ ready: false }), on).signal).toBeUndefined();
    const notReady = detect(ready, pod({ ready: false }), on).memory;
    expect(detect(notReady, pod({ ready: false }), on).signal).toBeUndefined();
    const readyAgain = detect(notReady, pod(), on).memory;
    expect(detect(readyAgain, pod({ ready: false }), on).signal).toBe('not-ready');
  });

  it('prefers deletion over not-ready when both happen at once', () => {
    const ready = detect(undefined, pod(), on).memory;
    expect(detect(ready, pod({ ready: false, deletionTimestamp: TS }), on).signal).toBe('deletion');
  });
});
