/**
 * One partition's batch in the producer, from its first record until it is
 * settled: the records encoded as they were appended (a RecordBatchBuilder,
 * as Kafka's MemoryRecordsBuilder), their count and estimated bytes, and the
 * outcome its records' SendResults read their offsets from.
 *
 * Why encode on append: the producer used to keep every record (and its key
 * and value) until the batch was sent, then encoded them all. Records lived
 * for the whole linger and request time, so V8 copied them between heap
 * spaces and promoted them; that and the second pass over cold records was a
 * third of the producer's CPU per record. Encoded at once, a record is
 * garbage the moment `send` returns.
 */
import type { Subscription } from 'rxjs';
import { InvalidRequestError } from '../../protocol/errors.js';
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { RecordBatchBuilder } from '../../protocol/codec/recordBatchBuilder.js';
import { BatchOutcome } from '../sendResult.js';
import type { BuilderPool } from './builderPool.js';
import type { PartitionState } from './partitionState.js';

/** Bytes a new batch reserves for its records; it grows by doubling up to the batch limits. */
export const INITIAL_BATCH_CAPACITY = 16 * 1024;

export class ProducerBatch {
  /** What the records' SendResults learn their fate from. */
  readonly outcome: BatchOutcome;
  /** When its first record was accepted (scheduler time): delivery timeout and ack latency count from here. */
  firstSentAt = 0;
  /** Records appended. */
  count = 0;
  /** Sum of the appended records' estimated sizes (what they count against the buffer and `batchBytes`). */
  bytes = 0;
  /** The accumulator's linger timer, from the first record until the linger time is up or the batch closes. */
  linger: Subscription | undefined = undefined;
  /** The accumulator keeps it open past its linger time while its partition has every request out. */
  held = false;
  /** The records, encoded; undefined once handed back to the pool. */
  private encoded: RecordBatchBuilder | undefined;

  constructor(
    readonly partition: PartitionState,
    private readonly pool: BuilderPool,
  ) {
    this.encoded = pool.take();
    this.outcome = new BatchOutcome(partition.topic, partition.partition);
  }

  /** The records, encoded. @throws InvalidRequestError once they were handed back ({@link recordsEncoded}). */
  get records(): RecordBatchBuilder {
    if (this.encoded === undefined)
      throw new InvalidRequestError(`the records of a batch for ${this.partition.key} were already handed back`);
    return this.encoded;
  }

  /**
   * Encodes a record into the batch and returns its index there. The
   * producer has checked the record, so this throws only once the records
   * were handed back.
   */
  append(
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    timestamp: number,
    sentAt: number,
    size: number,
  ): number {
    const records = this.records;
    if (this.count === 0) this.firstSentAt = sentAt;
    records.append(key, value, headers, timestamp);
    this.bytes += size;
    return this.count++;
  }

  /** The records have been encoded into the request (which retries resend): their builder goes back to the pool. */
  recordsEncoded(): void {
    const records = this.encoded;
    this.encoded = undefined;
    if (records !== undefined) this.pool.give(records);
  }
}
