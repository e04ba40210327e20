/**
 * StreamHouse public API. The proto message types (including the wire
 * `TopicConfig`) come from `protocol`; the metadata store's own types are
 * exported under `metadata` to keep the two `TopicConfig`s apart.
 */
export * from './protocol/index.js';
export * from './storage/index.js';
export * as metadata from './metadata/index.js';
export { SqliteMetadataStore, RedisMetadataStore, createMetadataStore, type MetadataStore } from './metadata/index.js';
export { Agent, startAgent } from './agent/agent.js';
export type { AgentOptions } from './agent/agentOptions.js';
export { connectAgent, type AgentConnection, type AgentConnectionOptions, type StreamHouseClient } from './client/agentClient.js';
export * from './client/partitioners/index.js';
export { createProducer, Producer, type OffsetNotification, type RecordMetadata } from './client/producer/producer.js';
export type { ProducerOptions, Acks } from './client/producer/producerOptions.js';
export type { ProducerRecord, Payload } from './client/producer/producerRecord.js';
export { produceTo, type ProduceToConfig, type ProduceAck, type RecordSink } from './client/producer/produceTo.js';
export type { ProducerMetricsSnapshot } from './client/producer/producerMetrics.js';
export { SendResult } from './client/sendResult.js';
export { linger, batchByPartition, sendBatches } from './client/operators/index.js';
export { retryWithBackoff, retryPolicy, backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retryPolicy.js';
export * from './client/consumer/index.js';
export * from './client/offsets/index.js';
export * from './client/assignors/index.js';
// Both the wire messages and the offset types name {topic, partition} TopicPartition; they are the same shape.
export type { TopicPartition } from './protocol/index.js';
