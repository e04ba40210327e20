/**
 * Encodes records into one RecordBatch (layout in batchLayout.ts, records in
 * record.ts).
 *
 * Two writers share this module: {@link encodeRecordBatchInto} takes a list
 * of records, and RecordBatchBuilder (recordBatchBuilder.ts) writes each
 * record as it is appended. Both describe their records as a
 * {@link RecordsSection} and hand it to {@link finishBatch}, which writes the
 * header, compresses when asked, and computes the CRC; both write records with
 * recordEncoder.ts.
 *
 * encodeRecordBatchInto makes two passes over the records: the first
 * validates them and measures each record's size (kept in a reused scratch
 * array), the second writes straight into one exactly-sized buffer. Nothing is
 * allocated per record.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BATCH_LOG_OVERHEAD,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  LEADER_EPOCH_OFFSET,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_BATCH_SIZE,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
} from './batchLayout.js';
import { codecId, compressRecords, ENCODABLE_CODECS, type CompressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import { InvalidRequestError, RecordTooLargeError } from '../errors.js';
import type { RecordInput } from './record.js';
import { invalidRecord, measureRecord, recordsBytesWith, timestampDeltaOf, writeRecord } from './recordEncoder.js';

/** How to encode a batch. Every field is optional. */
export type EncodeOptions = {
  /** Offset of the first record; the agent stamps the real one later. Default 0. */
  baseOffset?: number;
  /** Compression of the records section. Default `'none'`. */
  compression?: CompressionCodec;
  /** Idempotent producer id, -1 for none. Default -1. */
  producerId?: number;
  /** Idempotent producer epoch (int16), -1 for none. Default -1. */
  producerEpoch?: number;
  /** Sequence number of the first record (int32), -1 for none. Default -1. */
  baseSequence?: number;
  /** Partition leader epoch (int32), -1 for unknown; the agent stamps it. Default -1. */
  leaderEpoch?: number;
};

/** Where {@link encodeRecordBatchInto} writes a batch: `size` bytes of `buffer` from `offset`. */
export type BatchTarget = { buffer: Buffer; offset: number };

/** Where a batch was written: `length` bytes of `buffer` from `offset`. */
export type WrittenBatch = { buffer: Buffer; offset: number; length: number };

/**
 * A batch's records section, measured and ready to be written, as
 * {@link finishBatch} takes it.
 */
export interface RecordsSection {
  /** Records in the section (at least one). */
  readonly count: number;
  /** Timestamp of the first record. */
  readonly baseTimestamp: number;
  /** Largest timestamp of any record. */
  readonly maxTimestamp: number;
  /** Bytes of the section, uncompressed. */
  readonly recordsBytes: number;
  /** Writes the section, exactly `recordsBytes` bytes, at `out[pos]`. */
  writeRecordsTo(out: Buffer, pos: number): void;
}

const INT16_MAX = 0x7fff;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 0x100000000;

/** Body size of each record (bytes after its length varint); reused across calls. */
let recordSizes = new Int32Array(1024);

/**
 * Encodes `records` as one batch and returns it (a new Buffer). Record i gets
 * offset delta i; timestamps are stored as deltas from the first record's
 * (`baseTimestamp`), and `maxTimestamp` is the largest.
 *
 * @throws InvalidRequestError for an empty list, a record that is not
 *   `{ key, value, timestamp, headers? }` with byte arrays, a timestamp that is
 *   not a safe integer, or options out of range.
 * @throws RecordTooLargeError when the batch (or its uncompressed records) would
 *   exceed MAX_BATCH_SIZE.
 */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Buffer {
  return encodeRecordBatchInto(records, options, allocateExactly).buffer;
}

/**
 * Encodes like {@link encodeRecordBatch}, into memory the caller provides
 * once the batch's size is known: `allocate(size)` returns a buffer with
 * `size` bytes free at `offset`. This lets the producer encode a batch
 * straight into its Produce message, with the message's other fields around
 * it, instead of copying the batch in afterwards.
 *
 * @throws the same errors as encodeRecordBatch, before `allocate` is called.
 */
export function encodeRecordBatchInto(
  records: readonly RecordInput[],
  options: EncodeOptions,
  allocate: (size: number) => BatchTarget,
): WrittenBatch {
  const settings = checkedEncodeOptions(options);
  if (records.length === 0) throw emptyBatchError();
  return finishBatch(settings, new MeasuredRecords(records), allocate);
}

/**
 * A buffer of exactly the batch's size, written from its start: the batch is the whole buffer.
 * @internal
 */
export function allocateExactly(size: number): BatchTarget {
  return { buffer: Buffer.allocUnsafe(size), offset: 0 };
}

/**
 * The error for a batch without records.
 * @internal
 */
export function emptyBatchError(): InvalidRequestError {
  return new InvalidRequestError('a record batch needs at least one record');
}

/**
 * `options` with every default applied, checked.
 * @throws InvalidRequestError for a field out of range.
 * @internal
 */
export function checkedEncodeOptions(options: EncodeOptions): Required<EncodeOptions> {
  const {
    baseOffset = 0,
    compression = 'none',
    producerId = -1,
    producerEpoch = -1,
    baseSequence = -1,
    leaderEpoch = -1,
  } = options;
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidRequestError(`baseOffset ${baseOffset} must be a safe integer >= 0`);
  }
  if (!ENCODABLE_CODECS.includes(compression)) {
    throw new InvalidRequestError(`compression ${String(compression)} must be 'none', 'gzip' or 'lz4'`);
  }
  if (!Number.isSafeInteger(producerId) || producerId < -1) {
    throw new InvalidRequestError(`producerId ${producerId} must be a safe integer >= -1`);
  }
  checkIntRange('producerEpoch', producerEpoch, -1, INT16_MAX);
  checkIntRange('baseSequence', baseSequence, -1, INT32_MAX);
  checkIntRange('leaderEpoch', leaderEpoch, -1, INT32_MAX);
  return { baseOffset, compression, producerId, producerEpoch, baseSequence, leaderEpoch };
}

function checkIntRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`${name} ${value} must be an integer in [${min}, ${max}]`);
  }
}

/**
 * Writes a batch of `records` into memory from `allocate`: the records
 * section (compressed when `settings` ask, then size-checked again), the
 * header, and last the CRC, which covers everything after itself.
 *
 * @throws RecordTooLargeError when the compressed batch exceeds MAX_BATCH_SIZE,
 *   before `allocate` is called.
 * @internal
 */
export function finishBatch(
  settings: Required<EncodeOptions>,
  records: RecordsSection,
  allocate: (size: number) => BatchTarget,
): WrittenBatch {
  const { compression } = settings;
  const recordsBytes = records.recordsBytes;
  let target: BatchTarget;
  let length: number;
  if (compression === 'none') {
    length = BATCH_HEADER_SIZE + recordsBytes;
    target = allocate(length);
    records.writeRecordsTo(target.buffer, target.offset + BATCH_HEADER_SIZE);
  } else {
    const plain = Buffer.allocUnsafe(recordsBytes);
    records.writeRecordsTo(plain, 0);
    const compressed = compressRecords(compression, plain);
    if (BATCH_HEADER_SIZE + compressed.length > MAX_BATCH_SIZE) {
      throw new RecordTooLargeError(
        `compressed batch takes ${BATCH_HEADER_SIZE + compressed.length} bytes, over ${MAX_BATCH_SIZE}`,
      );
    }
    length = BATCH_HEADER_SIZE + compressed.length;
    target = allocate(length);
    target.buffer.set(compressed, target.offset + BATCH_HEADER_SIZE);
  }
  const { buffer, offset } = target;

  const view = new DataView(buffer.buffer, buffer.byteOffset + offset, length);
  writeInt64(view, BASE_OFFSET_OFFSET, settings.baseOffset);
  view.setInt32(BATCH_LENGTH_OFFSET, length - BATCH_LOG_OVERHEAD);
  view.setInt32(LEADER_EPOCH_OFFSET, settings.leaderEpoch);
  view.setInt8(MAGIC_OFFSET, MAGIC_V2);
  view.setInt16(ATTRIBUTES_OFFSET, codecId(compression));
  view.setInt32(LAST_OFFSET_DELTA_OFFSET, records.count - 1);
  writeInt64(view, BASE_TIMESTAMP_OFFSET, records.baseTimestamp);
  writeInt64(view, MAX_TIMESTAMP_OFFSET, records.maxTimestamp);
  writeInt64(view, PRODUCER_ID_OFFSET, settings.producerId);
  view.setInt16(PRODUCER_EPOCH_OFFSET, settings.producerEpoch);
  view.setInt32(BASE_SEQUENCE_OFFSET, settings.baseSequence);
  view.setInt32(RECORD_COUNT_OFFSET, records.count);
  // the crc covers everything after itself, so it is written last
  view.setUint32(CRC_OFFSET, crc32c(buffer, offset + ATTRIBUTES_OFFSET, offset + length));
  return { buffer, offset, length };
}

/**
 * Writes a safe integer as a big-endian int64 at `pos`.
 * @internal
 */
export function writeInt64(view: DataView, pos: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  view.setInt32(pos, high);
  view.setUint32(pos + 4, value - high * TWO_POW_32);
}

/**
 * A non-empty list of records, validated and measured on construction (each
 * record's body size in the shared scratch array), written on demand.
 */
class MeasuredRecords implements RecordsSection {
  readonly count: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly recordsBytes: number;
  private readonly sizes: Int32Array;

  constructor(private readonly records: readonly RecordInput[]) {
    const count = records.length;
    if (recordSizes.length < count) recordSizes = new Int32Array(Math.max(count, recordSizes.length * 2));
    const sizes = recordSizes;
    const first = records[0];
    if (typeof first !== 'object' || first === null) throw invalidRecord(0, 'is not an object');
    const baseTimestamp = first.timestamp; // checked as record 0's
    let maxTimestamp = baseTimestamp;
    let recordsBytes = 0;
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      if (typeof record !== 'object' || record === null) throw invalidRecord(i, 'is not an object');
      const timestamp = record.timestamp;
      const delta = timestampDeltaOf(timestamp, baseTimestamp, i);
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      const size = measureRecord(record.key, record.value, record.headers, i, delta);
      sizes[i] = size;
      recordsBytes = recordsBytesWith(recordsBytes, size, i);
    }
    this.count = count;
    this.baseTimestamp = baseTimestamp;
    this.maxTimestamp = maxTimestamp;
    this.recordsBytes = recordsBytes;
    this.sizes = sizes;
  }

  writeRecordsTo(out: Buffer, pos: number): void {
    const { records, sizes, count, baseTimestamp } = this;
    const end = pos + this.recordsBytes;
    for (let i = 0; i < count; i++) {
      const record = records[i]!;
      pos = writeRecord(
        out,
        pos,
        sizes[i]!,
        i,
        record.timestamp - baseTimestamp,
        record.key,
        record.value,
        record.headers,
      );
    }
    if (pos !== end) {
      // every byte of an allocUnsafe buffer must be written; a mismatch is a bug here, not bad input
      throw new Error(`record batch encoder wrote up to ${pos}, not ${end}`);
    }
  }
}
