import { describe, expect, it } from 'vitest';
import { healthGate, healthyCount } from '#core/domain/health-gate.ts';
import type { TargetState } from '#core/domain/registration.ts';

const targets = (...states: TargetState[]) => states.map((state) => ({ state }));

describe('the traffic health gate', () => {
  it('counts only healthy targets', () => {
    expect(healthyCount(targets('healthy', 'initial', 'unhealthy', 'draining', 'unused', 'unavailable', 'healthy'))).toBe(2);
    expect(healthyCount([])).toBe(0);
  });

  it('passes at the required number of healthy targets, not below', () => {
    expect(healthGate(targets('healthy', 'healthy', 'unhealthy'), 2)).toEqual({ healthy: 2, required: 2, passes: true });
    expect(healthGate(targets('healthy', 'initial', 'unhealthy'), 2)).toEqual({ healthy: 1, required: 2, passes: false });
    expect(healthGate([], 0)).toEqual({ healthy: 0, required: 0, passes: true });
  });
});
