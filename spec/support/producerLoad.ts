/**
 * Test support: a steady load of records with unique values (`<prefix>-<n>`)
 * sent through a real Producer to explicit partitions (n mod partitions),
 * keeping every record's outcome: the offset it was acknowledged at, or the
 * error it failed with.
 */
import type { Producer } from '../../src/client/producer/producer.js';

/** A record acknowledged at an offset. */
export type Acked = { partition: number; offset: number };
/** A record the producer reported as failed. */
export type Failed = { partition: number; error: unknown };

/** Every record's outcome once the load has stopped. */
export type LoadResult = {
  /** Records handed to `send`. */
  sent: number;
  /** By value. */
  acked: ReadonlyMap<string, Acked>;
  /** By value. */
  failed: ReadonlyMap<string, Failed>;
  /** Batches the producer retried (its metrics), to show the fault reached it. */
  retries: number;
};

export type ProducerLoadOptions = {
  producer: Producer;
  topic: string;
  partitions: number;
  /** Records sent per tick. Default 10. */
  recordsPerTick?: number;
  /** Pause between ticks, ms. Default 2. */
  tickMs?: number;
  /** Values are `<prefix>-<n>`. Default `r`. */
  prefix?: string;
  /**
   * Records sent but not yet acknowledged or failed beyond which sending
   * waits, so that a stuck partition holds up a bounded backlog and
   * {@link ProducerLoad.stop} settles soon. Default 4000.
   */
  maxOutstanding?: number;
};

type AckWaiter = { done: () => boolean; resolve: () => void };

export class ProducerLoad {
  private readonly acked = new Map<string, Acked>();
  private readonly failed = new Map<string, Failed>();
  private readonly ackedPerPartition: number[];
  private readonly outcomes: Promise<void>[] = [];
  private waiters: AckWaiter[] = [];
  /** Wakes the sending loop once the outstanding records are below the bound. */
  private room: (() => void) | undefined;
  private sent = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: ProducerLoadOptions) {
    this.ackedPerPartition = new Array<number>(options.partitions).fill(0);
  }

  /** Records acknowledged so far. */
  get ackedCount(): number {
    return this.acked.size;
  }

  /** Records failed so far. */
  get failedCount(): number {
    return this.failed.size;
  }

  /** Starts sending in the background. */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Resolves once `more` records beyond those acknowledged now are acknowledged
   * on each of `partitions` (default: in total); rejects after `timeoutMs`.
   */
  waitForAcks(more: number, timeoutMs: number, partitions?: readonly number[]): Promise<void> {
    const totalTarget = this.acked.size + more;
    const partitionTargets = (partitions ?? []).map((p) => this.ackedPerPartition[p]! + more);
    const target =
      partitions === undefined
        ? () => this.acked.size >= totalTarget
        : () => partitions.every((p, i) => this.ackedPerPartition[p]! >= partitionTargets[i]!);
    if (target()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: AckWaiter = { done: target, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `${more} more acks${partitions === undefined ? '' : ` on partitions ${partitions.join(',')}`} not seen ` +
              `within ${timeoutMs} ms ` +
              `(acked ${this.acked.size}, failed ${this.failed.size}, sent ${this.sent}, per partition ` +
              `${this.ackedPerPartition.join('/')})`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Like {@link waitForAcks}, but resolves with the error instead of
   * rejecting, so a test can check the log before it reports that the load
   * did not recover.
   */
  recovery(more: number, timeoutMs: number, partitions?: readonly number[]): Promise<Error | undefined> {
    return this.waitForAcks(more, timeoutMs, partitions).then(
      () => undefined,
      (error: Error) => error,
    );
  }

  /** Stops sending, flushes the producer and resolves with every record's outcome. */
  async stop(): Promise<LoadResult> {
    this.running = false;
    this.wakeSender();
    await this.loop;
    await this.options.producer.flush();
    await Promise.all(this.outcomes);
    return {
      sent: this.sent,
      acked: this.acked,
      failed: this.failed,
      retries: this.options.producer.metrics().retries,
    };
  }

  private async run(): Promise<void> {
    const {
      producer,
      topic,
      partitions,
      recordsPerTick = 10,
      tickMs = 2,
      prefix = 'r',
      maxOutstanding = 4000,
    } = this.options;
    while (this.running) {
      if (this.sent - this.acked.size - this.failed.size >= maxOutstanding) {
        await new Promise<void>((resolve) => (this.room = resolve));
        continue;
      }
      for (let i = 0; i < recordsPerTick && this.running; i++) {
        const n = this.sent++;
        const partition = n % partitions;
        const value = `${prefix}-${n}`;
        try {
          const result = await producer.send({ topic, partition, value });
          this.outcomes.push(
            result.waitOffset().then(
              (offset) => this.onAck(value, partition, offset),
              (error: unknown) => this.onFail(value, partition, error),
            ),
          );
        } catch (error) {
          // Not even accepted (buffer full past maxBlockMs, closed): reported failed as well.
          this.failed.set(value, { partition, error });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  }

  private onFail(value: string, partition: number, error: unknown): void {
    this.failed.set(value, { partition, error });
    this.wakeSender();
  }

  private wakeSender(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }

  private onAck(value: string, partition: number, offset: number): void {
    this.acked.set(value, { partition, offset });
    this.ackedPerPartition[partition]!++;
    this.wakeSender();
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (!w.done()) return true;
      w.resolve();
      return false;
    });
  }
}
