/**
 * Wakes long-polling fetches when a partition's high watermark moves.
 *
 * In one process an EventEmitter is enough; agents sharing a Redis metadata
 * store also publish each commit on a Redis channel so that a fetch waiting
 * on one agent wakes when another agent commits.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { topicPartitionId } from '../../protocol/topicPartition.js';

export class HighWatermarkNotifier {
  private readonly emitter = new EventEmitter();
  private subscriber: Redis | undefined;
  private publisher: Redis | undefined;
  private channel = '';
  private waiters = 0;

  constructor(private readonly logger?: Logger) {
    this.emitter.setMaxListeners(0);
  }

  /**
   * Also relays commits through Redis pub/sub on `<prefix>hwm`. The two
   * connections are created with `duplicate()` from the client given.
   */
  async connectRedis(client: Redis, prefix: string): Promise<void> {
    this.channel = `${prefix}hwm`;
    this.publisher = client.duplicate();
    this.subscriber = client.duplicate();
    this.subscriber.on('message', (_channel: string, message: string) => {
      const slash = message.lastIndexOf(' ');
      const key = message.slice(0, slash);
      this.emitter.emit(key, Number(message.slice(slash + 1)));
    });
    await this.subscriber.subscribe(this.channel);
  }

  /** Long-polls waiting now. */
  get waiting(): number {
    return this.waiters;
  }

  /** Announces a new high watermark (locally and, if connected, to other agents). */
  publish(topic: string, partition: number, highWatermark: number): void {
    const key = topicPartitionId(topic, partition);
    if (this.publisher !== undefined) {
      // Remote subscribers include this agent, which then hears it twice; waking twice is harmless.
      this.publisher
        .publish(this.channel, `${key} ${highWatermark}`)
        .catch((err: unknown) => this.logger?.warn({ err }, 'hwm publish failed'));
    }
    this.emitter.emit(key, highWatermark);
  }

  /**
   * Resolves with true when any of the partitions' high watermark moves past
   * what the caller saw, false at the timeout or abort. `recheck` runs once
   * the listeners are in place, closing the window in which a commit between
   * the caller's read and this call would go unnoticed.
   */
  waitForAny(
    partitions: { topic: string; partition: number; seen: number }[],
    timeoutMs: number,
    signal?: AbortSignal,
    recheck?: () => Promise<boolean>,
  ): Promise<boolean> {
    this.waiters++;
    return new Promise((resolve) => {
      const listeners: [string, (hwm: number) => void][] = [];
      let done = false;
      const finish = (moved: boolean) => {
        if (!done) this.waiters--;
        done = true;
        clearTimeout(timer);
        for (const [key, fn] of listeners) this.emitter.off(key, fn);
        signal?.removeEventListener('abort', onAbort);
        resolve(moved);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      for (const p of partitions) {
        const fn = (hwm: number) => {
          if (hwm > p.seen) finish(true);
        };
        listeners.push([topicPartitionId(p.topic, p.partition), fn]);
        this.emitter.on(topicPartitionId(p.topic, p.partition), fn);
      }
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted === true) finish(false);
      recheck?.().then(
        (moved) => {
          if (moved) finish(true);
        },
        () => finish(true),
      );
    });
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    await Promise.allSettled([this.subscriber?.quit(), this.publisher?.quit()]);
  }
}
