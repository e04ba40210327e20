import { asyncScheduler, Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { InvalidConfigError, InvalidRequestError } from '../../protocol/errors.js';
import type { LingerConfig } from './linger.js';

/** One batch for one partition, as an array of its items (without a {@link BatchBuilder}). */
export type PartitionBatch<K, T> = {
  /** The partition key the items share (e.g. `'orders/3'`). */
  key: K;
  /** The items, in input order, never empty. */
  items: T[];
};

/** One batch for one partition, made by the config's {@link BatchBuilder}. */
export type BuiltPartitionBatch<K, B> = {
  /** The partition key the items share (e.g. `'orders/3'`). */
  key: K;
  /** The batch the builder made, its items added in input order. */
  batch: B;
  /** How many items were added to `batch`, ≥ 1. */
  count: number;
  /** The sum of their sizes by `sizeOf`, in bytes (0 without `sizeOf`). */
  bytes: number;
};

/** How a partition's batch is built, instead of an array of its items. */
export type BatchBuilder<K, T, B> = {
  /** A new empty batch for partition `key` (called for the partition's first item of a batch). */
  create: (key: K) => B;
  /** Adds an item to the batch, in input order. */
  add: (batch: B, item: T) => void;
};

/**
 * Options of {@link batchByPartition}: those of {@link linger}, applied per
 * partition, the partition of an item, and optionally when a partition's
 * lingered batch waits for its partition.
 */
export type BatchByPartitionConfig<T, K> = LingerConfig<T> & {
  /**
   * The partition an item belongs to. Keys are compared with `Map`
   * semantics, so use a primitive such as `${topic}/${partition}`.
   */
  keyOf: (item: T) => K;
  /**
   * Asked when a batch's linger time is up: while it returns true for the
   * batch's partition, the batch stays open and keeps taking items (it still
   * closes at `maxCount` / `maxBytes`, on `flush$` and on completion) until
   * `release$` emits its key. Asked once per batch; a throw fails the result.
   * Default: never hold. Needs `release$`.
   */
  holdWhile?: (key: K) => boolean;
  /**
   * Emits a partition's key when that partition can take a batch again: its
   * held batch, if any, closes at once. A key with no held batch (none open,
   * or its linger time not yet up) is ignored, so it must emit whenever
   * `holdWhile` turns false for a key. Subscribed for as long as the result
   * is; its completion is ignored, its error fails the result.
   */
  release$?: Observable<K>;
};

/** Options of {@link batchByPartition} with batches of type `B` made by a {@link BatchBuilder} instead of arrays. */
export type BatchByPartitionConfigWithBuilder<T, K, B> = BatchByPartitionConfig<T, K> & {
  /**
   * How each batch is built. With it the result emits
   * {@link BuiltPartitionBatch} and this operator keeps no reference to an
   * item once it is added (e.g. each record encoded into its partition's
   * batch as it arrives). Without it a batch is an array of its
   * items, emitted as {@link PartitionBatch}. A throwing `create` or `add`
   * fails the result.
   */
  builder: BatchBuilder<K, T, B>;
};

/** The open batch of one partition. It holds no item itself: only the builder's batch does. */
type OpenBatch<K, B> = {
  key: K;
  batch: B;
  count: number;
  bytes: number;
  /** Its linger timer, started by its first item; undefined once the linger time is up. */
  timer: Subscription | undefined;
  /** Its linger time is up but `holdWhile` kept it open: `release$` closes it. */
  held: boolean;
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
 *
 * // Encoding records as they arrive, and letting a busy partition's batch grow:
 * records$.pipe(
 *   batchByPartition({
 *     keyOf, lingerMs: 5, maxBytes: 16_384, sizeOf,
 *     builder: { create: (key) => new Encoder(key), add: (encoder, r) => encoder.append(r) },
 *     holdWhile: (key) => inFlight.isFull(key),
 *     release$: inFlight.freed$, // the key of a partition whose request has returned
 *   }),
 * ).subscribe(({ key, batch, count, bytes }) => send(key, batch.finish()));
 * // orders/0 busy from 0 to 9, records at 0, 3 and 8 → one batch of 3 at 9 (without holdWhile: 2 at 5, then 1 at 13)
 * ```
 *
 * Batches of one partition come out in input order; batches of different
 * partitions interleave by the time they close. Completion flushes every
 * partition; an error is forwarded and the open batches are dropped (the
 * caller still holds those items). Unsubscribing cancels the timers and the
 * `flush$` and `release$` subscriptions.
 *
 * A `builder` replaces the array of items: a record encoded into its
 * partition's batch as it arrives needs no keeping, by the caller or by this
 * operator, until the batch is sent. (The Producer itself appends to its
 * RecordAccumulator directly, with the same linger rules, and uses RxJS
 * from where a batch closes: a send must not wait for a stream.)
 *
 * `holdWhile` and `release$` are Kafka's accumulator: while a partition's
 * requests are in flight, its last batch keeps taking records past its
 * linger time, so requests grow with load instead of finished batches
 * queueing behind the busy partition (to be merged later, or sent one by
 * one). A held batch closes as soon as its partition is released, or at its
 * count or byte limit, on `flush$` or on completion.
 *
 * Why not `groupBy` + a per-group buffer: groupBy forwards every item
 * through a per-group Subject, whose `next` allocates a closure and an
 * iterator per call; at a million records a second that garbage was a third
 * of the producer's allocations. Here an item costs one map lookup, and a
 * partition holds nothing (no timer, no subscription) between batches: its
 * state exists from its batch's first item until the batch closes, so a
 * producer that wrote to many partitions over time keeps none of them.
 *
 * Re-entrancy: a batch is forgotten before it is emitted, so a synchronous
 * reaction downstream may push items (they open the partition's next batch)
 * or make `release$` emit (it finds only batches still open).
 *
 * @param config limits and collaborators, validated once when the operator is created.
 * @return A function that returns an Observable of non-empty batches: {@link BuiltPartitionBatch}
 * with a `builder`, else {@link PartitionBatch}.
 * @throws InvalidConfigError when a linger limit is invalid, or `holdWhile` comes without `release$`.
 */
export function batchByPartition<T, K, B>(
  config: BatchByPartitionConfigWithBuilder<T, K, B>,
): OperatorFunction<T, BuiltPartitionBatch<K, B>>;
export function batchByPartition<T, K>(
  config: BatchByPartitionConfig<T, K> & { builder?: undefined },
): OperatorFunction<T, PartitionBatch<K, T>>;
export function batchByPartition<T, K, B>(
  config: BatchByPartitionConfig<T, K> & { builder?: BatchBuilder<K, T, B> },
): OperatorFunction<T, BuiltPartitionBatch<K, B> | PartitionBatch<K, T>> {
  const { lingerMs, maxCount = Infinity, maxBytes = Infinity, sizeOf, holdWhile, release$, builder } = config;
  validateLingerLimits(lingerMs, maxCount, maxBytes, sizeOf !== undefined);
  if (holdWhile !== undefined && release$ === undefined) {
    throw new InvalidConfigError('holdWhile needs release$ to say when a held batch may go; pass both or neither');
  }
  if (builder === undefined) {
    const arrayBuilder: BatchBuilder<K, T, T[]> = { create: () => [], add: (items, item) => void items.push(item) };
    return batchWith(config, arrayBuilder, ({ key, batch }): PartitionBatch<K, T> => ({ key, items: batch }));
  }
  return batchWith(
    config,
    builder,
    ({ key, batch, count, bytes }): BuiltPartitionBatch<K, B> => ({ key, batch, count, bytes }),
  );
}

/** The operator for both forms: batches built by `builder`, emitted as `output` makes them. */
function batchWith<T, K, B, R>(
  config: BatchByPartitionConfig<T, K>,
  builder: BatchBuilder<K, T, B>,
  output: (batch: OpenBatch<K, B>) => R,
): OperatorFunction<T, R> {
  const {
    keyOf,
    lingerMs,
    maxCount = Infinity,
    maxBytes = Infinity,
    sizeOf,
    flush$,
    scheduler = asyncScheduler,
  } = config;
  const { holdWhile, release$ } = config;

  return (source) =>
    new Observable<R>((subscriber) => {
      const open = new Map<K, OpenBatch<K, B>>();

      const close = (batch: OpenBatch<K, B>): void => {
        batch.timer?.unsubscribe();
        // Forget it before emitting: a synchronous reaction downstream may push
        // the partition's next item, which must open a fresh batch.
        if (open.get(batch.key) === batch) open.delete(batch.key);
        subscriber.next(output(batch));
      };

      const closeAll = (): void => {
        // A snapshot: batches opened by reactions to these emissions stay open.
        for (const batch of Array.from(open.values())) if (open.get(batch.key) === batch) close(batch);
      };

      const lingerUp = (batch: OpenBatch<K, B>): void => {
        // A fired action is not unsubscribed by the scheduler: end it here, as close() does.
        batch.timer?.unsubscribe();
        batch.timer = undefined;
        let hold = false;
        if (holdWhile !== undefined) {
          try {
            hold = holdWhile(batch.key);
          } catch (error) {
            subscriber.error(error);
            return;
          }
        }
        if (hold) batch.held = true;
        else close(batch);
      };

      const release = (key: K): void => {
        const batch = open.get(key);
        if (batch?.held) close(batch);
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
          // A reaction to that batch may have ended the result (no batch may open
          // after the teardown), or pushed this partition's next item already: it comes first.
          if (subscriber.closed) return;
          batch = open.get(key);
        }
        try {
          if (batch === undefined) {
            batch = { key, batch: builder.create(key), count: 0, bytes: 0, timer: undefined, held: false };
            open.set(key, batch);
          }
          builder.add(batch.batch, item);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        batch.count++;
        batch.bytes += size;
        if (batch.count >= maxCount || batch.bytes >= maxBytes) close(batch);
        else if (batch.count === 1) {
          const lingering = batch;
          batch.timer = scheduler.schedule(() => lingerUp(lingering), lingerMs);
        }
      };

      const forwardError = (error: unknown): void => subscriber.error(error);
      const flushSubscription = flush$?.subscribe({ next: closeAll, error: forwardError });
      const releaseSubscription = release$?.subscribe({ next: release, error: forwardError });
      const sourceSubscription = source.subscribe({
        next: add,
        error: forwardError,
        complete: () => {
          closeAll();
          subscriber.complete();
        },
      });

      return () => {
        for (const batch of open.values()) batch.timer?.unsubscribe();
        open.clear();
        flushSubscription?.unsubscribe();
        releaseSubscription?.unsubscribe();
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
