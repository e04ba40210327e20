/**
 * Producer metrics: pending records and bytes per partition, batches in
 * flight, retries, acknowledged and failed records, and a histogram of
 * per-record ack latency (send → acknowledgement). Read as a snapshot, or as
 * an Observable sampling it periodically.
 *
 * The per-partition figures (pending, batches in flight) are read from the
 * partitions' flow-control state ({@link PartitionStates}) when a snapshot is
 * taken; the producer's hot path bumps only that state.
 */
import { interval, map, type Observable, type SchedulerLike } from 'rxjs';
import type { PartitionStates } from './partitionState.js';

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is unbounded. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 120000];

export type PartitionPending = { records: number; bytes: number };

export type ProducerMetricsSnapshot = {
  /** Accepted but not yet acknowledged or failed, per `topic/partition`. */
  pending: Record<string, PartitionPending>;
  pendingRecords: number;
  pendingBytes: number;
  batchesInFlight: number;
  batchesSent: number;
  retries: number;
  /** Moves to a new producer epoch (after a batch failed in doubt, or an agent lost the producer's sequence). */
  epochBumps: number;
  recordsAcked: number;
  recordsFailed: number;
  /**
   * Ack latency: counts per bucket (upper bounds in LATENCY_BUCKETS_MS, then +Inf), their sum (ms), and estimates.
   */
  ackLatency: { buckets: number[]; count: number; sumMs: number; p50Ms: number; p99Ms: number; maxMs: number };
};

export class ProducerMetrics {
  private readonly buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private latencyCount = 0;
  private latencySum = 0;
  private maxLatency = 0;
  batchesSent = 0;
  retries = 0;
  epochBumps = 0;
  recordsAcked = 0;
  recordsFailed = 0;

  constructor(private readonly partitions: PartitionStates) {}

  /** A batch of `records` records is settled. */
  settled(records: number, ok: boolean): void {
    if (ok) this.recordsAcked += records;
    else this.recordsFailed += records;
  }

  latency(ms: number, records = 1): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.buckets[i]! += records;
    this.latencyCount += records;
    this.latencySum += ms * records;
    if (ms > this.maxLatency) this.maxLatency = ms;
  }

  /** The upper bound of the bucket holding the p-th percentile (0..100), capped at the max seen. */
  private percentile(p: number): number {
    if (this.latencyCount === 0) return 0;
    const rank = Math.ceil((p / 100) * this.latencyCount);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(LATENCY_BUCKETS_MS[i] ?? this.maxLatency, this.maxLatency);
    }
    return this.maxLatency;
  }

  snapshot(): ProducerMetricsSnapshot {
    let pendingRecords = 0;
    let pendingBytes = 0;
    let batchesInFlight = 0;
    const pending: Record<string, PartitionPending> = {};
    for (const c of this.partitions.all()) {
      batchesInFlight += c.batchesOutstanding;
      const records = c.acceptedRecords - c.settledRecords;
      if (records === 0) continue;
      const bytes = c.acceptedBytes - c.settledBytes;
      pending[c.key] = { records, bytes };
      pendingRecords += records;
      pendingBytes += bytes;
    }
    return {
      pending,
      pendingRecords,
      pendingBytes,
      batchesInFlight,
      batchesSent: this.batchesSent,
      retries: this.retries,
      epochBumps: this.epochBumps,
      recordsAcked: this.recordsAcked,
      recordsFailed: this.recordsFailed,
      ackLatency: {
        buckets: [...this.buckets],
        count: this.latencyCount,
        sumMs: this.latencySum,
        p50Ms: this.percentile(50),
        p99Ms: this.percentile(99),
        maxMs: this.maxLatency,
      },
    };
  }

  /** A snapshot every `periodMs` on `scheduler`. */
  snapshots(periodMs: number, scheduler: SchedulerLike): Observable<ProducerMetricsSnapshot> {
    return interval(periodMs, scheduler).pipe(map(() => this.snapshot()));
  }
}
