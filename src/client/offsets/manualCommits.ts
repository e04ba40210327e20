import { Observable, type OperatorFunction } from 'rxjs';
import { PendingCommits } from './pendingCommits.js';
import type { CommitRequest, PartitionCommit, ProcessedRecord } from './types.js';

/** One call of the consumer's `commit()`. */
export type ManualCommitCall = {
  /** Correlation id, copied into the request (and so into the executor's outcome). */
  callId?: number;
  /**
   * Exact offsets to commit. When absent, everything processed since the last
   * request is committed. When given, pending offsets of those partitions are
   * forgotten: the caller decided what they are.
   */
  offsets?: PartitionCommit[];
};

/**
 * Commits only when asked: every value of `calls$` emits one request at once,
 * even an empty one when nothing changed, so a caller waiting for its
 * `commit()` always gets an answer from the executor.
 *
 * Completes with the source; nothing is committed on completion (the
 * application decides). An error from either input is passed on.
 *
 * @example
 * const calls$ = new Subject<ManualCommitCall>();
 * processed$.pipe(manualCommits(calls$), commitExecutor({ commit }));
 * calls$.next({ callId: 1 });
 *
 * @param calls$ the application's commit calls
 */
export function manualCommits(calls$: Observable<ManualCommitCall>): OperatorFunction<ProcessedRecord, CommitRequest> {
  return (source) =>
    new Observable<CommitRequest>((subscriber) => {
      const pending = new PendingCommits();
      subscriber.add(
        source.subscribe({
          next: (record) => pending.record(record),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
      subscriber.add(
        calls$.subscribe({
          next: (call) => {
            let offsets: PartitionCommit[];
            if (call.offsets === undefined) {
              offsets = pending.take();
            } else {
              pending.drop(call.offsets);
              const explicit = new PendingCommits();
              explicit.merge(call.offsets);
              offsets = explicit.take();
            }
            const request: CommitRequest = { reason: 'manual', offsets };
            if (call.callId !== undefined) request.callId = call.callId;
            subscriber.next(request);
          },
          error: (error: unknown) => subscriber.error(error),
        }),
      );
    });
}
