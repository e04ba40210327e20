/** Partition assignors for consumer groups and the codec of their messages. */
import { cooperativeStickyAssignor } from './cooperativeStickyAssignor.js';
import { rangeAssignor } from './rangeAssignor.js';
import { roundRobinAssignor } from './roundRobinAssignor.js';
import { kafkaJsRoundRobinAssignor } from './kafkaJsAssignors.js';
import type { Assignor } from './types.js';

export type * from './types.js';
export {
  MEMBER_CODEC_VERSION,
  decodeAssignment,
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
} from './memberCodec.js';
export { cooperativeStickyAssignor, kafkaJsRoundRobinAssignor, rangeAssignor, roundRobinAssignor };

/** The built-in assignors by protocol name: `range`, `roundrobin`, `cooperative-sticky`, `RoundRobinAssigner`. */
export const BUILT_IN_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor, kafkaJsRoundRobinAssignor].map((assignor) => [
    assignor.name,
    assignor,
  ]),
);
