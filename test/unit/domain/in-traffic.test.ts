import { describe, expect, it } from 'vitest';
import type { HeldBackAction } from '#core/domain/plan.ts';
import { keepsInTraffic } from '#core/domain/in-traffic.ts';

describe('keepsInTraffic', () => {
  it('min-healthy, max-fraction and never-empty keep a registration in traffic; ownership, evidence and grace-period do not', () => {
    const guards: HeldBackAction['guard'][] = ['min-healthy', 'max-fraction', 'ownership', 'grace-period', 'evidence', 'never-empty'];
    expect(guards.filter((guard) => keepsInTraffic({ guard }))).toEqual(['min-healthy', 'max-fraction', 'never-empty']);
  });
});
