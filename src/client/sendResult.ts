/**
 * SendResult: what `Producer.send(record)` returns for one record, and
 * BatchOutcome, the fate of the batch the record went into.
 *
 * A record's fate is its batch's: acknowledged at the batch's base offset
 * plus the record's index, or failed with the batch's error. So the producer
 * settles a batch, not each record (as Kafka's FutureRecordMetadata reads
 * its batch's ProduceRequestResult): it keeps no reference to the records'
 * SendResults, and a SendResult the caller drops is garbage at once instead
 * of living in the producer until the acknowledgement. At a million records a
 * second, keeping a million objects a second alive for tens of milliseconds
 * was most of the producer's garbage-collection work.
 *
 * Nothing is allocated beyond the SendResult until someone asks to wait: the
 * Promise (and its timer) exist only for callers of
 * {@link SendResult.waitOffset}. A failure that nobody waits for is kept in
 * {@link SendResult.error} and never becomes an unhandled rejection.
 */
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { DeliveryTimeoutError, InvalidRequestError } from '../protocol/errors.js';

/** A caller waiting in {@link SendResult.waitOffset}. */
type Waiter = {
  /** The record's index in its batch. */
  index: number;
  resolve: (offset: number) => void;
  reject: (error: unknown) => void;
  /** The timeout of this waiter, if it gave one. */
  timer: Subscription | undefined;
};

/**
 * The fate of one batch of records of one topic-partition, shared by the SendResults of its records. Settled once:
 * the first settlement wins. Not exported by the package.
 */
export class BatchOutcome {
  private baseOffset: number | undefined = undefined;
  private failure: unknown = undefined;
  private failed = false;
  /**
   * Callers of waitOffset on this batch's records still waiting; undefined until the first (most batches have none).
   */
  private waiters: Waiter[] | undefined = undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Whether the batch's fate is known. */
  get settled(): boolean {
    return this.baseOffset !== undefined || this.failed;
  }

  /** Why the batch was not delivered; undefined unless it failed. */
  get error(): unknown {
    return this.failure;
  }

  /**
   * The offset of record `index` once acknowledged: base offset + index, or
   * -1 for every record when the agent gave none (acks `none`).
   */
  offsetOf(index: number): number | undefined {
    const base = this.baseOffset;
    if (base === undefined) return undefined;
    return base < 0 ? -1 : base + index;
  }

  /** @internal The producer reports the batch acknowledged at `baseOffset` (-1: acknowledged without offsets). */
  resolve(baseOffset: number): void {
    if (this.settled) return;
    this.baseOffset = baseOffset;
    const waiters = this.takeWaiters();
    if (waiters !== undefined) for (const waiter of waiters) waiter.resolve(this.offsetOf(waiter.index)!);
  }

  /** @internal The producer reports that the batch will not be delivered. */
  reject(error: unknown): void {
    if (this.settled) return;
    this.failed = true;
    this.failure = error;
    const waiters = this.takeWaiters();
    if (waiters !== undefined) for (const waiter of waiters) waiter.reject(error);
  }

  /** @internal Adds a waiter for an unsettled batch. */
  addWaiter(waiter: Waiter): void {
    (this.waiters ??= []).push(waiter);
  }

  /** @internal Removes a waiter that gave up. */
  removeWaiter(waiter: Waiter): void {
    const waiters = this.waiters;
    if (waiters === undefined) return;
    const index = waiters.indexOf(waiter);
    if (index >= 0) waiters.splice(index, 1);
  }

  /** Removes and returns every waiter, their timers cleared; undefined when there were none. */
  private takeWaiters(): Waiter[] | undefined {
    const waiters = this.waiters;
    if (waiters === undefined) return undefined;
    this.waiters = undefined;
    for (const waiter of waiters) waiter.timer?.unsubscribe();
    return waiters;
  }
}

/** The outcome of sending one record: where it went, and its offset once acknowledged. */
export class SendResult {
  /** The record's topic. */
  readonly topic: string;
  /** The partition the record was assigned to. */
  readonly partition: number;
  /** The record's timestamp, in ms since the epoch. */
  readonly timestamp: number;
  private readonly batch: BatchOutcome;
  private readonly index: number;

  /** @internal Created by the producer: record `index` of the batch whose fate is `batch`. */
  /** @param scheduler times `waitOffset`'s timeout (the producer's scheduler) */
  constructor(
    batch: BatchOutcome,
    index: number,
    timestamp: number,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    this.topic = batch.topic;
    this.partition = batch.partition;
    this.timestamp = timestamp;
    this.batch = batch;
    this.index = index;
  }

  /**
   * The record's offset once the agent acknowledged it; undefined before that (and after a failure); -1 with acks
   * `none`.
   */
  get offset(): number | undefined {
    return this.batch.offsetOf(this.index);
  }

  /** Why the record was not delivered, once that is known; undefined otherwise. */
  get error(): unknown {
    return this.batch.error;
  }

  /** Whether the record's fate is known: acknowledged or failed. */
  get settled(): boolean {
    return this.batch.settled;
  }

  /**
   * Resolves with the record's offset once it is acknowledged, or rejects
   * with the reason it was not delivered (e.g. RetriesExhaustedError,
   * DeliveryTimeoutError from the producer). Settled results answer at once.
   *
   * @param timeoutMs stop waiting after this many ms and reject with
   *   DeliveryTimeoutError (the record may still be delivered later; its
   *   `offset` then shows it). Default: no timeout of its own; the
   *   producer's delivery timeout still applies. Never hangs past it: the
   *   timer is cleared as soon as the result settles.
   * @returns a new Promise per call; rejects with InvalidRequestError for a
   *   timeout that is not a number ≥ 0.
   */
  waitOffset(timeoutMs?: number): Promise<number> {
    const batch = this.batch;
    const offset = batch.offsetOf(this.index);
    if (offset !== undefined) return Promise.resolve(offset);
    if (batch.settled) return Promise.reject(batch.error);
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return Promise.reject(
        new InvalidRequestError(`waitOffset timeout must be a number of ms ≥ 0, got ${timeoutMs}`, {
          context: { topic: this.topic, partition: this.partition },
        }),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { index: this.index, resolve, reject, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        waiter.timer = this.scheduler.schedule(() => {
          batch.removeWaiter(waiter);
          reject(
            new DeliveryTimeoutError(
              `no offset for the record sent to ${this.topic}/${this.partition} within ${timeoutMs} ms`,
              {
                context: { topic: this.topic, partition: this.partition },
              },
            ),
          );
        }, timeoutMs);
      }
      batch.addWaiter(waiter);
    });
  }
}
