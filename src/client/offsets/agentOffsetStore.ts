/**
 * An OffsetStore kept by the agents: the group offsets of the metadata store,
 * through the CommitOffsets and FetchOffsets RPCs. Any agent can serve any
 * group, so the caller only says which client to use for each request.
 *
 * Fencing: `save` passes `SaveOptions.generation` and `memberId` on, so in
 * group mode a member that is no longer part of the generation gets
 * IllegalGenerationError (or UnknownMemberIdError) instead of overwriting
 * the offsets of the partitions' new owner. Without options (generation -1)
 * the commit is not fenced.
 *
 * Commit times are the agent's clock.
 */
import { fromErrorInfo, RequestTimedOutError } from '../../protocol/errors.js';
import type { SchedulerLike } from 'rxjs';
import { deadline } from '../cluster/deadline.js';
import type { StreamHouseClient } from '../agentClient.js';
import {
  checkCommit,
  checkGroupId,
  checkTopicPartition,
  type OffsetStore,
  type SaveOptions,
  type StoredOffset,
} from './offsetStore.js';
import { compareTopicPartitions, type PartitionCommit, type TopicPartition } from './types.js';

/** Options of {@link AgentOffsetStore}. */
export type AgentOffsetStoreOptions = {
  /**
   * The client of the agent to ask; called for every request, so a caller may move to another agent after a failure.
   */
  client: () => StreamHouseClient;
  /** Timeout of one request, ms; default 30 000. */
  requestTimeoutMs?: number;
  /** Times the request deadlines. Default asyncScheduler. */
  scheduler?: SchedulerLike;
};

/** Group offsets in the agents' metadata store. */
export class AgentOffsetStore implements OffsetStore {
  private readonly client: () => StreamHouseClient;
  private readonly requestTimeoutMs: number;
  private readonly scheduler: SchedulerLike | undefined;

  constructor(options: AgentOffsetStoreOptions) {
    const { client, requestTimeoutMs = 30_000 } = options;
    this.client = client;
    this.requestTimeoutMs = requestTimeoutMs;
    this.scheduler = options.scheduler;
  }

  async load(groupId: string, partitions?: readonly TopicPartition[]): Promise<StoredOffset[]> {
    checkGroupId(groupId);
    partitions?.forEach(checkTopicPartition);
    if (partitions?.length === 0) return [];
    const wanted = (partitions ?? []).map(({ topic, partition }) => ({ topic, partition }));
    const { offsets } = await this.timed('fetch offsets', (signal) =>
      this.client().fetchOffsets({ groupId, partitions: wanted }, { signal }),
    );
    return offsets
      .filter((o) => o.offset >= 0)
      .map(({ topic, partition, offset, metadata, commitTimeMs }) => ({
        topic,
        partition,
        offset,
        metadata,
        commitTime: commitTimeMs,
      }))
      .sort(compareTopicPartitions);
  }

  async save(groupId: string, offsets: readonly PartitionCommit[], options: SaveOptions = {}): Promise<void> {
    checkGroupId(groupId);
    offsets.forEach(checkCommit);
    if (offsets.length === 0) return;
    const { generation = -1, memberId = '' } = options;
    const request = {
      groupId,
      generationId: generation,
      memberId: generation < 0 ? '' : memberId,
      partitions: offsets.map(({ topic, partition, offset, metadata }) => ({ topic, partition, offset, metadata })),
    };
    const { results } = await this.timed('commit offsets', (signal) =>
      this.client().commitOffsets(request, { signal }),
    );
    for (const result of results) {
      const error = fromErrorInfo(result.error, { topic: result.topic, partition: result.partition });
      if (error !== undefined) throw error;
    }
  }

  private async timed<T>(what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timer = deadline(this.requestTimeoutMs, this.scheduler);
    try {
      return await call(timer.signal);
    } catch (error) {
      if (timer.signal.aborted)
        throw new RequestTimedOutError(`${what} took over ${this.requestTimeoutMs} ms`, { cause: error });
      throw error;
    } finally {
      timer.clear();
    }
  }
}
