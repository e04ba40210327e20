import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { InvalidConfigError, InvalidRequestError } from '../../protocol/errors.js';

/** Options of {@link linger}. */
export type LingerConfig<T> = {
  /**
   * How long a batch may wait for more items, in ms, counted from the batch's
   * FIRST item (Kafka's `linger.ms`). 0 = close the batch at the end of the
   * current turn: items pushed synchronously together still share a batch
   * (with `asyncScheduler` that is the next timer tick).
   */
  lingerMs: number;
  /** Most items in one batch. Default `Infinity`. */
  maxCount?: number;
  /**
   * Most bytes in one batch, as measured by `sizeOf`. An item that would take
   * the batch over closes the batch first and starts the next one; an item
   * larger than `maxBytes` on its own is emitted alone, at once.
   * Default `Infinity`; a finite value needs `sizeOf`.
   */
  maxBytes?: number;
  /** The size of an item in bytes (≥ 0). Default: every item counts 0. */
  sizeOf?: (item: T) => number;
  /**
   * Each emission closes the current batch at once (the producer's
   * `flush()`). Subscribed for as long as the result is; its completion is
   * ignored, its error fails the result.
   */
  flush$?: Observable<unknown>;
  /** Scheduler for the linger timers. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
};

/**
 * Batches items Kafka-style: a batch opens with its first item and closes
 * when `lingerMs` have passed since then, when it holds `maxCount` items or
 * `maxBytes` bytes, or when `flush$` emits — whichever comes first.
 *
 * Unlike `bufferTime`, no timer runs while nothing is pending (an idle
 * partition costs nothing), a batch gets its full linger however its first
 * item fell relative to a free-running interval, and empty arrays are never
 * emitted.
 *
 * On completion the pending batch is emitted before completing. On error the
 * error is forwarded at once and the pending batch is dropped: the caller
 * still holds those items (e.g. to fail their SendResults). Unsubscribing
 * cancels the pending timer and the `flush$` subscription.
 *
 * ## Example
 *
 * ```ts
 * records$.pipe(
 *   linger({ lingerMs: 5, maxCount: 500, maxBytes: 16_384, sizeOf: (r) => r.value.length }),
 * ).subscribe((batch) => send(batch));
 * // a record at t=0 and t=3, nothing after: one batch of 2 at t=5
 * ```
 *
 * @param config limits and collaborators, validated once when the operator is created.
 * @return A function that returns an Observable of non-empty batches, in input order.
 * @throws InvalidConfigError when a limit is out of range.
 */
export function linger<T>(config: LingerConfig<T>): OperatorFunction<T, T[]> {
  const { lingerMs, maxCount = Infinity, maxBytes = Infinity, sizeOf, flush$, scheduler = asyncScheduler } = config;
  validateLimits(lingerMs, maxCount, maxBytes, sizeOf !== undefined);

  return (source) =>
    new Observable<T[]>((subscriber) => {
      let batch: T[] = [];
      let bytes = 0;
      let timer: Subscription | undefined;

      const close = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        if (batch.length === 0) return;
        // Detach before emitting: a synchronous reaction downstream may push
        // the next item, which must land in a fresh batch.
        const full = batch;
        batch = [];
        bytes = 0;
        subscriber.next(full);
      };

      const add = (item: T): void => {
        if (subscriber.closed) return;
        let size = 0;
        if (sizeOf !== undefined) {
          try {
            size = sizeOf(item);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (!(size >= 0)) {
            subscriber.error(new InvalidRequestError(`linger sizeOf returned ${size}; sizes must be numbers ≥ 0`));
            return;
          }
          if (batch.length > 0 && bytes + size > maxBytes) close();
        }
        batch.push(item);
        bytes += size;
        if (batch.length >= maxCount || bytes >= maxBytes) close();
        else if (batch.length === 1) timer = scheduler.schedule(close, lingerMs);
      };

      const flushSubscription = flush$?.subscribe({ next: close, error: (error: unknown) => subscriber.error(error) });
      const sourceSubscription = source.subscribe({
        next: add,
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          close();
          subscriber.complete();
        },
      });

      return () => {
        timer?.unsubscribe();
        flushSubscription?.unsubscribe();
        sourceSubscription.unsubscribe();
        batch = [];
      };
    });
}

/** @throws InvalidConfigError with what to change. */
function validateLimits(lingerMs: number, maxCount: number, maxBytes: number, hasSizeOf: boolean): void {
  if (!(Number.isFinite(lingerMs) && lingerMs >= 0)) {
    throw new InvalidConfigError(`lingerMs must be a finite number ≥ 0, got ${lingerMs}`);
  }
  if (!(maxCount === Infinity || (Number.isSafeInteger(maxCount) && maxCount >= 1))) {
    throw new InvalidConfigError(`maxCount must be an integer ≥ 1 or Infinity, got ${maxCount}`);
  }
  if (!(maxBytes > 0)) {
    throw new InvalidConfigError(`maxBytes must be a number > 0 or Infinity, got ${maxBytes}`);
  }
  if (maxBytes !== Infinity && !hasSizeOf) {
    throw new InvalidConfigError(`maxBytes is ${maxBytes} but no sizeOf was given to measure items`);
  }
}
