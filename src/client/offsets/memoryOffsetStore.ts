import { checkCommit, checkGroupId, checkTopicPartition, type OffsetStore, type StoredOffset } from './offsetStore.js';
import { compareTopicPartitions, type PartitionCommit, type TopicPartition } from './types.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Options of {@link MemoryOffsetStore}. */
export type MemoryOffsetStoreOptions = {
  /** Clock for `commitTime`, ms; default `Date.now`. */
  now?: () => number;
};

/** An OffsetStore in process memory: for tests and single-process use. Ignores fencing options. */
export class MemoryOffsetStore implements OffsetStore {
  private readonly groups = new Map<string, Map<string, StoredOffset>>();
  private readonly now: () => number;

  constructor(options: MemoryOffsetStoreOptions = {}) {
    const { now = Date.now } = options;
    this.now = now;
  }

  async load(groupId: string, partitions?: readonly TopicPartition[]): Promise<StoredOffset[]> {
    checkGroupId(groupId);
    partitions?.forEach(checkTopicPartition);
    const group = this.groups.get(groupId);
    if (group === undefined) return [];
    const found =
      partitions === undefined
        ? [...group.values()]
        : partitions.flatMap(({ topic, partition }) => group.get(topicPartitionId(topic, partition)) ?? []);
    return found.sort(compareTopicPartitions).map((stored) => ({ ...stored }));
  }

  async save(groupId: string, offsets: readonly PartitionCommit[]): Promise<void> {
    checkGroupId(groupId);
    offsets.forEach(checkCommit);
    if (offsets.length === 0) return;
    const commitTime = this.now();
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new Map();
      this.groups.set(groupId, group);
    }
    for (const { topic, partition, offset, metadata } of offsets) {
      group.set(topicPartitionId(topic, partition), { topic, partition, offset, metadata, commitTime });
    }
  }
}
