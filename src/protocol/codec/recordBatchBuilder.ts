/**
 * RecordBatchBuilder: a RecordBatch built one record at a time, each record
 * encoded into the batch's records section when it is appended (like Kafka's
 * MemoryRecordsBuilder), so whoever collects records for a batch (the
 * producer) need not keep the record objects alive until the batch is sent.
 *
 * An append validates and measures the record arithmetically, then writes it
 * in place (recordEncoder.ts, shared with encodeRecordBatchInto). The header
 * depends only on the records' count and timestamps and on the options, so it
 * is written when the batch is finished, by the encoder's own finishBatch:
 * the two give the same bytes for the same records.
 */
import { InvalidRequestError } from '../errors.js';
import type { RecordHeader } from './record.js';
import {
  allocateExactly,
  checkedEncodeOptions,
  emptyBatchError,
  finishBatch,
  type BatchTarget,
  type EncodeOptions,
  type RecordsSection,
  type WrittenBatch,
} from './recordBatchEncoder.js';
import { MAX_RECORDS_BYTES, measureRecord, recordsBytesWith, timestampDeltaOf, writeRecord } from './recordEncoder.js';

/** Default bytes reserved for the records section at first (16 KiB). */
export const DEFAULT_BUILDER_CAPACITY = 16 * 1024;

/**
 * Builds one RecordBatch: {@link append} encodes each record straight into a
 * growing records section, {@link finishInto} / {@link finish} add the header.
 * The result is byte for byte what encodeRecordBatch gives for the same
 * records and options.
 *
 * @example
 * const builder = new RecordBatchBuilder();
 * builder.append(key, value, undefined, Date.now());
 * const batch = builder.finish({ compression: 'lz4' });
 */
export class RecordBatchBuilder implements RecordsSection {
  /** The records section so far, in `[0, used)`; grows by doubling. */
  private bytes: Buffer;
  private used = 0;
  private appended = 0;
  private firstTimestamp = 0;
  private largestTimestamp = 0;

  /**
   * @param initialCapacity bytes reserved for the records section at first
   *   (grows by doubling). Default 16 KiB.
   * @throws InvalidRequestError when `initialCapacity` is not an integer from
   *   0 to MAX_BATCH_SIZE - BATCH_HEADER_SIZE.
   */
  constructor(initialCapacity: number = DEFAULT_BUILDER_CAPACITY) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 0 || initialCapacity > MAX_RECORDS_BYTES) {
      throw new InvalidRequestError(
        `initialCapacity ${initialCapacity} must be an integer in [0, ${MAX_RECORDS_BYTES}]`,
      );
    }
    this.bytes = Buffer.allocUnsafe(initialCapacity);
  }

  /** Records appended so far. */
  get count(): number {
    return this.appended;
  }

  /** Bytes of the records section so far (the batch is BATCH_HEADER_SIZE more, uncompressed). */
  get recordsBytes(): number {
    return this.used;
  }

  /** Bytes the records section can take before it grows (kept through {@link reset}). */
  get capacity(): number {
    return this.bytes.length;
  }

  /** Timestamp of the first record, the batch's baseTimestamp (0 while empty). */
  get baseTimestamp(): number {
    return this.firstTimestamp;
  }

  /** Largest timestamp appended, the batch's maxTimestamp (0 while empty). */
  get maxTimestamp(): number {
    return this.largestTimestamp;
  }

  /**
   * Appends one record; its offset delta is its index (0, 1, 2...). The first
   * record's timestamp is the batch's baseTimestamp. Validates like
   * encodeRecordBatch, and leaves the builder unchanged when it throws.
   *
   * @param key record key, or null for none
   * @param value record value, or null for none (a tombstone)
   * @param headers headers in order; undefined or empty for none
   * @param timestamp milliseconds since the epoch, a safe integer whose
   *   difference to the first record's is a safe integer too
   * @throws InvalidRequestError for a key, value or header that is not of the
   *   types above, or a bad timestamp.
   * @throws RecordTooLargeError when the records section would exceed
   *   MAX_BATCH_SIZE - BATCH_HEADER_SIZE.
   */
  append(
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: readonly RecordHeader[] | undefined,
    timestamp: number,
  ): void {
    const index = this.appended;
    const delta = timestampDeltaOf(timestamp, index === 0 ? timestamp : this.firstTimestamp, index);
    const bodySize = measureRecord(key, value, headers, index, delta);
    const recordsBytes = recordsBytesWith(this.used, bodySize, index);
    // nothing has changed so far: every check above may throw
    if (recordsBytes > this.bytes.length) this.grow(recordsBytes);
    writeRecord(this.bytes, this.used, bodySize, index, delta, key, value, headers);
    this.used = recordsBytes;
    this.appended = index + 1;
    if (index === 0) {
      this.firstTimestamp = timestamp;
      this.largestTimestamp = timestamp;
    } else if (timestamp > this.largestTimestamp) {
      this.largestTimestamp = timestamp;
    }
  }

  /**
   * Encodes the batch into memory from `allocate`, byte for byte what
   * encodeRecordBatchInto writes for the same records, options and allocator.
   * The builder is not changed: finishing again (e.g. with another
   * baseSequence) or appending more records afterwards is allowed.
   *
   * @throws InvalidRequestError for options out of range or an empty builder,
   *   RecordTooLargeError for a compressed batch over MAX_BATCH_SIZE; all
   *   before `allocate` is called.
   */
  finishInto(options: EncodeOptions, allocate: (size: number) => BatchTarget): WrittenBatch {
    const settings = checkedEncodeOptions(options);
    if (this.appended === 0) throw emptyBatchError();
    return finishBatch(settings, this, allocate);
  }

  /** The batch as a new exactly-sized Buffer (like encodeRecordBatch); see {@link finishInto}. */
  finish(options: EncodeOptions = {}): Buffer {
    return this.finishInto(options, allocateExactly).buffer;
  }

  /**
   * Empties the builder for the next batch, keeping its memory: a producer
   * that reuses one builder per partition neither grows a buffer again nor
   * touches fresh pages for every batch. Batches already finished are copies
   * and stay valid.
   */
  reset(): void {
    this.used = 0;
    this.appended = 0;
    this.firstTimestamp = 0;
    this.largestTimestamp = 0;
  }

  /** Copies the records section to `out[pos]` (for finishBatch). */
  writeRecordsTo(out: Buffer, pos: number): void {
    this.bytes.copy(out, pos, 0, this.used);
  }

  /** Makes room for `needed` bytes: doubles the capacity (or more), keeping what is written. */
  private grow(needed: number): void {
    const capacity = Math.min(Math.max(this.bytes.length * 2, needed), MAX_RECORDS_BYTES);
    const bytes = Buffer.allocUnsafe(capacity);
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }
}
