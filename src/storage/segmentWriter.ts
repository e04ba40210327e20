/**
 * Builds segment objects: the given RecordBatches copied as they are, one
 * after another, then the footer (sparse index + trailer, see
 * segmentFooter.ts). Batches are walked by their frame only; records are
 * never decoded.
 */
import {
  BASE_TIMESTAMP_OFFSET,
  readBatchFrame,
  readSafeInt64,
  type BatchFrame,
} from '../protocol/codec/batchLayout.js';
import { InvalidConfigError, InvalidRequestError } from '../protocol/errors.js';
import { encodeSegmentFooter, MAX_SEGMENT_DATA_BYTES } from './segmentFooter.js';

/** Options of {@link buildSegment}. */
export type BuildSegmentOptions = {
  /**
   * An index entry is written for the first batch and then for the first
   * batch starting at least this many bytes after the previous entry (the
   * minimum; see maxIndexEntries). Smaller means bigger footers and smaller
   * reads. Default 4096.
   */
  indexIntervalBytes?: number;
  /**
   * Upper bound on index entries: for large segments the interval grows to
   * `ceil(batchBytes / maxIndexEntries)` so the whole footer stays within the
   * reader's 64 KiB tail read. Default 8000 (a footer of at most ~63 KiB).
   */
  maxIndexEntries?: number;
};

/** A built segment and what the segment registry needs to know of it. */
export type BuiltSegment = {
  /**
   * The whole object in parts to write one after the other: the batches as
   * given, then the footer (index and trailer). Nothing was copied.
   */
  parts: readonly Uint8Array[];
  /** The whole object as one buffer: the parts concatenated, on first use. */
  readonly bytes: Buffer;
  /** First offset of the first batch. */
  baseOffset: number;
  /** One past the last offset of the last batch. */
  endOffset: number;
  /** Smallest baseTimestamp of the batches (the first record's timestamp of each), ms. */
  minTimestamp: number;
  /** Largest maxTimestamp of the batches, ms. */
  maxTimestamp: number;
  /** `bytes.length`. */
  sizeBytes: number;
  batchCount: number;
  /** Sum of the batches' recordCount. */
  recordCount: number;
};

/** Default distance between index entries, in bytes of batches. */
export const DEFAULT_INDEX_INTERVAL_BYTES = 4096;
/** Default cap on index entries (8000 × 8 bytes + trailer < 64 KiB). */
export const DEFAULT_MAX_INDEX_ENTRIES = 8000;

/**
 * Builds a segment from encoded batches: an array of batches, or one buffer
 * holding several back to back. The batches must be whole and valid
 * (CorruptMessageError otherwise) and their offsets contiguous, each batch
 * starting where the previous one ended (InvalidRequestError otherwise);
 * there must be at least one.
 */
export function buildSegment(
  batches: readonly Uint8Array[] | Uint8Array,
  options: BuildSegmentOptions = {},
): BuiltSegment {
  const {
    indexIntervalBytes: minimumInterval = DEFAULT_INDEX_INTERVAL_BYTES,
    maxIndexEntries = DEFAULT_MAX_INDEX_ENTRIES,
  } = options;
  if (!Number.isSafeInteger(minimumInterval) || minimumInterval < 1 || minimumInterval > MAX_SEGMENT_DATA_BYTES) {
    throw new InvalidConfigError(`indexIntervalBytes must be a positive integer below 2^32, got ${minimumInterval}`);
  }
  if (!Number.isSafeInteger(maxIndexEntries) || maxIndexEntries < 1) {
    throw new InvalidConfigError(`maxIndexEntries must be a positive integer, got ${maxIndexEntries}`);
  }
  const chunks = batches instanceof Uint8Array ? [batches] : batches;
  const dataSize = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  if (dataSize > MAX_SEGMENT_DATA_BYTES) {
    throw new InvalidRequestError(
      `segment data of ${dataSize} bytes exceeds the ${MAX_SEGMENT_DATA_BYTES}-byte limit of the format`,
    );
  }
  // Entries start at least one interval apart, so there are at most floor(dataSize / interval) + 1.
  const indexIntervalBytes = Math.max(minimumInterval, Math.ceil(dataSize / maxIndexEntries));

  const relativeOffsets: number[] = [];
  const positions: number[] = [];
  let first: BatchFrame | undefined;
  let nextOffset = 0;
  let minTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  let batchCount = 0;
  let recordCount = 0;
  let position = 0;
  let lastIndexed = Number.NEGATIVE_INFINITY;

  for (const chunk of chunks) {
    for (let at = 0; at < chunk.length; ) {
      const frame = readBatchFrame(chunk, at);
      if (first === undefined) {
        first = frame;
      } else if (frame.baseOffset !== nextOffset) {
        throw new InvalidRequestError(
          `batch at offset ${frame.baseOffset} does not follow the previous batch, which ended before ${nextOffset}`,
          {
            context: { offset: frame.baseOffset },
          },
        );
      }
      if (position - lastIndexed >= indexIntervalBytes) {
        const relative = frame.baseOffset - first.baseOffset;
        if (relative > 0xffff_ffff) {
          throw new InvalidRequestError(`segment spans more than 2^32 offsets from ${first.baseOffset}`, {
            context: { offset: frame.baseOffset },
          });
        }
        relativeOffsets.push(relative);
        positions.push(position);
        lastIndexed = position;
      }
      const view = new DataView(chunk.buffer, chunk.byteOffset + at, frame.size);
      minTimestamp = Math.min(minTimestamp, readSafeInt64(view, BASE_TIMESTAMP_OFFSET, 'baseTimestamp'));
      maxTimestamp = Math.max(maxTimestamp, frame.maxTimestamp);
      nextOffset = frame.nextOffset;
      batchCount++;
      recordCount += frame.recordCount;
      position += frame.size;
      at += frame.size;
    }
  }
  if (first === undefined) throw new InvalidRequestError('a segment needs at least one batch');

  const footer = encodeSegmentFooter({
    baseOffset: first.baseOffset,
    endOffset: nextOffset,
    minTimestamp,
    maxTimestamp,
    batchCount,
    dataSize,
    indexIntervalBytes,
    relativeOffsets: Uint32Array.from(relativeOffsets),
    positions: Uint32Array.from(positions),
  });
  // No copy of the batches: an object store writes the parts one after the other.
  const parts: readonly Uint8Array[] = [...chunks, footer];
  let whole: Buffer | undefined;
  return {
    parts,
    get bytes(): Buffer {
      return (whole ??= Buffer.concat(parts));
    },
    baseOffset: first.baseOffset,
    endOffset: nextOffset,
    minTimestamp,
    maxTimestamp,
    sizeBytes: dataSize + footer.length,
    batchCount,
    recordCount,
  };
}
