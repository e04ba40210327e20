/** Partitioners: how a record's partition is chosen. */
export * from './partitioner.js';
export * from './murmur2.js';
export * from './keyHashPartitioner.js';
export * from './roundRobinPartitioner.js';
export * from './stickyPartitioner.js';
export * from './defaultPartitioner.js';
