/**
 * Decodes RecordBatches (layout in batchLayout.ts, records in record.ts).
 *
 * Order of trust: the CRC is checked before any field it covers is believed;
 * then every length, count and declared size is checked against the bytes
 * actually present before anything is allocated from it. Keys and values come
 * back as views over the input (or over the decompressed records section).
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  LEADER_EPOCH_OFFSET,
  MAX_BATCH_SIZE,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  readSafeInt64,
} from './batchLayout.js';
import { validateBatch } from './batchCrc.js';
import { codecFromAttributes, lz4Decompress, type CompressionCodec } from './compression.js';
import { CorruptMessageError, UnsafeIntegerError } from './errors.js';
import type { DecodedRecord, RecordHeader } from './record.js';
import { ByteCursor, readVarint, readVarlong } from './varint.js';

/** A decoded batch: its header fields and its records. */
export type DecodedBatch = {
  /** Offset of the first record (stamped by the agent). */
  baseOffset: number;
  /** Leader epoch the agent stamped, -1 if none. */
  leaderEpoch: number;
  /** Raw attributes (int16); bits 0-2 are the compression codec. */
  attributes: number;
  /** Compression of the records section. */
  compression: CompressionCodec;
  /** Offset delta of the last record. */
  lastOffsetDelta: number;
  /** `baseOffset + lastOffsetDelta + 1`: where the next batch starts. */
  nextOffset: number;
  /** Timestamp of the first record, milliseconds. */
  baseTimestamp: number;
  /** Largest record timestamp, milliseconds. */
  maxTimestamp: number;
  /** Idempotent producer id, -1 for none. */
  producerId: number;
  /** Idempotent producer epoch, -1 for none. */
  producerEpoch: number;
  /** Sequence of the first record, -1 for none. */
  baseSequence: number;
  /** Number of records, `records.length`. */
  recordCount: number;
  /** The records, in offset order. */
  records: DecodedRecord[];
  /** Bytes the batch takes in the input, header included. */
  size: number;
};

/** Smallest record: length, attributes, timestamp delta, offset delta, key length, value length, header count. */
const MIN_RECORD_SIZE = 7;
/** Smallest header: key length and value length. */
const MIN_HEADER_SIZE = 2;
/** Key lengths up to this are decoded by hand when ASCII; longer ones by TextDecoder. */
const SHORT_STRING_BYTES = 64;

// ignoreBOM: keep a leading U+FEFF, it is part of the key
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes the batch at `position` of `bytes`.
 *
 * @throws CorruptMessageError when the batch is truncated, oversized, fails its
 *   CRC, uses an unsupported codec, or its records do not match its header
 *   (count, offset deltas, max timestamp, lengths, trailing bytes).
 * @throws UnsafeIntegerError when an int64 (offset, timestamp, producer id) is
 *   beyond Number.MAX_SAFE_INTEGER.
 */
export function decodeRecordBatch(bytes: Uint8Array, position = 0): DecodedBatch {
  const frame = validateBatch(bytes, position);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_SIZE);
  const attributes = view.getInt16(ATTRIBUTES_OFFSET);
  const compression = codecFromAttributes(attributes);
  const baseTimestamp = readSafeInt64(view, BASE_TIMESTAMP_OFFSET, 'baseTimestamp');
  const { baseOffset, lastOffsetDelta, recordCount, maxTimestamp, size } = frame;

  let source = bytes;
  let start = position + BATCH_HEADER_SIZE;
  let end = position + size;
  let records: DecodedRecord[];
  let cursor: ByteCursor;
  try {
    if (compression === 'lz4') {
      source = lz4Decompress(source.subarray(start, end), MAX_BATCH_SIZE);
      start = 0;
      end = source.length;
    }
    if (recordCount * MIN_RECORD_SIZE > end - start) {
      throw new CorruptMessageError(
        `batch at byte ${position} declares ${recordCount} records but has only ${end - start} bytes of records`,
      );
    }
    cursor = new ByteCursor(source, start, end);
    records = decodeRecords(cursor, recordCount, baseOffset, baseTimestamp, position);
  } catch (error) {
    throw withBatchContext(error, position);
  }
  if (cursor.pos !== end) {
    throw new CorruptMessageError(`batch at byte ${position} has ${end - cursor.pos} bytes after its ${recordCount} records`);
  }
  if (recordCount > 0) {
    const last = records[recordCount - 1]!;
    if (last.offset - baseOffset !== lastOffsetDelta) {
      throw new CorruptMessageError(
        `batch at byte ${position} has lastOffsetDelta ${lastOffsetDelta} but its last record has delta ${last.offset - baseOffset}`,
      );
    }
    let seenMax = records[0]!.timestamp;
    for (let i = 1; i < recordCount; i++) if (records[i]!.timestamp > seenMax) seenMax = records[i]!.timestamp;
    if (seenMax !== maxTimestamp) {
      throw new CorruptMessageError(
        `batch at byte ${position} has maxTimestamp ${maxTimestamp} but its records reach ${seenMax}`,
      );
    }
  }

  return {
    baseOffset,
    leaderEpoch: view.getInt32(LEADER_EPOCH_OFFSET),
    attributes,
    compression,
    lastOffsetDelta,
    nextOffset: frame.nextOffset,
    baseTimestamp,
    maxTimestamp,
    producerId: readSafeInt64(view, PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: view.getInt16(PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(BASE_SEQUENCE_OFFSET),
    recordCount,
    records,
    size,
  };
}

/** Decodes a concatenation of whole batches (as Fetch returns them), in order. */
export function decodeRecordBatches(bytes: Uint8Array): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  let position = 0;
  while (position < bytes.length) {
    const batch = decodeRecordBatch(bytes, position);
    batches.push(batch);
    position += batch.size;
  }
  return batches;
}

function decodeRecords(
  cursor: ByteCursor,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  position: number,
): DecodedRecord[] {
  const records: DecodedRecord[] = new Array<DecodedRecord>(count);
  const batchEnd = cursor.end;
  let previousDelta = -1;
  for (let i = 0; i < count; i++) {
    if (cursor.pos >= batchEnd) throw corrupt(position, i, `is missing: the batch declares ${count} records`);
    const length = readVarint(cursor);
    const recordStart = cursor.pos;
    if (length < MIN_RECORD_SIZE - 1 || length > batchEnd - recordStart) {
      throw corrupt(position, i, `has length ${length} with ${batchEnd - recordStart} bytes left`);
    }
    const recordEnd = recordStart + length;
    // reads inside the record cannot run past it
    cursor.end = recordEnd;
    cursor.pos = recordStart + 1; // attributes: reserved, ignored
    const timestampDelta = readVarlong(cursor);
    const offsetDelta = readVarint(cursor);
    if (offsetDelta <= previousDelta) {
      throw corrupt(position, i, `has offset delta ${offsetDelta} after ${previousDelta}`);
    }
    previousDelta = offsetDelta;
    const timestamp = baseTimestamp + timestampDelta;
    if (!Number.isSafeInteger(timestamp)) {
      throw new UnsafeIntegerError(`record ${i} of batch at byte ${position} has timestamp beyond Number.MAX_SAFE_INTEGER`);
    }
    const key = readBytesField(cursor, position, i, 'key');
    const value = readBytesField(cursor, position, i, 'value');
    const headerCount = readVarint(cursor);
    let headers: RecordHeader[];
    if (headerCount === 0) {
      headers = [];
    } else {
      if (headerCount < 0 || headerCount * MIN_HEADER_SIZE > recordEnd - cursor.pos) {
        throw corrupt(position, i, `declares ${headerCount} headers in ${recordEnd - cursor.pos} bytes`);
      }
      headers = readHeaders(cursor, headerCount, position, i);
    }
    if (cursor.pos !== recordEnd) {
      throw corrupt(position, i, `ends at byte ${cursor.pos}, its length says ${recordEnd}`);
    }
    cursor.end = batchEnd;
    records[i] = { offset: baseOffset + offsetDelta, timestamp, key, value, headers };
  }
  return records;
}

function readBytesField(cursor: ByteCursor, position: number, index: number, what: string): Uint8Array | null {
  const length = readVarint(cursor);
  const start = cursor.pos;
  if (length < 0) {
    if (length === -1) return null;
    throw corrupt(position, index, `has ${what} length ${length}`);
  }
  if (length > cursor.end - start) {
    throw corrupt(position, index, `has ${what} length ${length} with ${cursor.end - start} bytes left`);
  }
  cursor.pos = start + length;
  return cursor.view(start, length);
}

function readHeaders(cursor: ByteCursor, count: number, position: number, index: number): RecordHeader[] {
  const headers: RecordHeader[] = new Array<RecordHeader>(count);
  for (let h = 0; h < count; h++) {
    const keyLength = readVarint(cursor);
    const start = cursor.pos;
    if (keyLength < 0 || keyLength > cursor.end - start) {
      throw corrupt(position, index, `has header ${h} key length ${keyLength} with ${cursor.end - start} bytes left`);
    }
    cursor.pos = start + keyLength;
    const key = decodeUtf8(cursor.bytes, start, start + keyLength, position, index);
    const value = readBytesField(cursor, position, index, `header ${h} value`);
    headers[h] = { key, value };
  }
  return headers;
}

function decodeUtf8(bytes: Uint8Array, start: number, end: number, position: number, index: number): string {
  if (end - start <= SHORT_STRING_BYTES) {
    let text = '';
    let i = start;
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) break;
      text += String.fromCharCode(b);
    }
    if (i === end) return text;
  }
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch (error) {
    throw corrupt(position, index, 'has a header key that is not valid UTF-8', error);
  }
}

/** Errors from varint and lz4 reads know bytes, not batches: say which batch. */
function withBatchContext(error: unknown, position: number): unknown {
  if (!(error instanceof CorruptMessageError) || error.message.includes('batch at byte')) return error;
  return new CorruptMessageError(`records of batch at byte ${position}: ${error.message}`, { cause: error });
}

function corrupt(position: number, index: number, problem: string, cause?: unknown): CorruptMessageError {
  const message = `record ${index} of batch at byte ${position} ${problem}`;
  return cause === undefined ? new CorruptMessageError(message) : new CorruptMessageError(message, { cause });
}
