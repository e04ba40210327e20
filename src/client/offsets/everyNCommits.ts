import { Observable, type OperatorFunction } from 'rxjs';
import { InvalidConfigError } from '../../protocol/errors.js';
import { PendingCommits } from './pendingCommits.js';
import type { CommitRequest, ProcessedRecord } from './types.js';

/** Default record count between commits for the `every-n` strategy. */
export const DEFAULT_COMMIT_EVERY_N = 1000;

/**
 * Commits after every `n` processed records, synchronously with the n-th.
 *
 * Each request holds the latest offset of every partition that moved since
 * the previous one. When the source completes, a partial count is committed
 * too; when it errors, nothing is.
 *
 * @example
 * processed$.pipe(everyNCommits(100), commitExecutor({ commit }))
 *
 * @param n records between commits, a positive integer; default 1000
 */
export function everyNCommits(n: number = DEFAULT_COMMIT_EVERY_N): OperatorFunction<ProcessedRecord, CommitRequest> {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InvalidConfigError(`commit count must be a positive integer, got ${n}`);
  }
  return (source) =>
    new Observable<CommitRequest>((subscriber) => {
      const pending = new PendingCommits();
      let count = 0;
      const flush = () => {
        count = 0;
        if (pending.size > 0) subscriber.next({ reason: 'every-n', offsets: pending.take() });
      };
      return source.subscribe({
        next: (record) => {
          pending.record(record);
          if (++count === n) flush();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
    });
}
