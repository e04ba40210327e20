/**
 * The latest offset to commit per partition, kept by the commit strategies
 * and the commit executor. One entry per partition however many records pass,
 * so memory stays bounded by the number of partitions.
 *
 * @internal
 */
import { compareTopicPartitions, type PartitionCommit, type ProcessedRecord } from './types.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** @internal */
export class PendingCommits {
  private readonly latest = new Map<string, PartitionCommit>();

  /** Partitions with something to commit. */
  get size(): number {
    return this.latest.size;
  }

  /** Notes a processed record: its partition's next offset is `offset + 1`. */
  record(record: ProcessedRecord): void {
    this.latest.set(topicPartitionId(record.topic, record.partition), {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset + 1,
      metadata: record.metadata ?? '',
    });
  }

  /** Adds commits; a later one replaces an earlier one of the same partition, even if lower (a seek back). */
  merge(commits: readonly PartitionCommit[]): void {
    for (const commit of commits) this.latest.set(topicPartitionId(commit.topic, commit.partition), commit);
  }

  /** Forgets the given partitions. */
  drop(commits: readonly PartitionCommit[]): void {
    for (const commit of commits) this.latest.delete(topicPartitionId(commit.topic, commit.partition));
  }

  /** Everything pending, by topic then partition, and clears. */
  take(): PartitionCommit[] {
    const commits = [...this.latest.values()].sort(compareTopicPartitions);
    this.latest.clear();
    return commits;
  }
}
