/**
 * SendResult: what `Producer.send(record)` returns for one record.
 *
 * The producer creates one per record, so it allocates nothing beyond its
 * fields until someone asks to wait: the Promise (and its timer) exist only
 * for callers of {@link SendResult.waitOffset}. A failure that nobody waits
 * for is kept in {@link SendResult.error} and never becomes an unhandled
 * rejection.
 */
import { DeliveryTimeoutError, InvalidRequestError } from '../protocol/errors.js';

/** A caller waiting in {@link SendResult.waitOffset}. */
type Waiter = {
  resolve: (offset: number) => void;
  reject: (error: unknown) => void;
  /** The timeout of this waiter, if it gave one. */
  timer: ReturnType<typeof setTimeout> | undefined;
};

/** The outcome of sending one record: where it went, and its offset once acknowledged. */
export class SendResult {
  /** The record's topic. */
  readonly topic: string;
  /** The partition the record was assigned to. */
  readonly partition: number;
  /** The record's timestamp, in ms since the epoch. */
  readonly timestamp: number;
  #offset: number | undefined = undefined;
  #error: unknown = undefined;
  #failed = false;
  /** Callers of waitOffset still waiting; undefined until the first one (most records have none). */
  #waiters: Waiter[] | undefined = undefined;

  /** @internal Created by the producer. */
  constructor(topic: string, partition: number, timestamp: number) {
    this.topic = topic;
    this.partition = partition;
    this.timestamp = timestamp;
  }

  /** The record's offset once the agent acknowledged it; undefined before that (and after a failure). */
  get offset(): number | undefined {
    return this.#offset;
  }

  /** Why the record was not delivered, once that is known; undefined otherwise. */
  get error(): unknown {
    return this.#error;
  }

  /** Whether the record's fate is known: acknowledged or failed. */
  get settled(): boolean {
    return this.#offset !== undefined || this.#failed;
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
    if (this.#offset !== undefined) return Promise.resolve(this.#offset);
    if (this.#failed) return Promise.reject(this.#error);
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return Promise.reject(
        new InvalidRequestError(`waitOffset timeout must be a number of ms ≥ 0, got ${timeoutMs}`, {
          context: { topic: this.topic, partition: this.partition },
        }),
      );
    }
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs !== undefined && timeoutMs !== Infinity) {
        waiter.timer = setTimeout(() => {
          this.#removeWaiter(waiter);
          reject(
            new DeliveryTimeoutError(
              `no offset for the record sent to ${this.topic}/${this.partition} within ${timeoutMs} ms`,
              { context: { topic: this.topic, partition: this.partition } },
            ),
          );
        }, timeoutMs);
      }
      (this.#waiters ??= []).push(waiter);
    });
  }

  /**
   * @internal The producer reports the record's offset. The first
   * settlement wins; later calls are ignored.
   */
  _resolve(offset: number): void {
    if (this.settled) return;
    this.#offset = offset;
    // Most records have no waiter: settle them without allocating anything.
    if (this.#waiters === undefined) return;
    for (const waiter of this.#takeWaiters()) waiter.resolve(offset);
  }

  /**
   * @internal The producer reports that the record will not be delivered.
   * The first settlement wins; later calls are ignored.
   */
  _reject(error: unknown): void {
    if (this.settled) return;
    this.#failed = true;
    this.#error = error;
    if (this.#waiters === undefined) return;
    for (const waiter of this.#takeWaiters()) waiter.reject(error);
  }

  /** Removes and returns every waiter, their timers cleared. */
  #takeWaiters(): Waiter[] {
    const waiters = this.#waiters ?? [];
    this.#waiters = undefined;
    for (const waiter of waiters) if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    return waiters;
  }

  #removeWaiter(waiter: Waiter): void {
    const waiters = this.#waiters;
    if (waiters === undefined) return;
    const index = waiters.indexOf(waiter);
    if (index >= 0) waiters.splice(index, 1);
  }
}
