/**
 * Blocks of a segment: the bytes between one index entry and the next (the
 * last block ends where the index starts). A block always holds whole
 * batches, so it is the unit the reader fetches, checks and caches.
 *
 * @internal used by SegmentReader.
 */
import { readBatchFrame, type BatchFrame } from '../protocol/codec/batchLayout.js';
import { blockStart, corrupt, type FooterSource, type SegmentFooter } from './segmentFooter.js';

/** Whole batches cut from blocks for one read. */
export type BatchRun = {
  /** The batches, back to back. */
  bytes: Buffer;
  /** Base offset of the first batch. */
  firstOffset: number;
  /** Offset after the last batch. */
  nextOffset: number;
  batchCount: number;
};

/**
 * Checks that `block` (index block `entry` of the segment) is a run of valid
 * batch frames that starts at the entry's offset, has no offset gaps, and
 * ends exactly where the next block's offsets begin. Throws
 * CorruptSegmentError naming the byte position otherwise.
 */
export function checkBlock(block: Buffer, footer: SegmentFooter, entry: number, source: FooterSource): void {
  const start = blockStart(footer, entry);
  let expected = footer.baseOffset + footer.relativeOffsets[entry]!;
  const endOffset =
    entry + 1 < footer.relativeOffsets.length
      ? footer.baseOffset + footer.relativeOffsets[entry + 1]!
      : footer.endOffset;
  for (let at = 0; at < block.length; ) {
    const frame = frameAt(block, at, start, source);
    if (frame.baseOffset !== expected) {
      throw corrupt(source, `batch at byte ${start + at} has base offset ${frame.baseOffset}, expected ${expected}`);
    }
    expected = frame.nextOffset;
    at += frame.size;
  }
  if (expected !== endOffset) {
    throw corrupt(source, `block at byte ${start} ends before offset ${expected}, the index says ${endOffset}`);
  }
}

/**
 * Cuts whole batches out of consecutive checked blocks: skips batches that
 * end at or before `fromOffset`, then takes batches while they fit in
 * `maxBytes`, always at least one. `firstBlockStart` is the byte position of
 * `blocks[0]`, for error messages.
 */
export function takeBatches(
  blocks: readonly Buffer[],
  fromOffset: number,
  maxBytes: number,
  firstBlockStart: number,
  source: FooterSource,
): BatchRun {
  const pieces: Buffer[] = [];
  let total = 0;
  let count = 0;
  let firstOffset = -1;
  let nextOffset = -1;
  let blockPosition = firstBlockStart;
  let full = false;
  for (const block of blocks) {
    let pieceStart = -1;
    let pieceEnd = -1;
    for (let at = 0; at < block.length && !full; ) {
      const frame = frameAt(block, at, blockPosition, source);
      if (frame.nextOffset > fromOffset) {
        if (count > 0 && total + frame.size > maxBytes) {
          full = true;
          break;
        }
        if (pieceStart < 0) pieceStart = at;
        if (count === 0) firstOffset = frame.baseOffset;
        pieceEnd = at + frame.size;
        total += frame.size;
        count++;
        nextOffset = frame.nextOffset;
      }
      at += frame.size;
    }
    if (pieceStart >= 0) pieces.push(block.subarray(pieceStart, pieceEnd));
    if (full) break;
    blockPosition += block.length;
  }
  if (count === 0) throw corrupt(source, `no batch holds offset ${fromOffset} where the index points`);
  return { bytes: join(pieces, total), firstOffset, nextOffset, batchCount: count };
}

/**
 * The pieces as one buffer: a view when they lie back to back in one
 * ArrayBuffer (blocks sliced from one ranged read, as they are without a
 * block cache), else a copy. Saves copying every byte a Fetch reads once more.
 */
function join(pieces: readonly Buffer[], total: number): Buffer {
  const first = pieces[0]!;
  if (pieces.length === 1) return first;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (piece.buffer !== first.buffer || piece.byteOffset !== end) return Buffer.concat(pieces, total);
    end += piece.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, total);
}

function frameAt(block: Buffer, at: number, blockPosition: number, source: FooterSource): BatchFrame {
  try {
    return readBatchFrame(block, at);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw corrupt(source, `invalid batch at byte ${blockPosition + at}: ${detail}`, error);
  }
}
