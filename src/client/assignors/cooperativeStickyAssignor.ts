/**
 * The `cooperative-sticky` assignor: balanced, sticky, and safe to run with
 * the cooperative rebalance protocol.
 *
 * Sticky: every partition a member still owns (its `ownedPartitions`, for a
 * topic it still subscribes to) stays with it unless balance requires a move,
 * and the fewest partitions move (see `stickyBalance.ts`). Balanced: members
 * with the same subscriptions end within one partition of each other.
 *
 * Conflicting claims (two members listing the same partition, e.g. a zombie
 * of an older generation) are settled by `generation`: the newest claim wins,
 * the lowest member id on a tie. The losers get an assignment without the
 * partition and so revoke it; the winner, holding it already, keeps it
 * without a handover.
 *
 * ## The two-phase rule (cooperative protocol)
 *
 * Members do not revoke before joining, so a partition can be handed over
 * only once its current holder has let go of it. When the balanced target
 * puts partition P, currently owned by A, on another member B, this
 * generation assigns P to nobody: A's assignment lacks P, so A revokes it
 * (commits its offsets, stops fetching) and, having revoked something,
 * rejoins at once. In that next rebalance nobody owns P any more, so it is
 * assigned directly (to B, or to another member equally short of its share).
 * A partition that nobody owns (new topic, departed member) is assigned at
 * once. Hence no partition is ever consumed by two members at a time, at the
 * price of one extra rebalance per handover.
 *
 * The consumer's part of the rule, which this file cannot enforce: revoke
 * exactly the owned partitions missing from the new assignment, then rejoin
 * when it revoked any.
 */
import { partitionCountOf, AssignmentBuilder, sortMembers, subscribedTopics } from './assignorSupport.js';
import { balanceSticky } from './stickyBalance.js';
import type { Assignor, GroupMemberMetadata } from './types.js';

/** The `cooperative-sticky` assignor. */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members, partitionCounts) {
    const sorted = sortMembers(members);
    const partitions = listPartitions(subscribedTopics(sorted, partitionCounts), partitionCounts);
    const indexByKey = new Map(partitions.map((tp, index) => [keyOf(tp.topic, tp.partition), index]));
    const subscriptions = sorted.map((member) => new Set(member.metadata.topics));

    // One shared list per topic: every partition of a topic has the same candidates.
    const subscribersOf = new Map<string, number[]>();
    for (const { topic } of partitions) {
      if (!subscribersOf.has(topic)) {
        subscribersOf.set(
          topic,
          subscriptions.flatMap((topics, member) => (topics.has(topic) ? [member] : [])),
        );
      }
    }
    const eligible = partitions.map(({ topic }) => subscribersOf.get(topic)!);
    const claimants = collectClaimants(sorted, indexByKey, partitions.length);
    const owner = claimants.map((claims, partition) =>
      settleClaims(
        claims.filter((member) => subscriptions[member]!.has(partitions[partition]!.topic)),
        sorted,
      ),
    );

    const target = balanceSticky({ memberCount: sorted.length, eligible, owner });

    const builder = new AssignmentBuilder(sorted.map((member) => member.memberId));
    target.forEach((member, partition) => {
      if (member < 0) return;
      // Two-phase rule: a partition someone else holds reaches a member that
      // does not hold it only after every holder has revoked it.
      const holders = claimants[partition]!;
      if (holders.length > 0 && !holders.includes(member)) return;
      const { topic, partition: number } = partitions[partition]!;
      builder.add(sorted[member]!.memberId, topic, number);
    });
    return builder.build();
  },
};

type TopicPartition = { topic: string; partition: number };

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** Every partition of the given topics, by topic then partition. */
function listPartitions(topics: readonly string[], partitionCounts: ReadonlyMap<string, number>): TopicPartition[] {
  return topics.flatMap((topic) =>
    Array.from({ length: partitionCountOf(partitionCounts, topic) }, (_, partition) => ({ topic, partition })),
  );
}

/**
 * Per partition, every member that says it owns it, ascending. Claims on
 * partitions that no longer exist or that nobody subscribes to are dropped:
 * nobody can be assigned those, so no handover has to wait for them.
 */
function collectClaimants(
  members: readonly GroupMemberMetadata[],
  indexByKey: ReadonlyMap<string, number>,
  partitionCount: number,
): number[][] {
  const claimants: number[][] = Array.from({ length: partitionCount }, () => []);
  members.forEach((member, memberIndex) => {
    for (const { topic, partitions } of member.metadata.ownedPartitions) {
      for (const partition of partitions) {
        const index = indexByKey.get(keyOf(topic, partition));
        if (index !== undefined && !claimants[index]!.includes(memberIndex)) claimants[index]!.push(memberIndex);
      }
    }
  });
  return claimants;
}

/** The claim that keeps the partition: newest generation, then lowest member index; -1 for none. */
function settleClaims(claims: readonly number[], members: readonly GroupMemberMetadata[]): number {
  let winner = -1;
  let winnerGeneration = -Infinity;
  for (const member of claims) {
    const generation = members[member]!.metadata.generation ?? -1;
    if (generation > winnerGeneration) {
      winner = member;
      winnerGeneration = generation;
    }
  }
  return winner;
}
