/**
 * Where a consumer group's committed offsets live.
 *
 * Implementations: {@link MemoryOffsetStore} (tests, single process),
 * `RedisOffsetStore` (consumers without group management sharing a Redis),
 * and the agent-backed store (CommitOffsets / FetchOffsets RPCs, fenced by
 * generation and member id through {@link SaveOptions}).
 */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { PartitionCommit, TopicPartition } from './types.js';

/** A committed offset as stored. */
export type StoredOffset = PartitionCommit & {
  /** When it was committed, ms since the epoch (the store's clock). */
  commitTime: number;
};

/** Group-membership context of a commit, used by stores that fence stale members. */
export type SaveOptions = {
  /** Generation of the committing member; -1 (default) for a commit outside group management. */
  generation?: number;
  /** Member id of the committer; `''` (default) outside group management. */
  memberId?: string;
};

/** Committed offsets of consumer groups. */
export interface OffsetStore {
  /**
   * Committed offsets of `groupId` for `partitions` (every partition of the
   * group when omitted), by topic then partition. Partitions with nothing
   * committed are left out; an empty `partitions` gives an empty result.
   */
  load(groupId: string, partitions?: readonly TopicPartition[]): Promise<StoredOffset[]>;
  /**
   * Stores offsets atomically, replacing earlier ones of the same partitions
   * (even with a lower offset: the caller decides, e.g. after a seek back).
   * Stores that fence use `options`; others ignore it.
   */
  save(groupId: string, offsets: readonly PartitionCommit[], options?: SaveOptions): Promise<void>;
}

/** Validates a group id. @internal */
export function checkGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId === '')
    throw new InvalidRequestError('group id must be a non-empty string');
}

/** Validates a partition reference. @internal */
export function checkTopicPartition({ topic, partition }: TopicPartition): void {
  if (typeof topic !== 'string' || topic === '') throw new InvalidRequestError('topic must be a non-empty string');
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new InvalidRequestError(`partition of ${topic} must be a non-negative integer, got ${partition}`, {
      context: { topic },
    });
  }
}

/** Validates an offset to commit. @internal */
export function checkCommit(commit: PartitionCommit): void {
  checkTopicPartition(commit);
  const { topic, partition, offset, metadata } = commit;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidRequestError(
      `offset of ${topic}/${partition} must be a non-negative safe integer, got ${offset}`,
      {
        context: { topic, partition },
      },
    );
  }
  if (typeof metadata !== 'string') {
    throw new InvalidRequestError(`metadata of ${topic}/${partition} must be a string`, {
      context: { topic, partition },
    });
  }
}
