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
import { codecFromAttributes, decompressRecords, type CompressionCodec } from './compression.js';
import { CorruptMessageError, UnsafeIntegerError } from '../errors.js';
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
    // DecodedRecord.headers is a mutable array of the record's own; the cursor shares one empty array
    const headers = cursor.headers.length === 0 ? [] : (cursor.headers as RecordHeader[]);
    records[i] = { offset: cursor.offset, timestamp: cursor.timestamp, key: cursor.key, value: cursor.value, headers };
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
  let table: number[];
  try {
    if (compression !== 'none') {
      source = decompressRecords(compression, source.subarray(start, end), MAX_BATCH_SIZE);
      start = 0;
      end = source.length;
    }
    if (recordCount * MIN_RECORD_SIZE > end - start) {
      throw new CorruptMessageError(
        `batch at byte ${position} declares ${recordCount} records but has only ${end - start} bytes of records`,
      );
    }
    table = takeTable(recordCount * FIELDS);
    walk = checkRecords(new ByteCursor(source, start, end), recordCount, baseTimestamp, position, table);
  } catch (error) {
    throw withBatchContext(error, position);
  }
  if (walk.end !== end) {
    throw new CorruptMessageError(
      `batch at byte ${position} has ${end - walk.end} bytes after its ${recordCount} records`,
    );
  }
  if (recordCount > 0) {
    if (walk.lastDelta !== lastOffsetDelta) {
      throw new CorruptMessageError(
        `batch at byte ${position} has lastOffsetDelta ${lastOffsetDelta} but its last record has delta ` +
          `${walk.lastDelta}`,
      );
    }
    if (walk.maxTimestamp !== maxTimestamp) {
      throw new CorruptMessageError(
        `batch at byte ${position} has maxTimestamp ${maxTimestamp} but its records reach ${walk.maxTimestamp}`,
      );
    }
  }
  const producerId = readSafeInt64(view, PRODUCER_ID_OFFSET, 'producerId');
  const cursor = new RecordCursor(
    new ByteCursor(source, start, end),
    recordCount,
    baseOffset,
    baseTimestamp,
    position,
    table,
  );
  return { frame, view, attributes, compression, baseTimestamp, producerId, cursor };
}

/**
 * The records of a checked batch, built one at a time: `next()` reads the
 * next record into the fields and returns true, or returns false after the
 * last. Only for a batch {@link checkRecordBatch} accepted: the record
 * fields come from the table its walk filled (see {@link checkRecords}), so
 * no varint is read twice and none of the checks is repeated. @internal
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
  /** Headers of the current record: a new array for a record with headers, one shared frozen empty array otherwise. */
  headers: readonly RecordHeader[] = NO_HEADERS;
  private index = 0;
  private readonly arrayBuffer: ArrayBufferLike;
  private readonly byteOffset: number;

  constructor(
    private readonly cursor: ByteCursor,
    /** Records in the batch. */
    readonly count: number,
    private readonly baseOffset: number,
    private readonly baseTimestamp: number,
    private readonly position: number,
    /** FIELDS numbers per record, filled by checkRecords; back to the pool after the last record. */
    private table: number[] | undefined,
  ) {
    this.arrayBuffer = cursor.bytes.buffer;
    this.byteOffset = cursor.bytes.byteOffset;
  }

  next(): boolean {
    const table = this.table;
    if (table === undefined) return false;
    const index = this.index;
    if (index >= this.count) {
      this.table = undefined;
      releaseTable(table);
      return false;
    }
    const at = index * FIELDS;
    this.timestamp = this.baseTimestamp + table[at + TIMESTAMP_DELTA]!;
    this.offset = this.baseOffset + table[at + OFFSET_DELTA]!;
    // Views made with the constructor, as ByteCursor.view does (about twice as fast as subarray).
    const keyStart = table[at + KEY_START]!;
    this.key =
      keyStart < 0 ? null : new Uint8Array(this.arrayBuffer, this.byteOffset + keyStart, table[at + KEY_LENGTH]!);
    const valueStart = table[at + VALUE_START]!;
    this.value =
      valueStart < 0 ? null : new Uint8Array(this.arrayBuffer, this.byteOffset + valueStart, table[at + VALUE_LENGTH]!);
    const headersAt = table[at + HEADERS_AT]!;
    this.headers = headersAt < 0 ? NO_HEADERS : this.readHeadersAt(headersAt, index);
    this.index = index + 1;
    return true;
  }

  /** The headers of record `index`, whose header count is at `pos`: checked by the walk, decoded again here. */
  private readHeadersAt(pos: number, index: number): RecordHeader[] {
    const cursor = this.cursor;
    cursor.pos = pos;
    const count = readVarint(cursor);
    return readHeaders(cursor, count, this.position, index);
  }
}

/** Headers of every record that has none: one array, frozen so that no reader can change it for the others. */
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

// What checkRecords keeps of each record, FIELDS numbers per record, so that
// RecordCursor builds the records without reading their varints again.
const FIELDS = 7;
const TIMESTAMP_DELTA = 0;
const OFFSET_DELTA = 1;
/** Position of the key in the source, -1 for a null key. */
const KEY_START = 2;
const KEY_LENGTH = 3;
/** Position of the value in the source, -1 for a null value. */
const VALUE_START = 4;
const VALUE_LENGTH = 5;
/** Position of the header count when the record has headers, else -1. */
const HEADERS_AT = 6;

/**
 * Tables of finished cursors, for the next batches: a table has FIELDS
 * numbers per record of a batch, and a fresh one per batch was garbage as
 * large as a good part of the records themselves. Plain arrays of small
 * integers, not typed arrays, so they live on the JavaScript heap: an
 * ArrayBuffer counts as external memory, which sets off full collections. A
 * cursor left unfinished (a reader that stopped mid-batch) just drops its
 * table; one taken from the pool belongs to one cursor only.
 */
const tablePool: number[][] = [];
/**
 * Tables kept (a reader takes one batch at a time; more are in use only while several batches of one fetch are
 * checked).
 */
const POOLED_TABLES = 2;
/** Longest table kept, in numbers (1 MiB: a batch of about 18 000 records); longer ones are garbage after use. */
const MAX_POOLED_TABLE = 1 << 17;

function takeTable(length: number): number[] {
  const table = tablePool.pop() ?? [];
  // grown by push, so that the array stays packed (no holes to check on reads)
  while (table.length < length) table.push(0);
  return table;
}

function releaseTable(table: number[]): void {
  if (tablePool.length < POOLED_TABLES && table.length <= MAX_POOLED_TABLE) tablePool.push(table);
}

/** What walking a batch's records found. */
type RecordsWalk = { end: number; lastDelta: number; maxTimestamp: number };

/**
 * Walks `count` records with every check, building nothing (header keys
 * excepted: their UTF-8 is checked by decoding it) but the `table` of record
 * fields (FIELDS per record, see above). Returns where the records end, the
 * last offset delta and the largest timestamp.
 */
function checkRecords(
  cursor: ByteCursor,
  count: number,
  baseTimestamp: number,
  position: number,
  table: number[],
): RecordsWalk {
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
      throw new UnsafeIntegerError(
        `record ${i} of batch at byte ${position} has timestamp beyond Number.MAX_SAFE_INTEGER`,
      );
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const at = i * FIELDS;
    table[at + TIMESTAMP_DELTA] = timestampDelta;
    table[at + OFFSET_DELTA] = offsetDelta;
    const keyLength = skipBytesField(cursor, position, i, 'key');
    table[at + KEY_START] = keyLength < 0 ? -1 : cursor.pos - keyLength;
    table[at + KEY_LENGTH] = keyLength;
    const valueLength = skipBytesField(cursor, position, i, 'value');
    table[at + VALUE_START] = valueLength < 0 ? -1 : cursor.pos - valueLength;
    table[at + VALUE_LENGTH] = valueLength;
    const headersAt = cursor.pos;
    const headerCount = readVarint(cursor);
    table[at + HEADERS_AT] = headerCount === 0 ? -1 : headersAt;
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

/** Checks a bytes field (key, value) and moves past it; its length, -1 for null. */
function skipBytesField(cursor: ByteCursor, position: number, index: number, what: string): number {
  const length = readVarint(cursor);
  const start = cursor.pos;
  if (length < 0) {
    if (length === -1) return -1;
    throw corrupt(position, index, `has ${what} length ${length}`);
  }
  if (length > cursor.end - start) {
    throw corrupt(position, index, `has ${what} length ${length} with ${cursor.end - start} bytes left`);
  }
  cursor.pos = start + length;
  return length;
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

/** Errors from varint reads and decompression know bytes, not batches: say which batch. */
function withBatchContext(error: unknown, position: number): unknown {
  if (!(error instanceof CorruptMessageError) || error.message.includes('batch at byte')) return error;
  return new CorruptMessageError(`records of batch at byte ${position}: ${error.message}`, { cause: error });
}

function corrupt(position: number, index: number, problem: string, cause?: unknown): CorruptMessageError {
  const message = `record ${index} of batch at byte ${position} ${problem}`;
  return cause === undefined ? new CorruptMessageError(message) : new CorruptMessageError(message, { cause });
}
