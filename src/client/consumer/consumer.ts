/**
 * The RxJS Consumer. One fetch engine, read in one of four styles:
 *
 * ```ts
 * const consumer = createConsumer({ bootstrap: ['127.0.0.1:9660'], groupId: 'billing', topics: ['orders'] });
 * consumer.records$.subscribe((record) => console.log(record.offset));          // records, pushed
 * consumer.batches$.subscribe((batch) => console.log(batch.records.length));    // per-partition batches
 * for await (const record of consumer) { ... }                                  // pulled
 * await consumer.run({ eachBatch: async (batch) => { await save(batch) } });    // handler, awaited
 * await consumer.run({ eachRecord: async (record) => { await save(record) } }); // or one record at a time
 * await consumer.close();
 * ```
 *
 * One style at a time (a second concurrent reader fails with
 * InvalidRequestError), like Kafka's single poll loop; use `share()` to fan
 * records out. Reading stops when the subscriber unsubscribes and resumes
 * from the position when read again; membership and offsets live until
 * `close()`.
 *
 * Delivery and commits (at-least-once): a record counts as processed once
 * `records$`/`batches$` delivered it (`next` returned), once the async
 * iterator was asked for the next record, or once the `run` handler of its
 * batch (record) succeeded; with `ackMode: 'explicit'`, only once
 * acknowledged (`record.ack()`), an offset becoming committable when every
 * earlier one of its partition is too. Only processed records are committed. A crash between
 * processing and commit redelivers, after restart or to the partition's next
 * owner, every record processed since the last commit; nothing is skipped.
 * With synchronous subscribers and no crash, every record is delivered
 * exactly once, across rebalances too (offsets are committed before a
 * partition is handed over).
 */
import {
  EMPTY,
  Observable,
  Subject,
  asyncScheduler,
  concat,
  concatMap,
  defer,
  from,
  ignoreElements,
  lastValueFrom,
  merge,
  tap,
  throwError,
  type SchedulerLike,
} from 'rxjs';
import {
  ConsumerClosedError,
  IllegalGenerationError,
  InvalidConfigError,
  InvalidRequestError,
  UnknownMemberIdError,
  UnknownTopicOrPartitionError,
} from '../../protocol/errors.js';
import type { CommitOutcome } from '../offsets/commitExecutor.js';
import type { OffsetStore } from '../offsets/offsetStore.js';
import {
  compareTopicPartitions,
  type OffsetInfo,
  type PartitionCommit,
  type TopicPartition,
} from '../offsets/types.js';
import { AgentOffsetStore } from '../offsets/agentOffsetStore.js';
import { retryWithBackoff } from '../retryPolicy.js';
import { ClusterMetadata } from '../cluster/clusterMetadata.js';
import { ConnectionPool } from '../cluster/connectionPool.js';
import type { AgentTransport } from '../cluster/agentTransport.js';
import { AnyAgent } from '../cluster/agentCall.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './consumerOptions.js';
import type { ConsumerBatch, ConsumerLag, ConsumerRecord, RebalanceEvent, RunHandlers } from './consumerTypes.js';
import { Acknowledgements } from './acknowledgements.js';
import { bindRecord, isDelivered } from './consumedRecord.js';
import { bindBatch, createFetch, droppedRecords, streamRecords } from './fetcher.js';
import { deadLetterRecord } from './deadLetter.js';
import type { DroppedRecord } from '../serde/recordDecoder.js';
import { FetchPipeline, type BatchProcessor } from './fetchPipeline.js';
import { GroupMembership } from './groupMembership.js';
import { OffsetLookup } from './offsetLookup.js';
import { OffsetManager, type OffsetCommitter } from './offsetManager.js';
import { PartitionRunner } from './partitionRunner.js';
import { recordIterator } from './recordIterator.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/**
 * The FetchPipeline's yield to I/O (see FetchPipelineOptions.yieldToIo): a
 * task of the consumer's scheduler, except for the default asyncScheduler,
 * whose 0 ms is a timer of at least 1 ms; setImmediate runs right after the
 * pending I/O instead.
 */
function yieldOn(scheduler: SchedulerLike): (resume: () => void) => () => void {
  if (scheduler === asyncScheduler) {
    return (resume) => {
      const immediate = setImmediate(resume);
      return () => clearImmediate(immediate);
    };
  }
  return (resume) => {
    const action = scheduler.schedule(resume);
    return () => action.unsubscribe();
  };
}

/** Consumes records whose keys are `K` and values `V` (see ConsumerOptions' deserialisers; default: bytes). */
export class Consumer<K = Uint8Array, V = Uint8Array> implements AsyncIterable<ConsumerRecord<K, V>> {
  /**
   * Every record, in offset order per partition. Completes on `close()`, errors on a failure the consumer cannot get
   * over.
   */
  readonly records$: Observable<ConsumerRecord<K, V>>;
  /** Per-partition batches (one partition's records from one fetch). Completes on `close()`. */
  readonly batches$: Observable<ConsumerBatch<K, V>>;
  /** Partitions assigned, revoked and lost, as they happen (hot). Completes on `close()`. */
  readonly rebalances$: Observable<RebalanceEvent>;
  /** Outcome of every commit (hot). Completes on `close()`. */
  readonly commits$: Observable<CommitOutcome>;

  private readonly offsets: OffsetManager;
  private readonly pipeline: FetchPipeline;
  private readonly membership: GroupMembership | undefined;
  /** Engines of the `run` calls under way (one at most, barring a refused second one). */
  private readonly runners = new Set<PartitionRunner>();
  /** Acknowledgement windows; only with `ackMode: 'explicit'`. */
  private readonly acks: Acknowledgements | undefined;
  private readonly rebalances = new Subject<RebalanceEvent>();
  private readonly fatal = new Subject<never>();
  /** Positions set with `seek` before their partition was assigned (manual mode). */
  private readonly seeks = new Map<string, number>();
  private readonly paused = new Set<string>();
  private started = false;
  private startup: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  /** @internal Use createConsumer. */
  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly cluster: ClusterMetadata,
    private readonly pool: AgentTransport,
  ) {
    const { scheduler, retry, requestTimeoutMs, logger, groupId } = options;
    const context = { pool, cluster, scheduler };
    const anyAgent = new AnyAgent(context, options.bootstrap);
    const lookup = new OffsetLookup({ ...context, requestTimeoutMs, retry, scheduler });
    this.membership = options.topics === undefined ? undefined : this.createMembership(anyAgent, options.topics);
    this.offsets = new OffsetManager({
      committer: groupId === undefined ? undefined : this.createCommitter(groupId, anyAgent),
      commitStrategy: options.commitStrategy,
      resetStrategy: options.resetStrategy,
      lookup,
      scheduler,
      logger,
      onCommitFailed: (error) => {
        if (error instanceof IllegalGenerationError || error instanceof UnknownMemberIdError)
          this.membership?.requestRejoin(error);
      },
    });
    this.pipeline = new FetchPipeline({
      maxPrefetchBatches: options.maxPrefetchBatches,
      routeOf: (topic, partition) => cluster.addressFor(topic, partition),
      fetch: createFetch({
        ...context,
        maxWaitMs: options.fetchMaxWaitMs,
        minBytes: options.fetchMinBytes,
        maxBytes: options.fetchMaxBytes,
        maxPartitionBytes: options.maxPartitionFetchBytes,
        requestTimeoutMs,
        decoder: options.serde.decoder,
      }),
      resetOffset: (topic, partition) => {
        this.acks?.restart(topic, partition);
        return this.offsets.resetPosition(topic, partition);
      },
      positionOf: (topic, partition) => this.offsets.positions.position(topic, partition),
      onFetched: (result) =>
        this.offsets.positions.updateHighWatermark(result.topic, result.partition, result.highWatermark),
      onRetry: (error, { topic, partition }, attempt) =>
        logger?.warn({ err: error, topic, partition, attempt }, 'fetch failed, backing off'),
      retry,
      scheduler,
      yieldToIo: yieldOn(scheduler),
    });
    this.rebalances$ = this.rebalances.asObservable();
    this.commits$ = this.offsets.commits$;
    if (options.ackMode === 'explicit') {
      const acks = new Acknowledgements({
        maxUnackedPerPartition: options.maxUnackedPerPartition,
        processed: (topic, partition, lastOffset, count, highWatermark) => {
          if (this.offsets.positions.info(topic, partition) !== undefined)
            this.offsets.processed(topic, partition, lastOffset, count, highWatermark);
        },
        hold: (topic, partition) => this.pipeline.hold(topic, partition),
        release: (topic, partition) => this.pipeline.release(topic, partition),
      });
      this.acks = acks;
      this.records$ = new Observable<ConsumerRecord<K, V>>((subscriber) =>
        this.consume((batch, isCurrent) => {
          const window = acks.window(batch.topic, batch.partition);
          window.highWatermark = batch.highWatermark;
          const next = streamRecords(batch);
          while (!subscriber.closed && isCurrent()) {
            const record = next();
            if (record === undefined) break;
            bindRecord(record, window);
            subscriber.next(record as ConsumerRecord<unknown, unknown> as ConsumerRecord<K, V>);
          }
          window.checkBound();
        }).subscribe(subscriber),
      );
    } else {
      this.records$ = this.deliveredRecords();
    }
    this.batches$ = new Observable<ConsumerBatch<K, V>>((subscriber) =>
      this.consume((batch, isCurrent) => {
        this.bindAcks(batch);
        subscriber.next(batch as ConsumerBatch<unknown, unknown> as ConsumerBatch<K, V>);
        if (isCurrent()) this.markProcessed(batch, batch.records.length - 1);
      }).subscribe(subscriber),
    );
  }

  /** `records$` of `ackMode: 'delivery'`: a record is processed once `next` returned. */
  private deliveredRecords(): Observable<ConsumerRecord<K, V>> {
    return new Observable<ConsumerRecord<K, V>>((subscriber) =>
      this.consume((batch, isCurrent) => {
        // One record at a time, built as it is delivered (see streamRecords).
        const next = streamRecords(batch);
        let delivered = 0;
        let lastOffset = -1;
        while (!subscriber.closed && isCurrent()) {
          const record = next();
          if (record === undefined) break;
          subscriber.next(record as ConsumerRecord<unknown, unknown> as ConsumerRecord<K, V>);
          delivered++;
          lastOffset = record.offset;
        }
        if (delivered > 0 && isCurrent())
          this.offsets.processed(batch.topic, batch.partition, lastOffset, delivered, batch.highWatermark);
      }).subscribe(subscriber),
    );
  }

  /**
   * Handler style: calls `eachBatch` for each batch or `eachRecord` for each
   * record (see RunHandlers), partitions concurrently up to
   * `partitionsConsumedConcurrently`, order kept within a partition.
   * Resolves when the consumer closes; rejects with the first handler error
   * (what failed is not committed), InvalidConfigError for bad handlers, or
   * a failure the consumer cannot get over.
   */
  run(handlers: RunHandlers<K, V>): Promise<void> {
    let runner: PartitionRunner;
    try {
      runner = new PartitionRunner({
        concurrency: checkRunHandlers(handlers as RunHandlers<unknown, unknown>),
        handle: (batch, isCurrent) => {
          this.bindAcks(batch);
          return this.handleBatch(handlers as unknown as RunHandlers, batch, isCurrent);
        },
        setBusy: (topic, partition, busy) => this.pipeline.setBusy(topic, partition, busy),
      });
    } catch (error) {
      return Promise.reject(error);
    }
    this.runners.add(runner);
    const consumed = this.consume(runner.process);
    // Ends with the consumer's reading, or with the first handler error.
    const running = new Observable<never>((subscriber) => {
      subscriber.add(runner.failures$.subscribe({ error: (error: unknown) => subscriber.error(error) }));
      subscriber.add(consumed.subscribe(subscriber));
    });
    return lastValueFrom(running, { defaultValue: undefined }).finally(() => {
      runner.stop();
      this.runners.delete(runner);
    });
  }

  /** One batch through the run handler; each success marks what it covered processed (delivery mode). */
  private handleBatch(handlers: RunHandlers, batch: ConsumerBatch, isCurrent: () => boolean): Observable<unknown> {
    const { eachRecord } = handlers;
    if (eachRecord === undefined) {
      return defer(() => handlers.eachBatch!(batch)).pipe(
        tap({ complete: () => isCurrent() && this.markProcessed(batch, batch.records.length - 1) }),
      );
    }
    return from(batch.records).pipe(
      concatMap((record) =>
        defer(() => eachRecord(record)).pipe(
          tap({
            complete: () => {
              if (isCurrent() && this.acks === undefined)
                this.offsets.processed(batch.topic, batch.partition, record.offset, 1, batch.highWatermark);
            },
          }),
        ),
      ),
    );
  }

  /** The records as an async iterator (see recordIterator.ts for when a record counts as processed). */
  records(): AsyncIterableIterator<ConsumerRecord<K, V>> {
    // The fetch engine is typed in bytes; the records carry what the deserialisers made.
    return recordIterator(
      (process) =>
        this.consume((batch, isCurrent) => {
          this.bindAcks(batch);
          return process(batch, isCurrent);
        }),
      (batch, last) => this.markProcessed(batch, last),
    ) as AsyncIterableIterator<unknown> as AsyncIterableIterator<ConsumerRecord<K, V>>;
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerRecord<K, V>> {
    return this.records();
  }

  /**
   * Continues a partition at `offset`: buffered records are dropped and the
   * next record delivered is the one at `offset` (out of range: the reset
   * strategy decides). In manual mode a partition may be sought before the
   * consumer starts. Throws UnknownTopicOrPartitionError for a partition the
   * consumer does not hold.
   */
  seek(topic: string, partition: number, offset: number): void {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidRequestError(`seek offset must be a non-negative safe integer, got ${offset}`, {
        context: { topic, partition },
      });
    }
    if (this.pipeline.has(topic, partition)) {
      this.acks?.restart(topic, partition);
      this.offsets.positions.seek(topic, partition, offset);
      this.pipeline.seek(topic, partition, offset);
    } else if (this.isManuallyAssigned(topic, partition)) {
      this.seeks.set(topicPartitionId(topic, partition), offset);
    } else {
      throw new UnknownTopicOrPartitionError(`${topic}/${partition} is not assigned to this consumer`, {
        context: { topic, partition },
      });
    }
  }

  /**
   * A partition's position: every record below it is processed, and it is
   * where delivery resumes after a rebalance or a restart (once committed).
   * A record the application holds but has not finished (the iterator's
   * current record, a batch whose handler runs) is at or above it. Undefined
   * when the consumer has no position for the partition (not assigned, or
   * still being resolved).
   */
  position(topic: string, partition: number): number | undefined {
    return this.offsets.positions.info(topic, partition)?.offset ?? this.seeks.get(topicPartitionId(topic, partition));
  }

  /** Stops fetching and delivering a partition until `resume`. */
  pause(topic: string, partition: number): void {
    this.checkOpen();
    this.checkHeld(topic, partition);
    this.paused.add(topicPartitionId(topic, partition));
    if (this.pipeline.has(topic, partition)) this.pipeline.pause(topic, partition);
  }

  /** Undoes `pause`. */
  resume(topic: string, partition: number): void {
    this.checkOpen();
    this.checkHeld(topic, partition);
    this.paused.delete(topicPartitionId(topic, partition));
    if (this.pipeline.has(topic, partition)) this.pipeline.resume(topic, partition);
  }

  /** Partitions held now, by topic then partition. */
  assignment(): TopicPartition[] {
    return this.offsets.positions.partitions();
  }

  /**
   * Commits processed offsets now (or exactly `offsets`), whatever the commit
   * strategy. Resolves with what was committed once it is; rejects with the
   * commit's error, InvalidConfigError without a groupId, ConsumerClosedError after close.
   */
  commit(offsets?: PartitionCommit[]): Promise<PartitionCommit[]> {
    if (this.closing !== undefined) return Promise.reject(new ConsumerClosedError('consumer is closed'));
    return this.offsets.commit(offsets);
  }

  /** Lag per partition and in total, from the high watermarks of the latest fetches. */
  lag(): ConsumerLag {
    return this.offsets.lag();
  }

  /** Position, high watermark and lag of every partition held. */
  offsetInfo(): OffsetInfo[] {
    return this.offsets.infos();
  }

  /** The fetch engine's prefetch buffer: batches held now and the most ever held (never above `maxPrefetchBatches`). */
  prefetchStats(): { buffered: number; peak: number } {
    return { buffered: this.pipeline.buffered, peak: this.pipeline.peakBuffered };
  }

  /**
   * Stops reading (after the batch under way), commits what was processed
   * (unless the strategy is `manual`), leaves the group, closes connections.
   * Readers complete. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- internals ------------------------------------------------------------

  private consume(process: BatchProcessor): Observable<never> {
    return defer(() => {
      if (this.closing !== undefined) return throwError(() => new ConsumerClosedError('consumer is closed'));
      // A new read fetches every partition again from its position: acknowledgements of the previous read no longer
      // count.
      if (!this.pipeline.running) this.acks?.restartAll();
      this.start();
      const processor = this.options.serde.decoder === undefined ? process : this.deserializing(process);
      return merge(this.pipeline.run(processor), this.fatal);
    });
  }

  /**
   * With deserialisers: decodes each batch whole first. With
   * `onDeserializationError: 'error'` its records before the first bad one
   * are processed, then the reader fails with that DeserializationError.
   * Else its bad records are dead-lettered (or logged) before its other
   * records are processed, so no commit covers a bad record before its dead
   * letter is stored; bad records after the last good one count as processed
   * (acknowledged) once the batch is, unless the reader stopped short of it.
   */
  private deserializing(process: BatchProcessor): BatchProcessor {
    const { dropsBad } = this.options.serde.decoder!;
    return (batch, isCurrent) => {
      const { records } = batch;
      const dropped = droppedRecords(batch);
      if (dropped.length === 0) return process(batch, isCurrent);
      const processed = records.length === 0 ? EMPTY : defer(() => process(batch, isCurrent) ?? EMPTY);
      if (!dropsBad)
        return concat(
          processed,
          throwError(() => dropped[0]!.error),
        );
      return concat(
        this.handleDropped(dropped),
        processed,
        defer(() => {
          this.droppedTailProcessed(batch, records, dropped, isCurrent);
          return EMPTY;
        }),
      );
    };
  }

  /** Dead-letters (in offset order) or logs the records that did not deserialise; errors when a dead letter fails. */
  private handleDropped(dropped: readonly DroppedRecord[]): Observable<never> {
    const { logger, serde } = this.options;
    const route = serde.deadLetter;
    for (const { error } of dropped)
      logger?.warn({ err: error }, route ? 'dead-lettering a record' : 'skipping a record');
    if (route === undefined) return EMPTY;
    const sends = dropped.map((record) => route.producer.send$(deadLetterRecord(route.topic, record, record.error)));
    return merge(...sends).pipe(ignoreElements());
  }

  /**
   * The bad records after a batch's last good one: processed in delivery
   * mode, delivered and acknowledged in explicit mode, once every good record
   * of the batch was processed (delivered); else left for the next read.
   */
  private droppedTailProcessed(
    batch: ConsumerBatch,
    records: readonly ConsumerRecord[],
    dropped: readonly DroppedRecord[],
    isCurrent: () => boolean,
  ): void {
    const lastGood = records[records.length - 1];
    const tail = lastGood === undefined ? dropped : dropped.filter((record) => record.offset > lastGood.offset);
    if (tail.length === 0 || !isCurrent()) return;
    const { topic, partition, highWatermark } = batch;
    const first = tail[0]!.offset;
    const last = tail[tail.length - 1]!.offset;
    if (this.acks === undefined) {
      if (lastGood !== undefined && this.offsets.positions.info(topic, partition)?.offset !== lastGood.offset + 1)
        return;
      this.offsets.processed(topic, partition, last, tail.length, highWatermark);
      return;
    }
    if (lastGood !== undefined && !isDelivered(lastGood)) return;
    const window = this.acks.window(topic, partition);
    for (const { offset } of tail) window.delivered(offset);
    window.ackRange(first, last);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    if (this.membership !== undefined) {
      const membership = this.membership;
      // A topic that does not exist would get no partitions and the consumer would wait for ever.
      this.startup = this.checkTopicsExist(this.options.topics!)
        .then(() => {
          if (this.closing === undefined) membership.start();
        })
        .catch((error: unknown) => this.fail(error));
    } else {
      this.startup = this.assignPartitions(this.options.assignment!, -1, '').catch((error: unknown) =>
        this.fail(error),
      );
    }
  }

  /** With explicit acks: ties the batch's records to their partition's window before delivery. */
  private bindAcks(batch: ConsumerBatch): void {
    if (this.acks === undefined) return;
    const window = this.acks.window(batch.topic, batch.partition);
    window.highWatermark = batch.highWatermark;
    bindBatch(batch, window);
    window.checkBound();
  }

  /** Delivery mode: the batch's records up to index `last` are processed (explicit mode: only acks count). */
  private markProcessed(batch: ConsumerBatch, last: number): void {
    if (this.acks !== undefined) return;
    const record = batch.records[last]!;
    this.offsets.processed(batch.topic, batch.partition, record.offset, last + 1, batch.highWatermark);
  }

  /**
   * Throws UnknownTopicOrPartitionError naming the first topic that does not exist (retriable failures are retried).
   */
  private async checkTopicsExist(topics: string[]): Promise<void> {
    const { retry, scheduler } = this.options;
    for (const topic of topics) {
      await lastValueFrom(defer(() => this.cluster.topic(topic)).pipe(retryWithBackoff(retry, { scheduler })));
    }
  }

  /** Resolves where each partition starts, then fetches it. */
  private async assignPartitions(partitions: TopicPartition[], generation: number, memberId: string): Promise<void> {
    for (const topic of new Set(partitions.map((tp) => tp.topic))) {
      const { partitions: known } = await this.cluster.topic(topic);
      for (const { partition } of partitions.filter((tp) => tp.topic === topic)) {
        if (partition >= known.length) {
          throw new UnknownTopicOrPartitionError(`${topic}/${partition} does not exist (${known.length} partitions)`, {
            context: { topic, partition },
          });
        }
      }
    }
    const positions = await this.offsets.assign(partitions, this.seeks);
    for (const { topic, partition } of partitions) this.seeks.delete(topicPartitionId(topic, partition));
    this.pipeline.assign(
      partitions.map(({ topic, partition }) => {
        const key = topicPartitionId(topic, partition);
        return { topic, partition, offset: positions.get(key)!, paused: this.paused.has(key) };
      }),
    );
    this.rebalances.next({
      type: 'assigned',
      partitions: [...partitions].sort(compareTopicPartitions),
      generation,
      memberId,
    });
  }

  /** Stops fetching partitions, commits (unless lost or manual), forgets them. */
  private async revokePartitions(
    partitions: TopicPartition[],
    kind: 'revoked' | 'lost',
    generation: number,
    memberId: string,
  ): Promise<void> {
    await this.pipeline.revoke(partitions);
    for (const runner of this.runners) await runner.idle(partitions);
    this.acks?.restartAll(partitions);
    if (kind === 'revoked' && this.options.groupId !== undefined && this.options.commitStrategy.type !== 'manual') {
      await this.offsets
        .commit()
        .catch((error: unknown) => this.options.logger?.warn({ err: error }, 'commit on revocation failed'));
    }
    this.offsets.remove(partitions);
    for (const { topic, partition } of partitions) this.paused.delete(topicPartitionId(topic, partition));
    this.rebalances.next({
      type: kind,
      partitions: [...partitions].sort(compareTopicPartitions),
      generation,
      memberId,
    });
  }

  private createMembership(anyAgent: AnyAgent, topics: string[]): GroupMembership {
    const o = this.options;
    return new GroupMembership({
      groupId: o.groupId!,
      clientId: o.clientId,
      topics,
      assignors: o.assignors,
      sessionTimeoutMs: o.sessionTimeoutMs,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      requestTimeoutMs: o.requestTimeoutMs,
      coordinator: anyAgent,
      partitionCounts: async (wanted) => {
        await this.cluster.refresh(wanted);
        return new Map(wanted.map((topic) => [topic, this.cluster.knownPartitionCount(topic) ?? 0]));
      },
      assign: (partitions, generation, memberId) => this.assignPartitions(partitions, generation, memberId),
      revoke: (partitions, kind, generation, memberId) => this.revokePartitions(partitions, kind, generation, memberId),
      onError: (error) => this.fail(error),
      retry: o.retry,
      scheduler: o.scheduler,
      logger: o.logger,
    });
  }

  /** Commits go to the offset store under the group id, fenced by the membership's generation. */
  private createCommitter(groupId: string, anyAgent: AnyAgent): OffsetCommitter {
    const { offsetStore, requestTimeoutMs, retry, scheduler } = this.options;
    const store: OffsetStore =
      offsetStore ??
      new AgentOffsetStore({
        client: () => this.pool.get(anyAgent.address()).client,
        requestTimeoutMs,
        scheduler,
      });
    const noted = <T>(promise: Promise<T>) =>
      promise.catch((error: unknown) => {
        anyAgent.failed(error);
        throw error;
      });
    return {
      load: (partitions) =>
        lastValueFrom(defer(() => noted(store.load(groupId, partitions))).pipe(retryWithBackoff(retry, { scheduler }))),
      save: (offsets) => {
        const fencing =
          this.membership === undefined
            ? {}
            : { generation: this.membership.generation, memberId: this.membership.memberId };
        return noted(store.save(groupId, offsets, fencing));
      },
    };
  }

  private isManuallyAssigned(topic: string, partition: number): boolean {
    return this.options.assignment?.some((tp) => tp.topic === topic && tp.partition === partition) ?? false;
  }

  private checkHeld(topic: string, partition: number): void {
    if (!this.pipeline.has(topic, partition) && !this.isManuallyAssigned(topic, partition)) {
      throw new UnknownTopicOrPartitionError(`${topic}/${partition} is not assigned to this consumer`, {
        context: { topic, partition },
      });
    }
  }

  private checkOpen(): void {
    if (this.closing !== undefined) throw new ConsumerClosedError('consumer is closed');
  }

  private fail(error: unknown): void {
    this.options.logger?.error({ err: error }, 'consumer failed');
    this.fatal.error(error);
  }

  private async shutdown(): Promise<void> {
    await this.pipeline.stop();
    for (const runner of this.runners) await runner.idle();
    await this.startup;
    await this.membership?.stop();
    await this.offsets.close();
    this.acks?.restartAll();
    await this.membership?.leave();
    const held = this.offsets.positions.partitions();
    if (held.length > 0) {
      this.offsets.remove(held);
      this.rebalances.next({
        type: 'revoked',
        partitions: held,
        generation: this.membership?.generation ?? -1,
        memberId: this.membership?.memberId ?? '',
      });
    }
    this.fatal.complete();
    this.rebalances.complete();
    this.cluster.close();
    this.pool.closeAll();
  }
}

/** Checks `run`'s handlers; returns the partition concurrency. */
function checkRunHandlers(handlers: RunHandlers<unknown, unknown>): number {
  const { eachBatch, eachRecord, partitionsConsumedConcurrently = 1 } = handlers ?? {};
  if ((typeof eachBatch === 'function') === (typeof eachRecord === 'function')) {
    throw new InvalidConfigError('run needs one handler: eachBatch or eachRecord (a function), not both');
  }
  if (!Number.isSafeInteger(partitionsConsumedConcurrently) || partitionsConsumedConcurrently < 1) {
    throw new InvalidConfigError(
      `partitionsConsumedConcurrently must be a positive integer, got ${partitionsConsumedConcurrently}`,
    );
  }
  return partitionsConsumedConcurrently;
}

/**
 * Creates a consumer; nothing is fetched and no group is joined until it is
 * first read. Throws InvalidConfigError for bad options.
 */
export function createConsumer<K = Uint8Array, V = Uint8Array>(options: ConsumerOptions<K, V>): Consumer<K, V> {
  return createConsumerOver(undefined, options);
}

/**
 * createConsumer reaching agents through `transport` (default: gRPC connections). For streamhouse/testing.
 * @internal
 */
export function createConsumerOver<K = Uint8Array, V = Uint8Array>(
  transport: AgentTransport | undefined,
  options: ConsumerOptions<K, V>,
): Consumer<K, V> {
  const resolved = resolveConsumerOptions(options);
  const pool =
    transport ??
    new ConnectionPool({
      ...(resolved.tls === undefined ? {} : { tls: resolved.tls }),
      ...(resolved.token === undefined ? {} : { token: resolved.token }),
    });
  const cluster = new ClusterMetadata({
    bootstrap: resolved.bootstrap,
    pool,
    scheduler: resolved.scheduler,
    refreshMs: resolved.metadataRefreshMs,
    logger: resolved.logger,
  });
  return new Consumer<K, V>(resolved, cluster, pool);
}
