/** Offset management building blocks of the consumer: tracking, commit and reset strategies, stores. */
export type * from './types.js';
export { PartitionOffsets, type PartitionOffsetsOptions, type PartitionStart } from './partitionOffsets.js';
export { DEFAULT_COMMIT_INTERVAL_MS, periodicCommits } from './periodicCommits.js';
export { DEFAULT_COMMIT_EVERY_N, everyNCommits } from './everyNCommits.js';
export { onWatermarkCommits } from './onWatermarkCommits.js';
export { manualCommits, type ManualCommitCall } from './manualCommits.js';
export {
  DEFAULT_COMMIT_STRATEGY,
  commitTriggers,
  type CommitStrategy,
  type CommitTriggerOptions,
} from './commitStrategy.js';
export {
  commitExecutor,
  type CommitExecutorOptions,
  type CommitFunction,
  type CommitOutcome,
} from './commitExecutor.js';
export {
  DEFAULT_RESET_STRATEGY,
  isCommittedInRange,
  resolveStartOffset,
  type ResetStrategy,
  type StartOffset,
  type StartOffsetInput,
} from './resetStrategy.js';
export type { OffsetStore, SaveOptions, StoredOffset } from './offsetStore.js';
export { MemoryOffsetStore, type MemoryOffsetStoreOptions } from './memoryOffsetStore.js';
export { RedisOffsetStore, type RedisOffsetStoreOptions } from './redisOffsetStore.js';
