/** The RxJS Consumer: createConsumer, its options, what it delivers, and the agent-backed offset store. */
export { Consumer, createConsumer } from './consumer.js';
export type { ConsumerOptions } from './consumerOptions.js';
export { deadLetter, DEAD_LETTER_HEADERS, type DeadLetterConfig, type DeadLetterOutcome } from './deadLetter.js';
export type {
  ConsumerBatch,
  ConsumerLag,
  ConsumerRecord,
  EachBatchHandler,
  EachRecordHandler,
  PartitionLag,
  RebalanceEvent,
  RunHandlers,
} from './consumerTypes.js';
export { heartbeats, type HeartbeatOptions, type HeartbeatOutcome } from './heartbeat.js';
export { AgentOffsetStore, type AgentOffsetStoreOptions } from '../offsets/agentOffsetStore.js';
