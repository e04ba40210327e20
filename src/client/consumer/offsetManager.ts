/**
 * The consumer's OffsetManager: where each partition starts, what has been
 * processed, what is committed and when, and the lag. It composes the
 * building blocks of `src/client/offsets`:
 *
 * ```
 * processed(batch) ──> processed$ ──commitTriggers(strategy, manual calls)──> commitExecutor ──> committer.save
 *        │                                                                        │ outcomes
 *        v                                                                        v
 *  PartitionOffsets (position, high watermark, lag) <──── markCommitted ──── commits$, commit() answers
 * ```
 *
 * Start offsets come from the committed offset when it lies inside the log,
 * else from the reset strategy (`resolveStartOffset`), with the log bounds
 * and timestamp lookups asked of the agents.
 *
 * What a crash between processing and commit does: records processed after
 * the last successful commit are delivered again from the committed offset
 * when the partition is next assigned (here or to another member):
 * at-least-once. Commits only ever cover processed records, so nothing is
 * skipped.
 */
import { Subject, defer, EMPTY, filter, map, type ObservableInput, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import { ConsumerClosedError, InvalidConfigError } from '../../protocol/errors.js';
import { commitExecutor, type CommitOutcome } from '../offsets/commitExecutor.js';
import { commitTriggers, type CommitStrategy } from '../offsets/commitStrategy.js';
import type { ManualCommitCall } from '../offsets/manualCommits.js';
import type { StoredOffset } from '../offsets/offsetStore.js';
import { PartitionOffsets } from '../offsets/partitionOffsets.js';
import { isCommittedInRange, resolveStartOffset, type ResetStrategy } from '../offsets/resetStrategy.js';
import type { OffsetInfo, PartitionCommit, ProcessedRecord, TopicPartition } from '../offsets/types.js';
import type { ConsumerLag } from './consumerTypes.js';
import type { OffsetBoundsLookup } from './offsetLookup.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Where committed offsets are read and written, for one group. */
export type OffsetCommitter = {
  /** Committed offsets of these partitions (those with none are left out). */
  load(partitions: readonly TopicPartition[]): Promise<StoredOffset[]>;
  /** One commit attempt; resolving or completing means committed. */
  save(offsets: PartitionCommit[]): ObservableInput<unknown>;
};

/** Options of {@link OffsetManager}. */
export type OffsetManagerOptions = {
  /** Committed offsets; undefined when the consumer has no group (nothing is committed). */
  committer: OffsetCommitter | undefined;
  /** When to commit. */
  commitStrategy: CommitStrategy;
  /** Where to start without a usable committed offset. */
  resetStrategy: ResetStrategy;
  /** Log bounds and timestamp lookups. */
  lookup: OffsetBoundsLookup;
  /** Retries of a retriable commit failure; default 5. */
  commitRetries?: number;
  /** Delay before the first commit retry, ms, doubled each time; default 100. */
  commitRetryBaseDelayMs?: number;
  /** Upper bound of a commit retry delay, ms; default 5000. */
  commitRetryMaxDelayMs?: number;
  /** Schedules periodic commits and retry delays, stamps positions. */
  scheduler: SchedulerLike;
  /** Told of each commit that failed for good (not retriable, or retries exhausted). */
  onCommitFailed?: (error: unknown, offsets: PartitionCommit[]) => void;
  logger?: Logger | undefined;
};

type Waiter = { resolve: (offsets: PartitionCommit[]) => void; reject: (error: unknown) => void };

export class OffsetManager {
  /** Positions, high watermarks and lag of the assigned partitions. */
  readonly positions: PartitionOffsets;
  private readonly processed$ = new Subject<ProcessedRecord>();
  private readonly calls$ = new Subject<ManualCommitCall>();
  private readonly outcomes$ = new Subject<CommitOutcome>();
  private readonly pipeline: Subscription | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private readonly closed: Promise<void>;
  private nextCallId = 1;
  private readonly countsRecords: boolean;
  private closing = false;

  constructor(private readonly options: OffsetManagerOptions) {
    const { committer, commitStrategy, scheduler } = options;
    this.positions = new PartitionOffsets({ now: () => scheduler.now() });
    this.countsRecords = commitStrategy.type === 'every-n';
    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    if (committer === undefined) {
      resolveClosed();
      return;
    }
    this.pipeline = this.processed$
      .pipe(
        commitTriggers(commitStrategy, { calls$: this.calls$, scheduler }),
        // Offsets of partitions revoked meanwhile are dropped; a request left with nothing goes only if someone waits
        // for it.
        map((request) => ({ ...request, offsets: request.offsets.filter((o) => this.holds(o)) })),
        filter((request) => request.offsets.length > 0 || request.callId !== undefined),
        commitExecutor({
          commit: (offsets) => this.send(committer, offsets),
          maxRetries: options.commitRetries ?? 5,
          retryBaseDelayMs: options.commitRetryBaseDelayMs ?? 100,
          retryMaxDelayMs: options.commitRetryMaxDelayMs ?? 5000,
          scheduler,
        }),
      )
      .subscribe({
        next: (outcome) => this.onOutcome(outcome),
        error: (error: unknown) => {
          this.options.logger?.error({ err: error }, 'commit pipeline failed');
          this.rejectAll(error);
          resolveClosed();
        },
        complete: () => {
          this.outcomes$.complete();
          resolveClosed();
        },
      });
  }

  /** Every commit's outcome, as it happens. */
  get commits$() {
    return this.outcomes$.asObservable();
  }

  /**
   * Starts tracking partitions: the committed offset when it is inside the
   * log, else the reset strategy; `seeks` (positions set before the
   * assignment) win over both. Returns the positions by partition key.
   */
  async assign(
    partitions: readonly TopicPartition[],
    seeks: ReadonlyMap<string, number> = new Map(),
  ): Promise<Map<string, number>> {
    const positions = new Map<string, number>();
    if (partitions.length === 0) return positions;
    const stored = this.options.committer === undefined ? [] : await this.options.committer.load(partitions);
    const committed = new Map(stored.map((s) => [topicPartitionId(s.topic, s.partition), s.offset]));
    const bounds = await this.options.lookup.bounds(partitions);
    const strategy = this.options.resetStrategy;
    let forTimestamp = new Map<string, number>();
    if (strategy.type === 'timestamp') {
      const needed = partitions.filter((tp) => {
        const key = topicPartitionId(tp.topic, tp.partition);
        const b = bounds.get(key)!;
        return !seeks.has(key) && !isCommittedInRange({ committed: committed.get(key), ...b });
      });
      if (needed.length > 0) forTimestamp = await this.options.lookup.offsetsForTimestamp(needed, strategy.timestamp);
    }
    for (const { topic, partition } of partitions) {
      const key = topicPartitionId(topic, partition);
      const { logStartOffset, highWatermark } = bounds.get(key)!;
      const done = committed.get(key);
      const seek = seeks.get(key);
      const position =
        seek ??
        resolveStartOffset({
          committed: done,
          logStartOffset,
          highWatermark,
          strategy,
          ...(forTimestamp.has(key) ? { offsetForTimestamp: forTimestamp.get(key)! } : {}),
          topic,
          partition,
        }).offset;
      this.positions.assign(topic, partition, {
        position,
        highWatermark,
        ...(done === undefined ? {} : { committed: done }),
      });
      positions.set(key, position);
    }
    return positions;
  }

  /**
   * Where to continue after OFFSET_OUT_OF_RANGE: the reset strategy over fresh log bounds; the position moves there.
   */
  async resetPosition(topic: string, partition: number): Promise<number> {
    const tp = [{ topic, partition }];
    const key = topicPartitionId(topic, partition);
    const bounds = (await this.options.lookup.bounds(tp)).get(key)!;
    const strategy = this.options.resetStrategy;
    const offsetForTimestamp =
      strategy.type === 'timestamp'
        ? (await this.options.lookup.offsetsForTimestamp(tp, strategy.timestamp)).get(key)
        : undefined;
    const { offset } = resolveStartOffset({
      ...bounds,
      strategy,
      ...(offsetForTimestamp === undefined ? {} : { offsetForTimestamp }),
      topic,
      partition,
    });
    this.options.logger?.info({ topic, partition, offset, strategy: strategy.type }, 'position out of range: reset');
    if (this.positions.info(topic, partition) !== undefined) this.positions.seek(topic, partition, offset);
    return offset;
  }

  /** Stops tracking partitions (after their final commit, if any). */
  remove(partitions: readonly TopicPartition[]): void {
    for (const { topic, partition } of partitions) this.positions.remove(topic, partition);
  }

  /**
   * Records that the records of a partition up to `lastOffset` are processed
   * (`count` of them, for the every-n strategy) and feeds the commit strategy.
   */
  processed(topic: string, partition: number, lastOffset: number, count: number, highWatermark: number): void {
    this.positions.updateHighWatermark(topic, partition, highWatermark);
    this.positions.markProcessed(topic, partition, lastOffset);
    const record: ProcessedRecord = { topic, partition, offset: lastOffset, highWatermark };
    // every-n counts records; the whole batch is processed, so any of its commits may cover all of it.
    const times = this.countsRecords ? count : 1;
    for (let i = 0; i < times; i++) this.processed$.next(record);
  }

  /**
   * Commits now: everything processed (or exactly `offsets`), folded with any
   * commit under way. Resolves with the offsets committed; rejects with the
   * commit's error, or InvalidConfigError without a group.
   */
  commit(offsets?: PartitionCommit[]): Promise<PartitionCommit[]> {
    if (this.pipeline === undefined) {
      return Promise.reject(new InvalidConfigError('nothing to commit to: give the consumer a groupId'));
    }
    if (this.closing) return Promise.reject(new ConsumerClosedError('the offset manager is closed'));
    const callId = this.nextCallId++;
    const promise = new Promise<PartitionCommit[]>((resolve, reject) => this.waiters.set(callId, { resolve, reject }));
    this.calls$.next(offsets === undefined ? { callId } : { callId, offsets });
    return promise;
  }

  /** Lag per partition and in total, from the last high watermarks seen. */
  lag(): ConsumerLag {
    const partitions = this.positions.infos().map(({ topic, partition, lag }) => ({ topic, partition, lag }));
    return { partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Position, high watermark, lag of each partition. */
  infos(): OffsetInfo[] {
    return this.positions.infos();
  }

  /**
   * Ends the commit pipeline: the strategy's pending offsets are committed
   * (every strategy but `manual`), then it resolves.
   */
  close(): Promise<void> {
    this.closing = true;
    this.processed$.complete();
    return this.closed;
  }

  /** Sends only partitions still held: a revoked partition's late offsets must not overwrite its new owner's. */
  private send(committer: OffsetCommitter, offsets: PartitionCommit[]): ObservableInput<unknown> {
    const held = offsets.filter((o) => this.holds(o));
    if (held.length === 0) return EMPTY;
    return defer(() => committer.save(held));
  }

  private holds({ topic, partition }: TopicPartition): boolean {
    return this.positions.info(topic, partition) !== undefined;
  }

  private onOutcome(outcome: CommitOutcome): void {
    if (outcome.type === 'committed') {
      this.positions.markCommitted(outcome.offsets);
      for (const request of outcome.requests) this.settle(request.callId, (w) => w.resolve(outcome.offsets));
    } else {
      this.options.logger?.warn({ err: outcome.error, offsets: outcome.offsets }, 'commit failed');
      for (const request of outcome.requests) this.settle(request.callId, (w) => w.reject(outcome.error));
      this.options.onCommitFailed?.(outcome.error, outcome.offsets);
    }
    this.outcomes$.next(outcome);
  }

  private settle(callId: number | undefined, action: (waiter: Waiter) => void): void {
    if (callId === undefined) return;
    const waiter = this.waiters.get(callId);
    if (waiter === undefined) return;
    this.waiters.delete(callId);
    action(waiter);
  }

  private rejectAll(error: unknown): void {
    for (const waiter of this.waiters.values()) waiter.reject(error);
    this.waiters.clear();
  }
}
