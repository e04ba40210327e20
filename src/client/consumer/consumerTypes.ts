/**
 * What a Consumer hands to the application: records, per-partition batches,
 * rebalance events and lag figures.
 */
import type { Observable } from 'rxjs';
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { TopicPartition } from '../offsets/types.js';

/**
 * One consumed record. `key`, `value` and header values are views over the
 * fetched response (no copy): they stay valid as long as they are referenced,
 * and keep the whole response buffer alive meanwhile; copy them
 * (`Buffer.from(value)`) to keep a few records of a large fetch for long.
 */
export type ConsumerRecord<K = Uint8Array, V = Uint8Array> = {
  /** Topic of the record. */
  topic: string;
  /** Partition of the record. */
  partition: number;
  /** Offset of the record in its partition. */
  offset: number;
  /** Record key (deserialised with the consumer's `keyDeserializer`), or null. */
  key: K | null;
  /** Record value (deserialised with the consumer's `valueDeserializer`), or null (a tombstone). */
  value: V | null;
  /**
   * Headers in the order the producer wrote them. Read-only: records without
   * headers share one frozen empty array (a fresh one per record was a
   * measurable share of the consumer's garbage); copy it (`[...headers]`) to
   * build on it.
   */
  headers: readonly RecordHeader[];
  /** Timestamp the producer gave the record, ms since the epoch. */
  timestamp: number;
  /**
   * Acknowledges the record (consumer option `ackMode: 'explicit'`): its
   * offset becomes committable once it and every earlier record of its
   * partition were acknowledged, in any order. Idempotent; a no-op with
   * `ackMode: 'delivery'` and for records of a partition revoked or sought
   * since it was delivered.
   */
  ack(): void;
};

/**
 * The records of one partition from one fetch, in offset order. Never empty.
 * The records are decoded when first read (so the prefetch buffer holds
 * bytes, not objects); a batch that fails to decode throws
 * CorruptMessageError then.
 */
export type ConsumerBatch<K = Uint8Array, V = Uint8Array> = {
  /** Topic of every record. */
  readonly topic: string;
  /** Partition of every record. */
  readonly partition: number;
  /** The records, ascending by offset, at least one. */
  readonly records: ConsumerRecord<K, V>[];
  /** Offset of the first record. */
  readonly firstOffset: number;
  /** Offset of the last record. */
  readonly lastOffset: number;
  /** Where the partition continues after this batch (`lastOffset + 1` unless the log has gaps). */
  readonly nextOffset: number;
  /** The partition's high watermark when the batch was fetched. */
  readonly highWatermark: number;
  /** Acknowledges every record of the batch (see `ConsumerRecord.ack`). */
  ack(): void;
};

/** What the `run` handler style calls for each batch. */
export type EachBatchHandler<K = Uint8Array, V = Uint8Array> = (
  batch: ConsumerBatch<K, V>,
) => Promise<void> | Observable<unknown>;

/** What the `run` handler style calls for each record. */
export type EachRecordHandler<K = Uint8Array, V = Uint8Array> = (
  record: ConsumerRecord<K, V>,
) => Promise<void> | Observable<unknown>;

/**
 * Handlers of {@link Consumer.run}: `eachBatch` or `eachRecord`, one of them.
 *
 * A batch (or record) counts as processed, and becomes eligible for commit,
 * only when its handler's Promise resolves or Observable completes (with
 * `ackMode: 'explicit'`, only when acknowledged). A rejection or error stops
 * the run with that error and what failed is not committed, so it is
 * delivered again after a restart.
 */
export type RunHandlers<K = Uint8Array, V = Uint8Array> = (
  | {
      /** Processes one batch of one partition. */
      eachBatch: EachBatchHandler<K, V>;
      eachRecord?: never;
    }
  | {
      /** Processes one record; the next record of its partition waits until it is done. */
      eachRecord: EachRecordHandler<K, V>;
      eachBatch?: never;
    }
) & {
  /**
   * Partitions processed at once: batches of different partitions run
   * concurrently up to this many, those of one partition one after the
   * other, in offset order. A positive integer; default 1.
   */
  partitionsConsumedConcurrently?: number;
};

/** A change of the partitions a consumer holds. */
export type RebalanceEvent = {
  /**
   * `assigned`: partitions were added (their start offsets are resolved);
   * `revoked`: partitions were taken away after their offsets were committed;
   * `lost`: partitions were taken away without a commit (the membership
   * expired or was fenced: another member may already own them).
   */
  type: 'assigned' | 'revoked' | 'lost';
  /** The partitions concerned, by topic then partition. */
  partitions: TopicPartition[];
  /** Group generation the change belongs to; -1 for manual assignment. */
  generation: number;
  /** Member id in the group; `''` for manual assignment. */
  memberId: string;
};

/** Lag of one partition. */
export type PartitionLag = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Records behind the last high watermark seen: `max(0, highWatermark - position)`. */
  lag: number;
};

/** Lag of every partition a consumer holds and their sum. */
export type ConsumerLag = {
  /** Per partition, by topic then partition. */
  partitions: PartitionLag[];
  /** Sum over the partitions. */
  total: number;
};
