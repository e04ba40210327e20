/** The producer's stream building blocks: batching, per-partition grouping, ordered concurrent sending. */
export * from './linger.js';
export * from './batchByPartition.js';
export * from './sendBatches.js';
