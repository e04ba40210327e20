/**
 * The footer of a segment object: a sparse offset index followed by a fixed
 * 60-byte trailer. All integers big-endian. (docs/segments.md has the full
 * layout and the reasons behind it.)
 *
 * ```
 * segment  = batches · index · trailer
 * index    = indexEntryCount × ( relativeOffset u32 · position u32 )
 * trailer  =
 *   0 baseOffset          i64   first offset of the first batch
 *   8 endOffset           i64   one past the last offset of the last batch
 *  16 minTimestamp        i64   smallest batch baseTimestamp
 *  24 maxTimestamp        i64   largest batch maxTimestamp
 *  32 batchCount          u32
 *  36 indexPosition       u32   byte where the index starts = bytes of batches
 *  40 indexEntryCount     u32
 *  44 indexIntervalBytes  u32   an entry starts at least every this many bytes
 *  48 crc                 u32   CRC-32C of index bytes ‖ trailer bytes [0, 48)
 *  52 version             u16   1
 *  54 trailerLength       u16   60
 *  56 magic               4 × u8  "SHSG"
 * ```
 *
 * Version, length and magic sit at the very end so that a reader holding
 * only the last bytes can always tell what it has, whatever a later version
 * puts before them.
 */
import { crc32c } from '@node-rs/crc32';
import { CorruptSegmentError, UnsupportedVersionError, type ErrorContext } from '../protocol/errors.js';

/** The 4 bytes closing every segment. */
export const SEGMENT_MAGIC = Buffer.from('SHSG', 'latin1');
/** The footer version this code writes and reads. */
export const SEGMENT_VERSION = 1;
/** Bytes in a version-1 trailer. */
export const SEGMENT_TRAILER_SIZE = 60;
/** Bytes per index entry. */
export const SEGMENT_INDEX_ENTRY_SIZE = 8;
/** Largest batch region a version-1 segment can address (positions are u32). */
export const MAX_SEGMENT_DATA_BYTES = 0xffff_ffff;

const CRC_FIELD = 48;
const VERSION_FIELD = 52;
const LENGTH_FIELD = 54;
const MAGIC_FIELD = 56;

/** Everything the footer says about a segment. */
export type SegmentFooter = {
  /** First offset in the segment. */
  baseOffset: number;
  /** One past the last offset in the segment. */
  endOffset: number;
  /** Smallest baseTimestamp of its batches (the first record's timestamp of each), ms. */
  minTimestamp: number;
  /** Largest maxTimestamp of its batches, ms. */
  maxTimestamp: number;
  batchCount: number;
  /** Bytes of batch data; the index starts here. */
  dataSize: number;
  /** The writer put an index entry at least every this many bytes of batches. */
  indexIntervalBytes: number;
  /** Index entries: `offset - baseOffset` of an indexed batch, ascending; the first is 0. */
  relativeOffsets: Uint32Array;
  /** Index entries: byte position of that batch, ascending; the first is 0. */
  positions: Uint32Array;
  /** Size of the whole object in bytes. */
  sizeBytes: number;
  /** The footer checksum, which also identifies this version of the object. */
  crc: number;
};

/** What the writer knows when it closes a segment. */
export type SegmentFooterFields = Omit<SegmentFooter, 'sizeBytes' | 'crc'>;

/** Footer bytes (index then trailer) for the given fields. */
export function encodeSegmentFooter(fields: SegmentFooterFields): Buffer {
  const entries = fields.relativeOffsets.length;
  const indexBytes = entries * SEGMENT_INDEX_ENTRY_SIZE;
  const footer = Buffer.alloc(indexBytes + SEGMENT_TRAILER_SIZE);
  for (let i = 0; i < entries; i++) {
    footer.writeUInt32BE(fields.relativeOffsets[i]!, i * SEGMENT_INDEX_ENTRY_SIZE);
    footer.writeUInt32BE(fields.positions[i]!, i * SEGMENT_INDEX_ENTRY_SIZE + 4);
  }
  const trailer = footer.subarray(indexBytes);
  trailer.writeBigInt64BE(BigInt(fields.baseOffset), 0);
  trailer.writeBigInt64BE(BigInt(fields.endOffset), 8);
  trailer.writeBigInt64BE(BigInt(fields.minTimestamp), 16);
  trailer.writeBigInt64BE(BigInt(fields.maxTimestamp), 24);
  trailer.writeUInt32BE(fields.batchCount, 32);
  trailer.writeUInt32BE(fields.dataSize, 36);
  trailer.writeUInt32BE(entries, 40);
  trailer.writeUInt32BE(fields.indexIntervalBytes, 44);
  trailer.writeUInt32BE(crc32c(footer.subarray(0, indexBytes + CRC_FIELD)) >>> 0, CRC_FIELD);
  trailer.writeUInt16BE(SEGMENT_VERSION, VERSION_FIELD);
  trailer.writeUInt16BE(SEGMENT_TRAILER_SIZE, LENGTH_FIELD);
  SEGMENT_MAGIC.copy(trailer, MAGIC_FIELD);
  return footer;
}

/** Where a footer read happened, for error context. */
export type FooterSource = {
  objectKey: string;
  /** The log offset the caller was after, if any. */
  offset?: number;
};

/**
 * How many bytes at the end of an object hold the footer, judged from the
 * trailer alone. `tail` is the last bytes of an object of `objectSize` bytes
 * and must hold at least the trailer.
 */
export function segmentFooterLength(tail: Uint8Array, objectSize: number, source: FooterSource): number {
  const trailer = lastTrailer(tail, objectSize, source);
  const indexPosition = trailer.readUInt32BE(36);
  const entries = trailer.readUInt32BE(40);
  const footerLength = entries * SEGMENT_INDEX_ENTRY_SIZE + SEGMENT_TRAILER_SIZE;
  if (indexPosition + footerLength !== objectSize) {
    throw corrupt(
      source,
      `index of ${entries} entries at byte ${indexPosition} does not end where the ${objectSize}-byte object does`,
    );
  }
  return footerLength;
}

/**
 * Decodes and checks the footer. `tail` holds the last bytes of the object
 * (at least {@link segmentFooterLength} of them). Throws CorruptSegmentError
 * for a bad magic, length, checksum or index, UnsupportedVersionError for a
 * footer of a version this code does not know.
 */
export function decodeSegmentFooter(tail: Uint8Array, objectSize: number, source: FooterSource): SegmentFooter {
  const footerLength = segmentFooterLength(tail, objectSize, source);
  if (tail.length < footerLength) {
    throw corrupt(source, `footer needs ${footerLength} bytes, only ${tail.length} given`);
  }
  const footer = Buffer.from(tail.buffer, tail.byteOffset + tail.length - footerLength, footerLength);
  const indexBytes = footerLength - SEGMENT_TRAILER_SIZE;
  const trailer = footer.subarray(indexBytes);
  const storedCrc = trailer.readUInt32BE(CRC_FIELD);
  const actualCrc = crc32c(footer.subarray(0, indexBytes + CRC_FIELD)) >>> 0;
  if (storedCrc !== actualCrc) {
    throw corrupt(source, `footer checksum is ${hex(actualCrc)}, the trailer says ${hex(storedCrc)}`);
  }
  const baseOffset = safeInt64(trailer, 0, 'baseOffset', source);
  const endOffset = safeInt64(trailer, 8, 'endOffset', source);
  const fields = {
    baseOffset,
    endOffset,
    minTimestamp: safeInt64(trailer, 16, 'minTimestamp', source),
    maxTimestamp: safeInt64(trailer, 24, 'maxTimestamp', source),
    batchCount: trailer.readUInt32BE(32),
    dataSize: trailer.readUInt32BE(36),
    indexIntervalBytes: trailer.readUInt32BE(44),
  };
  const entries = trailer.readUInt32BE(40);
  const relativeOffsets = new Uint32Array(entries);
  const positions = new Uint32Array(entries);
  for (let i = 0; i < entries; i++) {
    relativeOffsets[i] = footer.readUInt32BE(i * SEGMENT_INDEX_ENTRY_SIZE);
    positions[i] = footer.readUInt32BE(i * SEGMENT_INDEX_ENTRY_SIZE + 4);
  }
  const decoded: SegmentFooter = { ...fields, relativeOffsets, positions, sizeBytes: objectSize, crc: storedCrc };
  checkFooterConsistency(decoded, source);
  return decoded;
}

/** Index of the last entry whose offset is at or below `offset` (`offset` must be within the segment). */
export function findIndexEntry(footer: SegmentFooter, offset: number): number {
  const relative = offset - footer.baseOffset;
  let low = 0;
  let high = footer.relativeOffsets.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (footer.relativeOffsets[middle]! <= relative) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Byte position where index block `entry` starts; `entryCount` gives the end of the batch data. */
export function blockStart(footer: SegmentFooter, entry: number): number {
  return entry < footer.positions.length ? footer.positions[entry]! : footer.dataSize;
}

/** Builds the CorruptSegmentError every footer and block check raises. */
export function corrupt(source: FooterSource, message: string, cause?: unknown): CorruptSegmentError {
  const context: ErrorContext = { objectKey: source.objectKey };
  if (source.offset !== undefined) context.offset = source.offset;
  const where = source.offset === undefined ? '' : ` (reading offset ${source.offset})`;
  return new CorruptSegmentError(
    `corrupt segment ${source.objectKey}${where}: ${message}`,
    cause === undefined ? { context } : { context, cause },
  );
}

function lastTrailer(tail: Uint8Array, objectSize: number, source: FooterSource): Buffer {
  if (objectSize < SEGMENT_TRAILER_SIZE || tail.length < SEGMENT_TRAILER_SIZE) {
    throw corrupt(
      source,
      `${Math.min(objectSize, tail.length)} bytes cannot hold the ${SEGMENT_TRAILER_SIZE}-byte trailer (truncated?)`,
    );
  }
  const trailer = Buffer.from(tail.buffer, tail.byteOffset + tail.length - SEGMENT_TRAILER_SIZE, SEGMENT_TRAILER_SIZE);
  if (!trailer.subarray(MAGIC_FIELD).equals(SEGMENT_MAGIC)) {
    throw corrupt(
      source,
      `no segment magic at the end (found ${trailer.subarray(MAGIC_FIELD).toString('hex')}; truncated or not a ` +
        `segment)`,
    );
  }
  const version = trailer.readUInt16BE(VERSION_FIELD);
  if (version !== SEGMENT_VERSION) {
    const context: ErrorContext = { objectKey: source.objectKey };
    if (source.offset !== undefined) context.offset = source.offset;
    throw new UnsupportedVersionError(
      `segment ${source.objectKey} has footer version ${version}; this build reads version ${SEGMENT_VERSION}`,
      {
        context,
      },
    );
  }
  const length = trailer.readUInt16BE(LENGTH_FIELD);
  if (length !== SEGMENT_TRAILER_SIZE) {
    throw corrupt(source, `trailer length is ${length}, version ${SEGMENT_VERSION} has ${SEGMENT_TRAILER_SIZE}`);
  }
  return trailer;
}

/** Checks what a checksum cannot: that the (possibly mis-written) fields make sense together. */
function checkFooterConsistency(footer: SegmentFooter, source: FooterSource): void {
  const { baseOffset, endOffset, batchCount, dataSize, relativeOffsets, positions } = footer;
  const entries = relativeOffsets.length;
  if (baseOffset < 0 || endOffset <= baseOffset)
    throw corrupt(source, `offsets [${baseOffset}, ${endOffset}) are not a range`);
  if (batchCount < 1 || entries < 1 || entries > batchCount) {
    throw corrupt(source, `${batchCount} batches with ${entries} index entries`);
  }
  if (dataSize < 1) throw corrupt(source, 'no batch data');
  if (relativeOffsets[0] !== 0 || positions[0] !== 0)
    throw corrupt(source, 'the first index entry is not the first batch');
  for (let i = 1; i < entries; i++) {
    if (relativeOffsets[i]! <= relativeOffsets[i - 1]! || positions[i]! <= positions[i - 1]!) {
      throw corrupt(source, `index entry ${i} does not follow entry ${i - 1}`);
    }
    if (positions[i]! >= dataSize || baseOffset + relativeOffsets[i]! >= endOffset) {
      throw corrupt(
        source,
        `index entry ${i} points outside the segment (byte ${positions[i]}, offset ` +
          `${baseOffset + relativeOffsets[i]!})`,
      );
    }
  }
}

function safeInt64(trailer: Buffer, position: number, what: string, source: FooterSource): number {
  const value = trailer.readBigInt64BE(position);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw corrupt(source, `${what} ${value} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return Number(value);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
