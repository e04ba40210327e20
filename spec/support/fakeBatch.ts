/**
 * Valid RecordBatch v2 frames for storage tests, without the record codec:
 * a correct header (batchLength, magic 2, lastOffsetDelta, recordCount,
 * timestamps, CRC-32C over bytes [21, end)) followed by arbitrary payload
 * bytes standing in for the records. readBatchFrame checks only the frame,
 * so these are all storage needs.
 */
import { crc32c } from '@node-rs/crc32';
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
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_COUNT_OFFSET,
} from '../../src/protocol/codec/batchLayout.js';

/** What a fake batch looks like. */
export type FakeBatchOptions = {
  baseOffset: number;
  /** Records in the batch. Default 1. */
  recordCount?: number;
  /** Offsets covered minus one. Default recordCount - 1. */
  lastOffsetDelta?: number;
  /** Default 1_700_000_000_000 + baseOffset. */
  baseTimestamp?: number;
  /** Default baseTimestamp + lastOffsetDelta. */
  maxTimestamp?: number;
  /** Bytes after the header: a size (filled with a pattern from baseOffset) or the bytes themselves. Default 16. */
  payload?: number | Uint8Array;
};

/** One valid batch frame. */
export function fakeBatch(options: FakeBatchOptions): Buffer {
  const { baseOffset, recordCount = 1, payload = 16 } = options;
  const lastOffsetDelta = options.lastOffsetDelta ?? recordCount - 1;
  const baseTimestamp = options.baseTimestamp ?? 1_700_000_000_000 + baseOffset;
  const maxTimestamp = options.maxTimestamp ?? baseTimestamp + lastOffsetDelta;
  const body = typeof payload === 'number' ? patternPayload(payload, baseOffset) : payload;
  const batch = Buffer.alloc(BATCH_HEADER_SIZE + body.length);
  batch.writeBigInt64BE(BigInt(baseOffset), BASE_OFFSET_OFFSET);
  batch.writeInt32BE(batch.length - BATCH_LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(0, LEADER_EPOCH_OFFSET);
  batch.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  batch.writeInt16BE(0, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(BigInt(maxTimestamp), MAX_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(-1n, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(-1, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(-1, BASE_SEQUENCE_OFFSET);
  batch.writeInt32BE(recordCount, RECORD_COUNT_OFFSET);
  batch.set(body, BATCH_HEADER_SIZE);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0, CRC_OFFSET);
  return batch;
}

/**
 * Contiguous batches from `baseOffset`: `sizes[i]` payload bytes and
 * `records[i]` (default 1) records each.
 */
export function fakeBatches(baseOffset: number, sizes: readonly number[], records: readonly number[] = []): Buffer[] {
  const batches: Buffer[] = [];
  let offset = baseOffset;
  for (const [i, size] of sizes.entries()) {
    const recordCount = records[i] ?? 1;
    batches.push(fakeBatch({ baseOffset: offset, recordCount, payload: size }));
    offset += recordCount;
  }
  return batches;
}

function patternPayload(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (seed * 31 + i * 7) & 0xff;
  return bytes;
}
