/**
 * Makes one flush of a partition durable: builds the segment object from the
 * stamped batches, puts it, then registers it and moves the high watermark in
 * one metadata step conditional on the lease epoch (with the producers'
 * idempotence state). Retriable store failures are retried with capped
 * backoff while the lease is valid, for at most `retryTimeoutMs` from the
 * flush's first failure: a passing outage delays a flush rather than failing
 * it, a lasting one fails it with the last error (batches acknowledged as
 * `buffered` stay in the write-ahead log and are replayed by the next writer).
 */
import type { Logger } from 'pino';
import type { MetadataStore, ProducerPartitionState } from '../../metadata/metadataStore.js';
import type { SegmentCommitBatcher } from './segmentCommitBatcher.js';
import type { ObjectStore } from '../../storage/objectStore.js';
import { buildSegment } from '../../storage/segmentWriter.js';
import { segmentObjectKey } from '../../storage/segmentKey.js';
import {
  FencedLeaseEpochError,
  HighWatermarkConflictError,
  NotLeaderError,
  isRetriable,
} from '../../protocol/errors.js';

/** One stamped batch of a flush and the producer state it leaves. */
export type FlushedBatch = {
  batch: Buffer;
  baseOffset: number;
  nextOffset: number;
  producer: ProducerPartitionState | undefined;
};

export type SegmentCommitterOptions = {
  topic: string;
  partition: number;
  epoch: number;
  objectStore: ObjectStore;
  metadataStore: MetadataStore;
  /**
   * Registers the segment together with other partitions' commits of the same moment; default: alone, through
   * metadataStore.
   */
  commitBatcher?: SegmentCommitBatcher | undefined;
  /** Passed with each commit: the store drops producer states idle longer than this, ms. */
  producerIdExpirationMs: number;
  /** Whether retrying still makes sense: the lease is held and the writer runs. */
  mayRetry: () => boolean;
  /** Retriable failures of one commit are retried for at most this long after the first, ms; 0: not at all. */
  retryTimeoutMs: number;
  clock: () => number;
  logger?: Logger | undefined;
};

/** When a commit stops retrying: set at its first failure. */
type RetryBudget = { giveUpAt: number | undefined };

const RETRY_BASE_MS = 20;
const RETRY_MAX_MS = 1000;

export class SegmentCommitter {
  constructor(private readonly options: SegmentCommitterOptions) {}

  /** Writes and commits the batches (offset-contiguous, non-empty); returns the new high watermark. */
  async commit(items: FlushedBatch[]): Promise<number> {
    const { topic, partition, epoch, objectStore, metadataStore, commitBatcher } = this.options;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    const segment = buildSegment(items.map((i) => i.batch));
    const key = segmentObjectKey(topic, partition, first.baseOffset, last.nextOffset, epoch);
    const retries: RetryBudget = { giveUpAt: undefined };
    await this.withRetries(retries, () => objectStore.put(key, segment.parts));
    const producers = new Map<number, ProducerPartitionState>();
    for (const item of items) if (item.producer !== undefined) producers.set(item.producer.producerId, item.producer);
    let attempted = false;
    await this.withRetries(retries, async () => {
      try {
        const request = {
          topic,
          partition,
          epoch,
          expectedHighWatermark: first.baseOffset,
          segment: {
            key,
            baseOffset: first.baseOffset,
            endOffset: last.nextOffset,
            sizeBytes: segment.sizeBytes,
            minTimestamp: segment.minTimestamp,
            maxTimestamp: segment.maxTimestamp,
            createdAt: this.options.clock(),
          },
          producers: [...producers.values()],
          producerIdExpirationMs: this.options.producerIdExpirationMs,
        };
        await (commitBatcher !== undefined ? commitBatcher.commit(request) : metadataStore.commitSegment(request));
      } catch (error) {
        // A retried commit whose first attempt did land (its answer was lost) is a success.
        if (attempted && error instanceof HighWatermarkConflictError && (await this.landed(last.nextOffset))) return;
        throw error;
      } finally {
        attempted = true;
      }
    });
    return last.nextOffset;
  }

  /**
   * Whether an earlier attempt of this commit landed: only this writer commits
   * under its epoch, so a high watermark at exactly this flush's end, with the
   * epoch unchanged, is its own commit (even if compaction has since merged
   * the object away).
   */
  private async landed(endOffset: number): Promise<boolean> {
    const state = await this.options.metadataStore.getPartition(this.options.topic, this.options.partition);
    return state.highWatermark === endOffset && state.leaseEpoch === this.options.epoch;
  }

  /** Runs `step`, retrying retriable failures until the budget (shared by the steps of one commit) runs out. */
  private async withRetries(budget: RetryBudget, step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        const fenced = error instanceof FencedLeaseEpochError || error instanceof NotLeaderError;
        if (fenced || !isRetriable(error) || !this.options.mayRetry()) throw error;
        const now = performance.now();
        budget.giveUpAt ??= now + this.options.retryTimeoutMs;
        const left = budget.giveUpAt - now;
        if (left <= 0) throw error;
        this.options.logger?.warn(
          { err: error, topic: this.options.topic, partition: this.options.partition, attempt },
          'flush step failed, retrying',
        );
        await new Promise((r) => setTimeout(r, Math.min(left, RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt)));
      }
    }
  }
}
