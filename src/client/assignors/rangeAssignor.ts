/**
 * The `range` assignor, with Kafka's RangeAssignor semantics.
 *
 * Each topic is assigned on its own: its subscribers, sorted by member id,
 * get consecutive ranges of partitions; when the partitions do not divide
 * evenly, the first members get one extra. With 7 partitions and 3 members:
 * `[0,1,2]`, `[3,4]`, `[5,6]`.
 *
 * Balanced per topic, not overall: over many topics the first members carry
 * all the extras. Eager protocol.
 */
import { AssignmentBuilder, partitionCountOf, sortMembers, subscribedTopics } from './assignorSupport.js';
import type { Assignor } from './types.js';

/** The `range` assignor. */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members, partitionCounts) {
    const sorted = sortMembers(members);
    const builder = new AssignmentBuilder(sorted.map((member) => member.memberId));
    for (const topic of subscribedTopics(sorted, partitionCounts)) {
      const subscribers = sorted.filter((member) => member.metadata.topics.includes(topic));
      const count = partitionCountOf(partitionCounts, topic);
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((member, index) => {
        const start = index * base + Math.min(index, extra);
        const length = base + (index < extra ? 1 : 0);
        for (let partition = start; partition < start + length; partition++) {
          builder.add(member.memberId, topic, partition);
        }
      });
    }
    return builder.build();
  },
};
