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
import { Observable, Subject, defer, filter, map, type Subscriber, type Subscription } from 'rxjs';
import { ProducerClosedError, RecordTooLargeError } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, MAX_BATCH_SIZE } from '../../protocol/batchLayout.js';
import { SendResult } from '../sendResult.js';
import { batchByPartition } from '../operators/batchByPartition.js';
import { sendBatches } from '../operators/sendBatches.js';
import { choosePartition, isBatchAware, type PartitionableRecord } from '../partitioners/partitioner.js';
import { ClusterMetadata } from '../cluster/clusterMetadata.js';
import { ConnectionPool } from '../cluster/connectionPool.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producerOptions.js';
import { checkRecord, PendingRecord, recordSize, toBytes, toHeaders, type ProducerRecord } from './producerRecord.js';
import type { RecordHeader } from '../../protocol/record.js';
import { BufferBudget } from './bufferBudget.js';
import { BatchSender, type JobOutcome, type ProduceJob } from './batchSender.js';
import { ProducerIdentity } from './idempotence.js';
import { ProducerMetrics, type PartitionCounters, type ProducerMetricsSnapshot } from './producerMetrics.js';

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

/** A record's key, value and headers as bytes. */
type Payloads = { key: Uint8Array | null; value: Uint8Array | null; headers: RecordHeader[] | undefined };

/** A flush() call: done once each partition has settled as many records as it had accepted at the call. */
type FlushWaiter = { targets: Map<PartitionCounters, number>; resolve: () => void };

export class Producer {
  /**
   * Where accepted records enter the pipeline: its one subscriber, held
   * directly rather than through a Subject, whose `next` allocates a closure
   * and an iterator per call (a third of the producer's garbage per record).
   */
  private input: Subscriber<PendingRecord> | undefined;
  private readonly flushTrigger = new Subject<void>();
  private readonly offsetsSubject = new Subject<OffsetNotification>();
  private readonly pipeline: Subscription;
  private readonly pipelineDone: Promise<void>;
  private readonly budget: BufferBudget;
  private readonly metricsState = new ProducerMetrics();
  private flushWaiters: FlushWaiter[] = [];
  /** Reused by every trySend call for the record's converted payload. */
  private readonly scratch: Payloads = { key: null, value: null, headers: undefined };
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
    this.pipeline = new Observable<PendingRecord>((subscriber) => {
      this.input = subscriber;
    })
      .pipe(
        batchByPartition({
          keyOf: (r: PendingRecord) => r.counters.key,
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
    // The scratch is safe here: nothing between filling it and enqueue awaits.
    const { key, value, headers } = this.normalize(record, this.scratch);
    const partitionCount = this.cluster.knownPartitionCount(record.topic);
    if (partitionCount === undefined) return undefined;
    const partition = this.choose(record, key, value, partitionCount);
    const size = this.measure(record.topic, partition, key, value, headers);
    if (!this.budget.tryReserve(size)) return undefined;
    return this.enqueue(record, partition, key, value, headers, size);
  }

  private async sendWhenReady(record: ProducerRecord): Promise<SendResult> {
    const { key, value, headers } = this.normalize(record, { key: null, value: null, headers: undefined });
    const partitionCount = this.cluster.knownPartitionCount(record.topic) ?? (await this.cluster.topic(record.topic)).partitions.length;
    const partition = this.choose(record, key, value, partitionCount);
    const size = this.measure(record.topic, partition, key, value, headers);
    if (!this.budget.tryReserve(size)) await this.budget.reserve(size, this.options.maxBlockMs);
    if (this.closing !== undefined) {
      this.budget.release(size);
      throw new ProducerClosedError('producer closed while the record waited for buffer room', {
        context: { topic: record.topic, partition },
      });
    }
    return this.enqueue(record, partition, key, value, headers, size);
  }

  /**
   * Checks a record (and that the producer is open) and converts its key,
   * value and headers into `into`, which it returns.
   * @throws ProducerClosedError, InvalidRequestError
   */
  private normalize(record: ProducerRecord, into: Payloads): Payloads {
    if (this.closing !== undefined) throw new ProducerClosedError('producer is closed');
    checkRecord(record);
    into.key = toBytes(record.key, 'key');
    into.value = toBytes(record.value, 'value');
    into.headers = toHeaders(record.headers);
    return into;
  }

  /** The record's partition (explicit, or the partitioner's choice), checked against the topic. */
  private choose(record: ProducerRecord, key: Uint8Array | null, value: Uint8Array | null, partitionCount: number): number {
    const args = this.partitionArgs;
    args.topic = record.topic;
    args.partition = record.partition;
    args.key = key;
    args.value = value;
    return choosePartition(args, partitionCount, this.options.partitioner);
  }

  /** Bytes the record counts against the buffer and the batch limits. @throws RecordTooLargeError */
  private measure(topic: string, partition: number, key: Uint8Array | null, value: Uint8Array | null, headers: RecordHeader[] | undefined): number {
    const size = recordSize(key, value, headers);
    if (size > MAX_BATCH_SIZE) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_BATCH_SIZE}-byte batch limit`, {
        context: { topic, partition },
      });
    }
    return size;
  }

  /** Builds the record's one object (its SendResult) and pushes it into the pipeline. */
  private enqueue(
    record: ProducerRecord,
    partition: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    size: number,
  ): SendResult {
    const now = this.options.scheduler.now();
    const counters = this.metricsState.partition(record.topic, partition);
    const pending = new PendingRecord(record.topic, partition, record.timestamp ?? now, key, value, headers, size, now, counters);
    counters.acceptedRecords++;
    counters.acceptedBytes += size;
    this.input!.next(pending);
    return pending;
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
    const targets = new Map<PartitionCounters, number>();
    for (const counters of this.metricsState.allPartitions()) {
      if (counters.settledRecords < counters.acceptedRecords) targets.set(counters, counters.acceptedRecords);
    }
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
    const records = job.records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      bytes += record.size;
      if (outcome.ok) {
        const offset = outcome.baseOffset < 0 ? -1 : outcome.baseOffset + i;
        const key = record.key;
        record.releasePayload();
        record._resolve(offset);
        if (notify) this.offsetsSubject.next({ topic: record.topic, partition: record.partition, offset, timestamp: record.timestamp, key });
      } else {
        record.releasePayload();
        record._reject(outcome.error);
      }
    }
    if (outcome.ok) this.metricsState.latency(now - job.firstSentAt, records.length);
    this.metricsState.settled(records[0]!.counters, records.length, bytes, outcome.ok);
    this.budget.release(bytes);
    if (this.flushWaiters.length > 0) this.checkFlushWaiters();
  }

  private checkFlushWaiters(): void {
    this.flushWaiters = this.flushWaiters.filter((waiter) => {
      for (const [counters, count] of waiter.targets) if (counters.settledRecords < count) return true;
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
      this.input?.complete();
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
