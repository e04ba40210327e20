/**
 * Partitioning by key hash, the way Kafka's default partitioner does it:
 * `toPositive(murmur2(keyBytes)) % partitionCount`. Records with equal keys
 * always land on the same partition (while the partition count stays the
 * same), which is what gives per-key ordering.
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import { murmur2, toPositive } from './murmur2.js';
import type { PartitionerArgs } from './partitioner.js';

/** The partition Kafka would choose for `key` among `partitionCount` partitions. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/**
 * A {@link Partitioner} for keyed records only.
 *
 * @throws InvalidRequestError for a record without a key; use
 * `createDefaultPartitioner` to give such records a strategy of their own.
 */
export function keyHashPartitioner({ topic, key, partitionCount }: PartitionerArgs): number {
  if (key === null) {
    throw new InvalidRequestError(`the key-hash partitioner needs a key; the record for ${topic} has none`, {
      context: { topic },
    });
  }
  return partitionForKey(key, partitionCount);
}
