import { EMPTY, connect, merge, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { everyNCommits } from './everyNCommits.js';
import { manualCommits, type ManualCommitCall } from './manualCommits.js';
import { onWatermarkCommits } from './onWatermarkCommits.js';
import { periodicCommits } from './periodicCommits.js';
import type { CommitRequest, ProcessedRecord } from './types.js';

/**
 * When a consumer commits its offsets.
 * - `periodic`: every `intervalMs` (default 5000, Kafka's `auto.commit.interval.ms`),
 *   only when something changed.
 * - `every-n`: after every `count` processed records (default 1000).
 * - `on-watermark`: when a partition catches up with its high watermark.
 * - `manual`: only when the application calls `commit()`.
 *
 * Whatever the strategy, explicit `commit()` calls are honoured too, as in
 * Kafka where `commitSync()` works alongside auto-commit.
 */
export type CommitStrategy =
  | {
      type: 'periodic';
      /** Time between commits in ms; default 5000. */
      intervalMs?: number;
    }
  | {
      type: 'every-n';
      /** Processed records between commits; default 1000. */
      count?: number;
    }
  | { type: 'on-watermark' }
  | { type: 'manual' };

/** The default strategy: periodic, every 5000 ms. */
export const DEFAULT_COMMIT_STRATEGY: CommitStrategy = { type: 'periodic' };

/** Inputs of {@link commitTriggers} besides the strategy. */
export type CommitTriggerOptions = {
  /** Explicit `commit()` calls; default none. */
  calls$?: Observable<ManualCommitCall>;
  /** Scheduler for time-based strategies; default `asyncScheduler`. */
  scheduler?: SchedulerLike;
};

/**
 * The commit strategy as one operator: processed records in, commit requests
 * out, explicit calls merged in.
 *
 * @example
 * processed$.pipe(commitTriggers({ type: 'every-n', count: 500 }, { calls$ }), commitExecutor({ commit }))
 */
export function commitTriggers(
  strategy: CommitStrategy = DEFAULT_COMMIT_STRATEGY,
  options: CommitTriggerOptions = {},
): OperatorFunction<ProcessedRecord, CommitRequest> {
  const { calls$ = EMPTY, scheduler } = options;
  if (strategy.type === 'manual') return manualCommits(calls$);
  const automatic = automaticCommits(strategy, scheduler);
  if (calls$ === EMPTY) return automatic;
  return connect((shared) => merge(shared.pipe(automatic), shared.pipe(manualCommits(calls$))));
}

function automaticCommits(
  strategy: Exclude<CommitStrategy, { type: 'manual' }>,
  scheduler: SchedulerLike | undefined,
): OperatorFunction<ProcessedRecord, CommitRequest> {
  switch (strategy.type) {
    case 'periodic':
      return periodicCommits(strategy.intervalMs, scheduler);
    case 'every-n':
      return everyNCommits(strategy.count);
    case 'on-watermark':
      return onWatermarkCommits();
  }
}
