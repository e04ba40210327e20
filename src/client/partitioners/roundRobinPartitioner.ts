/**
 * Round-robin partitioning, as Kafka's `RoundRobinPartitioner`: each topic
 * has its own cursor that starts at partition 0 and moves one partition per
 * record, whatever the key. Spreads load evenly but gives small batches, since
 * consecutive records never share a partition; prefer sticky for throughput.
 */
import type { Partitioner, PartitionerArgs } from './partitioner.js';

/** A new round-robin partitioner with its own per-topic cursors. */
export function createRoundRobinPartitioner(): Partitioner {
  /** The partition each topic's previous record went to. */
  const lastByTopic = new Map<string, number>();
  return ({ topic, partitionCount }: PartitionerArgs): number => {
    const last = lastByTopic.get(topic);
    // Stepping from the last partition (not a global counter) stays correct
    // when the partition count changes between records.
    const next = last === undefined ? 0 : (last + 1) % partitionCount;
    lastByTopic.set(topic, next);
    return next;
  };
}
