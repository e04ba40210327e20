/**
 * One partition of the in-memory cluster: stamped batches in offset order,
 * the high watermark, and the idempotent producers' sequences (the agent's
 * own ProducerSequences, so duplicates and gaps get the agent's answers).
 *
 * @internal
 */
import { readProducerFields } from '../protocol/codec/batchLayout.js';
import { validateProducedBatch } from '../protocol/codec/producedBatchValidation.js';
import { stampBatch } from '../protocol/codec/recordBatch.js';
import { OffsetOutOfRangeError } from '../protocol/errors.js';
import { ProducerSequences } from '../agent/write/producerSequences.js';

type StoredBatch = { baseOffset: number; nextOffset: number; maxTimestamp: number; bytes: Buffer };

/** What an append answered: the batch's first offset (the original one for a retried duplicate). */
export type Appended = { baseOffset: number; recordCount: number; appendTime: number };

export class PartitionLog {
  private readonly batches: StoredBatch[] = [];
  private readonly sequences: ProducerSequences;
  highWatermark = 0;
  readonly logStartOffset = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly clock: () => number,
  ) {
    this.sequences = new ProducerSequences(clock);
  }

  /**
   * Validates a produced batch as the agent does, checks its producer's
   * sequence, then stamps a copy with its offsets and appends it.
   * @throws CorruptMessageError, InvalidRecordError, InvalidProducerEpochError, OutOfOrderSequenceError
   */
  append(batch: Uint8Array, producerId: number, producerEpoch: number): Appended {
    const frame = validateProducedBatch(batch, { maxRecordsBytes: 64 * 1024 * 1024, maxTimestamp: Infinity });
    const { baseSequence } = readProducerFields(batch);
    const appendTime = this.clock();
    if (producerId >= 0) {
      const check = this.sequences.check(producerId, producerEpoch, baseSequence, frame.recordCount);
      if (check.kind === 'duplicate') {
        return { baseOffset: check.baseOffset, recordCount: check.recordCount, appendTime };
      }
    }
    const baseOffset = this.highWatermark;
    const bytes = Buffer.from(batch);
    stampBatch(bytes, baseOffset, 0);
    this.batches.push({
      baseOffset,
      nextOffset: baseOffset + frame.recordCount,
      maxTimestamp: frame.maxTimestamp,
      bytes,
    });
    this.highWatermark = baseOffset + frame.recordCount;
    if (producerId >= 0) {
      this.sequences.record(producerId, producerEpoch, baseSequence, frame.recordCount, baseOffset);
    }
    return { baseOffset, recordCount: frame.recordCount, appendTime };
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` (at least one batch), as the agent reads.
   * @throws OffsetOutOfRangeError outside [logStartOffset, highWatermark]
   */
  read(offset: number, maxBytes: number): Buffer {
    if (offset < this.logStartOffset || offset > this.highWatermark) {
      throw new OffsetOutOfRangeError(
        `offset ${offset} is outside the log of ${this.topic}/${this.partition} ` +
          `[${this.logStartOffset}, ${this.highWatermark}]`,
        { context: { topic: this.topic, partition: this.partition, offset } },
      );
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const batch of this.batches) {
      if (batch.nextOffset <= offset) continue;
      if (chunks.length > 0 && bytes + batch.bytes.length > maxBytes) break;
      chunks.push(batch.bytes);
      bytes += batch.bytes.length;
    }
    return Buffer.concat(chunks);
  }

  /** The first offset of the first batch holding a record at or after `timestamp`, else undefined. */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    const batch = this.batches.find((b) => b.maxTimestamp >= timestamp);
    return batch === undefined ? undefined : { offset: batch.baseOffset, timestamp: batch.maxTimestamp };
  }
}
