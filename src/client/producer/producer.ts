/**
 * The RxJS Producer. Records go into one pipeline:
 *
 * ```
 * send() ─> RecordAccumulator.append: the record encoded into its partition's
 *           open batch, a direct call answering { batch, index }
 *   closed$ (a batch closes: linger on the scheduler, count, bytes, flush;
 *            a lingered batch keeps filling while its partition is busy)
 *        ─> sendBatches (bounded concurrency, ordered per partition)
 *        ─> BatchSender (Produce, retry with backoff, re-route)
 *        ─> settle: the batch's outcome, which its records' SendResults
 *           read their offsets from; offsets$ notified
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
import { type Observable, Subject, defer, filter, map, type Subscription } from 'rxjs';
import { ProducerClosedError, RecordTooLargeError } from '../../protocol/errors.js';
import { BATCH_HEADER_SIZE, MAX_BATCH_SIZE } from '../../protocol/codec/batchLayout.js';
import { SendResult } from '../sendResult.js';
import { sendBatches } from '../operators/sendBatches.js';
import { choosePartition, isBatchAware, type PartitionableRecord } from '../partitioners/partitioner.js';
import { ClusterMetadata } from '../cluster/clusterMetadata.js';
import { ConnectionPool } from '../cluster/connectionPool.js';
import type { AgentTransport } from '../cluster/agentTransport.js';
import { resolveProducerOptions, type ProducerOptions, type ResolvedProducerOptions } from './producerOptions.js';
import { checkRecord, recordSize, toHeaders, type Payload, type ProducerRecord } from './producerRecord.js';
import { serializeField } from '../serde/serializeField.js';
import { INITIAL_BATCH_CAPACITY, type ProducerBatch } from './producerBatch.js';
import { RecordAccumulator } from './recordAccumulator.js';
import type { PartitionState } from './partitionState.js';
import { BuilderPool } from './builderPool.js';
import { RequestBufferPool } from './requestBufferPool.js';
import { checkRecordBatch } from '../../protocol/codec/recordBatchDecoder.js';
import type { RecordHeader } from '../../protocol/codec/record.js';
import { BufferBudget } from './bufferBudget.js';
import { BatchSender, type JobOutcome, type ProduceJob } from './batchSender.js';
import { ProducerIdentity, initProducerId } from './idempotence.js';
import { Sequencer } from './sequencer.js';
import { fromAbortable } from '../fromAbortable.js';
import { ProducerMetrics, type ProducerMetricsSnapshot } from './producerMetrics.js';

/** Bytes a record may take beyond its estimated size once encoded (varint fields at their widest). */
const ENCODING_SLACK = 32;

/** One record's acknowledgement, as announced on `offsets$`. */
export type OffsetNotification = {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  /**
   * The record's key as sent: a view of the request's bytes, which it keeps in memory while held (copy it to keep it
   * for long).
   */
  key: Uint8Array | null;
};

/** Where an acknowledged record was stored. */
export type RecordMetadata = { topic: string; partition: number; offset: number; timestamp: number };

/** A record's key, value and headers as bytes. */
type Payloads = { key: Uint8Array | null; value: Uint8Array | null; headers: RecordHeader[] | undefined };

/** A flush() call: done once each partition has settled as many records as it had accepted at the call. */
type FlushWaiter = { targets: Map<PartitionState, number>; resolve: () => void };

/** Sends records whose keys are `K` and values `V` (see ProducerOptions' serialisers). */
export class Producer<K = Payload, V = Payload> {
  /** Where accepted records go, each into its partition's open batch; closed batches leave it on `closed$`. */
  private readonly accumulator: RecordAccumulator;
  private readonly offsetsSubject = new Subject<OffsetNotification>();
  private readonly pipeline: Subscription;
  private readonly pipelineDone: Promise<void>;
  private readonly budget: BufferBudget;
  private readonly sender: BatchSender;
  private readonly metricsState: ProducerMetrics;
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
    private readonly pool: AgentTransport,
    private readonly identity: ProducerIdentity | undefined,
  ) {
    const maxInFlightPerPartition = options.maxInFlightPerPartition;
    // Free builders and request buffers are each bounded by the buffer's own bound: they hold no more than the records
    // they stand for.
    const keptBytes = Math.min(options.maxBufferedBytes, 64 * 1024 * 1024);
    const accumulator = (this.accumulator = new RecordAccumulator({
      lingerMs: options.lingerMs,
      maxCount: options.batchRecords,
      maxBytes: options.batchBytes,
      maxInFlightPerPartition,
      scheduler: options.scheduler,
      builders: new BuilderPool(Math.min(INITIAL_BATCH_CAPACITY, options.batchBytes), keptBytes),
    }));
    this.metricsState = new ProducerMetrics(accumulator.partitions);
    identity?.bumped$.subscribe(({ producerId, producerEpoch }) => {
      this.metricsState.epochBumps++;
      options.logger?.info({ producerId, producerEpoch }, 'producer moved to a new epoch');
    });
    this.budget = new BufferBudget(options.maxBufferedBytes, options.scheduler);
    const sender = (this.sender = new BatchSender({
      cluster,
      pool,
      sequencer: identity === undefined ? undefined : new Sequencer(identity),
      acks: options.acks,
      compression: options.compression,
      retry: options.retry,
      requestTimeoutMs: options.requestTimeoutMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs,
      scheduler: options.scheduler,
      requestBuffers: new RequestBufferPool(keptBytes, options.batchBytes),
      onRetry: (job, error) => {
        this.metricsState.retries++;
        options.logger?.debug({ err: error, partition: job.key }, 'retrying batch');
      },
    }));
    const partitioner = options.partitioner;
    let resolveDone!: () => void;
    this.pipelineDone = new Promise((resolve) => (resolveDone = resolve));
    // RxJS from where a batch closes: sending, retries, acknowledgements.
    this.pipeline = accumulator.closed$
      .pipe(
        map((batch: ProducerBatch): ProduceJob => {
          const { topic, partition, key } = batch.partition;
          if (isBatchAware(partitioner)) partitioner.onNewBatch(topic, partition);
          this.metricsState.batchesSent++;
          return {
            topic,
            partition,
            key,
            batch,
            count: batch.count,
            bytes: batch.bytes,
            attempts: 0,
            // Every field a job gets on its way, so that all jobs share one shape.
            encodedBatch: undefined,
            message: undefined,
            request: undefined,
            encodedWith: undefined,
            sequence: undefined,
            inDoubt: false,
            sending: false,
          };
        }),
        sendBatches({
          keyOf: (job: ProduceJob) => job.key,
          send: (job: ProduceJob) => sender.send(job),
          maxConcurrency: options.maxInFlightRequests,
          maxInFlightPerPartition,
        }),
      )
      .subscribe({
        next: (outcome) => this.settle(outcome),
        error: (error: unknown) => {
          options.logger?.error({ err: error }, 'producer pipeline failed');
          // Nothing will settle the batches under way any more: their records fail, and flush() does not wait for them.
          const dropped = accumulator.abort(new ProducerClosedError('producer pipeline has stopped', { cause: error }));
          this.metricsState.settled(dropped.records, false);
          this.budget.release(dropped.bytes);
          if (this.flushWaiters.length > 0) this.checkFlushWaiters();
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
  send(record: ProducerRecord<K, V>): Promise<SendResult> {
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
  trySend(record: ProducerRecord<K, V>): SendResult | undefined {
    // The scratch is safe here: nothing between filling it and enqueue awaits.
    const scratch = this.normalize(record, this.scratch);
    const { key, value, headers } = scratch;
    // The producer keeps no reference to a record's bytes beyond its batch's encoding of them.
    scratch.key = scratch.value = null;
    scratch.headers = undefined;
    const partitionCount = this.cluster.knownPartitionCount(record.topic);
    if (partitionCount === undefined) return undefined;
    const partition = this.choose(record, key, value, partitionCount);
    const size = this.measure(record.topic, partition, key, value, headers);
    if (!this.budget.tryReserve(size)) return undefined;
    return this.enqueue(record, partition, key, value, headers, size);
  }

  private async sendWhenReady(record: ProducerRecord<K, V>): Promise<SendResult> {
    const { key, value, headers } = this.normalize(record, { key: null, value: null, headers: undefined });
    const partitionCount =
      this.cluster.knownPartitionCount(record.topic) ?? (await this.cluster.topic(record.topic)).partitions.length;
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
  private normalize(record: ProducerRecord<K, V>, into: Payloads): Payloads {
    if (this.closing !== undefined) throw new ProducerClosedError('producer is closed');
    checkRecord(record);
    const { keySerializer, valueSerializer } = this.options;
    into.key = serializeField(keySerializer, record.key, record.topic, 'key');
    into.value = serializeField(valueSerializer, record.value, record.topic, 'value');
    into.headers = toHeaders(record.headers);
    return into;
  }

  /** The record's partition (explicit, or the partitioner's choice), checked against the topic. */
  private choose(
    record: ProducerRecord<K, V>,
    key: Uint8Array | null,
    value: Uint8Array | null,
    partitionCount: number,
  ): number {
    const args = this.partitionArgs;
    args.topic = record.topic;
    args.partition = record.partition;
    args.key = key;
    args.value = value;
    try {
      return choosePartition(args, partitionCount, this.options.partitioner);
    } finally {
      args.key = args.value = null;
    }
  }

  /** Bytes the record counts against the buffer and the batch limits. @throws RecordTooLargeError */
  private measure(
    topic: string,
    partition: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
  ): number {
    const size = recordSize(key, value, headers);
    // Room for the batch header and the record's varints at their widest: a record alone always fits a batch.
    if (size > MAX_BATCH_SIZE - BATCH_HEADER_SIZE - ENCODING_SLACK) {
      throw new RecordTooLargeError(`record of ${size} bytes exceeds the ${MAX_BATCH_SIZE}-byte batch limit`, {
        context: { topic, partition },
      });
    }
    return size;
  }

  /** Appends the record to its partition's batch (which encodes it) and returns its SendResult. */
  private enqueue(
    record: ProducerRecord<K, V>,
    partition: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    size: number,
  ): SendResult {
    const accumulator = this.accumulator;
    if (accumulator.isComplete) {
      // The pipeline has stopped (it only does on close or a bug): the record is not taken.
      this.budget.release(size);
      throw new ProducerClosedError('producer pipeline has stopped', { context: { topic: record.topic, partition } });
    }
    const now = this.options.scheduler.now();
    const timestamp = record.timestamp ?? now;
    const state = accumulator.partition(record.topic, partition);
    const { batch, index } = accumulator.append(state, key, value, headers, timestamp, now, size);
    return new SendResult(batch.outcome, index, timestamp, this.options.scheduler);
  }

  /** Sends a record and waits for its acknowledgement (or error), up to `timeoutMs` if given. */
  async sendAndWait(record: ProducerRecord<K, V>, timeoutMs?: number): Promise<RecordMetadata> {
    const result = await this.send(record);
    const offset = await result.waitOffset(timeoutMs);
    return { topic: result.topic, partition: result.partition, offset, timestamp: result.timestamp };
  }

  /**
   * A cold Observable that sends the record when subscribed and emits where
   * it was stored, then completes; or errors with the record's typed error.
   */
  send$(record: ProducerRecord<K, V>): Observable<RecordMetadata> {
    return defer(() => this.sendAndWait(record));
  }

  /** Sends every lingering batch now and waits until every record sent so far is acknowledged or failed. */
  flush(): Promise<void> {
    const targets = new Map<PartitionState, number>();
    for (const state of this.accumulator.partitions.all()) {
      if (state.settledRecords < state.acceptedRecords) targets.set(state, state.acceptedRecords);
    }
    if (targets.size === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.flushWaiters.push({ targets, resolve }));
    this.accumulator.closeAll();
    return done;
  }

  /**
   * Per-record acknowledgements, in offset order within a partition; all
   * partitions, one topic, or one topic-partition. Notifications are built
   * only while someone subscribes.
   */
  offsets$(topic?: string, partition?: number): Observable<OffsetNotification> {
    return this.offsetsSubject.pipe(
      filter(
        (n) => (topic === undefined || n.topic === topic) && (partition === undefined || n.partition === partition),
      ),
    );
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
    // offsets$ notifications carry keys that are views of the sent request: then its buffer is not reused.
    let viewsHandedOut = false;
    if (outcome.ok) {
      job.batch.outcome.resolve(outcome.baseOffset);
      this.metricsState.latency(this.options.scheduler.now() - job.batch.firstSentAt, job.count);
      if (this.offsetsSubject.observed && job.encodedBatch !== undefined) {
        viewsHandedOut = true;
        this.announceOffsets(job, outcome.baseOffset, job.encodedBatch);
      }
    } else {
      job.batch.outcome.reject(outcome.error);
    }
    this.sender.releaseRequest(job, outcome.ok && !viewsHandedOut);
    this.metricsState.settled(job.count, outcome.ok);
    this.budget.release(job.bytes);
    // Counts the records settled, and closes the partition's held batch if it now has room for a request.
    this.accumulator.settled(job.batch);
    if (this.flushWaiters.length > 0) this.checkFlushWaiters();
  }

  /**
   * One notification per record of an acknowledged batch, read back from the
   * bytes that were sent (the producer keeps no records); keys are views of
   * those bytes. Only while someone observes offsets$.
   */
  private announceOffsets(job: ProduceJob, baseOffset: number, encodedBatch: Uint8Array): void {
    const { cursor } = checkRecordBatch(encodedBatch);
    const { topic, partition } = job;
    while (cursor.next()) {
      const offset = baseOffset < 0 ? -1 : baseOffset + cursor.offset;
      this.offsetsSubject.next({ topic, partition, offset, timestamp: cursor.timestamp, key: cursor.key });
    }
  }

  private checkFlushWaiters(): void {
    this.flushWaiters = this.flushWaiters.filter((waiter) => {
      for (const [state, count] of waiter.targets) if (state.settledRecords < count) return true;
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
      this.accumulator.complete();
      await this.pipelineDone;
      this.pipeline.unsubscribe();
      this.offsetsSubject.complete();
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
export function createProducer<K = Payload, V = Payload>(options: ProducerOptions<K, V>): Promise<Producer<K, V>> {
  return createProducerOver(undefined, options);
}

/**
 * createProducer reaching agents through `transport` (default: gRPC connections). For streamhouse/testing.
 * @internal
 */
export async function createProducerOver<K = Payload, V = Payload>(
  transport: AgentTransport | undefined,
  options: ProducerOptions<K, V>,
): Promise<Producer<K, V>> {
  const resolved = resolveProducerOptions(options);
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
  try {
    await cluster.refresh();
    let identity: ProducerIdentity | undefined;
    if (resolved.idempotence) {
      const context = { pool, cluster, scheduler: resolved.scheduler };
      const { requestTimeoutMs, logger } = resolved;
      identity = new ProducerIdentity(await initProducerId(context, -1, requestTimeoutMs), {
        bump: (producerId) => fromAbortable((signal) => initProducerId(context, producerId, requestTimeoutMs, signal)),
        retry: resolved.retry,
        scheduler: resolved.scheduler,
        onBumpRetry: ({ error, delayMs }) =>
          logger?.warn({ err: error, delayMs }, 'producer epoch bump failed; retrying'),
      });
    }
    return new Producer<K, V>(resolved, cluster, pool, identity);
  } catch (error) {
    cluster.close();
    pool.closeAll();
    throw error;
  }
}
