/**
 * The single writer of one partition on the agent that holds its lease.
 *
 * Produce requests hand it validated batches; it assigns offsets in arrival
 * order, stamps them into the batch bytes, and groups everything pending into
 * one segment object per flush (at `flushBytes`, or `flushIntervalMs` after
 * the first pending batch). A flush writes the object, then registers it and
 * advances the high watermark in one metadata step conditional on the lease
 * epoch; only then are `durable` appends answered.
 *
 * One flush is in flight at a time, so segments commit in offset order. A
 * store failure is retried while the lease lasts, for at most
 * `storageRetryTimeoutMs`. When the lease is lost, the retries run out or
 * the store refuses for good, the writer fails every append not yet
 * committed (none was answered as durable) with the typed error and stops;
 * further appends fail at once with that error. `none` appends that were
 * answered but never written are logged and counted (`lostAppends`). The
 * lease is checked before every answer, log append and flush, by this
 * agent's clock (see LeaseManager), so a writer paused past its lease never
 * acknowledges at an offset another agent may have taken since.
 */
import type { Logger } from 'pino';
import type { Lease, MetadataStore, ProducerPartitionState } from '../../metadata/metadataStore.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { readBatchFrame, readProducerFields, type BatchFrame } from '../../protocol/codec/batchLayout.js';
import { stampBatch } from '../../protocol/codec/recordBatch.js';
import {
  FencedLeaseEpochError,
  InvalidRequestError,
  NotLeaderError,
  OutOfOrderSequenceError,
  ShuttingDownError,
  StorageError,
  StreamHouseError,
  isRetriable,
} from '../../protocol/errors.js';
import { DEFAULT_STORAGE_RETRY_TIMEOUT_MS } from '../agentOptions.js';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS, ProducerSequences, type SequenceCheck } from './producerSequences.js';
import { SegmentCommitter } from './segmentCommitter.js';
import type { SegmentCommitBatcher } from './segmentCommitBatcher.js';
import type { WriteAheadLog } from './writeAheadLog.js';

/** When an append is answered. */
export type AckKind = 'durable' | 'buffered' | 'none';

export type AppendRequest = {
  /** One encoded batch; its offsets and leader epoch are stamped in place. */
  batch: Buffer;
  frame: BatchFrame;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  ack: AckKind;
};

export type AppendResult = {
  /** Offset of the first record; -1 for `none` acks. */
  baseOffset: number;
  recordCount: number;
  appendTime: number;
  logStartOffset: number;
};

/** `none` appends answered but never written, because their flush failed or the writer was stopped first. */
export type LostAppends = { batches: number; records: number };

export type PartitionWriterOptions = {
  topic: string;
  partition: number;
  lease: Lease;
  /**
   * The lease as renewed since (the LeaseManager replaces the object on each
   * renewal), or undefined once it is no longer held or may have expired by
   * this agent's clock (LeaseManager.held).
   */
  currentLease: () => Lease | undefined;
  objectStore: ObjectStore;
  metadataStore: MetadataStore;
  /** Groups this writer's segment commits with other writers' (see SegmentCommitBatcher); default: each alone. */
  commitBatcher?: SegmentCommitBatcher | undefined;
  flushIntervalMs: number;
  flushBytes: number;
  maxPendingBytes: number;
  /** Called after each commit with the new high watermark. */
  onCommit: (topic: string, partition: number, highWatermark: number) => void;
  /** Called after each flush with its batch bytes and the time to write and commit it, seconds. */
  onFlushed?: ((bytes: number, seconds: number) => void) | undefined;
  /** Called once when the writer stops because its lease was fenced. */
  onFenced: (topic: string, partition: number) => void;
  /**
   * Called once when the writer stops on a store failure while its lease is
   * still held (the agent releases the lease). Default: onFenced.
   */
  onFailed?: ((topic: string, partition: number, error: StreamHouseError) => void) | undefined;
  /** Retriable failures of a flush are retried this long, ms (AgentOptions.storageRetryTimeoutMs). Default 30000. */
  storageRetryTimeoutMs?: number | undefined;
  /** Counts `none` appends lost to a failed flush; may be shared by writers. */
  lostAppends?: LostAppends | undefined;
  wal?: WriteAheadLog | undefined;
  /**
   * Producers idle longer than this are forgotten, here and in the store, ms. Default one day
   * (DEFAULT_PRODUCER_ID_EXPIRATION_MS).
   */
  producerIdExpirationMs?: number | undefined;
  logger?: Logger | undefined;
  clock?: () => number;
};

type Pending = {
  batch: Buffer;
  ack: AckKind;
  baseOffset: number;
  nextOffset: number;
  producer: ProducerPartitionState | undefined;
  settle: { resolve: (r: AppendResult) => void; reject: (e: unknown) => void } | undefined;
  result: AppendResult;
};

/** How long a batch that arrived ahead of its predecessors waits for them. */
const REORDER_WAIT_MS = 2000;

export class PartitionWriter {
  readonly topic: string;
  readonly partition: number;
  private nextOffset: number;
  private highWatermark: number;
  private logStartOffset: number;
  private pending: Pending[] = [];
  /** The batches of the flush under way, not yet committed. */
  private flushingItems: Pending[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped: StreamHouseError | undefined;
  /** Why and when the writer stopped on a store failure (not set for a lost lease or a close). */
  private failed: { error: StreamHouseError; at: number } | undefined;
  private readonly sequences: ProducerSequences;
  private readonly seeding = new Map<number, Promise<void>>();
  private readonly sequenceWaiters = new Map<number, (() => void)[]>();
  private readonly drainWaiters: (() => void)[] = [];
  private readonly clock: () => number;
  private readonly committer: SegmentCommitter;

  private constructor(
    private readonly options: PartitionWriterOptions,
    highWatermark: number,
    logStartOffset: number,
  ) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.nextOffset = highWatermark;
    this.highWatermark = highWatermark;
    this.logStartOffset = logStartOffset;
    this.clock = options.clock ?? Date.now;
    const producerIdExpirationMs = options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.sequences = new ProducerSequences(this.clock, producerIdExpirationMs);
    this.committer = new SegmentCommitter({
      topic: options.topic,
      partition: options.partition,
      epoch: options.lease.epoch,
      objectStore: options.objectStore,
      metadataStore: options.metadataStore,
      commitBatcher: options.commitBatcher,
      producerIdExpirationMs,
      mayRetry: () => this.leaseValid() && this.stopped === undefined,
      retryTimeoutMs: options.storageRetryTimeoutMs ?? DEFAULT_STORAGE_RETRY_TIMEOUT_MS,
      clock: this.clock,
      logger: options.logger,
    });
  }

  /** Opens a writer at the partition's committed high watermark. */
  static async open(options: PartitionWriterOptions): Promise<PartitionWriter> {
    const state = await options.metadataStore.getPartition(options.topic, options.partition);
    return new PartitionWriter(options, state.highWatermark, state.logStartOffset);
  }

  get epoch(): number {
    return this.options.lease.epoch;
  }

  /** Offset the next record will get once committed. */
  get committedHighWatermark(): number {
    return this.highWatermark;
  }

  get startOffset(): number {
    return this.logStartOffset;
  }

  /** The writer no longer accepts appends (closed, fenced or failed). */
  get isStopped(): boolean {
    return this.stopped !== undefined;
  }

  /** The store failure the writer stopped on, and when (its clock), if it did. */
  get failure(): { error: StreamHouseError; at: number } | undefined {
    return this.failed;
  }

  /** Appends one batch; resolves when its ack mode's promise is kept. */
  async append(request: AppendRequest): Promise<AppendResult> {
    this.throwIfStopped();
    const { producerId } = request;
    if (producerId >= 0 && !this.sequences.has(producerId)) await this.seed(producerId);
    while (this.pendingBytes >= this.options.maxPendingBytes && this.stopped === undefined) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    this.throwIfStopped();
    const { frame, batch } = request;
    let producer: ProducerPartitionState | undefined;
    const check = producerId >= 0 ? await this.checkSequence(request) : undefined;
    this.throwIfStopped();
    // Nothing is answered, and nothing logged, once the lease may have expired; nothing is awaited from here to the log
    // append.
    this.ensureLease();
    if (check?.kind === 'duplicate') return this.answerDuplicate(check.baseOffset, check.recordCount);
    const baseOffset = this.nextOffset;
    stampBatch(batch, baseOffset, this.epoch);
    this.nextOffset = baseOffset + frame.lastOffsetDelta + 1;
    if (producerId >= 0) {
      this.sequences.record(producerId, request.producerEpoch, request.baseSequence, frame.recordCount, baseOffset);
      producer = this.sequences.state(producerId);
      this.wakeSequenceWaiters(producerId);
    }
    const result: AppendResult = {
      baseOffset,
      recordCount: frame.recordCount,
      appendTime: this.clock(),
      logStartOffset: this.logStartOffset,
    };
    const item: Pending = {
      batch,
      ack: request.ack,
      baseOffset,
      nextOffset: this.nextOffset,
      producer,
      settle: undefined,
      result,
    };
    const durable =
      request.ack === 'durable'
        ? new Promise<AppendResult>((resolve, reject) => (item.settle = { resolve, reject }))
        : undefined;
    this.pending.push(item);
    this.pendingBytes += batch.length;
    this.scheduleFlush();
    if (durable !== undefined) return durable;
    if (request.ack === 'buffered') {
      await this.options.wal!.append(this.topic, this.partition, batch);
      // The log write outlasted the lease: not answered (a holder that replays the log may still store it, as a retry
      // may).
      this.ensureLease();
      return result;
    }
    return { ...result, baseOffset: -1 };
  }

  /**
   * Checks a batch's sequence; a batch that arrived ahead of its predecessors
   * waits up to REORDER_WAIT_MS for them (requests multiplexed over one HTTP/2
   * connection can complete out of order) before OUT_OF_ORDER_SEQUENCE.
   */
  private async checkSequence(request: AppendRequest): Promise<SequenceCheck> {
    const { producerId, producerEpoch, baseSequence, frame } = request;
    // Elapsed time, not the injectable clock: the wait runs on real timers.
    const deadline = performance.now() + REORDER_WAIT_MS;
    for (;;) {
      try {
        return this.sequences.check(producerId, producerEpoch, baseSequence, frame.recordCount);
      } catch (error) {
        const wait = deadline - performance.now();
        if (
          !(error instanceof OutOfOrderSequenceError) ||
          wait <= 0 ||
          this.stopped !== undefined ||
          !this.sequences.isAhead(producerId, producerEpoch, baseSequence)
        ) {
          throw error;
        }
        await new Promise<void>((resolve) => {
          const waiters = this.sequenceWaiters.get(producerId) ?? [];
          const wake = () => (clearTimeout(timer), resolve());
          const timer = setTimeout(() => {
            // Gone from the list once it times out, so waiters never pile up for a silent producer.
            const left = (this.sequenceWaiters.get(producerId) ?? []).filter((w) => w !== wake);
            if (left.length > 0) this.sequenceWaiters.set(producerId, left);
            else this.sequenceWaiters.delete(producerId);
            resolve();
          }, wait);
          waiters.push(wake);
          this.sequenceWaiters.set(producerId, waiters);
        });
      }
    }
  }

  private wakeSequenceWaiters(producerId: number): void {
    const waiters = this.sequenceWaiters.get(producerId);
    if (waiters === undefined) return;
    this.sequenceWaiters.delete(producerId);
    for (const wake of waiters) wake();
  }

  /**
   * Re-appends batches from a write-ahead log at the offsets they were
   * acknowledged with, in order: each must continue the log exactly. Their
   * sequences were checked when they were first acknowledged, so only the
   * producer state is recorded. Flushes at once (they have waited already)
   * and resolves once all are durable.
   */
  async restore(batches: Buffer[]): Promise<void> {
    this.throwIfStopped();
    // The producers' stored batches first, so that the state committed with these keeps them.
    const producerIds = new Set(batches.map((batch) => readProducerFields(batch).producerId).filter((id) => id >= 0));
    await Promise.all([...producerIds].filter((id) => !this.sequences.has(id)).map((id) => this.seed(id)));
    const durable: Promise<AppendResult>[] = [];
    for (const batch of batches) {
      const frame = readBatchFrame(batch);
      if (frame.baseOffset !== this.nextOffset) {
        throw new InvalidRequestError(
          `cannot restore a batch at offset ${frame.baseOffset} into ${this.topic}/${this.partition}, whose next ` +
            `offset is ${this.nextOffset}`,
          { context: { topic: this.topic, partition: this.partition, offset: frame.baseOffset } },
        );
      }
      stampBatch(batch, frame.baseOffset, this.epoch);
      this.nextOffset = frame.nextOffset;
      const { producerId, producerEpoch, baseSequence } = readProducerFields(batch);
      let producer: ProducerPartitionState | undefined;
      if (producerId >= 0) {
        this.sequences.record(producerId, producerEpoch, baseSequence, frame.recordCount, frame.baseOffset);
        producer = this.sequences.state(producerId);
      }
      const item: Pending = {
        batch,
        ack: 'buffered',
        baseOffset: frame.baseOffset,
        nextOffset: frame.nextOffset,
        producer,
        settle: undefined,
        result: {
          baseOffset: frame.baseOffset,
          recordCount: frame.recordCount,
          appendTime: this.clock(),
          logStartOffset: this.logStartOffset,
        },
      };
      durable.push(new Promise<AppendResult>((resolve, reject) => (item.settle = { resolve, reject })));
      this.pending.push(item);
      this.pendingBytes += batch.length;
    }
    this.startFlush();
    await Promise.all(durable);
  }

  /** A retried duplicate: answered once its original is committed. */
  private async answerDuplicate(baseOffset: number, recordCount: number): Promise<AppendResult> {
    // The original may still be pending or in the flush under way; either way, answer only once it is committed.
    const original =
      this.pending.find((p) => p.baseOffset === baseOffset) ??
      this.flushingItems.find((p) => p.baseOffset === baseOffset);
    if (original !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const previous = original.settle;
        original.settle = {
          resolve: (r) => (previous?.resolve(r), resolve()),
          reject: (e) => (previous?.reject(e), reject(e)),
        };
      });
    }
    return { baseOffset, recordCount, appendTime: this.clock(), logStartOffset: this.logStartOffset };
  }

  private seed(producerId: number): Promise<void> {
    let pending = this.seeding.get(producerId);
    if (pending === undefined) {
      pending = this.options.metadataStore
        .getProducerState(this.topic, this.partition, producerId)
        .then((state) => this.sequences.seed(producerId, state))
        .finally(() => this.seeding.delete(producerId));
      this.seeding.set(producerId, pending);
    }
    return pending;
  }

  private scheduleFlush(): void {
    if (this.pendingBytes >= this.options.flushBytes || this.options.flushIntervalMs === 0) {
      this.startFlush();
    } else if (this.timer === undefined && this.flushing === undefined) {
      this.timer = setTimeout(() => this.startFlush(), this.options.flushIntervalMs);
    }
  }

  private startFlush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing !== undefined || this.pending.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      // An append that came in between the loop's last check and now found a flush "under way" and scheduled nothing.
      if (this.pending.length > 0 && this.stopped === undefined) this.scheduleFlush();
    });
  }

  private async flushLoop(): Promise<void> {
    // Batches that arrive during a flush go out in the next one at once: they
    // have waited a whole flush already, and meanwhile grouped into one object
    // (group commit), so no further linger is needed.
    while (this.pending.length > 0 && this.stopped === undefined) {
      const items = this.pending;
      this.flushingItems = items;
      this.pending = [];
      this.pendingBytes = 0;
      this.releaseDrainWaiters();
      try {
        if (!this.leaseValid()) throw this.leaseExpiredError();
        await this.writeSegment(items);
        for (const item of items) item.settle?.resolve(item.result);
      } catch (error) {
        this.failFrom(items, error);
        return;
      } finally {
        this.flushingItems = [];
      }
    }
  }

  private async writeSegment(items: Pending[]): Promise<void> {
    const started = performance.now();
    this.highWatermark = await this.committer.commit(items);
    if (this.options.onFlushed !== undefined) {
      let bytes = 0;
      for (const item of items) bytes += item.batch.length;
      this.options.onFlushed(bytes, (performance.now() - started) / 1000);
    }
    this.options.onCommit(this.topic, this.partition, this.highWatermark);
  }

  /**
   * Whether this writer's lease (its epoch, as renewed) is still held: currentLease answers only while it may be used.
   */
  private leaseValid(): boolean {
    return this.options.currentLease()?.epoch === this.epoch;
  }

  /**
   * Self-fencing, before every answer and log append: unless the lease is
   * still valid, fails what is pending (none of it was answered as durable)
   * and stops, throwing NOT_LEADER (retriable). The partition must then be
   * leased again, under a new epoch, before it is served.
   */
  private ensureLease(): void {
    if (this.leaseValid()) return;
    const reason = this.leaseExpiredError();
    this.options.logger?.warn(
      { topic: this.topic, partition: this.partition, epoch: this.epoch },
      'lease may have expired, writer stops',
    );
    this.failAndStop([], reason);
    throw reason;
  }

  private leaseExpiredError(): NotLeaderError {
    return new NotLeaderError(
      `lease epoch ${this.epoch} of ${this.topic}/${this.partition} is no longer held or may have expired; lease it ` +
        `again`,
      {
        context: { topic: this.topic, partition: this.partition },
      },
    );
  }

  /**
   * A flush failed for good (lease fenced or expired, retries run out, or a
   * non-retriable error): every append not committed fails, none of them
   * having been answered as durable, and the writer stops. The agent opens a
   * fresh writer from the store's state on a later append, if it can lease
   * the partition.
   */
  private failFrom(items: Pending[], error: unknown): void {
    const stoppedBefore = this.stopped;
    const context = { topic: this.topic, partition: this.partition };
    const fenced =
      error instanceof FencedLeaseEpochError ||
      error instanceof NotLeaderError ||
      (isRetriable(error) && !this.leaseValid());
    const reason =
      stoppedBefore ??
      (fenced
        ? new NotLeaderError(`partition ${this.topic}/${this.partition} lost its lease while flushing`, {
            cause: error,
            context,
          })
        : error instanceof StreamHouseError
          ? error
          : new StorageError(`flush of ${this.topic}/${this.partition} failed`, { cause: error, context }));
    if (stoppedBefore === undefined) {
      this.options.logger?.error(
        { err: error, ...context, batches: items.length + this.pending.length },
        'flush failed, writer stops',
      );
    }
    this.failAndStop(items, reason, fenced);
  }

  /**
   * Fails `items` and every pending append (counting lost `none` appends),
   * stops, and tells the agent: fenced, or failed for good with `reason`.
   * A writer stopped meanwhile (aborted, abandoned) is left to whoever
   * stopped it.
   */
  private failAndStop(items: Pending[], reason: StreamHouseError, fenced = true): void {
    const failed = [...items, ...this.pending];
    this.pending = [];
    this.pendingBytes = 0;
    this.countLost(failed);
    const stoppedBefore = this.stopped;
    for (const item of failed) item.settle?.reject(reason);
    if (stoppedBefore !== undefined) return;
    this.stop(reason);
    if (fenced) {
      this.options.onFenced(this.topic, this.partition);
    } else {
      this.failed = { error: reason, at: this.clock() };
      (this.options.onFailed ?? this.options.onFenced)(this.topic, this.partition, reason);
    }
  }

  /** Counts and logs the `none` appends among `items`: answered, never written. */
  private countLost(items: readonly Pending[]): void {
    let batches = 0;
    let records = 0;
    for (const item of items) {
      if (item.ack !== 'none') continue;
      batches++;
      records += item.result.recordCount;
    }
    if (batches === 0) return;
    const lost = this.options.lostAppends;
    if (lost !== undefined) {
      lost.batches += batches;
      lost.records += records;
    }
    this.options.logger?.error(
      { topic: this.topic, partition: this.partition, batches, records },
      'appends answered with acks none were not written',
    );
  }

  /** Records that the log start moved (retention). */
  setLogStartOffset(offset: number): void {
    if (offset > this.logStartOffset) this.logStartOffset = offset;
  }

  private releaseDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private throwIfStopped(): void {
    if (this.stopped !== undefined) throw this.stopped;
  }

  private stop(reason: StreamHouseError): void {
    if (this.stopped === undefined) this.stopped = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseDrainWaiters();
  }

  /**
   * Stops at once without flushing (the agent crashed, for tests of
   * failover): appends not yet answered fail, a flush already under way
   * finishes or fails on its own.
   */
  abandon(): void {
    this.dropUnanswered(new ShuttingDownError(`partition writer ${this.topic}/${this.partition} was abandoned`), false);
  }

  /**
   * Stops at once (a shutdown out of time): every append not answered yet
   * fails with `reason`, those in a flush under way included. That flush may
   * still land; a producer's retry of those batches is then answered as a
   * duplicate.
   */
  abort(reason: StreamHouseError): void {
    if (this.stopped === undefined) this.dropUnanswered(reason, true);
  }

  private dropUnanswered(reason: StreamHouseError, withFlushing: boolean): void {
    const dropped = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.countLost(dropped);
    this.stop(reason);
    for (const item of withFlushing ? [...this.flushingItems, ...dropped] : dropped) item.settle?.reject(reason);
  }

  /** Flushes everything pending, then refuses further appends. */
  async close(): Promise<void> {
    if (this.stopped === undefined) {
      this.startFlush();
      while (this.flushing !== undefined) {
        await this.flushing;
        this.startFlush();
      }
      this.stop(new ShuttingDownError(`partition writer ${this.topic}/${this.partition} is closed`));
    }
  }
}
