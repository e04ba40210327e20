import { asyncScheduler, Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { InvalidConfigError, InvalidRequestError } from '../../protocol/errors.js';
import type { LingerConfig } from './linger.js';

/** One batch for one partition. */
export type PartitionBatch<K, T> = {
  /** The partition key the items share (e.g. `'orders/3'`). */
  key: K;
  /** The items, in input order, never empty. */
  items: T[];
};

/** Options of {@link batchByPartition}: those of {@link linger}, applied per partition, and the partition of an item. */
export type BatchByPartitionConfig<T, K> = LingerConfig<T> & {
  /**
   * The partition an item belongs to. Keys are compared with `Map`
   * semantics, so use a primitive such as `${topic}/${partition}`.
   */
  keyOf: (item: T) => K;
};

/** The open batch of one partition. */
type OpenBatch<K, T> = {
  key: K;
  items: T[];
  bytes: number;
  /** Its linger timer, started by its first item. */
  timer: Subscription | undefined;
};

/**
 * Splits a stream of items by partition and batches each partition on its own
 * by the {@link linger} rules: every partition has its own linger timer
 * (started by its own first item), count and byte limits; `flush$` closes the
 * open batch of every partition.
 *
 * ## Example
 *
 * ```ts
 * records$.pipe(
 *   batchByPartition({ keyOf: (r) => `${r.topic}/${r.partition}`, lingerMs: 5, maxBytes: 16_384, sizeOf }),
 * ).subscribe(({ key, items }) => send(key, items));
 * // orders/0 at t=0, orders/1 at t=2, orders/0 at t=3 → { orders/0: [2 items] } at 5, { orders/1: [1] } at 7
 * ```
 *
 * Batches of one partition come out in input order; batches of different
 * partitions interleave by the time they close. Completion flushes every
 * partition; an error is forwarded and the open batches are dropped (the
 * caller still holds those items). Unsubscribing cancels the timers and the
 * `flush$` subscription.
 *
 * Why not `groupBy` + a per-group buffer: groupBy forwards every item
 * through a per-group Subject, whose `next` allocates a closure and an
 * iterator per call; at a million records a second that garbage was a third
 * of the producer's allocations. Here an item costs one map lookup, and a
 * partition holds nothing (no timer, no subscription) between batches: its
 * state exists from its batch's first item until the batch closes, so a
 * producer that wrote to many partitions over time keeps none of them.
 *
 * @throws InvalidConfigError when a linger limit is invalid.
 */
export function batchByPartition<T, K>(config: BatchByPartitionConfig<T, K>): OperatorFunction<T, PartitionBatch<K, T>> {
  const { keyOf, lingerMs, maxCount = Infinity, maxBytes = Infinity, sizeOf, flush$, scheduler = asyncScheduler } = config;
  validateLingerLimits(lingerMs, maxCount, maxBytes, sizeOf !== undefined);

  return (source) =>
    new Observable<PartitionBatch<K, T>>((subscriber) => {
      const open = new Map<K, OpenBatch<K, T>>();

      const close = (batch: OpenBatch<K, T>): void => {
        batch.timer?.unsubscribe();
        // Forget it before emitting: a synchronous reaction downstream may push
        // the partition's next item, which must open a fresh batch.
        if (open.get(batch.key) === batch) open.delete(batch.key);
        subscriber.next({ key: batch.key, items: batch.items });
      };

      const closeAll = (): void => {
        // A snapshot: batches opened by reactions to these emissions stay open.
        for (const batch of Array.from(open.values())) if (open.get(batch.key) === batch) close(batch);
      };

      const add = (item: T): void => {
        if (subscriber.closed) return;
        let key: K;
        let size = 0;
        try {
          key = keyOf(item);
          if (sizeOf !== undefined) size = sizeOf(item);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        if (!(size >= 0)) {
          subscriber.error(new InvalidRequestError(`linger sizeOf returned ${size}; sizes must be numbers ≥ 0`));
          return;
        }
        let batch = open.get(key);
        while (batch !== undefined && batch.bytes + size > maxBytes) {
          close(batch);
          // A reaction to that batch may have pushed this partition's next item already: it comes first.
          batch = open.get(key);
        }
        if (batch === undefined) {
          batch = { key, items: [], bytes: 0, timer: undefined };
          open.set(key, batch);
        }
        batch.items.push(item);
        batch.bytes += size;
        if (batch.items.length >= maxCount || batch.bytes >= maxBytes) close(batch);
        else if (batch.items.length === 1) {
          const lingering = batch;
          batch.timer = scheduler.schedule(() => close(lingering), lingerMs);
        }
      };

      const flushSubscription = flush$?.subscribe({ next: closeAll, error: (error: unknown) => subscriber.error(error) });
      const sourceSubscription = source.subscribe({
        next: add,
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          closeAll();
          subscriber.complete();
        },
      });

      return () => {
        for (const batch of open.values()) batch.timer?.unsubscribe();
        open.clear();
        flushSubscription?.unsubscribe();
        sourceSubscription.unsubscribe();
      };
    });
}

/**
 * Checks the limits of {@link linger} and {@link batchByPartition}.
 * @throws InvalidConfigError with what to change.
 */
export function validateLingerLimits(lingerMs: number, maxCount: number, maxBytes: number, hasSizeOf: boolean): void {
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
