/**
 * Types of the consumer's offset management: what was processed, what to
 * commit, and what the consumer reports about its positions.
 *
 * Two kinds of offset appear here; every field says which it is:
 * the offset OF a record (`ProcessedRecord.offset`) and the offset to
 * consume NEXT (positions and commits, as in Kafka: committing 42 means
 * "records up to 41 are done").
 */

/** A partition of a topic. */
export type TopicPartition = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
};

/** Notice that the application finished with one record. */
export type ProcessedRecord = {
  /** Topic of the record. */
  topic: string;
  /** Partition of the record. */
  partition: number;
  /** Offset of the record itself; the position becomes `offset + 1`. */
  offset: number;
  /** The partition's high watermark as of the fetch that returned the record, if known. */
  highWatermark?: number;
  /** Commit metadata to store with the offset; `''` when absent. */
  metadata?: string;
};

/** One partition's offset to commit. */
export type PartitionCommit = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Next offset to consume: every record below it is done. */
  offset: number;
  /** Free-form metadata stored with the offset (`''` for none). */
  metadata: string;
};

/** What made a commit strategy ask for a commit. */
export type CommitReason = 'periodic' | 'every-n' | 'watermark' | 'manual';

/** A "commit now" trigger emitted by a commit strategy. */
export type CommitRequest = {
  /** The strategy that asked. */
  reason: CommitReason;
  /** Latest offset per partition, one entry per partition, by topic then partition. May be empty only for `manual`. */
  offsets: PartitionCommit[];
  /** Correlation id of the `commit()` call behind a manual request. */
  callId?: number;
};

/** Where a consumer stands on one partition. */
export type OffsetInfo = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Next offset to consume (the position). */
  offset: number;
  /** Offset the next produced record will get, as last seen. */
  highWatermark: number;
  /** Records not consumed yet: `max(0, highWatermark - offset)`. */
  lag: number;
  /** When the position last changed, ms since the epoch (the tracker's clock). */
  timestamp: number;
  /** Commit metadata of the last processed record (`''` for none). */
  metadata: string;
};

/** Counters of a commit executor. */
export type OffsetStats = {
  /** Commits that succeeded (after retries, if any). */
  commits: number;
  /** Commits that failed for good: not retriable, or retries exhausted. */
  failures: number;
  /** When the last commit succeeded, ms (the scheduler's clock); undefined before the first. */
  lastCommitTime: number | undefined;
};

/** Orders by topic then partition (code-unit order, locale-independent). @internal */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}
