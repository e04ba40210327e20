/**
 * An OffsetStore in Redis, for consumers that commit outside group
 * management but share offsets across processes.
 *
 * Layout: one hash per group, `<keyPrefix>offsets:<groupId>`; one field per
 * partition, `<topic>/<partition>`; each value JSON
 * `{"offset":42,"metadata":"","commitTime":1700000000000}`. A save is one
 * HSET, so the offsets of one commit land together.
 */
import type { Redis } from 'ioredis';
import { CorruptMessageError, MetadataError, StreamHouseError } from '../../protocol/errors.js';
import { checkCommit, checkGroupId, checkTopicPartition, type OffsetStore, type StoredOffset } from './offsetStore.js';
import { compareTopicPartitions, type PartitionCommit, type TopicPartition } from './types.js';

/** Options of {@link RedisOffsetStore}. */
export type RedisOffsetStoreOptions = {
  /**
   * The ioredis client; owned by the caller, who also closes it. Give it a
   * `commandTimeout` (and a bounded `maxRetriesPerRequest`), as the metadata
   * store's own connection has, so that a frozen Redis fails a load or save
   * with MetadataError instead of hanging it.
   */
  redis: Redis;
  /** Prefix of every key; default `'streamhouse:'`. */
  keyPrefix?: string;
  /** Clock for `commitTime`, ms; default `Date.now`. */
  now?: () => number;
};

/** An OffsetStore in a Redis hash per group. Ignores fencing options. */
export class RedisOffsetStore implements OffsetStore {
  private readonly redis: Redis;
  private readonly keyPrefix: string;
  private readonly now: () => number;

  constructor(options: RedisOffsetStoreOptions) {
    const { redis, keyPrefix = 'streamhouse:', now = Date.now } = options;
    this.redis = redis;
    this.keyPrefix = keyPrefix;
    this.now = now;
  }

  /** The hash holding a group's offsets. */
  keyOf(groupId: string): string {
    return `${this.keyPrefix}offsets:${groupId}`;
  }

  async load(groupId: string, partitions?: readonly TopicPartition[]): Promise<StoredOffset[]> {
    checkGroupId(groupId);
    partitions?.forEach(checkTopicPartition);
    if (partitions?.length === 0) return [];
    const key = this.keyOf(groupId);
    let entries: [string, string | null][];
    if (partitions === undefined) {
      entries = Object.entries(await this.call(() => this.redis.hgetall(key)));
    } else {
      const fields = partitions.map(({ topic, partition }) => fieldOf(topic, partition));
      const values = await this.call(() => this.redis.hmget(key, ...fields));
      entries = fields.map((field, i) => [field, values[i] ?? null]);
    }
    return entries
      .flatMap(([field, value]) => (value === null ? [] : [parseStored(key, field, value)]))
      .sort(compareTopicPartitions);
  }

  async save(groupId: string, offsets: readonly PartitionCommit[]): Promise<void> {
    checkGroupId(groupId);
    offsets.forEach(checkCommit);
    if (offsets.length === 0) return;
    const commitTime = this.now();
    const fieldsAndValues = offsets.flatMap(({ topic, partition, offset, metadata }) => [
      fieldOf(topic, partition),
      JSON.stringify({ offset, metadata, commitTime }),
    ]);
    await this.call(() => this.redis.hset(this.keyOf(groupId), ...fieldsAndValues));
  }

  /** Runs a Redis command; a failure becomes a retriable MetadataError. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (cause) {
      if (cause instanceof StreamHouseError) throw cause;
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MetadataError(`redis offset store: ${reason}`, { cause });
    }
  }
}

function fieldOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Reads one hash entry back; anything unexpected is corruption, reported with the key and field. */
function parseStored(key: string, field: string, value: string): StoredOffset {
  const slash = field.lastIndexOf('/');
  const topic = field.slice(0, slash);
  const partition = Number(field.slice(slash + 1));
  const corrupt = (reason: string, cause?: unknown) =>
    new CorruptMessageError(`offset ${key} ${field}: ${reason}`, {
      ...(cause === undefined ? {} : { cause }),
      context: { objectKey: key, ...(topic === '' ? {} : { topic }) },
    });
  if (slash <= 0 || !/^\d+$/.test(field.slice(slash + 1)) || !Number.isSafeInteger(partition)) {
    throw corrupt('field is not <topic>/<partition>');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (cause) {
    throw corrupt('value is not JSON', cause);
  }
  const { offset, metadata, commitTime } = (parsed ?? {}) as Record<string, unknown>;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw corrupt(`bad offset ${String(offset)}`);
  if (typeof metadata !== 'string') throw corrupt('metadata is not a string');
  if (!Number.isSafeInteger(commitTime)) throw corrupt(`bad commitTime ${String(commitTime)}`);
  return { topic, partition, offset: offset as number, metadata, commitTime: commitTime as number };
}
