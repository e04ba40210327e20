/**
 * Encodes records into one RecordBatch (layout in batchLayout.ts, records in
 * record.ts).
 *
 * Two passes over the records: the first validates them and measures each
 * record's size (kept in a reused scratch array), the second writes straight
 * into one exactly-sized buffer. Nothing is allocated per record.
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
import { codecId, lz4Compress, type CompressionCodec } from './compression.js';
import { crc32c } from './crc32c.js';
import { InvalidRequestError, RecordTooLargeError } from './errors.js';
import type { RecordHeader, RecordInput } from './record.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

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

const INT16_MAX = 0x7fff;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 0x100000000;
/** Below this many bytes a plain loop copies faster than TypedArray#set. */
const SMALL_COPY_BYTES = 8;

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
  // A buffer of exactly the batch's size, written from its start: the batch is the whole buffer.
  return encodeRecordBatchInto(records, options, (size) => ({ buffer: Buffer.allocUnsafe(size), offset: 0 })).buffer;
}

/** Where {@link encodeRecordBatchInto} writes a batch: `size` bytes of `buffer` from `offset`. */
export type BatchTarget = { buffer: Buffer; offset: number };

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
): { buffer: Buffer; offset: number; length: number } {
  const {
    baseOffset = 0,
    compression = 'none',
    producerId = -1,
    producerEpoch = -1,
    baseSequence = -1,
    leaderEpoch = -1,
  } = options;
  checkOptions(baseOffset, compression, producerId, producerEpoch, baseSequence, leaderEpoch);
  const count = records.length;
  if (count === 0) throw new InvalidRequestError('a record batch needs at least one record');
  if (recordSizes.length < count) recordSizes = new Int32Array(Math.max(count, recordSizes.length * 2));
  const sizes = recordSizes;

  const first = records[0];
  if (typeof first !== 'object' || first === null) throw invalidRecord(0, 'is not an object');
  const baseTimestamp = first.timestamp;
  if (!Number.isSafeInteger(baseTimestamp)) throw invalidRecord(0, `has timestamp ${baseTimestamp}, not a safe integer`);
  let maxTimestamp = baseTimestamp;
  let recordsSize = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    if (typeof record !== 'object' || record === null) throw invalidRecord(i, 'is not an object');
    const timestamp = record.timestamp;
    const delta = timestamp - baseTimestamp;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(delta)) {
      throw invalidRecord(i, `has timestamp ${timestamp}, not a safe integer within 2^53 of the first`);
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const size = measureRecord(record, i, delta);
    sizes[i] = size;
    recordsSize += sizeOfVarint(size) + size;
    if (recordsSize > MAX_BATCH_SIZE - BATCH_HEADER_SIZE) {
      throw new RecordTooLargeError(
        `records up to index ${i} take ${recordsSize} bytes, over the batch limit of ${MAX_BATCH_SIZE}`,
      );
    }
  }

  let target: BatchTarget;
  let length: number;
  if (compression === 'none') {
    length = BATCH_HEADER_SIZE + recordsSize;
    target = allocate(length);
    writeRecords(target.buffer, target.offset + BATCH_HEADER_SIZE, target.offset + length, records, sizes, baseTimestamp);
  } else {
    const plain = Buffer.allocUnsafe(recordsSize);
    writeRecords(plain, 0, recordsSize, records, sizes, baseTimestamp);
    const compressed = lz4Compress(plain);
    if (BATCH_HEADER_SIZE + compressed.length > MAX_BATCH_SIZE) {
      throw new RecordTooLargeError(`compressed batch takes ${BATCH_HEADER_SIZE + compressed.length} bytes, over ${MAX_BATCH_SIZE}`);
    }
    length = BATCH_HEADER_SIZE + compressed.length;
    target = allocate(length);
    target.buffer.set(compressed, target.offset + BATCH_HEADER_SIZE);
  }
  const { buffer, offset } = target;

  const view = new DataView(buffer.buffer, buffer.byteOffset + offset, length);
  writeInt64(view, BASE_OFFSET_OFFSET, baseOffset);
  view.setInt32(BATCH_LENGTH_OFFSET, length - BATCH_LOG_OVERHEAD);
  view.setInt32(LEADER_EPOCH_OFFSET, leaderEpoch);
  view.setInt8(MAGIC_OFFSET, MAGIC_V2);
  view.setInt16(ATTRIBUTES_OFFSET, codecId(compression));
  view.setInt32(LAST_OFFSET_DELTA_OFFSET, count - 1);
  writeInt64(view, BASE_TIMESTAMP_OFFSET, baseTimestamp);
  writeInt64(view, MAX_TIMESTAMP_OFFSET, maxTimestamp);
  writeInt64(view, PRODUCER_ID_OFFSET, producerId);
  view.setInt16(PRODUCER_EPOCH_OFFSET, producerEpoch);
  view.setInt32(BASE_SEQUENCE_OFFSET, baseSequence);
  view.setInt32(RECORD_COUNT_OFFSET, count);
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

function checkOptions(
  baseOffset: number,
  compression: CompressionCodec,
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
  leaderEpoch: number,
): void {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidRequestError(`baseOffset ${baseOffset} must be a safe integer >= 0`);
  }
  if (compression !== 'none' && compression !== 'lz4') {
    throw new InvalidRequestError(`compression ${String(compression)} must be 'none' or 'lz4'`);
  }
  if (!Number.isSafeInteger(producerId) || producerId < -1) {
    throw new InvalidRequestError(`producerId ${producerId} must be a safe integer >= -1`);
  }
  checkIntRange('producerEpoch', producerEpoch, -1, INT16_MAX);
  checkIntRange('baseSequence', baseSequence, -1, INT32_MAX);
  checkIntRange('leaderEpoch', leaderEpoch, -1, INT32_MAX);
}

function checkIntRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`${name} ${value} must be an integer in [${min}, ${max}]`);
  }
}

function invalidRecord(index: number, problem: string): InvalidRequestError {
  return new InvalidRequestError(`record ${index} ${problem}`);
}

/** Validates a record and returns its body size (everything after its length varint). */
function measureRecord(record: RecordInput, index: number, timestampDelta: number): number {
  const { key, value, headers } = record;
  // attributes (1 byte) + offset delta + timestamp delta
  let size = 1 + sizeOfVarint(index) + sizeOfVarlong(timestampDelta);
  size += sizeOfBytesField(key, index, 'key');
  size += sizeOfBytesField(value, index, 'value');
  if (headers === undefined || headers.length === 0) {
    if (headers !== undefined && !Array.isArray(headers)) throw invalidRecord(index, 'has headers that are not an array');
    return size + 1;
  }
  if (!Array.isArray(headers)) throw invalidRecord(index, 'has headers that are not an array');
  size += sizeOfVarint(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h] as RecordHeader | null | undefined;
    if (typeof header !== 'object' || header === null || typeof header.key !== 'string') {
      throw invalidRecord(index, `has header ${h} without a string key`);
    }
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes;
    size += sizeOfBytesField(header.value, index, `header ${h} value`);
    // guard the int32 varints before the batch-size check can see it
    if (size > MAX_BATCH_SIZE) throw new RecordTooLargeError(`record ${index} is larger than ${MAX_BATCH_SIZE} bytes`);
  }
  return size;
}

function sizeOfBytesField(bytes: Uint8Array | null, index: number, what: string): number {
  if (bytes === null) return 1;
  if (!(bytes instanceof Uint8Array)) throw invalidRecord(index, `has a ${what} that is neither a Uint8Array nor null`);
  const length = bytes.length;
  if (length > MAX_BATCH_SIZE) throw new RecordTooLargeError(`record ${index} has a ${what} of ${length} bytes, over ${MAX_BATCH_SIZE}`);
  return sizeOfVarint(length) + length;
}

/** Writes every record at `pos`, ending exactly at `end` (the sizes were measured by measureRecord). */
function writeRecords(
  out: Buffer,
  pos: number,
  end: number,
  records: readonly RecordInput[],
  sizes: Int32Array,
  baseTimestamp: number,
): void {
  const count = records.length;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    pos = writeVarint(out, pos, sizes[i]!);
    out[pos++] = 0; // record attributes, reserved
    pos = writeVarlong(out, pos, record.timestamp - baseTimestamp);
    pos = writeVarint(out, pos, i);
    pos = writeBytesField(out, pos, record.key);
    pos = writeBytesField(out, pos, record.value);
    const headers = record.headers;
    if (headers === undefined || headers.length === 0) {
      out[pos++] = 0;
    } else {
      pos = writeVarint(out, pos, headers.length);
      for (let h = 0; h < headers.length; h++) {
        const header = headers[h]!;
        const keyBytes = Buffer.byteLength(header.key, 'utf8');
        pos = writeVarint(out, pos, keyBytes);
        pos += out.write(header.key, pos, keyBytes, 'utf8');
        pos = writeBytesField(out, pos, header.value);
      }
    }
  }
  if (pos !== end) {
    // every byte of an allocUnsafe buffer must be written; a mismatch is a bug here, not bad input
    throw new Error(`record batch encoder wrote up to ${pos}, not ${end}`);
  }
}

function writeBytesField(out: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    out[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const length = bytes.length;
  pos = writeVarint(out, pos, length);
  if (length < SMALL_COPY_BYTES) {
    for (let j = 0; j < length; j++) out[pos + j] = bytes[j]!;
  } else {
    out.set(bytes, pos);
  }
  return pos + length;
}
