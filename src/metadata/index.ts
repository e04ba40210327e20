/** `streamhouse/metadata`: the MetadataStore interface, its limits and its two backends. */
export * from './metadataStore.js';
export * from './aclRules.js';
export * from './users.js';
export {
  MAX_GROUP_ID_LENGTH,
  MAX_MESSAGE_BYTES_LIMIT,
  MAX_PARTITIONS,
  MAX_SEGMENT_BYTES,
  MAX_TOPIC_NAME_LENGTH,
  MIN_SEGMENT_BYTES,
} from './validation.js';
export { SqliteMetadataStore } from './sqlite/sqliteMetadataStore.js';
export type { SqliteMetadataStoreOptions, SqliteSynchronous } from './sqlite/sqliteOptions.js';
export { RedisMetadataStore } from './redis/redisMetadataStore.js';
export { defaultRedisUrl, type RedisMetadataStoreOptions } from './redis/redisOptions.js';
export {
  createMetadataStore,
  type CreateMetadataStoreOptions,
  type OpenedMetadataStore,
} from './createMetadataStore.js';
