/**
 * Our assignors under the protocol names KafkaJS gives its own, so that a
 * KafkaJS member and an RxJS member offering the same one share a group.
 * Group protocols are opaque to the coordinator: members must name a common
 * assignor. KafkaJS writes Kafka's version 0 member metadata, which ours
 * reads, and reads the assignments ours write.
 */
import { roundRobinAssignor } from './roundRobinAssignor.js';
import type { Assignor } from './types.js';

/** `roundrobin` as KafkaJS names its round robin (its default): `RoundRobinAssigner`. */
export const kafkaJsRoundRobinAssignor: Assignor = { ...roundRobinAssignor, name: 'RoundRobinAssigner' };
