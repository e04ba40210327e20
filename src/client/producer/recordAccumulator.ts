/**
 * The producer's record accumulator (as Kafka's RecordAccumulator): `send`
 * calls {@link RecordAccumulator.append} directly, which encodes the record
 * into its partition's open batch and answers where it went, `{ batch,
 * index }`. Nothing asynchronous sits between a send and its SendResult.
 *
 * RxJS takes over where a batch closes: {@link RecordAccumulator.closed$}
 * emits each batch when it closes, by the linger rules (per partition):
 * - `lingerMs` after its first record, timed on the RxJS `scheduler`;
 * - at `maxCount` records, or before a record that would take it past `maxBytes`;
 * - on {@link RecordAccumulator.closeAll} (the producer's flush) and on completion.
 * While a partition has `maxInFlightPerPartition` batches outstanding (closed,
 * not yet settled), a batch whose linger time is up stays open and keeps
 * taking records until one of them settles, so requests grow with the load
 * instead of queueing up small (Kafka's accumulator does the same).
 *
 * A partition's state (accepted, settled, outstanding, its open batch) lives
 * in its {@link PartitionState}; a partition holds no timer between batches.
 */
import { Subject, type Observable, type SchedulerLike } from 'rxjs';
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { BuilderPool } from './builderPool.js';
import { PartitionStates, type PartitionState } from './partitionState.js';
import { ProducerBatch } from './producerBatch.js';

/** Limits and collaborators of a {@link RecordAccumulator} (the producer's options, checked by it). */
export type RecordAccumulatorOptions = {
  /** How long a batch waits for more records after its first, ms. */
  lingerMs: number;
  /** A batch closes at this many records. */
  maxCount: number;
  /** A batch closes at this many bytes of records (estimated sizes). */
  maxBytes: number;
  /** A partition's lingered batch is held while it has this many batches outstanding. */
  maxInFlightPerPartition: number;
  /** Where linger times are kept. */
  scheduler: SchedulerLike;
  /** Where batches take their record builders from. */
  builders: BuilderPool;
};

/** Where {@link RecordAccumulator.append} put a record. */
export type Appended = { batch: ProducerBatch; index: number };

/** The records {@link RecordAccumulator.abort} failed, and their bytes. */
export type Dropped = { records: number; bytes: number };

export class RecordAccumulator {
  /** The state of every partition written to. */
  readonly partitions = new PartitionStates();
  private readonly closed = new Subject<ProducerBatch>();
  /** Batches closed and not yet settled: what {@link abort} fails besides the open ones. */
  private readonly unsettled = new Set<ProducerBatch>();
  private completed = false;
  /** One function for every linger timer; its batch is the action's state. */
  private readonly lingerUp = (batch: ProducerBatch): void => this.lingerTimeUp(batch);

  constructor(private readonly options: RecordAccumulatorOptions) {}

  /**
   * Each batch as it closes, once; completes after {@link complete}. A batch
   * is detached from its partition before it is emitted, so a synchronous
   * reaction may append to the partition (into a new batch).
   */
  get closed$(): Observable<ProducerBatch> {
    return this.closed.asObservable();
  }

  /** Whether {@link complete} was called: no batch opens any more. */
  get isComplete(): boolean {
    return this.completed;
  }

  /** The state of a partition, created on first use. */
  partition(topic: string, partition: number): PartitionState {
    return this.partitions.get(topic, partition);
  }

  /**
   * Encodes a checked record into its partition's open batch (opening one,
   * after closing the open one when the record would take it past
   * `maxBytes`), counts it as accepted, and closes the batch when it is full.
   * `sentAt` (scheduler time) starts a new batch's delivery timeout;
   * `size` is the record's estimated size.
   */
  append(
    state: PartitionState,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    timestamp: number,
    sentAt: number,
    size: number,
  ): Appended {
    const { maxBytes, maxCount } = this.options;
    let batch = state.open;
    // A reaction to a closed batch may have opened the partition's next one already: the record goes there.
    while (batch !== undefined && batch.bytes + size > maxBytes) {
      this.close(batch);
      batch = state.open;
    }
    if (batch === undefined) state.open = batch = new ProducerBatch(state, this.options.builders);
    const index = batch.append(key, value, headers, timestamp, sentAt, size);
    state.acceptedRecords++;
    state.acceptedBytes += size;
    if (batch.count >= maxCount || batch.bytes >= maxBytes) this.close(batch);
    else if (index === 0) batch.linger = this.options.scheduler.schedule(this.lingerUp, this.options.lingerMs, batch);
    return { batch, index };
  }

  /**
   * A batch of the partition is settled (acknowledged or failed): its records
   * count as settled, and the partition's held batch, if any, closes when the
   * partition has room for another request.
   */
  settled(batch: ProducerBatch): void {
    const state = batch.partition;
    state.settledRecords += batch.count;
    state.settledBytes += batch.bytes;
    state.batchesOutstanding--;
    this.unsettled.delete(batch);
    const open = state.open;
    if (open?.held === true && state.batchesOutstanding < this.options.maxInFlightPerPartition) this.close(open);
  }

  /** Closes every open batch now (a flush); batches opened by reactions to these closes stay open. */
  closeAll(): void {
    const open: ProducerBatch[] = [];
    for (const state of this.partitions.all()) if (state.open !== undefined) open.push(state.open);
    for (const batch of open) if (batch.partition.open === batch) this.close(batch);
  }

  /** Closes every open batch and completes {@link closed$}. Idempotent. */
  complete(): void {
    if (this.completed) return;
    this.closeAll();
    this.completed = true;
    this.closed.complete();
  }

  /**
   * Fails every batch not settled, open or closed, with `error`, counts its
   * records as settled, and completes: for a producer whose sending pipeline
   * stopped, so that nothing will settle those batches any more.
   * @return the records failed and their bytes.
   */
  abort(error: unknown): Dropped {
    this.completed = true;
    const dropped: Dropped = { records: 0, bytes: 0 };
    const fail = (batch: ProducerBatch): void => {
      const state = batch.partition;
      state.settledRecords += batch.count;
      state.settledBytes += batch.bytes;
      dropped.records += batch.count;
      dropped.bytes += batch.bytes;
      batch.recordsEncoded();
      batch.outcome.reject(error);
    };
    for (const batch of this.unsettled) {
      batch.partition.batchesOutstanding--;
      fail(batch);
    }
    this.unsettled.clear();
    for (const state of this.partitions.all()) {
      const batch = state.open;
      if (batch === undefined) continue;
      batch.linger?.unsubscribe();
      state.open = undefined;
      fail(batch);
    }
    this.closed.complete();
    return dropped;
  }

  private close(batch: ProducerBatch): void {
    batch.linger?.unsubscribe();
    batch.linger = undefined;
    batch.held = false;
    const state = batch.partition;
    if (state.open === batch) state.open = undefined;
    state.batchesOutstanding++;
    this.unsettled.add(batch);
    this.closed.next(batch);
  }

  private lingerTimeUp(batch: ProducerBatch): void {
    // A fired action is not unsubscribed by the scheduler: end it here, as close() does.
    batch.linger?.unsubscribe();
    batch.linger = undefined;
    const state = batch.partition;
    if (state.open !== batch) return;
    if (state.batchesOutstanding >= this.options.maxInFlightPerPartition) batch.held = true;
    else this.close(batch);
  }
}
