/**
 * The RxJS Producer. Records go into one pipeline:
 *
 * ```
 * send() ─> input$ ─> batchByPartition (linger / count / bytes, per partition)
 *                   ─> sendBatches (bounded concurrency, ordered per partition)
 *                   ─> BatchSender (encode, Produce, retry with backoff, re-route)
 *                   ─> settle: each SendResult gets its offset or its error; offsets$ notified
 * ```
 *
 * ```ts
 * const producer = await createProducer({ bootstrap: ['127.0.0.1:9660'] });
 * const result = await producer.send({ topic: 'orders', key: 'o-1', value: '{"total":42}' });
 * console.log(await result.waitOffset());
 * await producer.close();
 * ```
 *
 * Every record ends in exactly one of: an offset, or a typed error (flush
 * failed with its cause, DeliveryTimeoutError, ProducerClosedError,
 * RecordTooLargeError, UnknownTopicOrPartitionError, BufferFullError, …).
 */
import { Subject, defer, filter, map, type Observable, type Subscription } from 'rxjs';
import { ProducerClosedError, RecordTooLargeError } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, MAX_BATCH_SIZE } from '../../protocol/batchLayout.js';
import { SendResult } from '../sendResult.js';
import { batchByPartition } from '../operators/batchByPartition.js';
import { sendBatches } from '../operators/sendBatches.js';
import { choosePartition, isBatchAware, type PartitionableRecord } from '../partitioners/partitioner.js';
import { ClusterMetadata } from '../cluster/clusterMetadata.js';
import { ConnectionPool } from '../cluster/connectionPool.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producerOptions.js';
import { checkRecord, recordSize, toBytes, toHeaders, type PendingRecord, type ProducerRecord } from './producerRecord.js';
import { BufferBudget } from './bufferBudget.js';
import { BatchSender, type JobOutcome, type ProduceJob } from './batchSender.js';
import { ProducerIdentity } from './idempotence.js';
import { ProducerMetrics, type ProducerMetricsSnapshot } from './producerMetrics.js';

/** One record's acknowledgement, as announced on `offsets$`. */
export type OffsetNotification = {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
};

/** Where an acknowledged record was stored. */
export type RecordMetadata = { topic: string; partition: number; offset: number; timestamp: number };

type FlushWaiter = { targets: Map<string, number>; resolve: () => void };

export class Producer {
  private readonly input = new Subject<PendingRecord>();
  private readonly flushTrigger = new Subject<void>();
  private readonly offsetsSubject = new Subject<OffsetNotification>();
  private readonly pipeline: Subscription;
  private readonly pipelineDone: Promise<void>;
  private readonly budget: BufferBudget;
  private readonly metricsState = new ProducerMetrics();
  /** Records accepted and settled per partition; records settle in order within a partition. */
  private readonly accepted = new Map<string, number>();
  private readonly settled = new Map<string, number>();
  private flushWaiters: FlushWaiter[] = [];
  private readonly partitionKeys = new Map<string, string[]>();
  /** Reused for every choosePartition call: it keeps no reference to it. */
  private readonly partitionArgs: PartitionableRecord = { topic: '', partition: undefined, key: null, value: null };
  private closing: Promise<void> | undefined;

  /** @internal Use createProducer. */
  constructor(
    private readonly options: ResolvedProducerOptions,
    private readonly cluster: ClusterMetadata,
    private readonly pool: ConnectionPool,
    private readonly identity: ProducerIdentity | undefined,
  ) {
    this.budget = new BufferBudget(options.maxBufferedBytes);
    const sender = new BatchSender({
      cluster,
      pool,
      identity,
      acks: options.acks,
      compression: options.compression,
      retry: options.retry,
      requestTimeoutMs: options.requestTimeoutMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs,
      scheduler: options.scheduler,
      onRetry: (job, error) => {
        this.metricsState.retries++;
        options.logger?.debug({ err: error, partition: job.key }, 'retrying batch');
      },
    });
    const partitioner = options.partitioner;
    let resolveDone!: () => void;
    this.pipelineDone = new Promise((resolve) => (resolveDone = resolve));
    this.pipeline = this.input
      .pipe(
        batchByPartition({
          keyOf: (r: PendingRecord) => r.partitionKey,
          lingerMs: options.lingerMs,
          maxCount: options.batchRecords,
          maxBytes: options.batchBytes,
          sizeOf: (r: PendingRecord) => r.size,
          flush$: this.flushTrigger,
          scheduler: options.scheduler,
        }),
        map(({ key, items }): ProduceJob => {
          const first = items[0]!;
          if (isBatchAware(partitioner)) partitioner.onNewBatch(first.topic, first.partition);
          this.metricsState.batchesInFlight++;
          this.metricsState.batchesSent++;
          let bytes = 0;
          for (const item of items) bytes += item.size;
          return { topic: first.topic, partition: first.partition, key, records: items, bytes, firstSentAt: first.sentAt };
        }),
        sendBatches({
          keyOf: (job: ProduceJob) => job.key,
          send: (job: ProduceJob) => sender.send(job),
          maxConcurrency: options.maxInFlightRequests,
          maxInFlightPerPartition: options.maxInFlightPerPartition,
          merge: (first: ProduceJob, next: ProduceJob) => this.mergeJobs(first, next),
        }),
      )
      .subscribe({
        next: (outcome) => this.settle(outcome),
        error: (error: unknown) => {
          options.logger?.error({ err: error }, 'producer pipeline failed');
          resolveDone();
        },
        complete: () => resolveDone(),
      });
  }

  /**
   * Accepts a record into the buffer and returns its SendResult; waits up to
   * `maxBlockMs` while the buffer is full. Rejects with a typed error when the
   * record cannot be accepted (closed producer, bad record, unknown topic or
   * partition, record too large, buffer still full).
   */
  send(record: ProducerRecord): Promise<SendResult> {
    try {
      const result = this.trySend(record);
      if (result !== undefined) return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sendWhenReady(record);
  }

  /**
   * The synchronous fast path of `send`: accepts the record and returns its
   * SendResult when the topic is known and the buffer has room, else returns
   * undefined without side effects (then `send` waits). Throws the same typed
   * errors as `send` for records that can never be accepted.
   */
  trySend(record: ProducerRecord): SendResult | undefined {
    const pending = this.prepare(record);
    const partitionCount = this.cluster.knownPartitionCount(pending.topic);
    if (partitionCount === undefined) return undefined;
    this.place(pending, record.partition, partitionCount);
    if (!this.budget.tryReserve(pending.size)) return undefined;
    return this.enqueue(pending);
  }

  private async sendWhenReady(record: ProducerRecord): Promise<SendResult> {
    const pending = this.prepare(record);
    const partitionCount = this.cluster.knownPartitionCount(pending.topic) ?? (await this.cluster.topic(pending.topic)).partitions.length;
    this.place(pending, record.partition, partitionCount);
    if (!this.budget.tryReserve(pending.size)) await this.budget.reserve(pending.size, this.options.maxBlockMs);
    if (this.closing !== undefined) {
      this.budget.release(pending.size);
      throw new ProducerClosedError('producer closed while the record waited for buffer room', {
        context: { topic: pending.topic, partition: pending.partition },
      });
    }
    return this.enqueue(pending);
  }

  /**
   * Checks a record and converts it to bytes, in the one object that travels
   * through the pipeline (few allocations per record: see DESIGN, performance).
   */
  private prepare(record: ProducerRecord): PendingRecord {
    if (this.closing !== undefined) throw new ProducerClosedError('producer is closed');
    checkRecord(record);
    const pending: PendingRecord = {
      key: toBytes(record.key, 'key'),
      value: toBytes(record.value, 'value'),
      headers: toHeaders(record.headers),
      // NaN until enqueued: then the send time, unless the record carries its own.
      timestamp: record.timestamp ?? Number.NaN,
      topic: record.topic,
      partition: -1,
      partitionKey: '',
      size: 0,
      result: undefined!,
      sentAt: 0,
    };
    return pending;
  }

  /** Chooses the partition and measures the record. */
  private place(pending: PendingRecord, explicit: number | undefined, partitionCount: number): void {
    const args = this.partitionArgs;
    args.topic = pending.topic;
    args.partition = explicit;
    args.key = pending.key;
    args.value = pending.value;
    pending.partition = choosePartition(args, partitionCount, this.options.partitioner);
    pending.size = recordSize(pending.key, pending.value, pending.headers);
    if (pending.size > MAX_BATCH_SIZE) {
      throw new RecordTooLargeError(`record of ${pending.size} bytes exceeds the ${MAX_BATCH_SIZE}-byte batch limit`, {
        context: { topic: pending.topic, partition: pending.partition },
      });
    }
  }

  private enqueue(pending: PendingRecord): SendResult {
    const now = this.options.scheduler.now();
    if (Number.isNaN(pending.timestamp)) pending.timestamp = now;
    pending.sentAt = now;
    pending.result = new SendResult(pending.topic, pending.partition, pending.timestamp);
    pending.partitionKey = this.partitionKey(pending.topic, pending.partition);
    this.accepted.set(pending.partitionKey, (this.accepted.get(pending.partitionKey) ?? 0) + 1);
    this.metricsState.accepted(pending.partitionKey, pending.size);
    this.input.next(pending);
    return pending.result;
  }

  /**
   * Batches that queued up behind a busy partition go out as one, up to the
   * topic's max.message.bytes: requests grow with the load, like Kafka's
   * accumulator filling a batch while earlier ones are in flight.
   */
  private mergeJobs(first: ProduceJob, next: ProduceJob): ProduceJob | undefined {
    const limit = this.cluster.maxMessageBytes(first.topic) - BATCH_HEADER_SIZE;
    if (first.bytes + next.bytes > limit) return undefined;
    this.metricsState.batchesInFlight--;
    this.metricsState.batchesSent--;
    // The jobs are this pipeline's own: growing the first in place keeps merging n jobs linear.
    for (const record of next.records) first.records.push(record);
    first.bytes += next.bytes;
    first.firstSentAt = Math.min(first.firstSentAt, next.firstSentAt);
    return first;
  }

  /** `topic/partition`, built once per partition rather than once per record. */
  private partitionKey(topic: string, partition: number): string {
    let keys = this.partitionKeys.get(topic);
    if (keys === undefined) this.partitionKeys.set(topic, (keys = []));
    return (keys[partition] ??= `${topic}/${partition}`);
  }

  /** Sends a record and waits for its acknowledgement (or error), up to `timeoutMs` if given. */
  async sendAndWait(record: ProducerRecord, timeoutMs?: number): Promise<RecordMetadata> {
    const result = await this.send(record);
    const offset = await result.waitOffset(timeoutMs);
    return { topic: result.topic, partition: result.partition, offset, timestamp: result.timestamp };
  }

  /**
   * A cold Observable that sends the record when subscribed and emits where
   * it was stored, then completes; or errors with the record's typed error.
   */
  send$(record: ProducerRecord): Observable<RecordMetadata> {
    return defer(() => this.sendAndWait(record));
  }

  /** Sends every lingering batch now and waits until every record sent so far is acknowledged or failed. */
  flush(): Promise<void> {
    const targets = new Map<string, number>();
    for (const [key, count] of this.accepted) if ((this.settled.get(key) ?? 0) < count) targets.set(key, count);
    if (targets.size === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ targets, resolve }));
    this.flushTrigger.next();
    return done;
  }

  /**
   * Per-record acknowledgements, in offset order within a partition; all
   * partitions, one topic, or one topic-partition. Notifications are built
   * only while someone subscribes.
   */
  offsets$(topic?: string, partition?: number): Observable<OffsetNotification> {
    return this.offsetsSubject.pipe(filter((n) => (topic === undefined || n.topic === topic) && (partition === undefined || n.partition === partition)));
  }

  /** Current metrics. */
  metrics(): ProducerMetricsSnapshot {
    return this.metricsState.snapshot();
  }

  /** Metrics every `periodMs` (default 1000) on the producer's scheduler. */
  metrics$(periodMs = 1000): Observable<ProducerMetricsSnapshot> {
    return this.metricsState.snapshots(periodMs, this.options.scheduler);
  }

  /** The producer id (-1 when idempotence is off). */
  get producerId(): number {
    return this.identity?.id ?? -1;
  }

  private settle(outcome: JobOutcome): void {
    const { job } = outcome;
    this.metricsState.batchesInFlight--;
    const now = this.options.scheduler.now();
    let bytes = 0;
    const notify = this.offsetsSubject.observed;
    job.records.forEach((record, i) => {
      bytes += record.size;
      if (outcome.ok) {
        const offset = outcome.baseOffset < 0 ? -1 : outcome.baseOffset + i;
        record.result._resolve(offset);
        if (notify) this.offsetsSubject.next({ topic: record.topic, partition: record.partition, offset, timestamp: record.timestamp, key: record.key });
      } else {
        record.result._reject(outcome.error);
      }
    });
    if (outcome.ok) this.metricsState.latency(now - job.firstSentAt, job.records.length);
    this.metricsState.settled(job.key, job.records.length, bytes, outcome.ok);
    this.budget.release(bytes);
    this.settled.set(job.key, (this.settled.get(job.key) ?? 0) + job.records.length);
    if (this.flushWaiters.length > 0) this.checkFlushWaiters();
  }

  private checkFlushWaiters(): void {
    this.flushWaiters = this.flushWaiters.filter((waiter) => {
      for (const [key, count] of waiter.targets) if ((this.settled.get(key) ?? 0) < count) return true;
      waiter.resolve();
      return false;
    });
  }

  /**
   * Flushes, waits for every record to settle, then releases connections.
   * Afterwards `send` fails with ProducerClosedError. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.budget.rejectAll(new ProducerClosedError('producer closed while the record waited for buffer room'));
      await this.flush();
      this.input.complete();
      await this.pipelineDone;
      this.pipeline.unsubscribe();
      this.offsetsSubject.complete();
      this.flushTrigger.complete();
      this.cluster.close();
      this.pool.closeAll();
    })();
    return this.closing;
  }

}

/**
 * Creates a producer: learns the cluster from the bootstrap agents and, with
 * idempotence on, obtains a producer id. Rejects with AgentUnavailableError
 * when no bootstrap agent answers.
 */
export async function createProducer(options: ProducerOptions): Promise<Producer> {
  const resolved = resolveProducerOptions(options);
  const pool = new ConnectionPool();
  const cluster = new ClusterMetadata({ bootstrap: resolved.bootstrap, pool, refreshMs: resolved.metadataRefreshMs, logger: resolved.logger });
  try {
    await cluster.refresh();
    let identity: ProducerIdentity | undefined;
    if (resolved.idempotence) {
      const client = () => pool.get(cluster.anyAddress()).client;
      const first = await client().initProducerId({ producerId: -1, producerEpoch: -1 });
      identity = new ProducerIdentity(first.producerId, first.producerEpoch, (producerId) => client().initProducerId({ producerId, producerEpoch: -1 }));
    }
    return new Producer(resolved, cluster, pool, identity);
  } catch (error) {
    cluster.close();
    pool.closeAll();
    throw error;
  }
}
