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
