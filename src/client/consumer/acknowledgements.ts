/**
 * Explicit acknowledgement (`ackMode: 'explicit'`) for every partition a
 * consumer holds: one AckWindow per partition and epoch. A window's moves
 * become processed offsets (and so commits); a full window holds its
 * partition's fetching back until acknowledgements make room.
 *
 * @internal
 */
import type { TopicPartition } from '../offsets/types.js';
import { AckWindow, type AckWindowOwner } from './ackWindow.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Options of {@link Acknowledgements}. @internal */
export type AcknowledgementsOptions = {
  /** Records per partition delivered and not yet committable at which fetching the partition stops. */
  maxUnackedPerPartition: number;
  /** Records up to `lastOffset` of the partition (`count` more of them) are acknowledged with all before them. */
  processed(topic: string, partition: number, lastOffset: number, count: number, highWatermark: number): void;
  /** Stop fetching the partition (its window is full). */
  hold(topic: string, partition: number): void;
  /** The partition's window has room again. */
  release(topic: string, partition: number): void;
};

/** @internal */
export class Acknowledgements implements AckWindowOwner {
  private readonly windows = new Map<string, AckWindow>();

  constructor(private readonly options: AcknowledgementsOptions) {}

  /** The partition's current window, opened on first use after a restart. */
  window(topic: string, partition: number): AckWindow {
    const key = topicPartitionId(topic, partition);
    let window = this.windows.get(key);
    if (window === undefined) {
      window = new AckWindow(topic, partition, this.options.maxUnackedPerPartition, this);
      this.windows.set(key, window);
    }
    return window;
  }

  /**
   * Starts a new epoch for the partition (seek, reset, revocation): acknowledgements of earlier deliveries are
   * ignored.
   */
  restart(topic: string, partition: number): void {
    const key = topicPartitionId(topic, partition);
    const window = this.windows.get(key);
    if (window === undefined) return;
    this.windows.delete(key);
    const wasFull = window.full;
    window.close();
    if (wasFull) this.options.release(topic, partition);
  }

  /** Restarts the given partitions, or every one. */
  restartAll(partitions?: readonly TopicPartition[]): void {
    const list = partitions ?? [...this.windows.values()];
    for (const { topic, partition } of list) this.restart(topic, partition);
  }

  advanced(window: AckWindow, lastOffset: number, count: number): void {
    this.options.processed(window.topic, window.partition, lastOffset, count, window.highWatermark);
  }

  pressure(window: AckWindow, full: boolean): void {
    if (full) this.options.hold(window.topic, window.partition);
    else this.options.release(window.topic, window.partition);
  }
}
