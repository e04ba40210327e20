/**
 * Hands out the sequence numbers of an idempotent producer's batches, in
 * each partition's order and across moves to a new epoch, and tells from a
 * batch's failures whether it may have been appended.
 *
 * A batch keeps its sequence through its retries, so the agent recognises a
 * retry of an appended batch and answers with the original offsets. After
 * the producer moved to a new epoch, a batch stamped under the old one
 * - is sent as it is while it may have been appended (an attempt's outcome
 *   is unknown), so that a duplicate is still recognised;
 * - is re-stamped with a sequence of the new epoch once the agent refused
 *   it for its sequence (it was not appended), or if it never was in doubt.
 * A partition's sequences of an epoch are handed out in the partition's
 * order: a batch waits until every earlier unsettled batch of its partition
 * carries one of the current epoch.
 *
 * The producer moves to a new epoch when a batch fails for good while it may
 * have been appended, and when the agent refuses the oldest unsettled batch
 * of a partition for its sequence (the agent lost track of the producer's).
 */
import { Subject, concatMap, defer, ignoreElements, of, repeat, take, type Observable } from 'rxjs';
import {
  InvalidProducerEpochError,
  OutOfOrderSequenceError,
  StreamHouseError,
  UnknownProducerIdError,
  type ErrorCodeName,
} from '../../protocol/errors.js';
import type { ProducerIdentity, SequenceAssignment } from './idempotence.js';

/** What the sequencer keeps on a batch. */
export type SequencedBatch = {
  /** Its partition, `${topic}/${partition}`. */
  readonly key: string;
  /** Records in the batch. */
  readonly count: number;
  /** The producer fields it was last stamped with; undefined until its first. */
  sequence?: SequenceAssignment | undefined;
  /** Whether an attempt with `sequence` may have been appended (its outcome is unknown). */
  inDoubt?: boolean;
  /** An attempt with `sequence` went out and has not failed. */
  sending?: boolean;
};

/** The agent refused the batch for its producer fields: it appended nothing of it. */
export function isSequenceRefusal(error: unknown): boolean {
  return (
    error instanceof OutOfOrderSequenceError ||
    error instanceof InvalidProducerEpochError ||
    error instanceof UnknownProducerIdError
  );
}

/**
 * Codes with which an agent refuses a batch before it writes any of it; after any other failure an attempt may have
 * been appended.
 */
const REFUSED_UNWRITTEN: ReadonlySet<ErrorCodeName> = new Set<ErrorCodeName>([
  'NOT_LEADER',
  'AGENT_BUSY',
  'INVALID_REQUEST',
  'CORRUPT_MESSAGE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'RECORD_TOO_LARGE',
  'REQUEST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'LIMIT_EXCEEDED',
  'UNSUPPORTED_VERSION',
]);

export class Sequencer {
  /** Each partition's unsettled batches, oldest first. */
  private readonly lanes = new Map<string, SequencedBatch[]>();
  private readonly changes = new Subject<void>();

  constructor(private readonly identity: ProducerIdentity) {
    identity.bumped$.subscribe(() => this.notify());
  }

  /** The batch is about to be sent for the first time: it takes its place in its partition's order. */
  join(batch: SequencedBatch): void {
    const lane = this.lanes.get(batch.key);
    if (lane === undefined) this.lanes.set(batch.key, [batch]);
    else lane.push(batch);
  }

  /** The batch is settled: later batches of its partition need not wait for it. */
  leave(batch: SequencedBatch): void {
    const lane = this.lanes.get(batch.key);
    const index = lane?.indexOf(batch) ?? -1;
    if (index < 0) return;
    lane!.splice(index, 1);
    if (lane!.length === 0) this.lanes.delete(batch.key);
    this.notify();
  }

  /**
   * Whether an earlier batch of the same partition is unsettled (then OUT_OF_ORDER_SEQUENCE may only mean this one
   * overtook it).
   */
  hasEarlier(batch: SequencedBatch): boolean {
    const lane = this.lanes.get(batch.key);
    return lane !== undefined && lane[0] !== batch && lane.includes(batch);
  }

  /**
   * The producer fields for the batch's next attempt, decided when
   * subscribed: emits once, at once unless the batch needs a new sequence and
   * must wait for a new epoch or for earlier batches of its partition. Fails
   * with the bump's error when the new epoch cannot be had (see
   * ProducerIdentity.ready).
   */
  stamp(batch: SequencedBatch): Observable<SequenceAssignment> {
    return defer(() => {
      const now = this.tryStamp(batch);
      if (now !== undefined) return of(now);
      return this.identity.ready().pipe(
        concatMap(() => {
          const stamped = this.tryStamp(batch);
          return stamped !== undefined ? of(stamped) : this.changes.pipe(take(1), ignoreElements());
        }),
        repeat(),
        take(1),
      );
    });
  }

  /** An attempt with the batch's sequence goes out. */
  sending(batch: SequencedBatch): void {
    batch.sending = true;
  }

  /** The attempt failed with `error`. */
  failed(batch: SequencedBatch, error: unknown): void {
    batch.sending = false;
    if (isSequenceRefusal(error)) {
      batch.inDoubt = false;
      // The oldest batch refused: the agent does not follow this epoch's sequence any more.
      if (batch.sequence !== undefined && this.identity.sameEpoch(batch.sequence) && !this.hasEarlier(batch))
        this.requireBump();
    } else if (!(error instanceof StreamHouseError && REFUSED_UNWRITTEN.has(error.code))) {
      batch.inDoubt = true;
    }
  }

  /**
   * The batch failed for good: its sequences are reused when it surely was not appended, else the producer needs a new
   * epoch.
   */
  gaveUp(batch: SequencedBatch): void {
    const { sequence } = batch;
    if (sequence === undefined) return;
    if (batch.inDoubt === true || batch.sending === true) {
      if (this.identity.sameEpoch(sequence)) this.requireBump();
    } else {
      this.identity.rollBack(batch.key, sequence, batch.count);
    }
  }

  /** The producer fields to send the batch with now, or undefined when it must wait. */
  private tryStamp(batch: SequencedBatch): SequenceAssignment | undefined {
    const { sequence } = batch;
    if (sequence !== undefined && (batch.inDoubt === true || this.identity.isCurrent(sequence))) return sequence;
    if (this.identity.needsBump) return undefined;
    for (const earlier of this.lanes.get(batch.key) ?? []) {
      if (earlier === batch) break;
      if (earlier.sequence === undefined || !this.identity.isCurrent(earlier.sequence)) return undefined;
    }
    const next = this.identity.assign(batch.key, batch.count);
    batch.sequence = next;
    batch.inDoubt = false;
    batch.sending = false;
    this.notify();
    return next;
  }

  private requireBump(): void {
    this.identity.requireBump();
    this.notify();
  }

  private notify(): void {
    if (this.changes.observed) this.changes.next();
  }
}
