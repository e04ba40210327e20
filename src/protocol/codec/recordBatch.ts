/**
 * RecordBatch: the one format that travels from producer to agent to segment
 * to consumer (Kafka RecordBatch v2 layout, see docs/format.md).
 *
 * This module is the codec's public face: encoding (recordBatchEncoder.ts, or
 * record by record with RecordBatchBuilder), decoding (recordBatchDecoder.ts),
 * integrity checks (batchCrc.ts), {@link stampBatch}, the agent's only
 * write into a batch, and {@link stampProducerFields}, the producer's when it
 * re-sends a batch under a new producer epoch.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_HEADER_SIZE,
  CRC_OFFSET,
  LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  BASE_SEQUENCE_OFFSET,
  type ProducerFields,
} from './batchLayout.js';
import { verifyBatchCrc } from './batchCrc.js';
import { crc32c } from './crc32c.js';
import { CorruptMessageError, InvalidRequestError } from '../errors.js';
import { checkedEncodeOptions, writeInt64 } from './recordBatchEncoder.js';

export type { RecordHeader, RecordInput, DecodedRecord } from './record.js';
export type { CompressionCodec } from './compression.js';
export { encodeRecordBatch, type EncodeOptions } from './recordBatchEncoder.js';
export { RecordBatchBuilder } from './recordBatchBuilder.js';
export { decodeRecordBatch, decodeRecordBatches, type DecodedBatch } from './recordBatchDecoder.js';
export { verifyBatchCrc, validateBatch } from './batchCrc.js';

const INT32_MAX = 0x7fffffff;

/**
 * Writes `baseOffset` and `leaderEpoch` into the encoded batch at `position`,
 * in place. Both fields precede the CRC and are not covered by it, so the
 * batch stays valid without recomputing the checksum: the agent's per-batch
 * work is this and one CRC check, never a re-encode. Changes exactly bytes
 * [0, 8) and [12, 16) of the batch.
 *
 * @throws InvalidRequestError when `baseOffset` is not a safe integer >= 0 or
 *   `leaderEpoch` not an int32 >= -1.
 * @throws CorruptMessageError when fewer than a header's bytes are present.
 */
export function stampBatch(bytes: Uint8Array, baseOffset: number, leaderEpoch: number, position = 0): void {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) {
    throw new InvalidRequestError(`baseOffset ${baseOffset} must be a safe integer >= 0`);
  }
  if (!Number.isInteger(leaderEpoch) || leaderEpoch < -1 || leaderEpoch > INT32_MAX) {
    throw new InvalidRequestError(`leaderEpoch ${leaderEpoch} must be an integer in [-1, ${INT32_MAX}]`);
  }
  if (!Number.isInteger(position) || position < 0 || bytes.length - position < BATCH_HEADER_SIZE) {
    throw new CorruptMessageError(`no batch header at byte ${position} of ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_SIZE);
  writeInt64(view, BASE_OFFSET_OFFSET, baseOffset);
  view.setInt32(LEADER_EPOCH_OFFSET, leaderEpoch);
}

/**
 * Rewrites producerId, producerEpoch and baseSequence of the whole encoded
 * batch at `position`, in place, and its CRC (which covers them): how a
 * producer re-sends a batch under a new epoch without encoding its records
 * again. The batch's CRC is checked first, so bytes that were damaged are
 * never given a valid checksum.
 *
 * @throws InvalidRequestError for fields out of range (as encodeRecordBatch).
 * @throws CorruptMessageError when no whole, intact batch starts at `position`.
 */
export function stampProducerFields(bytes: Uint8Array, fields: ProducerFields, position = 0): void {
  const { producerId, producerEpoch, baseSequence } = checkedEncodeOptions(fields);
  const size = verifyBatchCrc(bytes, position);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, size);
  writeInt64(view, PRODUCER_ID_OFFSET, producerId);
  view.setInt16(PRODUCER_EPOCH_OFFSET, producerEpoch);
  view.setInt32(BASE_SEQUENCE_OFFSET, baseSequence);
  view.setUint32(CRC_OFFSET, crc32c(bytes, position + ATTRIBUTES_OFFSET, position + size));
}
