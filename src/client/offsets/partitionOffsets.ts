/**
 * Per-partition bookkeeping of a consumer: position (next offset to
 * consume), last committed offset, high watermark, and from those the lag and
 * what is pending commit. Plain synchronous state, no I/O: the consumer
 * feeds it from fetches, processing and commit outcomes.
 */
import { InvalidRequestError, UnknownTopicOrPartitionError } from '../../protocol/errors.js';
import { compareTopicPartitions, type OffsetInfo, type PartitionCommit, type TopicPartition } from './types.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Options of {@link PartitionOffsets}. */
export type PartitionOffsetsOptions = {
  /** Clock for `OffsetInfo.timestamp`, ms; default `Date.now`. */
  now?: () => number;
};

/** Where a newly assigned partition starts. */
export type PartitionStart = {
  /** Next offset to consume. */
  position: number;
  /**
   * The committed offset, if any. Omitted or equal to `position`: nothing is
   * pending until a record is processed. Different (e.g. a committed offset
   * out of range was reset): the new position is pending commit right away.
   */
  committed?: number;
  /** High watermark if known; default `position` (lag 0 until a fetch says otherwise). */
  highWatermark?: number;
};

type Entry = {
  topic: string;
  partition: number;
  position: number;
  committed: number | undefined;
  highWatermark: number;
  metadata: string;
  timestamp: number;
};

/** Tracks positions, commits and lag of the partitions a consumer holds. */
export class PartitionOffsets {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(options: PartitionOffsetsOptions = {}) {
    const { now = Date.now } = options;
    this.now = now;
  }

  /** Starts tracking a partition (on assignment); replaces any previous state of it. */
  assign(topic: string, partition: number, start: PartitionStart): void {
    const { position, committed = position, highWatermark = position } = start;
    checkOffset(position, 'position', topic, partition);
    checkOffset(committed, 'committed offset', topic, partition);
    checkOffset(highWatermark, 'high watermark', topic, partition);
    this.entries.set(topicPartitionId(topic, partition), {
      topic,
      partition,
      position,
      committed,
      highWatermark: Math.max(highWatermark, position),
      metadata: '',
      timestamp: this.now(),
    });
  }

  /** Stops tracking a partition (on revocation). True when it was tracked. */
  remove(topic: string, partition: number): boolean {
    return this.entries.delete(topicPartitionId(topic, partition));
  }

  /** The tracked partitions, by topic then partition. */
  partitions(): TopicPartition[] {
    return [...this.entries.values()]
      .map(({ topic, partition }) => ({ topic, partition }))
      .sort(compareTopicPartitions);
  }

  /** Records that the record at `offset` is processed: the position becomes `offset + 1`. */
  markProcessed(topic: string, partition: number, offset: number, metadata = ''): void {
    checkOffset(offset, 'offset', topic, partition);
    const entry = this.entry(topic, partition);
    entry.position = offset + 1;
    entry.highWatermark = Math.max(entry.highWatermark, entry.position);
    entry.metadata = metadata;
    entry.timestamp = this.now();
  }

  /** Moves the position (seek); the new position is pending commit unless it equals the committed one. */
  seek(topic: string, partition: number, position: number): void {
    checkOffset(position, 'position', topic, partition);
    const entry = this.entry(topic, partition);
    entry.position = position;
    entry.highWatermark = Math.max(entry.highWatermark, position);
    entry.timestamp = this.now();
  }

  /** Records the high watermark a fetch reported. Never lowers it below the position. */
  updateHighWatermark(topic: string, partition: number, highWatermark: number): void {
    checkOffset(highWatermark, 'high watermark', topic, partition);
    const entry = this.entry(topic, partition);
    entry.highWatermark = Math.max(highWatermark, entry.position);
  }

  /** Records successful commits; partitions no longer tracked are ignored (revoked meanwhile). */
  markCommitted(commits: readonly PartitionCommit[]): void {
    for (const commit of commits) {
      const entry = this.entries.get(topicPartitionId(commit.topic, commit.partition));
      if (entry !== undefined) entry.committed = commit.offset;
    }
  }

  /** Next offset to consume of a partition. */
  position(topic: string, partition: number): number {
    return this.entry(topic, partition).position;
  }

  /** Last committed offset of a partition, undefined when nothing was committed. */
  committed(topic: string, partition: number): number | undefined {
    return this.entry(topic, partition).committed;
  }

  /** Partitions whose position differs from the committed offset, as commits, by topic then partition. */
  pending(): PartitionCommit[] {
    return [...this.entries.values()]
      .filter((entry) => entry.position !== entry.committed)
      .sort(compareTopicPartitions)
      .map(({ topic, partition, position, metadata }) => ({ topic, partition, offset: position, metadata }));
  }

  /** Records left to consume on a partition: `max(0, highWatermark - position)`. */
  lag(topic: string, partition: number): number {
    const entry = this.entry(topic, partition);
    return Math.max(0, entry.highWatermark - entry.position);
  }

  /** Sum of the lag of every tracked partition. */
  totalLag(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += Math.max(0, entry.highWatermark - entry.position);
    return total;
  }

  /** The state of one partition, or undefined when it is not tracked. */
  info(topic: string, partition: number): OffsetInfo | undefined {
    const entry = this.entries.get(topicPartitionId(topic, partition));
    return entry === undefined ? undefined : toInfo(entry);
  }

  /** The state of every tracked partition, by topic then partition. */
  infos(): OffsetInfo[] {
    return [...this.entries.values()].sort(compareTopicPartitions).map(toInfo);
  }

  private entry(topic: string, partition: number): Entry {
    const entry = this.entries.get(topicPartitionId(topic, partition));
    if (entry === undefined) {
      throw new UnknownTopicOrPartitionError(`${topic}/${partition} is not assigned to this consumer`, {
        context: { topic, partition },
      });
    }
    return entry;
  }
}

function toInfo(entry: Entry): OffsetInfo {
  const { topic, partition, position, highWatermark, timestamp, metadata } = entry;
  return {
    topic,
    partition,
    offset: position,
    highWatermark,
    lag: Math.max(0, highWatermark - position),
    timestamp,
    metadata,
  };
}

function checkOffset(value: number, what: string, topic: string, partition: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRequestError(
      `${what} of ${topic}/${partition} must be a non-negative safe integer, got ${value}`,
      {
        context: { topic, partition },
      },
    );
  }
}
