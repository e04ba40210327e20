/**
 * One partition's batch in the producer, from its first record until it is
 * settled: the records encoded as they were added (a RecordBatchBuilder, as
 * Kafka's MemoryRecordsBuilder), and the outcome its records' SendResults
 * read their offsets from.
 *
 * Why encode on add: the producer used to keep every record (and its key and
 * value) until the batch was sent, then encoded them all. Records lived for
 * the whole linger and request time, so V8 copied them between heap spaces
 * and promoted them; that and the second pass over cold records was a third
 * of the producer's CPU per record. Encoded at once, a record is garbage the
 * moment `send` returns.
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { RecordBatchBuilder } from '../../protocol/codec/recordBatchBuilder.js';
import { BatchOutcome } from '../sendResult.js';
import type { BuilderPool } from './builderPool.js';
import type { PartitionCounters } from './producerMetrics.js';
import type { AppendItem } from './producerRecord.js';

/** Bytes a new batch reserves for its records; it grows by doubling up to the batch limits. */
export const INITIAL_BATCH_CAPACITY = 16 * 1024;

export class ProducerBatch {
  /** What the records' SendResults learn their fate from. */
  readonly outcome: BatchOutcome;
  /** When its first record was accepted (scheduler time): delivery timeout and ack latency count from here. */
  firstSentAt = 0;
  /** The records, encoded; undefined once handed back to the pool. */
  #records: RecordBatchBuilder | undefined;

  constructor(
    readonly counters: PartitionCounters,
    private readonly pool: BuilderPool,
  ) {
    this.#records = pool.take();
    this.outcome = new BatchOutcome(counters.topic, counters.partition);
  }

  /** The records, encoded. @throws InvalidRequestError once they were handed back ({@link recordsEncoded}). */
  get records(): RecordBatchBuilder {
    if (this.#records === undefined)
      throw new InvalidRequestError(`the records of a batch for ${this.counters.key} were already handed back`);
    return this.#records;
  }

  /**
   * Encodes the item's record into the batch and notes in the item where it
   * went. The producer has checked the record, so this does not throw.
   */
  add(item: AppendItem): void {
    const records = this.records;
    if (records.count === 0) this.firstSentAt = item.sentAt;
    records.append(item.key, item.value, item.headers, item.timestamp);
    item.batch = this;
    item.index = records.count - 1;
  }

  /** The records have been encoded into the request (which retries resend): their builder goes back to the pool. */
  recordsEncoded(): void {
    const records = this.#records;
    this.#records = undefined;
    if (records !== undefined) this.pool.give(records);
  }
}
