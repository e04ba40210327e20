/**
 * The consumer's fetch engine: keeps fetches in flight while the application
 * processes earlier batches, with a bounded prefetch buffer.
 *
 * ```
 *  assigned partitions ──pump──> one Fetch per agent (partitions grouped by routeOf)
 *        ^                              │ results: records, next offset, or an error
 *        │ room in the buffer           v
 *        └──────────────── queue of batches ──drain──> process(batch) (one at a time)
 * ```
 *
 * The bound: batches queued, the one being processed, and partitions being
 * fetched (each reserves one slot, since a fetch yields at most one batch per
 * partition) never exceed `maxPrefetchBatches`. A fetch is issued as soon as
 * there is room, so with room for two the next fetch of a partition runs while
 * its previous batch is processed; a slow processor stops the fetching instead
 * of letting the buffer grow.
 *
 * With `yieldToIo`, a task that started fetches leaves the batches to a
 * task of its own, so the requests reach the agent, which then reads while
 * this side processes, instead of waiting for the processing to end.
 *
 * A partition has at most one fetch in flight and is fetched again from where
 * its last result ended. Per-partition outcomes: OFFSET_OUT_OF_RANGE asks
 * `resetOffset` where to continue; retriable errors back off (per partition,
 * `backoffDelay` of the retry policy, on the injected scheduler) and fail the
 * run with RetriesExhaustedError after `maxRetries` consecutive failures;
 * other errors fail the run. `seek` and `revoke` bump the partition's epoch,
 * so results, timers and queued batches of the old position are dropped.
 *
 * I/O is injected (`fetch`, `resetOffset`), which makes the whole engine
 * testable with marble diagrams.
 */
import { Observable, Subscription, from, timer, type ObservableInput, type Subscriber } from 'rxjs';
import {
  InvalidRequestError,
  OffsetOutOfRangeError,
  RetriesExhaustedError,
  isRetriable,
} from '../../protocol/errors.js';
import type { TopicPartition } from '../offsets/types.js';
import { FetchPartitions, type FetchPartitionState } from './fetchPartitions.js';
import { backoffDelay } from '../retryPolicy.js';
import type { ConsumerBatch } from './consumerTypes.js';
import type { BatchProcessor, FetchPipelineOptions, FetchTarget, PartitionFetchResult } from './fetchTypes.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

export type { BatchProcessor, FetchPipelineOptions, FetchTarget, PartitionFetchResult } from './fetchTypes.js';

/** A fetched batch waiting for delivery; `fromOffset` is the offset its fetch asked for. */
type QueuedBatch = { state: FetchPartitionState; epoch: number; fromOffset: number; batch: ConsumerBatch };

type Run = {
  subscriber: Subscriber<never>;
  process: BatchProcessor;
  /** Fetches, backoff timers and resets of this run. */
  work: Subscription;
  processing: QueuedBatch | undefined;
  processingWork: Subscription | undefined;
  /** Processing waits for the task `yieldToIo` scheduled (fetches were just started). */
  yielding: boolean;
  stopping: boolean;
};

/** The fetch engine of one consumer. */
export class FetchPipeline {
  private readonly partitions = new FetchPartitions();
  private queue: QueuedBatch[] = [];
  private current: Run | undefined;
  private kicking = false;
  private kickAgain = false;
  private idleWaiters: (() => void)[] = [];
  private stopWaiters: (() => void)[] = [];
  private peak = 0;

  constructor(private readonly options: FetchPipelineOptions) {
    if (!Number.isSafeInteger(options.maxPrefetchBatches) || options.maxPrefetchBatches < 1) {
      throw new InvalidRequestError(`maxPrefetchBatches must be a positive integer, got ${options.maxPrefetchBatches}`);
    }
  }

  /** Batches queued, being processed, or being fetched (reserved slots). Never above `maxPrefetchBatches`. */
  get buffered(): number {
    return this.queue.length + (this.current?.processing === undefined ? 0 : 1) + this.partitions.fetching;
  }

  /** The highest `buffered` seen so far. */
  get peakBuffered(): number {
    return this.peak;
  }

  /** Whether a run is active. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /**
   * Starts fetching partitions, each from its `offset` (paused ones wait for `resume`); replaces earlier assignments
   * of them.
   */
  assign(targets: readonly (FetchTarget & { paused?: boolean })[]): void {
    for (const { topic, partition, offset, paused = false } of targets)
      this.partitions.add(topic, partition, offset, paused);
    this.kick();
  }

  /**
   * Stops fetching the partitions and drops their buffered batches. Resolves
   * once none of them is being processed (the batch under way finishes first).
   */
  revoke(partitions: readonly TopicPartition[]): Promise<void> {
    for (const { topic, partition } of partitions) {
      const state = this.partitions.find(topic, partition);
      if (state !== undefined) this.partitions.remove(state);
    }
    this.queue = this.queue.filter((item) => !item.state.removed);
    this.kick();
    if (this.current?.processing?.state.removed !== true) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fetches the partition from `offset` next; what was buffered or in flight for it is dropped. */
  seek(topic: string, partition: number, offset: number): void {
    const state = this.partitions.get(topic, partition);
    this.partitions.restart(state, offset);
    this.queue = this.queue.filter((item) => item.state !== state);
    this.kick();
  }

  /**
   * Stops fetching and delivering a partition until `resume`. Its buffered
   * batches are dropped (they would hold prefetch slots other partitions
   * need) and fetched again on resume; a batch under way is finished.
   */
  pause(topic: string, partition: number): void {
    const state = this.partitions.get(topic, partition);
    state.paused = true;
    this.dropQueued(state);
  }

  /**
   * Back-pressure: stops fetching and delivering a partition until
   * `release` (or a seek or new run restarts it), dropping its buffered
   * batches as `pause` does. Unknown partitions are ignored.
   */
  hold(topic: string, partition: number): void {
    const state = this.partitions.find(topic, partition);
    if (state === undefined || state.held) return;
    state.held = true;
    this.dropQueued(state);
  }

  /** Undoes `hold`. */
  release(topic: string, partition: number): void {
    const state = this.partitions.find(topic, partition);
    if (state === undefined || !state.held) return;
    state.held = false;
    this.kick();
  }

  /**
   * Marks a partition busy (a batch of it is being processed outside the
   * pipeline, see `run` handlers): its queued batches wait until it is
   * marked not busy, and it is fetched one batch ahead at most. Unknown
   * partitions are ignored.
   */
  setBusy(topic: string, partition: number, busy: boolean): void {
    const state = this.partitions.find(topic, partition);
    if (state === undefined || state.busy === busy) return;
    state.busy = busy;
    if (!busy) this.kick();
  }

  /** Undoes `pause`. */
  resume(topic: string, partition: number): void {
    this.partitions.get(topic, partition).paused = false;
    this.kick();
  }

  /** The paused partitions. */
  pausedPartitions(): TopicPartition[] {
    return this.partitions.paused();
  }

  /** Whether the partition is assigned here. */
  has(topic: string, partition: number): boolean {
    return this.partitions.find(topic, partition) !== undefined;
  }

  /**
   * Fetches and hands batches to `process`, one at a time, until
   * unsubscribed, failed, or stopped with `stop` (then it completes). One run
   * at a time; a new run fetches every partition from `positionOf`.
   */
  run(process: BatchProcessor): Observable<never> {
    return new Observable<never>((subscriber) => {
      if (this.current !== undefined) {
        subscriber.error(
          new InvalidRequestError(
            'the consumer is already being read: one records$, batches$, iterator or run() at a time',
          ),
        );
        return;
      }
      const run: Run = {
        subscriber,
        process,
        work: new Subscription(),
        processing: undefined,
        processingWork: undefined,
        yielding: false,
        stopping: false,
      };
      this.current = run;
      for (const state of this.partitions.all()) {
        state.busy = false;
        this.partitions.restart(state, this.options.positionOf(state.topic, state.partition));
      }
      this.queue = [];
      this.kick();
      return () => this.end(run);
    });
  }

  /** Ends the current run after the batch under way: nothing more is fetched or delivered. */
  stop(): Promise<void> {
    const run = this.current;
    if (run === undefined) return Promise.resolve();
    run.stopping = true;
    run.work.unsubscribe();
    this.queue = [];
    for (const state of this.partitions.all()) this.partitions.setPhase(state, 'idle');
    const done = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (run.processing === undefined) run.subscriber.complete();
    return done;
  }

  // ---- the loop -------------------------------------------------------------

  /** Drops a partition's buffered batches; it is fetched again from the first of them. */
  private dropQueued(state: FetchPartitionState): void {
    const dropped = this.queue.filter((item) => item.state === state);
    if (dropped.length === 0) return;
    this.queue = this.queue.filter((item) => item.state !== state);
    state.fetchOffset = Math.min(...dropped.map((item) => item.fromOffset));
    this.kick();
  }

  /** Fetches while there is room and processes what is queued; re-entrant calls fold into the running one. */
  private kick(): void {
    if (this.kicking) {
      this.kickAgain = true;
      return;
    }
    this.kicking = true;
    try {
      do {
        this.kickAgain = false;
        if (this.pump()) this.yieldToIo();
        while (this.processNext()) if (this.pump()) this.yieldToIo();
      } while (this.kickAgain);
    } finally {
      this.kicking = false;
    }
  }

  /** Starts fetches while there is room; true when it started any. */
  private pump(): boolean {
    const run = this.current;
    if (run === undefined || run.stopping) return false;
    const room = this.options.maxPrefetchBatches - this.buffered;
    if (room <= 0) return false;
    // A busy partition is fetched one batch ahead at most, so it cannot take the room other partitions need.
    let waiting: Set<FetchPartitionState> | undefined;
    for (const item of this.queue) if (item.state.busy) (waiting ??= new Set()).add(item.state);
    const picked = this.partitions.pickIdle(room, waiting === undefined ? undefined : (state) => waiting.has(state));
    if (picked.length === 0) return false;
    const byAddress = new Map<string, FetchPartitionState[]>();
    for (const state of picked) {
      const address = this.options.routeOf(state.topic, state.partition);
      const group = byAddress.get(address);
      if (group === undefined) byAddress.set(address, [state]);
      else group.push(state);
      this.partitions.setPhase(state, 'fetching');
    }
    this.peak = Math.max(this.peak, this.buffered);
    for (const [address, group] of byAddress) this.startFetch(run, address, group);
    return true;
  }

  /** With `yieldToIo`: holds processing back until a later task (see the options), once per such task. */
  private yieldToIo(): void {
    const run = this.current;
    const yieldToIo = this.options.yieldToIo;
    if (run === undefined || yieldToIo === undefined || run.yielding) return;
    run.yielding = true;
    let cancel: (() => void) | undefined;
    const teardown = () => cancel?.();
    run.work.add(teardown);
    cancel = yieldToIo(() => {
      run.work.remove(teardown);
      run.yielding = false;
      if (this.current === run) this.kick();
    });
  }

  private startFetch(run: Run, address: string, states: FetchPartitionState[]): void {
    const epochs = states.map((state) => state.epoch);
    const targets = states.map(({ topic, partition, fetchOffset }) => ({ topic, partition, offset: fetchOffset }));
    run.work.add(
      from(this.options.fetch(address, targets)).subscribe({
        next: (results) => this.onResults(states, epochs, targets, results),
        error: (error: unknown) => {
          states.forEach((state, i) => {
            if (!FetchPartitions.isLive(state, epochs[i]!) || state.phase !== 'fetching') return;
            this.partitions.setPhase(state, 'idle');
            this.onPartitionError(run, state, error);
          });
          this.kick();
        },
      }),
    );
  }

  private onResults(
    states: FetchPartitionState[],
    epochs: number[],
    targets: FetchTarget[],
    results: PartitionFetchResult[],
  ): void {
    const run = this.current;
    if (run === undefined) return;
    const byKey = new Map(results.map((result) => [topicPartitionId(result.topic, result.partition), result]));
    states.forEach((state, i) => {
      if (!FetchPartitions.isLive(state, epochs[i]!) || state.phase !== 'fetching') return;
      this.partitions.setPhase(state, 'idle');
      const result = byKey.get(state.key);
      if (result === undefined) {
        this.fail(run, new InvalidRequestError(`fetch response has no result for ${state.topic}/${state.partition}`));
        return;
      }
      if (result.error !== undefined) {
        this.onPartitionError(run, state, result.error);
        return;
      }
      state.failures = 0;
      this.options.onFetched?.(result);
      // Paused meanwhile (its position rewound), or rewound by a pause and resumed: fetched again from fetchOffset.
      const fromOffset = targets[i]!.offset;
      if (state.paused || state.held || fromOffset !== state.fetchOffset) return;
      if (result.batch !== undefined) this.queue.push({ state, epoch: state.epoch, fromOffset, batch: result.batch });
      state.fetchOffset = Math.max(state.fetchOffset, result.nextOffset);
    });
    // The queue owns the batches now. The results stay referenced up the
    // stack (the fetch's callbacks) until kick returns, and kick processes
    // the queued batches one after the other: left here, every batch of the
    // response, decoded, would stay alive until the last one is done, and the
    // garbage collector would copy and promote all their records.
    for (const result of results) delete result.batch;
    this.kick();
  }

  private onPartitionError(run: Run, state: FetchPartitionState, error: unknown): void {
    const epoch = state.epoch;
    if (error instanceof OffsetOutOfRangeError) {
      this.partitions.setPhase(state, 'waiting');
      run.work.add(
        from(this.options.resetOffset(state.topic, state.partition, error)).subscribe({
          next: (offset) => {
            if (!FetchPartitions.isLive(state, epoch) || state.phase !== 'waiting') return;
            state.fetchOffset = offset;
            this.partitions.setPhase(state, 'idle');
            this.kick();
          },
          error: (cause: unknown) => this.fail(run, cause),
        }),
      );
      return;
    }
    if (!isRetriable(error)) {
      this.fail(run, error);
      return;
    }
    state.failures++;
    const { retry } = this.options;
    if (state.failures > retry.maxRetries) {
      const reason = error instanceof Error ? error.message : String(error);
      const context = { topic: state.topic, partition: state.partition, offset: state.fetchOffset };
      this.fail(
        run,
        new RetriesExhaustedError(
          `fetch of ${state.topic}/${state.partition} failed ${state.failures} times: ${reason}`,
          { cause: error, context },
        ),
      );
      return;
    }
    this.partitions.setPhase(state, 'waiting');
    this.options.onRetry?.(error, { topic: state.topic, partition: state.partition }, state.failures);
    const delay = backoffDelay(state.failures, retry, this.options.random);
    run.work.add(
      timer(delay, this.options.scheduler).subscribe(() => {
        if (!FetchPartitions.isLive(state, epoch) || state.phase !== 'waiting') return;
        this.partitions.setPhase(state, 'idle');
        this.kick();
      }),
    );
  }

  /** Hands the first deliverable batch to the processor; true when it finished synchronously. */
  private processNext(): boolean {
    const run = this.current;
    if (run === undefined || run.processing !== undefined || run.yielding) return false;
    let index = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (!FetchPartitions.isLive(item.state, item.epoch)) {
        this.queue.splice(i--, 1);
      } else if (!item.state.paused && !item.state.held && !item.state.busy) {
        index = i;
        break;
      }
    }
    if (index < 0) return false;
    const item = this.queue.splice(index, 1)[0]!;
    run.processing = item;
    // Not tied to the run: a synchronous processor may end the run mid-batch and still report what it delivered.
    const isCurrent = () => FetchPartitions.isLive(item.state, item.epoch);
    let result: ObservableInput<unknown> | void;
    try {
      result = run.process(item.batch, isCurrent);
    } catch (error) {
      this.fail(run, error);
      return false;
    }
    if (this.current !== run) return false;
    if (result === undefined || result === null) {
      this.processed(run);
      return !run.stopping;
    }
    let sync = true;
    let syncDone = false;
    const work = from(result).subscribe({
      error: (error: unknown) => this.fail(run, error),
      complete: () => {
        if (this.current !== run) return;
        if (sync) {
          syncDone = true;
          return;
        }
        this.processed(run);
        this.kick();
      },
    });
    sync = false;
    if (syncDone) {
      this.processed(run);
      return !run.stopping;
    }
    if (this.current === run && run.processing === item) run.processingWork = work;
    return false;
  }

  /** The batch under way is done: wake revokers, finish a stopping run. */
  private processed(run: Run): void {
    run.processing = undefined;
    run.processingWork = undefined;
    this.wakeIdleWaiters();
    if (run.stopping) run.subscriber.complete();
  }

  private fail(run: Run, error: unknown): void {
    if (this.current === run) run.subscriber.error(error);
  }

  /** Teardown of a run, however it ended. */
  private end(run: Run): void {
    if (this.current !== run) return;
    this.current = undefined;
    run.work.unsubscribe();
    run.processingWork?.unsubscribe();
    this.queue = [];
    for (const state of this.partitions.all()) {
      state.busy = false;
      this.partitions.setPhase(state, 'idle');
    }
    this.wakeIdleWaiters();
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private wakeIdleWaiters(): void {
    if (this.current?.processing?.state.removed === true) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
