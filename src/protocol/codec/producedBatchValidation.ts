/**
 * What the agent checks of a produced batch before it stores it, in one pass:
 * frame and CRC (CORRUPT_MESSAGE), then every record by the rules the
 * consumer's decoder applies (INVALID_RECORD), then its timestamps against
 * the clock (INVALID_TIMESTAMP). A batch that passes decodes in every
 * consumer, so nothing that would poison a partition is stored.
 *
 * The record walk builds nothing and keeps its position in a module variable
 * so that the one- and two-byte varints of a typical record are read inline;
 * longer varints go through the shared readers. A spec checks that it
 * accepts exactly what the decoder's checkRecordBatch accepts.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  readSafeInt64,
  type BatchFrame,
} from './batchLayout.js';
import { validateBatch } from './batchCrc.js';
import { codecFromAttributes, decompressRecords } from './compression.js';
import { CorruptMessageError, InvalidRecordError, InvalidTimestampError, UnsafeIntegerError } from '../errors.js';
import { ByteCursor, readVarint, readVarlong } from './varint.js';

/** Bounds a produced batch must keep. */
export type ProducedBatchLimits = {
  /** Largest records section once decompressed, bytes. */
  maxRecordsBytes: number;
  /** Latest accepted record timestamp, ms since the epoch (Infinity: no bound). */
  maxTimestamp: number;
};

/** Smallest record: length, attributes, timestamp delta, offset delta, key length, value length, header count. */
const MIN_RECORD_SIZE = 7;
/** Smallest header: key length and value length. */
const MIN_HEADER_SIZE = 2;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks that `bytes` is exactly one batch a consumer can decode, with dense
 * offsets and a max timestamp within `limits`, and returns its frame.
 *
 * @throws CorruptMessageError for a bad frame, length or CRC.
 * @throws InvalidRecordError when a record breaks the format: offsets not
 *   dense from 0, lengths or varints out of bounds, timestamps that disagree
 *   with the header, compressed records that do not decompress within bounds.
 * @throws InvalidTimestampError when the batch's max timestamp is after
 *   `limits.maxTimestamp`.
 * @throws UnsafeIntegerError for header int64s beyond Number.MAX_SAFE_INTEGER.
 */
export function validateProducedBatch(bytes: Uint8Array, limits: ProducedBatchLimits): BatchFrame {
  const frame = validateBatch(bytes, 0);
  if (frame.size !== bytes.length) {
    throw new CorruptMessageError(`produce carries ${bytes.length} bytes but one batch of ${frame.size}`);
  }
  const { recordCount, lastOffsetDelta } = frame;
  if (recordCount === 0 || recordCount !== lastOffsetDelta + 1) {
    throw new InvalidRecordError(
      `batch has ${recordCount} records but lastOffsetDelta ${lastOffsetDelta}; offsets must be dense`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, BATCH_HEADER_SIZE);
  const baseTimestamp = readSafeInt64(view, BASE_TIMESTAMP_OFFSET, 'baseTimestamp');
  let records = bytes;
  let start = BATCH_HEADER_SIZE;
  try {
    const codec = codecFromAttributes(view.getInt16(ATTRIBUTES_OFFSET));
    if (codec !== 'none') {
      records = decompressRecords(codec, bytes.subarray(start), limits.maxRecordsBytes);
      start = 0;
    }
  } catch (error) {
    throw new InvalidRecordError(`records of batch at byte 0: ${(error as Error).message}`, { cause: error });
  }
  if (recordCount * MIN_RECORD_SIZE > records.length - start) {
    throw new InvalidRecordError(
      `batch at byte 0 declares ${recordCount} records but has only ${records.length - start} bytes of records`,
    );
  }
  const maxTimestamp = baseTimestamp + walkRecords(records, start, recordCount);
  if (!Number.isSafeInteger(maxTimestamp)) {
    throw new InvalidRecordError(`batch at byte 0 has a record timestamp beyond Number.MAX_SAFE_INTEGER`);
  }
  if (maxTimestamp !== frame.maxTimestamp) {
    throw new InvalidRecordError(
      `batch at byte 0 has maxTimestamp ${frame.maxTimestamp} but its records reach ${maxTimestamp}`,
    );
  }
  if (maxTimestamp > limits.maxTimestamp) {
    throw new InvalidTimestampError(
      `batch max timestamp ${maxTimestamp} is more than the accepted ${limits.maxTimestamp} (too far in the future)`,
    );
  }
  return frame;
}

/** Position of the walk in the bytes being walked (the walk is synchronous and not reentrant). */
let pos = 0;

/**
 * Walks `count` records from `start` to the end of `bytes`: offset deltas
 * exactly 0..count-1, every length within its record, header keys UTF-8,
 * nothing left over. Returns the largest timestamp delta.
 */
function walkRecords(bytes: Uint8Array, start: number, count: number): number {
  const end = bytes.length;
  let maxDelta = -Infinity;
  pos = start;
  for (let i = 0; i < count; i++) {
    if (pos >= end) throw invalid(i, `is missing: the batch declares ${count} records`);
    const length = varint(bytes, end);
    const recordStart = pos;
    if (length < MIN_RECORD_SIZE - 1 || length > end - recordStart) {
      throw invalid(i, `has length ${length} with ${end - recordStart} bytes left`);
    }
    const recordEnd = recordStart + length;
    pos = recordStart + 1; // attributes: reserved, ignored
    const timestampDelta = varlong(bytes, recordEnd);
    if (timestampDelta > maxDelta) maxDelta = timestampDelta;
    const offsetDelta = varint(bytes, recordEnd);
    if (offsetDelta !== i) throw invalid(i, `has offset delta ${offsetDelta}; offsets must be dense from 0`);
    skipBytes(bytes, recordEnd, i, 'key');
    skipBytes(bytes, recordEnd, i, 'value');
    const headerCount = varint(bytes, recordEnd);
    if (headerCount !== 0) {
      if (headerCount < 0 || headerCount * MIN_HEADER_SIZE > recordEnd - pos) {
        throw invalid(i, `declares ${headerCount} headers in ${recordEnd - pos} bytes`);
      }
      for (let h = 0; h < headerCount; h++) {
        const keyLength = varint(bytes, recordEnd);
        if (keyLength < 0 || keyLength > recordEnd - pos) {
          throw invalid(i, `has header ${h} key length ${keyLength} with ${recordEnd - pos} bytes left`);
        }
        checkUtf8(bytes, pos, pos + keyLength, i);
        pos += keyLength;
        skipBytes(bytes, recordEnd, i, `header ${h} value`);
      }
    }
    if (pos !== recordEnd) throw invalid(i, `ends at byte ${pos}, its length says ${recordEnd}`);
  }
  if (pos !== end) throw new InvalidRecordError(`batch at byte 0 has ${end - pos} bytes after its ${count} records`);
  return maxDelta;
}

/** Moves past a bytes field (key, value) of length -1 (null) or within the record. */
function skipBytes(bytes: Uint8Array, recordEnd: number, index: number, what: string): void {
  const length = varint(bytes, recordEnd);
  if (length >= 0 ? length > recordEnd - pos : length !== -1) {
    throw invalid(index, `has ${what} length ${length} with ${recordEnd - pos} bytes left`);
  }
  if (length > 0) pos += length;
}

/** A zigzag varint at `pos` before `end`: one or two bytes inline, longer ones by the shared reader. */
function varint(bytes: Uint8Array, end: number): number {
  const value = shortZigzag(bytes, end);
  return value === value ? value : slowRead(bytes, end, readVarint);
}

/** A zigzag varlong at `pos` before `end`, likewise. */
function varlong(bytes: Uint8Array, end: number): number {
  const value = shortZigzag(bytes, end);
  return value === value ? value : slowRead(bytes, end, readVarlong);
}

/** A one- or two-byte zigzag varint at `pos`, which it advances; NaN (pos untouched) otherwise. */
function shortZigzag(bytes: Uint8Array, end: number): number {
  const p = pos;
  if (p < end) {
    const b0 = bytes[p]!;
    if (b0 < 0x80) {
      pos = p + 1;
      return (b0 >>> 1) ^ -(b0 & 1);
    }
    if (p + 1 < end) {
      const b1 = bytes[p + 1]!;
      if (b1 < 0x80) {
        pos = p + 2;
        const u = (b0 & 0x7f) | (b1 << 7);
        return (u >>> 1) ^ -(u & 1);
      }
    }
  }
  return Number.NaN;
}

function slowRead(bytes: Uint8Array, end: number, read: (cursor: ByteCursor) => number): number {
  const cursor = new ByteCursor(bytes, pos, end);
  try {
    const value = read(cursor);
    pos = cursor.pos;
    return value;
  } catch (error) {
    if (error instanceof CorruptMessageError || error instanceof UnsafeIntegerError) {
      throw new InvalidRecordError(`records of batch at byte 0: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function checkUtf8(bytes: Uint8Array, start: number, end: number, index: number): void {
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        utf8.decode(bytes.subarray(start, end));
        return;
      } catch (error) {
        throw invalid(index, 'has a header key that is not valid UTF-8', error);
      }
    }
  }
}

function invalid(index: number, problem: string, cause?: unknown): InvalidRecordError {
  const message = `record ${index} of batch at byte 0 ${problem}`;
  return cause === undefined ? new InvalidRecordError(message) : new InvalidRecordError(message, { cause });
}
