import { Observable, type OperatorFunction } from 'rxjs';
import { PendingCommits } from './pendingCommits.js';
import type { CommitRequest, ProcessedRecord } from './types.js';

/**
 * Commits when a partition catches up: when a processed record brings its
 * partition's position (`offset + 1`) to the high watermark it was fetched
 * with. The request then holds everything pending, on every partition, so
 * one commit covers the others too.
 *
 * A consumer reading far behind commits rarely with this strategy; pair it
 * with `periodicCommits` (through `commitTriggers`) if that matters. Records
 * without a `highWatermark` never trigger. When the source completes,
 * whatever is pending is committed; when it errors, nothing is.
 *
 * @example
 * processed$.pipe(onWatermarkCommits(), commitExecutor({ commit }))
 */
export function onWatermarkCommits(): OperatorFunction<ProcessedRecord, CommitRequest> {
  return (source) =>
    new Observable<CommitRequest>((subscriber) => {
      const pending = new PendingCommits();
      const flush = () => {
        if (pending.size > 0) subscriber.next({ reason: 'watermark', offsets: pending.take() });
      };
      return source.subscribe({
        next: (record) => {
          pending.record(record);
          if (record.highWatermark !== undefined && record.offset + 1 >= record.highWatermark) flush();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
    });
}
