/**
 * Byte layout of a RecordBatch header (Kafka RecordBatch v2, big-endian):
 *
 * ```
 *  0 baseOffset      i64
 *  8 batchLength     i32   bytes after this field (total size - 12)
 * 12 leaderEpoch     i32
 * 16 magic           i8    always 2
 * 17 crc             u32   CRC-32C of bytes [21, end)
 * 21 attributes      i16   bits 0-2 compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)
 * 23 lastOffsetDelta i32
 * 27 baseTimestamp   i64
 * 35 maxTimestamp    i64
 * 43 producerId      i64
 * 51 producerEpoch   i16
 * 53 baseSequence    i32
 * 57 recordCount     i32
 * 61 records ...
 * ```
 *
 * Storage and the agent only need the frame (where a batch starts and ends and
 * which offsets it covers); they read it with {@link readBatchFrame} without
 * decoding records.
 */
import { CorruptMessageError, UnsafeIntegerError } from '../errors.js';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
/** Size of the fixed header; records start here. */
export const BATCH_HEADER_SIZE = 61;
/** Bytes before and including batchLength, not counted by it. */
export const BATCH_LOG_OVERHEAD = 12;
/** The only batch format version this codebase reads and writes. */
export const MAGIC_V2 = 2;
/** Hard ceiling on one batch, whatever a config says (64 MiB). */
export const MAX_BATCH_SIZE = 64 * 1024 * 1024;

/** Where a batch lies in a buffer and which offsets it covers. */
export type BatchFrame = {
  /** Byte position of the batch start in the buffer. */
  position: number;
  /** Total size in bytes, header included. */
  size: number;
  baseOffset: number;
  lastOffsetDelta: number;
  /** `baseOffset + lastOffsetDelta + 1`. */
  nextOffset: number;
  recordCount: number;
  maxTimestamp: number;
};

/** Reads an i64 at `pos` as a safe integer, or throws UnsafeIntegerError. */
export function readSafeInt64(view: DataView, pos: number, what: string): number {
  const value = view.getBigInt64(pos);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new UnsafeIntegerError(`${what} ${value} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}

/**
 * Reads the frame of the batch starting at `position`, checking that the whole
 * batch is present. Throws CorruptMessageError for a truncated or malformed
 * header; never reads past `bytes`.
 */
export function readBatchFrame(bytes: Uint8Array, position = 0): BatchFrame {
  const available = bytes.length - position;
  if (position < 0 || available < BATCH_HEADER_SIZE) {
    throw new CorruptMessageError(
      `batch at byte ${position} is truncated: ${Math.max(0, available)} bytes, header needs ${BATCH_HEADER_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, available);
  const batchLength = view.getInt32(BATCH_LENGTH_OFFSET);
  const size = batchLength + BATCH_LOG_OVERHEAD;
  if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD || size > MAX_BATCH_SIZE) {
    throw new CorruptMessageError(`batch at byte ${position} has invalid length ${batchLength}`);
  }
  if (size > available) {
    throw new CorruptMessageError(`batch at byte ${position} is truncated: ${available} of ${size} bytes present`);
  }
  const magic = view.getInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    throw new CorruptMessageError(`batch at byte ${position} has magic ${magic}, expected ${MAGIC_V2}`);
  }
  const baseOffset = readSafeInt64(view, BASE_OFFSET_OFFSET, 'baseOffset');
  const lastOffsetDelta = view.getInt32(LAST_OFFSET_DELTA_OFFSET);
  const recordCount = view.getInt32(RECORD_COUNT_OFFSET);
  if (lastOffsetDelta < 0 || recordCount < 0 || recordCount > lastOffsetDelta + 1) {
    throw new CorruptMessageError(
      `batch at byte ${position} has lastOffsetDelta ${lastOffsetDelta} and recordCount ${recordCount}`,
    );
  }
  const nextOffset = baseOffset + lastOffsetDelta + 1;
  if (!Number.isSafeInteger(nextOffset)) {
    throw new UnsafeIntegerError(
      `batch at byte ${position} ends at offset ${nextOffset}, beyond Number.MAX_SAFE_INTEGER`,
    );
  }
  return {
    position,
    size,
    baseOffset,
    lastOffsetDelta,
    nextOffset,
    recordCount,
    maxTimestamp: readSafeInt64(view, MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
  };
}

/** Frames of every whole batch in `bytes`, in order; throws on any malformed one. */
export function readBatchFrames(bytes: Uint8Array): BatchFrame[] {
  const frames: BatchFrame[] = [];
  let position = 0;
  while (position < bytes.length) {
    const frame = readBatchFrame(bytes, position);
    frames.push(frame);
    position += frame.size;
  }
  return frames;
}

/** Idempotence fields of a batch header. */
export type ProducerFields = { producerId: number; producerEpoch: number; baseSequence: number };

/** Reads producerId, producerEpoch and baseSequence of the batch at `position` (frame already checked). */
export function readProducerFields(bytes: Uint8Array, position = 0): ProducerFields {
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_SIZE);
  return {
    producerId: readSafeInt64(view, PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: view.getInt16(PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(BASE_SEQUENCE_OFFSET),
  };
}
