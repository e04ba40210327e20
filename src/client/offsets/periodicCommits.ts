import { Observable, asyncScheduler, interval, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { InvalidConfigError } from '../../protocol/errors.js';
import { PendingCommits } from './pendingCommits.js';
import type { CommitRequest, ProcessedRecord } from './types.js';

/** Default commit interval, as Kafka's `auto.commit.interval.ms`. */
export const DEFAULT_COMMIT_INTERVAL_MS = 5000;

/**
 * Commits every `intervalMs` what was processed since the last commit.
 *
 * Ticks come every `intervalMs` from subscription; a tick with nothing new
 * emits nothing. Each request holds the latest offset of every partition that
 * moved since the previous one. When the source completes (the consumer
 * closes) whatever is pending is emitted at once; when it errors, nothing is.
 *
 * @example
 * processed$.pipe(periodicCommits(5000), commitExecutor({ commit }))
 *
 * @param intervalMs time between commits in ms, > 0; default 5000
 * @param scheduler schedules the ticks; default `asyncScheduler`
 */
export function periodicCommits(
  intervalMs: number = DEFAULT_COMMIT_INTERVAL_MS,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<ProcessedRecord, CommitRequest> {
  if (!(intervalMs > 0) || !Number.isFinite(intervalMs)) {
    throw new InvalidConfigError(`commit interval must be a positive number of ms, got ${intervalMs}`);
  }
  return (source) =>
    new Observable<CommitRequest>((subscriber) => {
      const pending = new PendingCommits();
      const flush = () => {
        if (pending.size > 0) subscriber.next({ reason: 'periodic', offsets: pending.take() });
      };
      subscriber.add(interval(intervalMs, scheduler).subscribe(flush));
      subscriber.add(
        source.subscribe({
          next: (record) => pending.record(record),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            flush();
            subscriber.complete();
          },
        }),
      );
    });
}
