/**
 * Sticky partitioning (Kafka's KIP-480): every record of a topic goes to the
 * same partition until the producer opens a new batch for it, then the topic
 * moves on to another partition chosen at random. Batches fill up faster than
 * with round-robin (fewer, larger requests, lower latency at the same linger)
 * while load still spreads over time. Keys are ignored; the default
 * partitioner only hands records without a key to it.
 */
import type { BatchAwarePartitioner, PartitionerArgs } from './partitioner.js';

/** Options of {@link createStickyPartitioner}. */
export type StickyPartitionerOptions = {
  /** Source of randomness in [0, 1) for choosing partitions. Default `Math.random`; inject it for exact tests. */
  random?: () => number;
};

/** Where one topic currently sticks. */
type StickyChoice = {
  /** The partition records go to now. */
  partition: number;
  /** The partition count the choice was made for. */
  partitionCount: number;
};

/** A new sticky partitioner; call its `onNewBatch` when a batch is opened. */
export function createStickyPartitioner(options: StickyPartitionerOptions = {}): BatchAwarePartitioner {
  const { random = Math.random } = options;
  const choices = new Map<string, StickyChoice>();

  /** A random partition in [0, count), different from `avoid` when there is a choice. */
  const pick = (count: number, avoid: number | undefined): number => {
    if (avoid === undefined || count === 1) return Math.min(count - 1, Math.floor(random() * count));
    const r = Math.min(count - 2, Math.floor(random() * (count - 1)));
    return r >= avoid ? r + 1 : r;
  };

  const partition = ({ topic, partitionCount }: PartitionerArgs): number => {
    let choice = choices.get(topic);
    if (choice === undefined || choice.partitionCount !== partitionCount) {
      choice = { partition: pick(partitionCount, undefined), partitionCount };
      choices.set(topic, choice);
    }
    return choice.partition;
  };

  const onNewBatch = (topic: string, prevPartition: number): void => {
    const choice = choices.get(topic);
    // Only the batch that we stuck to moves us on: a new batch on some other
    // partition (an explicit partition, a keyed record) must not.
    if (choice === undefined || choice.partition !== prevPartition) return;
    choice.partition = pick(choice.partitionCount, prevPartition);
  };

  return Object.assign(partition, { onNewBatch });
}
