/**
 * The partitions of a FetchPipeline and their fetch state: where the next
 * fetch starts, whether a fetch is under way (each one reserves a slot of the
 * prefetch buffer), paused or not, and an epoch that `seek` and revocation
 * bump so anything begun for an older position is recognised as stale.
 *
 * @internal
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { TopicPartition } from '../offsets/types.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** `fetching`: a fetch is in flight; `waiting`: backing off or resolving a reset. @internal */
export type FetchPhase = 'idle' | 'fetching' | 'waiting';

/** One partition's fetch state. @internal */
export type FetchPartitionState = {
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  /** Offset the next fetch asks for. */
  fetchOffset: number;
  paused: boolean;
  /** Not fetched, batches dropped: too many records await acknowledgement (released by acks or a restart). */
  held: boolean;
  /**
   * A batch of it is still being processed concurrently: its queued batches wait, and it is fetched one batch ahead at
   * most.
   */
  busy: boolean;
  phase: FetchPhase;
  /** Bumped by seek and restarts: results, timers and batches of older epochs are dropped. */
  epoch: number;
  /** Consecutive retriable failures. */
  failures: number;
  /** Set when revoked. */
  removed: boolean;
};

/** @internal */
export class FetchPartitions {
  private readonly states = new Map<string, FetchPartitionState>();
  private fetchingCount = 0;
  private rotation = 0;

  /** Partitions with a fetch in flight. */
  get fetching(): number {
    return this.fetchingCount;
  }

  /** Adds (or replaces) a partition, idle, fetching from `offset`. */
  add(topic: string, partition: number, offset: number, paused: boolean): void {
    const key = topicPartitionId(topic, partition);
    const previous = this.states.get(key);
    if (previous !== undefined) this.remove(previous);
    this.states.set(key, {
      key,
      topic,
      partition,
      fetchOffset: offset,
      paused,
      held: false,
      busy: false,
      phase: 'idle',
      epoch: 0,
      failures: 0,
      removed: false,
    });
  }

  /** The partition's state, or undefined. */
  find(topic: string, partition: number): FetchPartitionState | undefined {
    return this.states.get(topicPartitionId(topic, partition));
  }

  /** The partition's state; InvalidRequestError when it is not assigned. */
  get(topic: string, partition: number): FetchPartitionState {
    const state = this.find(topic, partition);
    if (state === undefined) {
      throw new InvalidRequestError(`${topic}/${partition} is not assigned to this consumer`, {
        context: { topic, partition },
      });
    }
    return state;
  }

  /** Forgets a partition; its slot, if fetching, is freed. */
  remove(state: FetchPartitionState): void {
    this.setPhase(state, 'idle');
    state.removed = true;
    this.states.delete(state.key);
  }

  all(): IterableIterator<FetchPartitionState> {
    return this.states.values();
  }

  /** The paused partitions. */
  paused(): TopicPartition[] {
    return [...this.states.values()].filter((s) => s.paused).map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Starts a new epoch at `offset`: whatever is under way for the partition no longer counts. */
  restart(state: FetchPartitionState, offset: number): void {
    state.epoch++;
    state.fetchOffset = offset;
    state.held = false;
    state.failures = 0;
    this.setPhase(state, 'idle');
  }

  setPhase(state: FetchPartitionState, phase: FetchPhase): void {
    if (state.phase === 'fetching') this.fetchingCount--;
    if (phase === 'fetching') this.fetchingCount++;
    state.phase = phase;
  }

  /**
   * Up to `room` idle, unpaused partitions, taking turns: the next call
   * starts after the last one picked, so a tight bound still serves all.
   */
  pickIdle(room: number, skip?: (state: FetchPartitionState) => boolean): FetchPartitionState[] {
    const states = [...this.states.values()];
    const picked: FetchPartitionState[] = [];
    let last = -1;
    for (let i = 0; i < states.length && picked.length < room; i++) {
      const index = (this.rotation + i) % states.length;
      const state = states[index]!;
      if (state.phase !== 'idle' || state.paused || state.held || skip?.(state) === true) continue;
      picked.push(state);
      last = index;
    }
    if (last >= 0) this.rotation = (last + 1) % states.length;
    return picked;
  }

  /** Whether `epoch` is still the partition's and it is still assigned. */
  static isLive(state: FetchPartitionState, epoch: number): boolean {
    return !state.removed && state.epoch === epoch;
  }
}
