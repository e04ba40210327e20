/**
 * The partitioner contract and the one place where a record's partition is
 * decided: an explicit partition on the record wins, otherwise the
 * partitioner chooses, and either way the answer is checked against the
 * topic's partition count before any batching happens.
 */
import { InvalidConfigError, InvalidRequestError, UnknownTopicOrPartitionError } from '../../protocol/errors.js';

/** What a partitioner sees of a record. */
export type PartitionerArgs = {
  /** The record's topic. */
  topic: string;
  /** The serialized key, or null for a record without a key. */
  key: Uint8Array | null;
  /** The serialized value, or null for a tombstone. */
  value: Uint8Array | null;
  /** How many partitions the topic has (≥ 1), from the client's latest metadata. */
  partitionCount: number;
};

/**
 * Chooses a partition in `[0, partitionCount)` for a record. Must be
 * synchronous and cheap: it runs once per record.
 */
export type Partitioner = (args: PartitionerArgs) => number;

/**
 * A partitioner that wants to hear when the producer opens a new batch, as
 * the sticky partitioner does to move null-key records on to another
 * partition once a batch is under way (Kafka's KIP-480).
 */
export type BatchAwarePartitioner = Partitioner & {
  /**
   * Called by the producer when it opened a new batch for
   * `topic`/`prevPartition` (the previous one was sent or is full).
   */
  onNewBatch(topic: string, prevPartition: number): void;
};

/** True when `partitioner` has an `onNewBatch` hook. */
export function isBatchAware(partitioner: Partitioner): partitioner is BatchAwarePartitioner {
  return typeof (partitioner as Partial<BatchAwarePartitioner>).onNewBatch === 'function';
}

/** A record as {@link choosePartition} needs it. */
export type PartitionableRecord = {
  /** The record's topic. */
  topic: string;
  /** An explicit partition chosen by the caller; wins over the partitioner. */
  partition?: number | undefined;
  /** The serialized key, or null. */
  key: Uint8Array | null;
  /** The serialized value, or null. */
  value: Uint8Array | null;
};

/**
 * The partition a record goes to: `record.partition` when given (it must be
 * an integer in `[0, partitionCount)`), otherwise what `partitioner` returns
 * (which is checked the same way, so a broken custom partitioner fails
 * loudly instead of sending to a partition that does not exist).
 *
 * @throws InvalidRequestError when `record.partition` is not a non-negative integer.
 * @throws UnknownTopicOrPartitionError when `record.partition` ≥ `partitionCount`.
 * @throws InvalidConfigError when the partitioner returns a partition out of range.
 */
export function choosePartition(record: PartitionableRecord, partitionCount: number, partitioner: Partitioner): number {
  const { topic, partition } = record;
  if (!Number.isSafeInteger(partitionCount) || partitionCount < 1) {
    throw new InvalidRequestError(`topic ${topic} has ${partitionCount} partitions; expected a positive integer`, {
      context: { topic },
    });
  }
  if (partition !== undefined) {
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new InvalidRequestError(`record.partition must be a non-negative integer, got ${partition}`, {
        context: { topic },
      });
    }
    if (partition >= partitionCount) {
      throw new UnknownTopicOrPartitionError(
        `partition ${partition} does not exist: topic ${topic} has partitions 0..${partitionCount - 1}`,
        { context: { topic, partition } },
      );
    }
    return partition;
  }
  const chosen = partitioner({ topic, key: record.key, value: record.value, partitionCount });
  if (!Number.isSafeInteger(chosen) || chosen < 0 || chosen >= partitionCount) {
    throw new InvalidConfigError(
      `the partitioner returned ${chosen} for topic ${topic}, outside 0..${partitionCount - 1}; fix the custom ` +
        `partitioner`,
      { context: { topic } },
    );
  }
  return chosen;
}
