import { map, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { batchByPartition } from './batchByPartition.js';

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
  // One partition: the keyed implementation with a constant key.
  const batches = batchByPartition<T, 0>({ ...config, keyOf: () => 0 });
  return (source) =>
    source.pipe(
      batches,
      map((batch) => batch.items),
    );
}
