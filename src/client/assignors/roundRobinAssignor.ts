/**
 * The `roundrobin` assignor, with Kafka's RoundRobinAssignor semantics.
 *
 * All partitions of all subscribed topics, sorted by topic then partition,
 * are dealt in turn to the members sorted by id. A member that does not
 * subscribe to a partition's topic is skipped for that partition, and the
 * turn moves on past the member that took it.
 *
 * With identical subscriptions every member ends within one partition of the
 * others; with uneven ones there is no such promise. Eager protocol.
 */
import { AssignmentBuilder, partitionCountOf, sortMembers, subscribedTopics } from './assignorSupport.js';
import type { Assignor } from './types.js';

/** The `roundrobin` assignor. */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members, partitionCounts) {
    const sorted = sortMembers(members);
    const builder = new AssignmentBuilder(sorted.map((member) => member.memberId));
    const subscriptions = sorted.map((member) => new Set(member.metadata.topics));
    let turn = 0;
    for (const topic of subscribedTopics(sorted, partitionCounts)) {
      const count = partitionCountOf(partitionCounts, topic);
      for (let partition = 0; partition < count; partition++) {
        // Some member subscribes to `topic` (subscribedTopics says so), so this ends.
        while (!subscriptions[turn]!.has(topic)) turn = (turn + 1) % sorted.length;
        builder.add(sorted[turn]!.memberId, topic, partition);
        turn = (turn + 1) % sorted.length;
      }
    }
    return builder.build();
  },
};
