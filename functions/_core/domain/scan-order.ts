/**
 * Which target groups to describe for dying nodes when the cluster cannot name them (the fallback), or to
 * complete a fast path (the completeness round), and in what order. Pure.
 *
 * The registration index (state/registration-index.ts) holds, per group, the target ids its last sweep read
 * saw and when. For the nodes of a batch a group in scope is:
 * - **named**: its last reading held an address (or the instance id) of one of the nodes. Described first:
 *   that is where the node's registrations are. A hint only: what is written comes from the fresh read.
 * - **vouched for**: its last reading held none of the nodes' addresses, was made after every node launched
 *   (no registration of theirs can predate their launch) and is younger than `vouchMs`. Not described: the
 *   index looked at it for this node. What it cannot see is a registration made after that reading, outside
 *   the cluster's knowledge (the fast path's candidates cover the controller's; with the cluster API down,
 *   such a registration waits for the Load Balancer Controller or the sweeper). `vouchMs` 0 vouches for none.
 * - **unknown**: not in the index, its reading too old, made before a node launched, or truncated. Scanned
 *   after the named ones, the least known first: groups the index never read (newest first by when the
 *   cached scope first listed them), then the oldest readings. Ties are broken by a hash salted per node and
 *   round, so two rounds without a shared log do not start with the same prefix.
 * Groups already looked at for every node (the node scan log, state/node-scan.ts) are skipped: a redelivery
 * or the next round continues where the last one stopped instead of repeating its prefix.
 */
import type { NodeAddresses } from './endpoint.ts';
import { nodeHasIp } from './endpoint.ts';
import type { TargetGroup } from './registration.ts';

/** One group's entry in the registration index. */
export interface IndexEntry {
  /** Epoch ms the sweeper's DescribeTargetHealth of the group answered. */
  readonly readAt: number;
  /** Target ids it held (canonical addresses, or instance ids). */
  readonly ids: readonly string[];
  /** Its ids did not fit the index item: it vouches for nothing. */
  readonly truncated?: boolean;
}

/** A dying node as the scan order needs it. */
export interface ScanNode {
  readonly addresses: NodeAddresses;
  /** Epoch ms of the instance's last launch, when known (unknown: no reading can vouch for it). */
  readonly launchedAt: number | undefined;
}

/** Everything {@link planScan} decides from. */
export interface ScanInput {
  /** The groups in scope. */
  readonly groups: readonly TargetGroup[];
  readonly nodes: readonly ScanNode[];
  /** The index's entries by ARN (undefined: no index; every group is unknown). */
  readonly index: ReadonlyMap<string, IndexEntry> | undefined;
  /** How old a reading may be and still vouch (ms); 0 = none does. */
  readonly vouchMs: number;
  readonly now: number;
  /** ARNs already looked at for every node of the batch (the node scan log). */
  readonly looked: ReadonlySet<string>;
  /** ARNs described anyway (a re-check's carried groups): neither planned nor vouched here. */
  readonly describedAnyway?: ReadonlySet<string>;
  /** Epoch ms the cached scope first listed each group (newest first among the never-read). */
  readonly firstSeen?: ReadonlyMap<string, number>;
  /**
   * Salt of a tie-break hash (the nodes and the round), when the order must change between rounds (no log
   * to continue from); without it, ties keep the groups' listed order.
   */
  readonly salt?: string;
}

/** What to describe, in order, and what the index looked at. */
export interface ScanPlan {
  readonly named: TargetGroup[];
  readonly unknown: TargetGroup[];
  /** ARNs the index vouches for: looked at without a call. */
  readonly vouched: string[];
  /** ARNs skipped because they were already looked at for every node. */
  readonly alreadyLooked: number;
}

/** Whether an index entry holds an address (or the instance id) of the node. */
export function entryNamesNode(entry: IndexEntry, node: NodeAddresses): boolean {
  return entry.ids.some((id) => id === node.instanceId || nodeHasIp(node, id));
}

/** FNV-1a, 32 bits: a stable tie-break, not a security measure. */
function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Pure: the scan plan for these nodes (see the module comment). */
export function planScan(input: ScanInput): ScanPlan {
  const named: TargetGroup[] = [];
  const unknown: { g: TargetGroup; rank: number; tie: number }[] = [];
  const vouched: string[] = [];
  let alreadyLooked = 0;
  for (const [i, g] of input.groups.entries()) {
    if (input.describedAnyway?.has(g.arn)) continue;
    if (input.looked.has(g.arn)) {
      alreadyLooked++;
      continue;
    }
    const entry = input.index?.get(g.arn);
    const tie = input.salt === undefined ? i : fnv(`${input.salt}|${g.arn}`);
    if (!entry) {
      // Never read: newest first (a larger firstSeen ranks earlier), before any reading.
      unknown.push({ g, rank: -(input.firstSeen?.get(g.arn) ?? 0) - 1e15, tie });
      continue;
    }
    if (!entry.truncated && input.nodes.some((n) => entryNamesNode(entry, n.addresses))) {
      named.push(g);
      continue;
    }
    const fresh = input.vouchMs > 0 && input.now - entry.readAt <= input.vouchMs;
    const afterLaunch = input.nodes.every((n) => n.launchedAt !== undefined && entry.readAt >= n.launchedAt);
    if (!entry.truncated && fresh && afterLaunch) vouched.push(g.arn);
    else unknown.push({ g, rank: entry.readAt, tie }); // the oldest reading first
  }
  unknown.sort((a, b) => a.rank - b.rank || a.tie - b.tie);
  return { named, unknown: unknown.map((u) => u.g), vouched, alreadyLooked };
}
