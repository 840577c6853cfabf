import { describe, expect, it } from 'vitest';
import { INSTANCE_STATES } from '#core/contracts/node-events.ts';
import { isAliveInstanceState } from '#core/domain/instance-state.ts';

describe('isAliveInstanceState', () => {
  it('pending and running are alive; every other EC2 state, and no instance, is not', () => {
    const alive = [...INSTANCE_STATES].filter((s) => isAliveInstanceState(s)).sort();
    expect(alive).toEqual(['pending', 'running']);
    for (const s of ['stopping', 'stopped', 'shutting-down', 'terminated', '', 'Running']) expect(isAliveInstanceState(s)).toBe(false);
    expect(isAliveInstanceState(undefined)).toBe(false);
  });
});
