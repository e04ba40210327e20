/**
 * The consumer as an async iterable: `for await (const record of consumer)`.
 *
 * Pull-driven: a batch is handed over by the fetch pipeline only when the
 * loop has finished the previous one, so the prefetch bound holds however
 * slow the loop body is. A record counts as processed when the loop asks for
 * the next one; leaving the loop (break, return, throw) leaves the last
 * record it received unprocessed, so it is delivered again (by the next loop,
 * or after a restart from the committed offset): at-least-once.
 */
import { Observable, type Subscription } from 'rxjs';
import type { ConsumerBatch, ConsumerRecord } from './consumerTypes.js';
import type { BatchProcessor } from './fetchTypes.js';

type Current = { batch: ConsumerBatch; index: number; isCurrent: () => boolean; finish: () => void };
type Waiting = { resolve: (result: IteratorResult<ConsumerRecord>) => void; reject: (error: unknown) => void };

/**
 * An iterator over `consume(process)`, started by the first `next()`.
 *
 * @param consume runs the fetch pipeline with a processor until closed
 * @param processed marks the batch's records up to index `last` processed
 */
export function recordIterator(
  consume: (process: BatchProcessor) => Observable<never>,
  processed: (batch: ConsumerBatch, last: number) => void,
): AsyncIterableIterator<ConsumerRecord> {
  let current: Current | undefined;
  let waiting: Waiting | undefined;
  let ended: { error?: unknown } | undefined;
  let subscription: Subscription | undefined;

  /** The next record if one is at hand, done/error if over, else undefined. */
  const take = (): IteratorResult<ConsumerRecord> | { error: unknown } | undefined => {
    for (;;) {
      if (ended !== undefined) return 'error' in ended ? { error: ended.error } : { done: true, value: undefined };
      const batch = current;
      if (batch === undefined) return undefined;
      const { records } = batch.batch;
      if (batch.isCurrent() && batch.index < records.length) {
        // The loop came back for another record: the one it had is done.
        if (batch.index > 0) processed(batch.batch, batch.index - 1);
        return { done: false, value: records[batch.index++]! };
      }
      // Every record was taken and the loop came back for more: the last one is done too.
      if (batch.isCurrent()) processed(batch.batch, records.length - 1);
      current = undefined;
      batch.finish();
    }
  };

  const answer = (waiter: Waiting, result: IteratorResult<ConsumerRecord> | { error: unknown }): void => {
    if ('error' in result) waiter.reject(result.error);
    else waiter.resolve(result);
  };

  const serveWaiting = (): void => {
    if (waiting === undefined) return;
    const result = take();
    if (result === undefined) return;
    const waiter = waiting;
    waiting = undefined;
    answer(waiter, result);
  };

  const process: BatchProcessor = (batch, isCurrent) =>
    new Observable<never>((subscriber) => {
      current = { batch, index: 0, isCurrent, finish: () => subscriber.complete() };
      serveWaiting();
    });

  const iterator: AsyncIterableIterator<ConsumerRecord> = {
    next() {
      const result = take();
      if (result !== undefined) return 'error' in result ? Promise.reject(result.error) : Promise.resolve(result);
      const promise = new Promise<IteratorResult<ConsumerRecord>>((resolve, reject) => (waiting = { resolve, reject }));
      subscription ??= consume(process).subscribe({
        error: (error: unknown) => {
          ended = { error };
          if (waiting !== undefined) serveWaiting();
        },
        complete: () => {
          ended = {};
          if (waiting !== undefined) serveWaiting();
        },
      });
      return promise;
    },
    async return() {
      const batch = current;
      // Records before the last one handed out were finished by the loop body.
      if (batch?.isCurrent() && batch.index > 1) processed(batch.batch, batch.index - 2);
      current = undefined;
      ended ??= {};
      subscription?.unsubscribe();
      if (waiting !== undefined) serveWaiting();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
