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
  type BatchFrame,
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
  const checked = checkRecordBatch(bytes, position);
  const { frame, view, cursor } = checked;
  const records = new Array<DecodedRecord>(frame.recordCount);
  for (let i = 0; cursor.next(); i++) {
    records[i] = { offset: cursor.offset, timestamp: cursor.timestamp, key: cursor.key, value: cursor.value, headers: cursor.headers };
  }
  return {
    baseOffset: frame.baseOffset,
    leaderEpoch: view.getInt32(LEADER_EPOCH_OFFSET),
    attributes: checked.attributes,
    compression: checked.compression,
    lastOffsetDelta: frame.lastOffsetDelta,
    nextOffset: frame.nextOffset,
    baseTimestamp: checked.baseTimestamp,
    maxTimestamp: frame.maxTimestamp,
    producerId: checked.producerId,
    producerEpoch: view.getInt16(PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(BASE_SEQUENCE_OFFSET),
    recordCount: frame.recordCount,
    records,
    size: frame.size,
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

/**
 * A batch that passed every check {@link decodeRecordBatch} makes, with a
 * cursor over its records. @internal for readers that build their own record
 * objects (the consumer), one at a time.
 */
export type CheckedBatch = {
  frame: BatchFrame;
  /** The batch header (61 bytes). */
  view: DataView;
  attributes: number;
  compression: CompressionCodec;
  baseTimestamp: number;
  producerId: number;
  /** Positioned before the first record. */
  cursor: RecordCursor;
};

/**
 * Checks the batch at `position` of `bytes` as {@link decodeRecordBatch}
 * does (same checks, same order, same errors), walking its records without
 * building any, then returns a cursor that builds them. The records section
 * is decompressed here, once. @internal
 */
export function checkRecordBatch(bytes: Uint8Array, position = 0): CheckedBatch {
  const frame = validateBatch(bytes, position);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_SIZE);
  const attributes = view.getInt16(ATTRIBUTES_OFFSET);
  const compression = codecFromAttributes(attributes);
  const baseTimestamp = readSafeInt64(view, BASE_TIMESTAMP_OFFSET, 'baseTimestamp');
  const { baseOffset, lastOffsetDelta, recordCount, maxTimestamp } = frame;

  let source = bytes;
  let start = position + BATCH_HEADER_SIZE;
  let end = position + frame.size;
  let walk: RecordsWalk;
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
    walk = checkRecords(new ByteCursor(source, start, end), recordCount, baseTimestamp, position);
  } catch (error) {
    throw withBatchContext(error, position);
  }
  if (walk.end !== end) {
    throw new CorruptMessageError(`batch at byte ${position} has ${end - walk.end} bytes after its ${recordCount} records`);
  }
  if (recordCount > 0) {
    if (walk.lastDelta !== lastOffsetDelta) {
      throw new CorruptMessageError(
        `batch at byte ${position} has lastOffsetDelta ${lastOffsetDelta} but its last record has delta ${walk.lastDelta}`,
      );
    }
    if (walk.maxTimestamp !== maxTimestamp) {
      throw new CorruptMessageError(
        `batch at byte ${position} has maxTimestamp ${maxTimestamp} but its records reach ${walk.maxTimestamp}`,
      );
    }
  }
  const producerId = readSafeInt64(view, PRODUCER_ID_OFFSET, 'producerId');
  const cursor = new RecordCursor(new ByteCursor(source, start, end), recordCount, baseOffset, baseTimestamp, position);
  return { frame, view, attributes, compression, baseTimestamp, producerId, cursor };
}

/**
 * The records of a checked batch, built one at a time: `next()` reads the
 * next record into the fields and returns true, or returns false after the
 * last. Only for a batch {@link checkRecordBatch} accepted, which is why it
 * repeats none of the checks. @internal
 */
export class RecordCursor {
  /** Absolute offset of the current record. */
  offset = -1;
  /** Timestamp of the current record, ms. */
  timestamp = 0;
  /** Key of the current record (a view), or null. */
  key: Uint8Array | null = null;
  /** Value of the current record (a view), or null. */
  value: Uint8Array | null = null;
  /** Headers of the current record: a new array for each record. */
  headers: RecordHeader[] = [];
  private index = 0;

  constructor(
    private readonly cursor: ByteCursor,
    /** Records in the batch. */
    readonly count: number,
    private readonly baseOffset: number,
    private readonly baseTimestamp: number,
    private readonly position: number,
  ) {}

  next(): boolean {
    if (this.index >= this.count) return false;
    const cursor = this.cursor;
    const length = checkedVarint(cursor);
    const recordEnd = cursor.pos + length;
    cursor.pos++; // attributes
    this.timestamp = this.baseTimestamp + checkedVarlong(cursor);
    this.offset = this.baseOffset + checkedVarint(cursor);
    this.key = checkedBytes(cursor);
    this.value = checkedBytes(cursor);
    const headerCount = checkedVarint(cursor);
    this.headers = headerCount === 0 ? [] : readHeaders(cursor, headerCount, this.position, this.index);
    cursor.pos = recordEnd;
    this.index++;
    return true;
  }
}

// Readers for records checkRecords accepted: no bounds or range checks, and
// small enough for the compiler to inline into RecordCursor.next (the
// checking readers, with their error paths, are not).

/** A zigzag varint known to be well-formed (at most 5 bytes, inside the records). */
function checkedVarint(cursor: ByteCursor): number {
  const bytes = cursor.bytes;
  let pos = cursor.pos;
  let b = bytes[pos++]!;
  let u = b & 0x7f;
  if (b >= 0x80) {
    b = bytes[pos++]!;
    u |= (b & 0x7f) << 7;
    if (b >= 0x80) {
      b = bytes[pos++]!;
      u |= (b & 0x7f) << 14;
      if (b >= 0x80) {
        b = bytes[pos++]!;
        u |= (b & 0x7f) << 21;
        if (b >= 0x80) u |= bytes[pos++]! << 28;
      }
    }
  }
  cursor.pos = pos;
  return (u >>> 1) ^ -(u & 1);
}

/** A zigzag varlong known to be well-formed and safe: up to 4 bytes here, longer ones by readVarlong. */
function checkedVarlong(cursor: ByteCursor): number {
  const bytes = cursor.bytes;
  const pos = cursor.pos;
  if (bytes[pos]! < 0x80) {
    const u = bytes[pos]!;
    cursor.pos = pos + 1;
    return (u >>> 1) ^ -(u & 1);
  }
  return readVarlong(cursor);
}

/** A bytes field (key, value) known to be well-formed: a view, or null. */
function checkedBytes(cursor: ByteCursor): Uint8Array | null {
  const length = checkedVarint(cursor);
  if (length < 0) return null;
  const start = cursor.pos;
  cursor.pos = start + length;
  return cursor.view(start, length);
}

/** What walking a batch's records found. */
type RecordsWalk = { end: number; lastDelta: number; maxTimestamp: number };

/**
 * Walks `count` records with every check, building nothing (header keys
 * excepted: their UTF-8 is checked by decoding it). Returns where the records
 * end, the last offset delta and the largest timestamp.
 */
function checkRecords(cursor: ByteCursor, count: number, baseTimestamp: number, position: number): RecordsWalk {
  const batchEnd = cursor.end;
  let previousDelta = -1;
  let maxTimestamp = -Infinity;
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
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    skipBytesField(cursor, position, i, 'key');
    skipBytesField(cursor, position, i, 'value');
    const headerCount = readVarint(cursor);
    if (headerCount !== 0) {
      if (headerCount < 0 || headerCount * MIN_HEADER_SIZE > recordEnd - cursor.pos) {
        throw corrupt(position, i, `declares ${headerCount} headers in ${recordEnd - cursor.pos} bytes`);
      }
      readHeaders(cursor, headerCount, position, i);
    }
    if (cursor.pos !== recordEnd) {
      throw corrupt(position, i, `ends at byte ${cursor.pos}, its length says ${recordEnd}`);
    }
    cursor.end = batchEnd;
  }
  return { end: cursor.pos, lastDelta: previousDelta, maxTimestamp };
}

/** Checks a bytes field (key, value) and moves past it. */
function skipBytesField(cursor: ByteCursor, position: number, index: number, what: string): void {
  const length = readVarint(cursor);
  const start = cursor.pos;
  if (length < 0) {
    if (length === -1) return;
    throw corrupt(position, index, `has ${what} length ${length}`);
  }
  if (length > cursor.end - start) {
    throw corrupt(position, index, `has ${what} length ${length} with ${cursor.end - start} bytes left`);
  }
  cursor.pos = start + length;
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
