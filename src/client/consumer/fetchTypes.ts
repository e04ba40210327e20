/**
 * The types the FetchPipeline is built from: what it asks a fetch for, what
 * a fetch answers, and how batches are processed.
 */
import type { ObservableInput, SchedulerLike } from 'rxjs';
import type { OffsetOutOfRangeError } from '../../protocol/errors.js';
import type { TopicPartition } from '../offsets/types.js';
import type { RetryPolicy } from '../retryPolicy.js';
import type { ConsumerBatch } from './consumerTypes.js';

/** One partition of a fetch request. */
export type FetchTarget = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Offset to read from. */
  offset: number;
};

/** One partition's part of a fetch response. */
export type PartitionFetchResult = {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** The records at or after the requested offset; undefined when there are none (or on error). */
  batch?: ConsumerBatch;
  /** Where the next fetch of the partition starts. */
  nextOffset: number;
  /** The partition's high watermark as the agent answered. */
  highWatermark: number;
  /** The partition's error, if any. */
  error?: unknown;
};

/**
 * Processes one batch: returns nothing when done synchronously, or an
 * ObservableInput that completes when done. `isCurrent()` turns false once
 * the batch is stale (its partition was sought or revoked, or a new run began).
 */
export type BatchProcessor = (batch: ConsumerBatch, isCurrent: () => boolean) => ObservableInput<unknown> | void;

/** Options of {@link FetchPipeline}. */
export type FetchPipelineOptions = {
  /** Bound of batches fetched or being fetched and not yet processed; a positive integer. */
  maxPrefetchBatches: number;
  /** Address of the agent to fetch a partition from. */
  routeOf: (topic: string, partition: number) => string;
  /** One Fetch to one agent; emits the results (one per target) once. */
  fetch: (address: string, targets: FetchTarget[]) => ObservableInput<PartitionFetchResult[]>;
  /** Where to continue after OFFSET_OUT_OF_RANGE (the reset strategy); an error fails the run. */
  resetOffset: (topic: string, partition: number, error: OffsetOutOfRangeError) => ObservableInput<number>;
  /** The consumer's position of a partition: where a (re)started run fetches from. */
  positionOf: (topic: string, partition: number) => number;
  /** Told of every successful partition result (high watermark bookkeeping). */
  onFetched?: (result: PartitionFetchResult) => void;
  /** Told before a partition backs off after a retriable failure. */
  onRetry?: (error: unknown, target: TopicPartition, attempt: number) => void;
  /** Backoff and retry limit for retriable fetch failures. */
  retry: RetryPolicy;
  /** Randomness of the backoff jitter; default `Math.random`. */
  random?: () => number;
  /** Schedules backoff timers; default `asyncScheduler` (through `timer`). */
  scheduler?: SchedulerLike;
  /**
   * When set, batches are not processed in the same task that started new
   * fetches: processing waits for a task that `yieldToIo` schedules (it calls
   * `resume` once, or never after the returned cancel). Starting a fetch only
   * queues its request; the transport writes it once the current task ends,
   * so processing first would keep the agent idle while this side works.
   */
  yieldToIo?: (resume: () => void) => () => void;
};
