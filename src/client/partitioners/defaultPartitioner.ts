/**
 * The producer's default partitioner, Kafka's rules: a record with a key goes
 * to `murmur2(key) % partitionCount` (same partition as with a Kafka
 * producer), a record without a key is spread by the sticky (default) or the
 * round-robin strategy. An explicit `record.partition` is honoured before
 * any partitioner runs (see `choosePartition`).
 */
import { InvalidConfigError } from '../../protocol/errors.js';
import { keyHashPartitioner } from './keyHashPartitioner.js';
import type { BatchAwarePartitioner, PartitionerArgs } from './partitioner.js';
import { createRoundRobinPartitioner } from './roundRobinPartitioner.js';
import { createStickyPartitioner } from './stickyPartitioner.js';

/** Options of {@link createDefaultPartitioner}. */
export type DefaultPartitionerOptions = {
  /** How records without a key are spread. Default `'sticky'` (Kafka's since 2.4). */
  nullKeys?: 'sticky' | 'round-robin';
  /** Randomness for the sticky strategy, in [0, 1). Default `Math.random`. */
  random?: () => number;
};

/** A new default partitioner (its null-key state is its own). */
export function createDefaultPartitioner(options: DefaultPartitionerOptions = {}): BatchAwarePartitioner {
  const { nullKeys = 'sticky', random = Math.random } = options;
  if (nullKeys !== 'sticky' && nullKeys !== 'round-robin') {
    throw new InvalidConfigError(`nullKeys must be 'sticky' or 'round-robin', got '${String(nullKeys)}'`);
  }
  if (nullKeys === 'round-robin') {
    const roundRobin = createRoundRobinPartitioner();
    const partition = (args: PartitionerArgs): number =>
      args.key === null ? roundRobin(args) : keyHashPartitioner(args);
    return Object.assign(partition, { onNewBatch: (): void => {} });
  }
  const sticky = createStickyPartitioner({ random });
  const partition = (args: PartitionerArgs): number => (args.key === null ? sticky(args) : keyHashPartitioner(args));
  return Object.assign(partition, { onNewBatch: sticky.onNewBatch });
}
