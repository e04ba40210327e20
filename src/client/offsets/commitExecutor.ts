import {
  Observable,
  asyncScheduler,
  defer,
  from,
  ignoreElements,
  retry,
  throwError,
  timer,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { InvalidConfigError, RetriesExhaustedError, isRetriable } from '../../protocol/errors.js';
import { PendingCommits } from './pendingCommits.js';
import type { CommitRequest, OffsetStats, PartitionCommit } from './types.js';

/** Sends offsets to wherever they are kept (an OffsetStore, the agent). Completing or resolving means committed. */
export type CommitFunction = (offsets: PartitionCommit[]) => ObservableInput<unknown>;

/** Options of {@link commitExecutor}. */
export type CommitExecutorOptions = {
  /** Performs one commit attempt. */
  commit: CommitFunction;
  /** Retries after the first attempt for retriable errors; default 5. */
  maxRetries?: number;
  /** Delay before the first retry in ms, doubled at each further retry; default 100. */
  retryBaseDelayMs?: number;
  /** Upper bound of a retry delay in ms; default 5000. */
  retryMaxDelayMs?: number;
  /** Which errors deserve a retry; default: StreamHouse errors flagged retriable. */
  isRetriable?: (error: unknown) => boolean;
  /** Schedules retry delays and stamps `lastCommitTime`; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
};

/** What became of one commit. */
export type CommitOutcome =
  | {
      type: 'committed';
      /** The offsets sent, by topic then partition. */
      offsets: PartitionCommit[];
      /** The requests folded into this commit, in arrival order. */
      requests: CommitRequest[];
      /** Attempts made (0 when there was nothing to send). */
      attempts: number;
      /** Counters after this commit. */
      stats: OffsetStats;
    }
  | {
      type: 'failed';
      /** The offsets that were not committed. */
      offsets: PartitionCommit[];
      /** The requests folded into this commit, in arrival order. */
      requests: CommitRequest[];
      /** Attempts made. */
      attempts: number;
      /** The error of a non-retriable failure, or RetriesExhaustedError with the last one as cause. */
      error: unknown;
      /** Counters after this failure. */
      stats: OffsetStats;
    };

/**
 * Runs commit requests one at a time, in order, and emits one outcome per
 * commit.
 *
 * Neither `concatMap` (which would send every stale request in turn) nor
 * `exhaustMap` (which would drop the newest offsets): requests that arrive
 * while a commit is in flight are folded into a single pending commit holding
 * the latest offset per partition (the later request wins, so a seek back is
 * respected), sent as soon as the running one ends. Commits never overtake
 * each other, and a partition's committed offset only moves as requested.
 *
 * A retriable failure is retried after `retryBaseDelayMs * 2^(retry-1)`
 * (capped by `retryMaxDelayMs`), up to `maxRetries` times, with the same
 * offsets; other failures end the commit at once. A failed commit is
 * reported as a `failed` outcome, never as an error of the stream, and its
 * offsets are not retried later: the next request carries newer ones.
 *
 * When the source completes, the executor completes after the pending
 * commits are done (commit on close). A source error is passed on at once,
 * cancelling the running commit, as does unsubscribing.
 *
 * @example
 * processed$.pipe(periodicCommits(5000), commitExecutor({ commit: (offsets) => store.save(groupId, offsets) }))
 */
export function commitExecutor(options: CommitExecutorOptions): OperatorFunction<CommitRequest, CommitOutcome> {
  const {
    commit,
    maxRetries = 5,
    retryBaseDelayMs = 100,
    retryMaxDelayMs = 5000,
    isRetriable: shouldRetry = isRetriable,
    scheduler = asyncScheduler,
  } = options;
  checkOptions(maxRetries, retryBaseDelayMs, retryMaxDelayMs);
  const delayFor = (retry: number) => Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (retry - 1));

  return (source) =>
    new Observable<CommitOutcome>((subscriber) => {
      const stats: OffsetStats = { commits: 0, failures: 0, lastCommitTime: undefined };
      let pending: { offsets: PendingCommits; requests: CommitRequest[] } | undefined;
      let busy = false;
      let sourceDone = false;

      const runNext = () => {
        if (busy) return;
        if (pending === undefined) {
          if (sourceDone) subscriber.complete();
          return;
        }
        const { requests } = pending;
        const offsets = pending.offsets.take();
        pending = undefined;
        if (offsets.length === 0) {
          subscriber.next({ type: 'committed', offsets, requests, attempts: 0, stats: { ...stats } });
          runNext();
          return;
        }
        busy = true;
        let attempts = 0;
        const finish = (outcome: CommitOutcome) => {
          busy = false;
          subscriber.next(outcome);
          runNext();
        };
        const attempt = defer(() => {
          attempts++;
          return from(commit(offsets));
        }).pipe(
          ignoreElements(),
          retry({
            count: maxRetries,
            delay: (error: unknown, retryCount) =>
              shouldRetry(error) ? timer(delayFor(retryCount), scheduler) : throwError(() => error),
          }),
        );
        subscriber.add(
          attempt.subscribe({
            complete: () => {
              stats.commits++;
              stats.lastCommitTime = scheduler.now();
              finish({ type: 'committed', offsets, requests, attempts, stats: { ...stats } });
            },
            error: (cause: unknown) => {
              stats.failures++;
              const error =
                shouldRetry(cause) && attempts > maxRetries
                  ? new RetriesExhaustedError(`commit failed after ${attempts} attempts`, { cause })
                  : cause;
              finish({ type: 'failed', offsets, requests, attempts, error, stats: { ...stats } });
            },
          }),
        );
      };

      subscriber.add(
        source.subscribe({
          next: (request) => {
            pending ??= { offsets: new PendingCommits(), requests: [] };
            pending.offsets.merge(request.offsets);
            pending.requests.push(request);
            runNext();
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            sourceDone = true;
            runNext();
          },
        }),
      );
    });
}

function checkOptions(maxRetries: number, baseDelayMs: number, maxDelayMs: number): void {
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new InvalidConfigError(`maxRetries must be a non-negative integer, got ${maxRetries}`);
  }
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= baseDelayMs) || !Number.isFinite(maxDelayMs)) {
    throw new InvalidConfigError(
      `retry delays must satisfy 0 <= retryBaseDelayMs <= retryMaxDelayMs < Infinity, got ${baseDelayMs} and ` +
        `${maxDelayMs}`,
    );
  }
}
