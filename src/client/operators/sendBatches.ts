import { from, Observable, Subscription, type ObservableInput, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../../protocol/errors.js';

/** Options of {@link sendBatches}. */
export type SendBatchesConfig<B, K, R> = {
  /** The partition (ordering lane) of a batch, compared with `Map` semantics. */
  keyOf: (batch: B) => K;
  /**
   * Sends one batch. Subscribed when the batch's turn comes, unsubscribed
   * if the result is. Its values are emitted (in order per partition); its
   * error fails the whole result, so a producer that wants other partitions
   * to go on catches errors inside `send` and turns them into results.
   */
  send: (batch: B) => ObservableInput<R>;
  /**
   * Most sends running at once across all partitions (Kafka bounds this per
   * connection; here it is one bound for the pipeline). Default 16.
   */
  maxConcurrency?: number;
  /**
   * Most sends of one partition started and not yet emitted. Default 1: a
   * partition's next batch is sent only after the previous one completed,
   * which keeps order even through retries. Kafka allows 5 with idempotence,
   * because the agent then rejects a batch that overtakes its predecessor;
   * raise this only with idempotent sends. Results stay in order either way.
   * A send that completed behind an earlier one still counts until that one
   * completes, so a partition's unsettled batches never span more than this
   * many: an agent that remembers as many of a producer's batches still
   * recognises a retry of the oldest.
   */
  maxInFlightPerPartition?: number;
};

/** Default {@link SendBatchesConfig.maxConcurrency}. */
export const DEFAULT_SEND_CONCURRENCY = 16;

/** A started send whose results wait for the earlier sends of its partition. */
type Slot<R> = { values: R[]; done: boolean };

/** The ordering state of one partition with work queued or running. */
type Lane<B, K, R> = {
  /** The partition. */
  key: K;
  /** Batches of this partition waiting for their turn, oldest first. */
  waiting: B[];
  /** Sends of this partition running now. */
  running: number;
  /**
   * Started sends not yet emitted, oldest first; only the head may emit directly. What counts against
   * maxInFlightPerPartition.
   */
  slots: Slot<R>[];
  /** Whether the lane is in the ready queue. */
  ready: boolean;
};

/**
 * Sends batches with bounded concurrency across partitions while keeping
 * each partition in order: batches of one partition are sent (up to
 * `maxInFlightPerPartition` at a time) and their results emitted strictly in
 * input order; different partitions proceed independently, up to
 * `maxConcurrency` sends in total, taking turns round-robin when sends are
 * scarce. A busy partition never holds up the others.
 *
 * Why not `groupBy` + `mergeMap(group => group.pipe(concatMap(send)), n)`:
 * there `n` limits partitions, not sends, and groups beyond the limit are
 * buffered by mergeMap while groupBy delivers their batches to nobody.
 * And a plain `mergeMap(send, n)` loses the order within a partition.
 *
 * ## Example
 *
 * ```ts
 * batches$.pipe(
 *   sendBatches({ keyOf: (b) => b.key, send: (b) => produce(b).pipe(retryWithBackoff()), maxConcurrency: 8 }),
 * ).subscribe((ack) => resolveOffsets(ack));
 * ```
 *
 * Completes when the source has completed and every send has completed.
 * Unsubscribing cancels the running sends and drops the waiting batches.
 *
 * @throws InvalidConfigError when a limit is not a positive integer.
 */
export function sendBatches<B, K, R>(config: SendBatchesConfig<B, K, R>): OperatorFunction<B, R> {
  const { keyOf, send, maxConcurrency = DEFAULT_SEND_CONCURRENCY, maxInFlightPerPartition = 1 } = config;
  for (const [name, value] of [
    ['maxConcurrency', maxConcurrency],
    ['maxInFlightPerPartition', maxInFlightPerPartition],
  ] as const) {
    if (!(value === Infinity || (Number.isSafeInteger(value) && value >= 1))) {
      throw new InvalidConfigError(`${name} must be an integer ≥ 1 or Infinity, got ${value}`);
    }
  }

  return (source) =>
    new Observable<R>((subscriber) => {
      const lanes = new Map<K, Lane<B, K, R>>();
      /** Lanes with a waiting batch and room for another send, in turn order. */
      const readyLanes: Lane<B, K, R>[] = [];
      const sends = new Subscription();
      let running = 0;
      let sourceDone = false;
      let pumping = false;
      let pumpAgain = false;

      const markReadyIfSo = (lane: Lane<B, K, R>): void => {
        if (!lane.ready && lane.waiting.length > 0 && lane.slots.length < maxInFlightPerPartition) {
          lane.ready = true;
          readyLanes.push(lane);
        }
      };

      /** Emits what the oldest slots of a lane hold, as far as they are complete. */
      const release = (lane: Lane<B, K, R>): void => {
        while (lane.slots.length > 0) {
          const head = lane.slots[0]!;
          for (const value of head.values.splice(0)) subscriber.next(value);
          if (!head.done) break;
          lane.slots.shift();
        }
        if (lane.waiting.length === 0 && lane.running === 0 && lane.slots.length === 0 && !lane.ready) {
          lanes.delete(lane.key);
        }
      };

      const start = (lane: Lane<B, K, R>, batch: B): void => {
        lane.running++;
        running++;
        const slot: Slot<R> = { values: [], done: false };
        lane.slots.push(slot);
        let input: Observable<R>;
        try {
          input = from(send(batch));
        } catch (error) {
          subscriber.error(error);
          return;
        }
        let subscription: Subscription | undefined;
        subscription = input.subscribe({
          next: (value) => {
            if (lane.slots[0] === slot) subscriber.next(value);
            else slot.values.push(value);
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            slot.done = true;
            lane.running--;
            running--;
            // Undefined when the send completed synchronously, inside subscribe().
            if (subscription !== undefined) sends.remove(subscription);
            release(lane);
            markReadyIfSo(lane);
            pump();
          },
        });
        if (!subscription.closed) sends.add(subscription);
      };

      /** Starts waiting batches while there is room; a re-entrant call asks for one more round. */
      const pump = (): void => {
        if (pumping) {
          pumpAgain = true;
          return;
        }
        pumping = true;
        do {
          pumpAgain = false;
          while (running < maxConcurrency && readyLanes.length > 0 && !subscriber.closed) {
            const lane = readyLanes.shift()!;
            lane.ready = false;
            start(lane, lane.waiting.shift() as B);
            markReadyIfSo(lane);
          }
        } while (pumpAgain);
        pumping = false;
        if (sourceDone && running === 0 && readyLanes.length === 0) subscriber.complete();
      };

      const sourceSubscription = source.subscribe({
        next: (batch) => {
          let key: K;
          try {
            key = keyOf(batch);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          let lane = lanes.get(key);
          if (lane === undefined) {
            lane = { key, waiting: [], running: 0, slots: [], ready: false };
            lanes.set(key, lane);
          }
          lane.waiting.push(batch);
          markReadyIfSo(lane);
          pump();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });

      return () => {
        sourceSubscription.unsubscribe();
        sends.unsubscribe();
        readyLanes.length = 0;
        lanes.clear();
      };
    });
}
