/**
 * The producer's flow-control state of each partition it writes to: what it
 * accepted and settled, and how many of its batches are closed and not yet
 * settled. The accumulator and the producer's flush read and bump these
 * directly (a record costs no map lookup beyond finding its partition);
 * the metrics only read them.
 */
import { topicPartitionId } from '../../protocol/topicPartition.js';
import type { ProducerBatch } from './producerBatch.js';

export class PartitionState {
  /** `topic/partition`. */
  readonly key: string;
  acceptedRecords = 0;
  acceptedBytes = 0;
  settledRecords = 0;
  settledBytes = 0;
  /** Batches of this partition closed and not yet settled (sent, or waiting for their turn). */
  batchesOutstanding = 0;
  /** The batch taking this partition's records now (the accumulator's), if any. */
  open: ProducerBatch | undefined = undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = topicPartitionId(topic, partition);
  }
}

/** Every partition written to, each state created on first use and kept for the producer's life. */
export class PartitionStates {
  /** Per topic, per partition number. */
  private readonly byTopic = new Map<string, PartitionState[]>();

  /** The state of a partition, created on first use. */
  get(topic: string, partition: number): PartitionState {
    let states = this.byTopic.get(topic);
    if (states === undefined) this.byTopic.set(topic, (states = []));
    return (states[partition] ??= new PartitionState(topic, partition));
  }

  /** Every partition written to so far. */
  *all(): IterableIterator<PartitionState> {
    for (const states of this.byTopic.values()) for (const state of states) if (state !== undefined) yield state;
  }
}
