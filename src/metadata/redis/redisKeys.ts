/**
 * The Redis key layout of one metadata store. Every key starts with the
 * store's prefix; the rest never contains another store's prefix as long as
 * no prefix is a prefix of another (e.g. do not run `streamhouse:` beside
 * `streamhouse:test:`).
 *
 * Topic names cannot contain `:`, so `<topic>:<partition>` is unambiguous;
 * group ids may, which is why they always come last in a key.
 *
 * | key | type | content |
 * | --- | --- | --- |
 * | `topics` | set | topic names |
 * | `topic:<t>` | hash | partitions, config (JSON), createdAt, id (absent on topics of older agents until adopted) |
 * | `topic-ids` | hash | topic id → topic name |
 * | `partition:<t>:<p>` | hash | hwm, lso, epoch, expiresAt, holder (absent when none) |
 * | `segments:<t>:<p>` | sorted set | segment keys scored by end offset |
 * | `segment-info:<t>:<p>` | hash | segment key → SegmentInfo JSON |
 * | `producer-states:<t>:<p>` | hash | producer id → ProducerPartitionState JSON |
 * | `producer-state-times:<t>:<p>` | sorted set | producer ids scored by their state's last update (ms), for expiry |
 * | `producer-id-seq` | string | last allocated producer id |
 * | `producer-epochs` | hash | producer id → epoch |
 * | `agents` | hash | agent id → {address, startedAt} JSON |
 * | `agent-heartbeats` | hash | agent id → last heartbeat (ms) |
 * | `groups` | set | group ids with a record or committed offsets |
 * | `group:<g>` | hash | version, generation, members (JSON ids), record (JSON) |
 * | `offsets:<g>` | hash | `<t>:<p>` → {offset, metadata, commitTime} JSON |
 * | `offset-groups:<t>` | set | groups with offsets on topic t (for deleteTopic) |
 * | `acls` | set | access-control entries, each as its aclKey JSON |
 * | `users` | hash | user name → UserRecord JSON (derived secrets only) |
 *
 * Lua scripts that touch keys only known from stored data (a topic's
 * partitions, the groups with offsets on it) build those names from the
 * prefix with the same patterns, so Redis Cluster is not supported.
 * Numbers are stored as decimal strings.
 * @internal
 */
import { InvalidRequestError } from '../../protocol/errors.js';

export type RedisKeys = ReturnType<typeof redisKeys>;

/** @internal The key names under `prefix`. */
export function redisKeys(prefix: string) {
  return {
    prefix,
    topics: `${prefix}topics`,
    topic: (topic: string) => `${prefix}topic:${topic}`,
    topicIds: `${prefix}topic-ids`,
    partition: (topic: string, partition: number) => `${prefix}partition:${topic}:${partition}`,
    segments: (topic: string, partition: number) => `${prefix}segments:${topic}:${partition}`,
    segmentInfo: (topic: string, partition: number) => `${prefix}segment-info:${topic}:${partition}`,
    producerStates: (topic: string, partition: number) => `${prefix}producer-states:${topic}:${partition}`,
    producerStateTimes: (topic: string, partition: number) => `${prefix}producer-state-times:${topic}:${partition}`,
    producerIdSeq: `${prefix}producer-id-seq`,
    producerEpochs: `${prefix}producer-epochs`,
    agents: `${prefix}agents`,
    agentHeartbeats: `${prefix}agent-heartbeats`,
    groups: `${prefix}groups`,
    group: (groupId: string) => `${prefix}group:${groupId}`,
    offsets: (groupId: string) => `${prefix}offsets:${groupId}`,
    users: `${prefix}users`,
    /** The field of one partition in a group's offsets hash. */
    offsetField: (topic: string, partition: number) => `${topic}:${partition}`,
    acls: `${prefix}acls`,
  };
}

/** `text` with Redis glob characters escaped, for SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The subset of an ioredis client that {@link deleteKeysWithPrefix} needs. */
export type ScanningClient = {
  scan(
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
};

/**
 * Deletes every key starting with `prefix` (SCAN + UNLINK, not atomic): for
 * tests, benchmarks and wiping a store. Returns how many keys were removed.
 */
export async function deleteKeysWithPrefix(client: ScanningClient, prefix: string): Promise<number> {
  if (prefix.length === 0) throw new InvalidRequestError('refusing to delete every key: give a non-empty prefix');
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
