/**
 * Idempotent-producer bookkeeping for one partition: which sequences each
 * producer has written, so that a retried batch is answered with its original
 * offsets instead of being written twice.
 *
 * Kept in memory by the partition's writer, seeded from the metadata store
 * (where the last batch of each producer is committed atomically with the
 * segment), so a new leader after failover still recognises a retry of the
 * last batch.
 */
import type { ProducerPartitionState } from '../../metadata/metadataStore.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../protocol/errors.js';

/** How many recent batches per producer are remembered for duplicate detection (as Kafka: 5 in flight). */
export const RECENT_BATCHES = 5;

type RecentBatch = { firstSequence: number; lastSequence: number; baseOffset: number; recordCount: number };

type ProducerEntry = { epoch: number; recent: RecentBatch[] };

/** The outcome of checking a batch's sequence. */
export type SequenceCheck =
  | { kind: 'append' }
  /** A retry of a batch already appended: answer with its offsets. */
  | { kind: 'duplicate'; baseOffset: number; recordCount: number };

const INT32_MAX = 2 ** 31 - 1;

/** The sequence after `sequence`, wrapping at int32 max like Kafka. */
export function nextSequence(sequence: number, by = 1): number {
  const next = sequence + by;
  return next > INT32_MAX ? next - INT32_MAX - 1 : next;
}

export class ProducerSequences {
  private readonly producers = new Map<number, ProducerEntry>();

  /** Whether this producer's state was loaded (or seen) already. */
  has(producerId: number): boolean {
    return this.producers.has(producerId);
  }

  /** Seeds state from the store (or records that the store knows nothing). */
  seed(producerId: number, stored: ProducerPartitionState | undefined): void {
    if (this.producers.has(producerId)) return;
    if (stored === undefined) {
      this.producers.set(producerId, { epoch: -1, recent: [] });
      return;
    }
    const firstSequence = nextSequence(stored.lastSequence, -(stored.lastRecordCount - 1));
    this.producers.set(producerId, {
      epoch: stored.producerEpoch,
      recent: [
        {
          firstSequence: firstSequence < 0 ? firstSequence + INT32_MAX + 1 : firstSequence,
          lastSequence: stored.lastSequence,
          baseOffset: stored.lastBaseOffset,
          recordCount: stored.lastRecordCount,
        },
      ],
    });
  }

  /**
   * Checks a batch's sequence. Throws InvalidProducerEpochError for an older
   * epoch and OutOfOrderSequenceError for a gap or a reordering.
   */
  check(producerId: number, epoch: number, baseSequence: number, recordCount: number): SequenceCheck {
    const entry = this.producers.get(producerId) ?? { epoch: -1, recent: [] };
    if (epoch < entry.epoch) {
      throw new InvalidProducerEpochError(`producer ${producerId} epoch ${epoch} is older than ${entry.epoch}`);
    }
    if (epoch > entry.epoch || entry.recent.length === 0) {
      if (baseSequence !== 0) {
        throw new OutOfOrderSequenceError(
          `producer ${producerId} epoch ${epoch} must start at sequence 0 on this partition, got ${baseSequence}`,
        );
      }
      return { kind: 'append' };
    }
    const lastSequence = nextSequence(baseSequence, recordCount - 1);
    const duplicate = entry.recent.find((b) => b.firstSequence === baseSequence && b.lastSequence === lastSequence);
    if (duplicate !== undefined) {
      return { kind: 'duplicate', baseOffset: duplicate.baseOffset, recordCount: duplicate.recordCount };
    }
    const last = entry.recent[entry.recent.length - 1]!;
    if (baseSequence !== nextSequence(last.lastSequence)) {
      throw new OutOfOrderSequenceError(
        `producer ${producerId} sent sequence ${baseSequence}, expected ${nextSequence(last.lastSequence)}`,
      );
    }
    return { kind: 'append' };
  }

  /**
   * Whether a batch is ahead of what the producer's next sequence should be:
   * its predecessors have not arrived yet (HTTP/2 streams of one connection
   * can complete out of order), so waiting briefly may let them in first.
   */
  isAhead(producerId: number, epoch: number, baseSequence: number): boolean {
    const entry = this.producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch || entry.recent.length === 0) return epoch >= (entry?.epoch ?? -1) && baseSequence > 0;
    if (epoch < entry.epoch) return false;
    const expected = nextSequence(entry.recent[entry.recent.length - 1]!.lastSequence);
    const gap = baseSequence - expected;
    // Within half the sequence space ahead (sequences wrap at int32 max).
    return (gap > 0 && gap < 2 ** 30) || (gap < 0 && gap < -(2 ** 30));
  }

  /** Records an appended batch (after its offsets were assigned). */
  record(producerId: number, epoch: number, baseSequence: number, recordCount: number, baseOffset: number): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch) {
      entry = { epoch, recent: [] };
      this.producers.set(producerId, entry);
    }
    entry.recent.push({ firstSequence: baseSequence, lastSequence: nextSequence(baseSequence, recordCount - 1), baseOffset, recordCount });
    if (entry.recent.length > RECENT_BATCHES) entry.recent.shift();
  }

  /** The state of one producer's last batch, as committed with a segment. */
  lastState(producerId: number): ProducerPartitionState | undefined {
    const entry = this.producers.get(producerId);
    const last = entry?.recent[entry.recent.length - 1];
    if (entry === undefined || last === undefined) return undefined;
    return {
      producerId,
      producerEpoch: entry.epoch,
      lastSequence: last.lastSequence,
      lastBaseOffset: last.baseOffset,
      lastRecordCount: last.recordCount,
    };
  }
}
