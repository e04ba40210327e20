/**
 * Validating, measuring and writing one record of a batch's records section
 * (layout in record.ts). Shared by the two writers of batches:
 * encodeRecordBatchInto (a list of records, measured first, written once the
 * batch's memory is known) and RecordBatchBuilder (each record written when it
 * is appended).
 *
 * Validation and measuring happen together and before anything is written, so
 * a record that throws leaves the caller's output untouched.
 *
 * @internal
 */
import { BATCH_HEADER_SIZE, MAX_BATCH_SIZE } from './batchLayout.js';
import { InvalidRequestError, RecordTooLargeError } from '../errors.js';
import type { RecordHeader } from './record.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

/** Largest records section a batch may carry (uncompressed). */
export const MAX_RECORDS_BYTES = MAX_BATCH_SIZE - BATCH_HEADER_SIZE;
/** Below this many bytes a plain loop copies faster than TypedArray#set. */
const SMALL_COPY_BYTES = 8;

/** The error for record `index` of a batch that is not a valid record. */
export function invalidRecord(index: number, problem: string): InvalidRequestError {
  return new InvalidRequestError(`record ${index} ${problem}`);
}

/**
 * The delta of record `index`'s timestamp to `baseTimestamp` (the first
 * record's timestamp; for the first record itself the delta is 0), checked:
 * both must be safe integers.
 */
export function timestampDeltaOf(timestamp: number, baseTimestamp: number, index: number): number {
  const delta = timestamp - baseTimestamp;
  if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(delta)) throw badTimestamp(timestamp, index);
  return delta;
}

// The checks' error paths are functions of their own to keep the hot paths'
// bytecode small: V8 inlines only so much bytecode into one optimized function,
// and every helper left out of it is a call per record.

function badTimestamp(timestamp: number, index: number): InvalidRequestError {
  // a bad first timestamp is bad by itself; a later one may be bad only relative to the first
  const problem = index === 0 ? 'not a safe integer' : 'not a safe integer within 2^53 of the first';
  return invalidRecord(index, `has timestamp ${timestamp}, ${problem}`);
}

/**
 * The records section's size once record `index` (of body size `bodySize`) is
 * added to `recordsBytes`; throws RecordTooLargeError beyond MAX_RECORDS_BYTES.
 */
export function recordsBytesWith(recordsBytes: number, bodySize: number, index: number): number {
  const total = recordsBytes + sizeOfVarint(bodySize) + bodySize;
  if (total > MAX_RECORDS_BYTES) throw recordsTooLarge(total, index);
  return total;
}

function recordsTooLarge(total: number, index: number): RecordTooLargeError {
  return new RecordTooLargeError(
    `records up to index ${index} take ${total} bytes, over the batch limit of ${MAX_BATCH_SIZE}`,
  );
}

/**
 * Validates a record and returns its body size (everything after its length
 * varint). `index` is its offset delta, named in errors.
 *
 * @throws InvalidRequestError for a key, value or header value that is neither
 *   a Uint8Array nor null, headers that are not an array of `{ key: string }`.
 * @throws RecordTooLargeError for a record beyond MAX_BATCH_SIZE.
 */
export function measureRecord(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[] | undefined,
  index: number,
  timestampDelta: number,
): number {
  // attributes (1 byte) + offset delta + timestamp delta
  const size =
    1 +
    sizeOfVarint(index) +
    sizeOfVarlong(timestampDelta) +
    sizeOfBytesField(key, index, 'key') +
    sizeOfBytesField(value, index, 'value');
  // no headers: a header count of 0
  return headers === undefined ? size + 1 : size + sizeOfHeaders(headers, index, size);
}

/** Bytes of the header count and headers of record `index`, whose other fields take `sizeBefore`. */
function sizeOfHeaders(headers: readonly RecordHeader[], index: number, sizeBefore: number): number {
  if (!Array.isArray(headers)) throw invalidRecord(index, 'has headers that are not an array');
  let size = sizeOfVarint(headers.length);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h] as RecordHeader | null | undefined;
    if (typeof header !== 'object' || header === null || typeof header.key !== 'string') {
      throw invalidRecord(index, `has header ${h} without a string key`);
    }
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes;
    size += sizeOfBytesField(header.value, index, `header ${h} value`);
    // guard the int32 varints before the batch-size check can see it
    if (sizeBefore + size > MAX_BATCH_SIZE)
      throw new RecordTooLargeError(`record ${index} is larger than ${MAX_BATCH_SIZE} bytes`);
  }
  return size;
}

function sizeOfBytesField(bytes: Uint8Array | null, index: number, what: string): number {
  if (bytes === null) return 1;
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_BATCH_SIZE) throw badBytesField(bytes, index, what);
  const length = bytes.length;
  return sizeOfVarint(length) + length;
}

function badBytesField(bytes: unknown, index: number, what: string): InvalidRequestError | RecordTooLargeError {
  if (!(bytes instanceof Uint8Array))
    return invalidRecord(index, `has a ${what} that is neither a Uint8Array nor null`);
  return new RecordTooLargeError(`record ${index} has a ${what} of ${bytes.length} bytes, over ${MAX_BATCH_SIZE}`);
}

/**
 * Writes one record, length varint first, at `pos` and returns the position
 * after it. `bodySize` is what {@link measureRecord} returned for the same
 * fields; the caller guarantees room for `sizeOfVarint(bodySize) + bodySize` bytes.
 */
export function writeRecord(
  out: Buffer,
  pos: number,
  bodySize: number,
  offsetDelta: number,
  timestampDelta: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[] | undefined,
): number {
  pos = writeVarint(out, pos, bodySize);
  out[pos++] = 0; // record attributes, reserved
  pos = writeVarlong(out, pos, timestampDelta);
  pos = writeVarint(out, pos, offsetDelta);
  pos = writeBytesField(out, pos, key);
  pos = writeBytesField(out, pos, value);
  if (headers === undefined || headers.length === 0) {
    out[pos] = 0;
    return pos + 1;
  }
  return writeHeaders(out, pos, headers);
}

function writeHeaders(out: Buffer, pos: number, headers: readonly RecordHeader[]): number {
  pos = writeVarint(out, pos, headers.length);
  for (let h = 0; h < headers.length; h++) {
    const header = headers[h]!;
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    pos = writeVarint(out, pos, keyBytes);
    pos += out.write(header.key, pos, keyBytes, 'utf8');
    pos = writeBytesField(out, pos, header.value);
  }
  return pos;
}

function writeBytesField(out: Buffer, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    out[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const length = bytes.length;
  pos = writeVarint(out, pos, length);
  if (length < SMALL_COPY_BYTES) copySmall(out, pos, bytes, length);
  else out.set(bytes, pos);
  return pos + length;
}

function copySmall(out: Buffer, pos: number, bytes: Uint8Array, length: number): void {
  for (let j = 0; j < length; j++) out[pos + j] = bytes[j]!;
}
