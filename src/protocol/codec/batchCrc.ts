/**
 * Integrity checks of a whole RecordBatch without decoding its records: what
 * the agent runs on every produced batch before stamping and storing it.
 */
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BATCH_LOG_OVERHEAD,
  CRC_OFFSET,
  MAGIC_OFFSET,
  MAGIC_V2,
  MAX_BATCH_SIZE,
  readBatchFrame,
  type BatchFrame,
} from './batchLayout.js';
import { COMPRESSION_CODEC_MASK, codecFromAttributes } from './compression.js';
import { crc32c } from './crc32c.js';
import { CorruptMessageError, UnsafeIntegerError } from '../errors.js';

/**
 * Checks that a whole batch starts at `position` (a valid length, magic 2, all
 * of it present) and that its CRC-32C matches, then returns its size in bytes.
 * Reads only the fields needed to find the CRC before checking it; nothing else
 * of the batch is trusted. Never reads past `bytes`.
 *
 * @throws CorruptMessageError when truncated, oversized, of another magic or
 *   when the CRC does not match.
 */
export function verifyBatchCrc(bytes: Uint8Array, position = 0): number {
  const available = bytes.length - position;
  if (!Number.isInteger(position) || position < 0 || available < BATCH_HEADER_SIZE) {
    throw new CorruptMessageError(
      `batch at byte ${position} is truncated: ${Math.max(0, available)} bytes, header needs ${BATCH_HEADER_SIZE}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_SIZE);
  const batchLength = view.getInt32(BATCH_LENGTH_OFFSET);
  if (batchLength < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD || batchLength > MAX_BATCH_SIZE - BATCH_LOG_OVERHEAD) {
    throw new CorruptMessageError(`batch at byte ${position} has invalid length ${batchLength}`);
  }
  const size = batchLength + BATCH_LOG_OVERHEAD;
  if (size > available) {
    throw new CorruptMessageError(`batch at byte ${position} is truncated: ${available} of ${size} bytes present`);
  }
  const magic = view.getInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) {
    throw new CorruptMessageError(`batch at byte ${position} has magic ${magic}, expected ${MAGIC_V2}`);
  }
  const stored = view.getUint32(CRC_OFFSET);
  const computed = crc32c(bytes, position + ATTRIBUTES_OFFSET, position + size);
  if (stored !== computed) {
    throw new CorruptMessageError(
      `batch at byte ${position} has crc ${hex32(stored)} but its bytes give ${hex32(computed)}`,
    );
  }
  return size;
}

/**
 * Everything the agent checks before accepting a batch: the CRC first
 * ({@link verifyBatchCrc}), then the header (offsets, counts, timestamps as
 * safe integers) and the attributes (a supported codec, no reserved bits).
 * Returns the batch frame; its `nextOffset` is a safe integer.
 *
 * @throws CorruptMessageError for any malformed batch, UnsafeIntegerError for
 *   an int64 field beyond Number.MAX_SAFE_INTEGER.
 */
export function validateBatch(bytes: Uint8Array, position = 0): BatchFrame {
  verifyBatchCrc(bytes, position);
  const attributes =
    (((bytes[position + ATTRIBUTES_OFFSET]! << 8) | bytes[position + ATTRIBUTES_OFFSET + 1]!) << 16) >> 16;
  checkAttributes(attributes, position);
  const frame = readBatchFrame(bytes, position);
  if (!Number.isSafeInteger(frame.nextOffset)) {
    throw new UnsafeIntegerError(
      `batch at byte ${position} ends at offset ${frame.nextOffset}, beyond Number.MAX_SAFE_INTEGER`,
    );
  }
  return frame;
}

/** Throws CorruptMessageError unless `attributes` name a supported codec and set no other bit. @internal */
export function checkAttributes(attributes: number, position: number): void {
  codecFromAttributes(attributes);
  if ((attributes & ~COMPRESSION_CODEC_MASK) !== 0) {
    throw new CorruptMessageError(
      `batch at byte ${position} has attributes 0x${(attributes & 0xffff).toString(16)}: only the compression bits ` +
        `are supported`,
    );
  }
}

function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
