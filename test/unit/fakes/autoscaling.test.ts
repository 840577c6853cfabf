import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../fakes/aws/core.ts';
import { FakeAutoScaling } from '../../fakes/aws/autoscaling.ts';
import { awsError } from './helpers.ts';


const seed = {
  autoScalingGroupName: 'nodes',
  lifecycleHookName: 'drain',
  lifecycleActionToken: 'tok-1',
  instanceId: 'i-0abc',
};
const base = { AutoScalingGroupName: 'nodes', LifecycleHookName: 'drain' };

describe('FakeAutoScaling', () => {
  let clock: FakeClock;
  let asg: FakeAutoScaling;
  beforeEach(() => {
    clock = new FakeClock();
    asg = new FakeAutoScaling(clock);
    asg.seedLifecycleAction(seed);
  });

  it('completes a pending action by token and records the result', () => {
    expect(asg.handle('CompleteLifecycleAction', { ...base, LifecycleActionToken: 'tok-1', LifecycleActionResult: 'CONTINUE' })).toEqual({});
    expect(asg.completed()).toEqual([{ ...seed, result: 'CONTINUE', completedAt: clock.now(), timedOut: false }]);
    // Completing it again: no active action any more.
    const err = awsError(() =>
      asg.handle('CompleteLifecycleAction', { ...base, LifecycleActionToken: 'tok-1', LifecycleActionResult: 'CONTINUE' }),
    );
    expect([err.code, err.message]).toEqual(['ValidationError', 'No active Lifecycle Action found with token tok-1']);
  });

  it('completes by instance id; an unknown instance is a ValidationError naming it', () => {
    const err = awsError(() => asg.handle('CompleteLifecycleAction', { ...base, InstanceId: 'i-other', LifecycleActionResult: 'ABANDON' }));
    expect(err.message).toBe('No active Lifecycle Action found with instance ID i-other');
    asg.handle('CompleteLifecycleAction', { ...base, InstanceId: 'i-0abc', LifecycleActionResult: 'ABANDON' });
    expect(asg.completed().map((c) => c.result)).toEqual(['ABANDON']);
  });

  it('rejects a bad result or a call with neither token nor instance id', () => {
    expect(awsError(() => asg.handle('CompleteLifecycleAction', { ...base, LifecycleActionToken: 'tok-1', LifecycleActionResult: 'GO' })).code).toBe(
      'ValidationError',
    );
    expect(awsError(() => asg.handle('CompleteLifecycleAction', { ...base, LifecycleActionResult: 'CONTINUE' })).code).toBe('ValidationError');
    expect(asg.completed()).toEqual([]);
  });

  it('times out with the default result unless heartbeats extend it', () => {
    asg.seedLifecycleAction({ ...seed, lifecycleActionToken: 'tok-2', instanceId: 'i-2', heartbeatTimeoutSeconds: 60 });
    clock.advance(50_000);
    asg.handle('RecordLifecycleActionHeartbeat', { ...base, LifecycleActionToken: 'tok-2' });
    clock.advance(50_000);
    expect(asg.completed()).toEqual([]);
    clock.advance(10_000);
    expect(asg.completed().map((c) => [c.instanceId, c.result, c.timedOut])).toEqual([['i-2', 'ABANDON', true]]);
    expect(asg.pendingActions().map((p) => p.instanceId)).toEqual(['i-0abc']);
  });
});
