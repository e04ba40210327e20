import {
  asyncScheduler,
  defer,
  finalize,
  groupBy,
  map,
  mergeMap,
  Observable,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
} from 'rxjs';
import { InvalidConfigError } from '../../protocol/errors.js';
import { linger, type LingerConfig } from './linger.js';

/** One batch for one partition. */
export type PartitionBatch<K, T> = {
  /** The partition key the items share (e.g. `'orders/3'`). */
  key: K;
  /** The items, in input order, never empty. */
  items: T[];
};

/** Options of {@link batchByPartition}: those of {@link linger}, applied per partition, and more. */
export type BatchByPartitionConfig<T, K> = LingerConfig<T> & {
  /**
   * The partition an item belongs to. Keys are compared with `Map`
   * semantics, so use a primitive such as `${topic}/${partition}`.
   */
  keyOf: (item: T) => K;
  /**
   * A partition that has had no item for this long, in ms, is forgotten (its
   * group ends) so that a producer writing to many partitions over time does
   * not keep one group per partition forever; the next item for it starts a
   * new group. Must be ≥ `lingerMs`, so a group never ends with a batch still
   * lingering. Default 30 000.
   */
  idleMs?: number;
};

/** Default {@link BatchByPartitionConfig.idleMs}. */
export const DEFAULT_PARTITION_IDLE_MS = 30_000;

/**
 * Splits a stream of items by partition and batches each partition on its own
 * with {@link linger}: every partition has its own linger timer (started by its
 * own first item), count and byte limits; `flush$` closes the pending batch of
 * every partition.
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
 * partition; an error is forwarded and pending batches are dropped.
 *
 * Implementation note: the idle check must not subscribe to the group itself
 * (as `duration: g => g.pipe(debounceTime(…))` would): groupBy counts that
 * subscription as a live consumer and then keeps its source subscribed after
 * the result is unsubscribed. The key selector records each partition's last
 * item time instead.
 *
 * @throws InvalidConfigError when `idleMs` < `lingerMs` or a linger limit is invalid.
 */
export function batchByPartition<T, K>(config: BatchByPartitionConfig<T, K>): OperatorFunction<T, PartitionBatch<K, T>> {
  const { keyOf, idleMs = DEFAULT_PARTITION_IDLE_MS, scheduler = asyncScheduler, ...lingerConfig } = config;
  const batchOnePartition = linger<T>({ ...lingerConfig, scheduler });
  if (!(Number.isFinite(idleMs) && idleMs >= lingerConfig.lingerMs)) {
    throw new InvalidConfigError(
      `idleMs must be a finite number ≥ lingerMs (${lingerConfig.lingerMs}), got ${idleMs}`,
    );
  }

  return (source) =>
    defer(() => {
      // Per subscription: when each live partition last saw an item.
      const lastItemAt = new Map<K, number>();
      const keyAndTouch = (item: T): K => {
        const key = keyOf(item);
        lastItemAt.set(key, scheduler.now());
        return key;
      };
      return source.pipe(
        groupBy(keyAndTouch, {
          duration: (group) =>
            whenIdle(() => lastItemAt.get(group.key), idleMs, scheduler).pipe(
              finalize(() => lastItemAt.delete(group.key)),
            ),
        }),
        mergeMap((group) => group.pipe(batchOnePartition, map((items) => ({ key: group.key, items })))),
      );
    });
}

/**
 * Emits once when `lastItemAt()` lies `idleMs` or more in the past. Checks at
 * most once per `idleMs` per group (not per item), rescheduling itself for
 * the moment the group would become idle.
 */
function whenIdle(lastItemAt: () => number | undefined, idleMs: number, scheduler: SchedulerLike): Observable<void> {
  return new Observable<void>((subscriber) =>
    scheduler.schedule(function (this: SchedulerAction<void>) {
      const idleFor = scheduler.now() - (lastItemAt() ?? -Infinity);
      if (idleFor >= idleMs) subscriber.next();
      else this.schedule(undefined, idleMs - idleFor);
    }, idleMs),
  );
}
