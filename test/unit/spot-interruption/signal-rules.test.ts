import { describe, expect, it } from 'vitest';
import type { NodeSignal } from '#core/contracts/node-events.ts';
import { currentStateDecision, eventAgeDecision, signalDecision } from '../../../functions/spot-interruption/stages/signal-rules.ts';

const at = '2026-11-21T12:00:00.000Z';
const warning: NodeSignal = { kind: 'spot-interruption', instanceId: 'i-0123456789abcdef0', action: 'terminate', eventTime: at };
const stopped: NodeSignal = { kind: 'state-change', instanceId: 'i-0123456789abcdef0', state: 'stopped', eventTime: at };

describe('signal rules', () => {
  it('acts on dying states, the warning and real hooks; not on rebalance by default or test notifications', () => {
    expect(signalDecision(warning, { rebalanceAction: 'ignore' }).act).toBe(true);
    expect(signalDecision({ ...stopped, state: 'running' }, { rebalanceAction: 'ignore' }).act).toBe(false);
    expect(signalDecision({ kind: 'rebalance', instanceId: 'i-0123456789abcdef0' }, { rebalanceAction: 'ignore' }).act).toBe(false);
    expect(signalDecision({ kind: 'rebalance', instanceId: 'i-0123456789abcdef0' }, { rebalanceAction: 'deregister' }).act).toBe(true);
  });

  it('bounds replays by the event time, and judges a signal without one by the instance alone', () => {
    expect(eventAgeDecision(warning, new Date(Date.parse(at) + 600_000), 600).act).toBe(true);
    expect(eventAgeDecision(warning, new Date(Date.parse(at) + 601_000), 600)).toEqual({ act: false, reason: expect.stringMatching(/601 s old/) });
    expect(eventAgeDecision({ ...warning, eventTime: undefined }, new Date(), 600).act).toBe(true);
    expect(eventAgeDecision({ ...warning, eventTime: 'yesterday' }, new Date(), 600).act).toBe(false);
  });

  it('a dying state change is stale while the instance runs; any signal is stale from before a relaunch', () => {
    expect(currentStateDecision(stopped, { state: 'running', launchTime: '2026-11-20T00:00:00Z' }).act).toBe(false);
    expect(currentStateDecision(stopped, { state: 'stopped', launchTime: '2026-11-20T00:00:00Z' }).act).toBe(true);
    expect(currentStateDecision(warning, { state: 'running', launchTime: '2026-11-20T00:00:00Z' }).act).toBe(true);
    expect(currentStateDecision(warning, { state: 'running', launchTime: '2026-11-21T12:00:05Z' })).toEqual({ act: false, reason: expect.stringMatching(/launched again/) });
    expect(currentStateDecision(warning, { state: 'shutting-down' }).act).toBe(true);
  });
});
