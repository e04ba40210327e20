/**
 * The records a RecordBatch carries, as the encoder takes them and as the
 * decoder gives them back.
 *
 * Wire layout of one record (inside the batch's records section):
 *
 * ```
 * length          varint   bytes of the record after this field
 * attributes      i8       reserved, written as 0, ignored on read
 * timestampDelta  varlong  timestamp - batch baseTimestamp
 * offsetDelta     varint   offset - batch baseOffset
 * keyLength       varint   -1 = null key
 * key             bytes
 * valueLength     varint   -1 = null value
 * value           bytes
 * headerCount     varint
 * headers         headerKeyLength varint, headerKey utf-8,
 *                 headerValueLength varint (-1 = null), headerValue bytes
 * ```
 */

/** One header of a record: a string key and optional bytes. */
export type RecordHeader = {
  /** Header name (any string; stored as UTF-8). */
  key: string;
  /** Header value, or null for a header without a value. */
  value: Uint8Array | null;
};

/**
 * A record handed to the encoder. Named `RecordInput` rather than `Record` so
 * it does not shadow TypeScript's built-in `Record<K, V>`.
 */
export type RecordInput = {
  /** Record key, or null for none (an empty array is a key of zero bytes, not null). */
  key: Uint8Array | null;
  /** Record value, or null for none (a tombstone). */
  value: Uint8Array | null;
  /** Headers in order; omitted means none. */
  headers?: readonly RecordHeader[];
  /** Timestamp in milliseconds since the epoch; any safe integer. */
  timestamp: number;
};

/**
 * A record read back from a batch. `key`, `value` and header values are views
 * over the bytes given to the decoder when the batch is uncompressed (no
 * copy: keep the source buffer alive and unmodified while you use them), and
 * views over the decompressed records section otherwise.
 */
export type DecodedRecord = {
  /** Absolute offset: batch baseOffset + the record's offset delta. */
  offset: number;
  /** Timestamp in milliseconds: batch baseTimestamp + the record's timestamp delta. */
  timestamp: number;
  /** Record key, or null. */
  key: Uint8Array | null;
  /** Record value, or null. */
  value: Uint8Array | null;
  /** Headers in wire order (an empty array when there are none). */
  headers: RecordHeader[];
};
