/**
 * `streamhouse`: the client. What an application imports to produce and
 * consume: it loads no agent, storage or metadata code (no SQLite, no AWS
 * SDK). Servers and extensions import `streamhouse/agent`,
 * `streamhouse/storage`, `streamhouse/metadata` and `streamhouse/protocol`.
 */

// Producing
export { createProducer, Producer, type OffsetNotification, type RecordMetadata } from './client/producer/producer.js';
export type { ProducerOptions, Acks } from './client/producer/producerOptions.js';
export type { ProducerRecord, Payload } from './client/producer/producerRecord.js';
export type { ProducerMetricsSnapshot } from './client/producer/producerMetrics.js';
export {
  produceTo,
  type ProduceToConfig,
  type ProduceAck,
  type ProduceOutcome,
  type TopicRoute,
  type RecordSink,
} from './client/producer/produceTo.js';
export { SendResult } from './client/sendResult.js';
export { linger, batchByPartition, sendBatches } from './client/operators/index.js';
export type { LingerConfig, BatchByPartitionConfig, SendBatchesConfig } from './client/operators/index.js';
export {
  retryWithBackoff,
  type RetryPolicy,
  type RetryEvent,
  type RetryWithBackoffOptions,
} from './client/retryPolicy.js';
export * from './client/partitioners/index.js';

// Typed keys and values
export {
  serializers,
  deserializers,
  SerializationError,
  DeserializationError,
  type Serializer,
  type Deserializer,
  type RecordSide,
  type DeserializationDeadLetter,
  type DeserializationOptions,
  type OnDeserializationError,
} from './client/serde/index.js';

// Consuming
export { Consumer, createConsumer } from './client/consumer/consumer.js';
export type { ConsumerOptions } from './client/consumer/consumerOptions.js';
export {
  deadLetter,
  DEAD_LETTER_HEADERS,
  type DeadLetterConfig,
  type DeadLetterOutcome,
} from './client/consumer/deadLetter.js';
export type {
  ConsumerBatch,
  ConsumerLag,
  ConsumerRecord,
  EachBatchHandler,
  EachRecordHandler,
  PartitionLag,
  RebalanceEvent,
  RunHandlers,
} from './client/consumer/consumerTypes.js';
export type { CommitStrategy } from './client/offsets/commitStrategy.js';
export { DEFAULT_COMMIT_STRATEGY } from './client/offsets/commitStrategy.js';
export { DEFAULT_RESET_STRATEGY, type ResetStrategy } from './client/offsets/resetStrategy.js';
export type { OffsetStore, SaveOptions, StoredOffset } from './client/offsets/offsetStore.js';
export type { TopicPartition, OffsetInfo, PartitionCommit } from './client/offsets/types.js';
export { MemoryOffsetStore, type MemoryOffsetStoreOptions } from './client/offsets/memoryOffsetStore.js';
export { RedisOffsetStore, type RedisOffsetStoreOptions } from './client/offsets/redisOffsetStore.js';
export { AgentOffsetStore, type AgentOffsetStoreOptions } from './client/offsets/agentOffsetStore.js';
export {
  BUILT_IN_ASSIGNORS,
  cooperativeStickyAssignor,
  kafkaJsRoundRobinAssignor,
  rangeAssignor,
  roundRobinAssignor,
} from './client/assignors/index.js';
export type { Assignor } from './client/assignors/types.js';

// Connecting and administering
export {
  connectAgent,
  type AgentConnection,
  type AgentConnectionOptions,
  type StreamHouseClient,
} from './client/agentClient.js';
export type { ClientTlsOptions } from './client/tlsOptions.js';

// Records and errors
export type { RecordHeader, RecordInput } from './protocol/codec/record.js';
export type { CompressionCodec } from './protocol/codec/compression.js';
export {
  isRetriable,
  type ErrorCodeName,
  type ErrorContext,
  StreamHouseError,
  UnknownError,
  InvalidRequestError,
  CorruptMessageError,
  UnknownTopicOrPartitionError,
  TopicAlreadyExistsError,
  InvalidTopicError,
  InvalidPartitionsError,
  InvalidConfigError,
  OffsetOutOfRangeError,
  NotLeaderError,
  FencedLeaseEpochError,
  HighWatermarkConflictError,
  RecordTooLargeError,
  RequestTooLargeError,
  DuplicateSequenceError,
  OutOfOrderSequenceError,
  InvalidProducerEpochError,
  UnknownProducerIdError,
  RequestTimedOutError,
  AgentUnavailableError,
  StorageError,
  MetadataError,
  CorruptSegmentError,
  UnknownMemberIdError,
  IllegalGenerationError,
  RebalanceInProgressError,
  InvalidSessionTimeoutError,
  GroupIdNotFoundError,
  InconsistentGroupProtocolError,
  ShuttingDownError,
  UnsafeIntegerError,
  ProducerClosedError,
  BufferFullError,
  DeliveryTimeoutError,
  RetriesExhaustedError,
  ConsumerClosedError,
  UnsupportedVersionError,
  ObjectNotFoundError,
  InvalidRecordError,
  InvalidTimestampError,
  OffsetMetadataTooLargeError,
  LimitExceededError,
  AgentBusyError,
  StorageFailureError,
  StorageFullError,
  TopicAuthorizationFailedError,
  GroupAuthorizationFailedError,
  ClusterAuthorizationFailedError,
  UnauthenticatedError,
  GroupMaxSizeReachedError,
} from './protocol/errors.js';
