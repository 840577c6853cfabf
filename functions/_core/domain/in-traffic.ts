/**
 * Which guards keep a registration in traffic. A guard's hold-back means one of two things: the
 * registration stays in traffic for now although it should go (min-healthy, max-fraction, never-empty: the
 * node's loss will still take it down, so the spot trigger keeps re-checking, leaves an Auto Scaling hook
 * pending, and a completeness scan counts it as missed), or it was never ours to take out (ownership,
 * evidence, grace-period: nothing is pending on it). One rule, so the stages that ask (progress,
 * candidates) cannot disagree about a node being clear.
 */
import type { HeldBackAction } from './plan.ts';

/** The guards whose hold-back leaves a registration that should go in traffic. */
export const IN_TRAFFIC_GUARDS: ReadonlySet<HeldBackAction['guard']> = new Set(['min-healthy', 'max-fraction', 'never-empty']);

/**
 * Whether a held-back action leaves its registration in traffic (see {@link IN_TRAFFIC_GUARDS}).
 *
 * @example
 * plan.heldBack.filter(keepsInTraffic) // what a dying node still serves
 */
export function keepsInTraffic(held: Pick<HeldBackAction, 'guard'>): boolean {
  return IN_TRAFFIC_GUARDS.has(held.guard);
}
