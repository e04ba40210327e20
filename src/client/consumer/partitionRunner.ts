/**
 * The `run` handler style's engine: batches of different partitions are
 * processed concurrently, up to a limit, and those of one partition one
 * after the other, in offset order.
 *
 * It is the FetchPipeline's processor. A batch starts at once and its
 * partition is marked busy (the pipeline keeps its next batches back until
 * it is done); the pipeline moves on at once while fewer than `concurrency`
 * batches run, else it waits until one ends. A handler's error ends the
 * run with that error (`failures$`).
 *
 * @internal
 */
import { Observable, Subject, defer, type Subscription } from 'rxjs';
import type { TopicPartition } from '../offsets/types.js';
import type { ConsumerBatch } from './consumerTypes.js';
import type { BatchProcessor } from './fetchTypes.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Options of {@link PartitionRunner}. @internal */
export type PartitionRunnerOptions = {
  /** Batches processed at once, each of a different partition; a positive integer. */
  concurrency: number;
  /** Processes one batch: completes when done, errors to end the run. */
  handle: (batch: ConsumerBatch, isCurrent: () => boolean) => Observable<unknown>;
  /** Tells the fetch pipeline that a partition has a batch under way, or no longer. */
  setBusy: (topic: string, partition: number, busy: boolean) => void;
};

type Job = { subscription: Subscription | undefined; done: boolean };

/** @internal */
export class PartitionRunner {
  private readonly failures = new Subject<never>();
  private readonly jobs = new Map<string, Job>();
  private slotWaiter: (() => void) | undefined;
  private idleWaiters: { keys: Set<string> | undefined; resolve: () => void }[] = [];
  private stopped = false;

  /** Errors with the first handler error. */
  readonly failures$: Observable<never> = this.failures.asObservable();

  constructor(private readonly options: PartitionRunnerOptions) {}

  /** Batches under way. */
  get active(): number {
    return this.jobs.size;
  }

  readonly process: BatchProcessor = (batch, isCurrent) => {
    if (this.stopped) return undefined;
    const { topic, partition } = batch;
    const key = topicPartitionId(topic, partition);
    const job: Job = { subscription: undefined, done: false };
    this.jobs.set(key, job);
    this.options.setBusy(topic, partition, true);
    const subscription = defer(() => this.options.handle(batch, isCurrent)).subscribe({
      error: (error: unknown) => {
        job.done = true;
        this.stop();
        this.failures.error(error);
      },
      complete: () => this.finish(key, job, topic, partition),
    });
    if (!job.done) job.subscription = subscription;
    if (this.jobs.size < this.options.concurrency) return undefined;
    return new Observable<never>((subscriber) => {
      if (this.jobs.size < this.options.concurrency) {
        subscriber.complete();
        return;
      }
      const waiter = () => subscriber.complete();
      this.slotWaiter = waiter;
      return () => {
        if (this.slotWaiter === waiter) this.slotWaiter = undefined;
      };
    });
  };

  /** Resolves once no batch of these partitions (default: any) is under way. */
  idle(partitions?: readonly TopicPartition[]): Promise<void> {
    const keys =
      partitions === undefined ? undefined : new Set(partitions.map((tp) => topicPartitionId(tp.topic, tp.partition)));
    if (!this.busyWith(keys)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push({ keys, resolve }));
  }

  /** Drops every batch under way (their results are ignored) and wakes whoever waits. */
  stop(): void {
    this.stopped = true;
    for (const job of this.jobs.values()) job.subscription?.unsubscribe();
    this.jobs.clear();
    this.wake();
  }

  private finish(key: string, job: Job, topic: string, partition: number): void {
    if (job.done) return;
    job.done = true;
    if (this.jobs.get(key) !== job) return;
    this.jobs.delete(key);
    this.options.setBusy(topic, partition, false);
    this.wake();
  }

  private wake(): void {
    const waiter = this.slotWaiter;
    if (waiter !== undefined && this.jobs.size < this.options.concurrency) {
      this.slotWaiter = undefined;
      waiter();
    }
    const waiting = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiting) {
      if (this.busyWith(w.keys)) this.idleWaiters.push(w);
      else w.resolve();
    }
  }

  private busyWith(keys: Set<string> | undefined): boolean {
    if (keys === undefined) return this.jobs.size > 0;
    for (const key of this.jobs.keys()) if (keys.has(key)) return true;
    return false;
  }
}
