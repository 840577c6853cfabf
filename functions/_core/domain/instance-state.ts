/**
 * Which EC2 instance states count as alive: `pending` and `running`, the states in which an instance serves
 * (or is about to serve) traffic again. One rule for every trigger, because the triggers ask the same
 * question of the instance as DescribeInstances shows it now: the spot trigger (is a dying-state event out
 * of date? is a scheduled change's instance still up?) and the sweeper (is an instance target's instance
 * still there?). Every other state (`stopping`, `stopped`, `shutting-down`, `terminated`) is a node on its
 * way out. Instance states: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
 */

/** The EC2 instance states in which an instance serves traffic (again). */
export const ALIVE_INSTANCE_STATES: ReadonlySet<string> = new Set(['pending', 'running']);

/**
 * Whether an instance in `state` is alive (pending or running). `undefined` (no such instance, or not
 * looked up) is not alive: the caller decides what an unknown instance means.
 *
 * @example
 * isAliveInstanceState(node?.state) // false for a stopped node, and for no node at all
 */
export function isAliveInstanceState(state: string | undefined): boolean {
  return state !== undefined && ALIVE_INSTANCE_STATES.has(state);
}
