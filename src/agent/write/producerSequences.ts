/**
 * Idempotent-producer bookkeeping for one partition: which sequences each
 * producer has written, so that a retried batch is answered with its original
 * offsets instead of being written twice.
 *
 * Kept in memory by the partition's writer, seeded from the metadata store
 * (where each producer's last RECENT_BATCHES batches are committed atomically
 * with the segment), so a new leader after a restart or failover recognises a
 * retry of any of them. A producer not seen for `producerIdExpirationMs` is
 * forgotten, as the store forgets it (Kafka's `producer.id.expiration.ms`).
 */
import type { ProducerBatchState, ProducerPartitionState } from '../../metadata/metadataStore.js';
import { MAX_PRODUCER_BATCHES } from '../../metadata/producerStates.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../protocol/errors.js';

/** How many recent batches per producer are remembered for duplicate detection (as Kafka: 5 in flight). */
export const RECENT_BATCHES = MAX_PRODUCER_BATCHES;

/** Default {@link ProducerSequences} expiry, ms: one day, Kafka's `producer.id.expiration.ms`. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

type RecentBatch = { firstSequence: number; lastSequence: number; baseOffset: number; recordCount: number };

type ProducerEntry = { epoch: number; recent: RecentBatch[]; lastSeen: number };

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

/** The first sequence of a batch of `recordCount` records ending at `lastSequence`. */
function firstSequenceOf(lastSequence: number, recordCount: number): number {
  const first = lastSequence - (recordCount - 1);
  return first < 0 ? first + INT32_MAX + 1 : first;
}

function recentOf(batch: ProducerBatchState): RecentBatch {
  return { firstSequence: firstSequenceOf(batch.lastSequence, batch.recordCount), ...batch };
}

export class ProducerSequences {
  /** By last use, least recent first (an entry is moved to the end when used), so expiry looks at the front only. */
  private readonly producers = new Map<number, ProducerEntry>();

  /**
   * @param clock time for expiry, ms
   * @param expirationMs producers idle longer than this are forgotten
   */
  constructor(
    private readonly clock: () => number = Date.now,
    private readonly expirationMs = DEFAULT_PRODUCER_ID_EXPIRATION_MS,
  ) {}

  /** Whether this producer's state was loaded (or seen) already. */
  has(producerId: number): boolean {
    return this.producers.has(producerId);
  }

  /** How many producers are remembered. */
  get size(): number {
    return this.producers.size;
  }

  /** Seeds state from the store (or records that the store knows nothing). */
  seed(producerId: number, stored: ProducerPartitionState | undefined): void {
    if (this.producers.has(producerId)) return;
    this.expire();
    if (stored === undefined) {
      this.producers.set(producerId, { epoch: -1, recent: [], lastSeen: this.clock() });
      return;
    }
    const last = {
      lastSequence: stored.lastSequence,
      baseOffset: stored.lastBaseOffset,
      recordCount: stored.lastRecordCount,
    };
    const recent = [...(stored.earlierBatches ?? []), last].slice(-RECENT_BATCHES).map(recentOf);
    this.producers.set(producerId, { epoch: stored.producerEpoch, recent, lastSeen: this.clock() });
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
    if (entry === undefined || epoch > entry.epoch || entry.recent.length === 0)
      return epoch >= (entry?.epoch ?? -1) && baseSequence > 0;
    if (epoch < entry.epoch) return false;
    const expected = nextSequence(entry.recent[entry.recent.length - 1]!.lastSequence);
    const gap = baseSequence - expected;
    // Within half the sequence space ahead (sequences wrap at int32 max).
    return (gap > 0 && gap < 2 ** 30) || (gap < 0 && gap < -(2 ** 30));
  }

  /** Records an appended batch (after its offsets were assigned). */
  record(producerId: number, epoch: number, baseSequence: number, recordCount: number, baseOffset: number): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch) entry = { epoch, recent: [], lastSeen: 0 };
    entry.recent.push({
      firstSequence: baseSequence,
      lastSequence: nextSequence(baseSequence, recordCount - 1),
      baseOffset,
      recordCount,
    });
    if (entry.recent.length > RECENT_BATCHES) entry.recent.shift();
    entry.lastSeen = this.clock();
    this.producers.delete(producerId);
    this.producers.set(producerId, entry);
    this.expire();
  }

  /** One producer's state as it is committed with a segment: its recent batches, the last in the last* fields. */
  state(producerId: number): ProducerPartitionState | undefined {
    const entry = this.producers.get(producerId);
    const last = entry?.recent[entry.recent.length - 1];
    if (entry === undefined || last === undefined) return undefined;
    const state: ProducerPartitionState = {
      producerId,
      producerEpoch: entry.epoch,
      lastSequence: last.lastSequence,
      lastBaseOffset: last.baseOffset,
      lastRecordCount: last.recordCount,
    };
    if (entry.recent.length === 1) return state;
    const earlierBatches = entry.recent
      .slice(0, -1)
      .map(({ lastSequence, baseOffset, recordCount }) => ({ lastSequence, baseOffset, recordCount }));
    return { ...state, earlierBatches };
  }

  /** Forgets producers idle longer than the expiration. */
  private expire(): void {
    const oldest = this.clock() - this.expirationMs;
    for (const [producerId, entry] of this.producers) {
      if (entry.lastSeen >= oldest) return;
      this.producers.delete(producerId);
    }
  }
}
