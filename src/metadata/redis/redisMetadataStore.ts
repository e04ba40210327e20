/**
 * The shared MetadataStore: Redis through ioredis, for many agents.
 *
 * Every step that reads and then writes, or touches more than one key, is a
 * Lua script (lua/<name>-<numKeys>.lua), so it runs atomically in Redis;
 * reads of several keys run as a script or a MULTI, so they see one state.
 * The lease and segment rules in the scripts mirror leaseRules.ts and
 * segmentRules.ts, and their error replies are turned into the same typed
 * errors the SQLite store raises (replyErrors.ts).
 *
 * Times come from the `clock` option (not Redis' TIME), so every store
 * sharing the Redis must keep its clock in sync well within the lease TTL.
 * Key layout: redisKeys.ts.
 */
import { aclFromKey, aclKey, compareAcls, validateAclEntry, type AclEntry } from '../aclRules.js';
import type { Redis } from 'ioredis';
import { MetadataError, StreamHouseError } from '../../protocol/errors.js';
import { decodeGroup, encodeGroup, memberIdsOf } from '../groupCodec.js';
import type {
  AgentRecord,
  CommitSegmentOutcome,
  CommitSegmentRequest,
  CommittedOffsetRecord,
  CreateTopicOptions,
  DeleteSegmentsRequest,
  GroupRecord,
  Lease,
  MetadataStore,
  OffsetCommit,
  PartitionState,
  ProducerPartitionState,
  ReplaceSegmentsRequest,
  SegmentInfo,
  TopicConfig,
  TopicInfo,
} from '../metadataStore.js';
import {
  MAX_PRODUCER_EPOCH,
  checkCommitSegmentRequest,
  checkDeleteSegmentsRequest,
  checkGroupRecord,
  checkInteger,
  checkOffsetCommits,
  checkPartitionNumber,
  checkReplaceSegmentsRequest,
  checkTtl,
} from '../requestValidation.js';
import { expiryLimit } from '../producerStates.js';
import { unknownPartitionError, unknownTopicError } from '../storeErrors.js';
import {
  resolveTopicConfig,
  validateAgentId,
  validateGroupId,
  validatePartitionCount,
  validateTopicName,
} from '../validation.js';
import {
  compareUtf8,
  decodeAgent,
  decodeOffset,
  decodeProducerState,
  decodeSegment,
  encodeAgent,
  encodeOffset,
  encodeProducerState,
  encodeSegment,
  parseOffsetField,
  parseStoredInteger,
  toPartitionState,
  toTopicInfo,
} from './redisCodec.js';
import { redisKeys, type RedisKeys } from './redisKeys.js';
import { resolveRedisOptions, type RedisMetadataStoreOptions } from './redisOptions.js';
import { fromRedisError, type ReplyContext } from './replyErrors.js';
import { MetadataScripts, type ScriptName } from './scriptLoader.js';
import { checkUserRecord, validateUserName, type UserRecord } from '../users.js';
import { isTopicId, newTopicId } from '../topicIds.js';

const PARTITION_FIELDS = ['hwm', 'lso', 'holder', 'epoch', 'expiresAt'] as const;

export class RedisMetadataStore implements MetadataStore {
  /** The ioredis client in use (the store's own, or the one passed in). */
  readonly client: Redis;
  /** Prefix of every key this store touches. */
  readonly keyPrefix: string;
  private readonly keys: RedisKeys;
  private readonly clock: () => number;
  private readonly ownsClient: boolean;
  private readonly scripts: MetadataScripts;
  /** The last connection failure ioredis reported, to say why a command found no Redis. */
  private lastConnectionError: Error | undefined;

  /** Connects (lazily, in the background) or adopts an existing client; see RedisMetadataStoreOptions. */
  constructor(options: RedisMetadataStoreOptions | Redis = {}) {
    const resolved = resolveRedisOptions(options);
    this.client = resolved.client;
    this.ownsClient = resolved.ownsClient;
    this.keyPrefix = resolved.keyPrefix;
    this.clock = resolved.clock;
    this.keys = redisKeys(resolved.keyPrefix);
    this.scripts = new MetadataScripts(resolved.client);
    this.client.on('error', (error: Error) => (this.lastConnectionError = error));
    this.client.on('ready', () => (this.lastConnectionError = undefined));
  }

  /** host:port (or socket path) of the Redis server, for messages. */
  get address(): string {
    const { host, port, path } = this.client.options;
    return path ?? `${host ?? '127.0.0.1'}:${port ?? 6379}`;
  }

  /** Sends PING; MetadataError naming the server and why it did not answer. */
  async ping(): Promise<void> {
    try {
      await this.client.ping();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const connection = this.lastConnectionError === undefined ? '' : ` (${this.lastConnectionError.message})`;
      throw new MetadataError(`Redis at ${this.address} did not answer PING: ${reason}${connection}`, { cause: error });
    }
  }

  // ---- topics ----

  async createTopic(
    name: string,
    partitions: number,
    config: Partial<TopicConfig> = {},
    options: CreateTopicOptions = {},
  ): Promise<TopicInfo> {
    validateTopicName(name);
    validatePartitionCount(partitions, name);
    const resolved = resolveTopicConfig(config, name);
    const { maxTopics } = options;
    if (maxTopics !== undefined) checkInteger('maxTopics', maxTopics, 0, { topic: name });
    const createdAt = this.clock();
    const id = newTopicId();
    // The script counts the topics set itself, so the bound holds across agents.
    await this.script(
      'createTopic',
      [this.keys.topics, this.keys.topic(name)],
      [
        this.keyPrefix,
        name,
        String(partitions),
        JSON.stringify(resolved),
        String(createdAt),
        id,
        maxTopics === undefined ? '' : String(maxTopics),
      ],
      { topic: name },
    );
    return { name, id, partitions, config: resolved, createdAt };
  }

  async deleteTopic(name: string): Promise<void> {
    await this.script('deleteTopic', [this.keys.topics, this.keys.topic(name)], [this.keyPrefix, name], {
      topic: name,
    });
  }

  async alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicInfo> {
    resolveTopicConfig(config, name);
    // Compare-and-set on the stored JSON, so concurrent alters of different fields both land.
    for (;;) {
      const [partitions, stored, createdAt, id] = await this.call({ topic: name }, () =>
        this.client.hmget(this.keys.topic(name), 'partitions', 'config', 'createdAt', 'id'),
      );
      if (partitions === null || partitions === undefined) throw unknownTopicError(name);
      const topicId = id ?? (await this.adoptTopicId(name));
      if (topicId === undefined) throw unknownTopicError(name);
      const topic = toTopicInfo(name, topicId, partitions, stored ?? null, createdAt ?? null);
      const altered = resolveTopicConfig({ ...topic.config, ...config }, name);
      const reply = await this.script(
        'alterTopicConfig',
        [this.keys.topic(name)],
        [stored ?? '', JSON.stringify(altered)],
        { topic: name },
      );
      if (reply === 'OK') return { ...topic, config: altered };
    }
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    const [partitions, config, createdAt, id] = await this.call({ topic: name }, () =>
      this.client.hmget(this.keys.topic(name), 'partitions', 'config', 'createdAt', 'id'),
    );
    if (partitions === null || partitions === undefined) return undefined;
    const topicId = id ?? (await this.adoptTopicId(name));
    return topicId === undefined
      ? undefined
      : toTopicInfo(name, topicId, partitions, config ?? null, createdAt ?? null);
  }

  async getTopicById(id: string): Promise<TopicInfo | undefined> {
    if (!isTopicId(id)) return undefined;
    const name = await this.call({}, () => this.client.hget(this.keys.topicIds, id));
    if (name === null) return undefined;
    const topic = await this.getTopic(name);
    return topic?.id === id ? topic : undefined;
  }

  async listTopics(): Promise<TopicInfo[]> {
    const flat = (await this.script('listTopics', [this.keys.topics], [this.keyPrefix], {})) as string[];
    const topics: TopicInfo[] = [];
    for (let i = 0; i < flat.length; i += 5) {
      const name = flat[i]!;
      const id = flat[i + 4] || (await this.adoptTopicId(name));
      if (id !== undefined) topics.push(toTopicInfo(name, id, flat[i + 1]!, flat[i + 2]!, flat[i + 3]!));
    }
    return topics.sort((a, b) => compareUtf8(a.name, b.name));
  }

  /** The id of a topic an agent without topic ids created, given now; undefined when the topic is gone. */
  private async adoptTopicId(name: string): Promise<string | undefined> {
    const id = await this.script('adoptTopicId', [this.keys.topic(name), this.keys.topicIds], [name, newTopicId()], {
      topic: name,
    });
    return typeof id === 'string' ? id : undefined;
  }

  // ---- partitions and leases ----

  async getPartition(topic: string, partition: number): Promise<PartitionState> {
    checkPartitionNumber(topic, partition);
    const fields = await this.call({ topic, partition }, () =>
      this.client.hmget(this.keys.partition(topic, partition), ...PARTITION_FIELDS),
    );
    if (fields[0] === null) throw await this.unknownPartition(topic, partition);
    return toPartitionState(topic, partition, fields);
  }

  async listPartitions(topic: string): Promise<PartitionState[]> {
    const rows = (await this.script('listPartitions', [this.keys.topic(topic)], [this.keyPrefix, topic], {
      topic,
    })) as string[][];
    return rows.map((fields, partition) => toPartitionState(topic, partition, fields));
  }

  async acquireLease(topic: string, partition: number, agentId: string, ttlMs: number): Promise<Lease> {
    checkPartitionNumber(topic, partition);
    validateAgentId(agentId);
    checkTtl(ttlMs);
    const [epoch, expiresAt] = (await this.partitionScript(
      'acquireLease',
      topic,
      partition,
      [this.keys.partition(topic, partition)],
      [agentId, String(ttlMs), String(this.clock())],
      {},
    )) as [string, string];
    return {
      topic,
      partition,
      agentId,
      epoch: parseStoredInteger(epoch, 'lease epoch'),
      expiresAt: parseStoredInteger(expiresAt, 'lease expiry'),
    };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    const { topic, partition } = lease;
    checkPartitionNumber(topic, partition);
    checkTtl(ttlMs);
    const expiresAt = (await this.partitionScript(
      'renewLease',
      topic,
      partition,
      [this.keys.partition(topic, partition)],
      [lease.agentId, String(lease.epoch), String(ttlMs), String(this.clock())],
      { epoch: lease.epoch },
    )) as string;
    return { ...lease, expiresAt: parseStoredInteger(expiresAt, 'lease expiry') };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const { topic, partition } = lease;
    checkPartitionNumber(topic, partition);
    await this.partitionScript(
      'releaseLease',
      topic,
      partition,
      [this.keys.partition(topic, partition)],
      [lease.agentId, String(lease.epoch), String(this.clock())],
      { epoch: lease.epoch },
    );
  }

  // ---- segment registry ----

  async commitSegment(request: CommitSegmentRequest): Promise<number> {
    checkCommitSegmentRequest(request);
    const { topic, partition, epoch, segment, expectedHighWatermark } = request;
    const producers = request.producers ?? [];
    const producerArgs = producers.flatMap((state) => [String(state.producerId), encodeProducerState(state)]);
    const keys = [...this.segmentKeys(topic, partition, true), this.keys.producerStateTimes(topic, partition)];
    const hwm = (await this.partitionScript(
      'commitSegment',
      topic,
      partition,
      keys,
      [
        String(epoch),
        String(expectedHighWatermark),
        segment.key,
        String(segment.baseOffset),
        String(segment.endOffset),
        encodeSegment(segment),
        String(this.clock()),
        String(request.producerIdExpirationMs ?? -1),
        String(expiryLimit(producers.length)),
        ...producerArgs,
      ],
      { epoch, expectedHighWatermark, baseOffset: segment.baseOffset },
    )) as string;
    return parseStoredInteger(hwm, 'high watermark');
  }

  /**
   * Each request is its own script call (they are not made atomic together:
   * nothing needs that, and each is fenced on its own); sent together, the
   * calls share the connection's round trips.
   */
  async commitSegments(requests: readonly CommitSegmentRequest[]): Promise<CommitSegmentOutcome[]> {
    return Promise.all(
      requests.map((request) =>
        this.commitSegment(request).then(
          (highWatermark): CommitSegmentOutcome => ({ ok: true, highWatermark }),
          (error: unknown): CommitSegmentOutcome => ({ ok: false, error }),
        ),
      ),
    );
  }

  async replaceSegments(request: ReplaceSegmentsRequest): Promise<void> {
    checkReplaceSegmentsRequest(request);
    const { topic, partition, epoch, add } = request;
    await this.partitionScript(
      'replaceSegments',
      topic,
      partition,
      this.segmentKeys(topic, partition, false),
      [
        String(epoch),
        String(this.clock()),
        add.key,
        String(add.baseOffset),
        String(add.endOffset),
        encodeSegment(add),
        ...request.remove,
      ],
      { epoch },
    );
  }

  async deleteSegments(request: DeleteSegmentsRequest): Promise<void> {
    checkDeleteSegmentsRequest(request);
    const { topic, partition, epoch } = request;
    await this.partitionScript(
      'deleteSegments',
      topic,
      partition,
      this.segmentKeys(topic, partition, false),
      [String(epoch), String(this.clock()), String(request.logStartOffset), ...request.keys],
      { epoch },
    );
  }

  async listSegments(topic: string, partition: number, fromOffset = 0, limit?: number): Promise<SegmentInfo[]> {
    checkPartitionNumber(topic, partition);
    checkInteger('fromOffset', fromOffset, 0, { topic, partition });
    if (limit !== undefined) checkInteger('limit', limit, 0, { topic, partition });
    const rows = (await this.partitionScript(
      'listSegments',
      topic,
      partition,
      this.segmentKeys(topic, partition, false),
      [String(fromOffset), String(limit ?? -1)],
      {},
    )) as string[];
    return rows.map(decodeSegment);
  }

  // ---- producer ids ----

  async allocateProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    const id = (await this.script(
      'allocateProducerId',
      [this.keys.producerIdSeq, this.keys.producerEpochs],
      [],
      {},
    )) as number;
    return { producerId: id, producerEpoch: 0 };
  }

  async bumpProducerEpoch(producerId: number): Promise<{ producerId: number; producerEpoch: number }> {
    checkInteger('producerId', producerId, 0);
    const epoch = (await this.script(
      'bumpProducerEpoch',
      [this.keys.producerEpochs],
      [String(producerId), String(MAX_PRODUCER_EPOCH)],
      { producerId },
    )) as number;
    return { producerId, producerEpoch: epoch };
  }

  async getProducerEpoch(producerId: number): Promise<number | undefined> {
    const epoch = await this.call({}, () => this.client.hget(this.keys.producerEpochs, String(producerId)));
    return epoch === null ? undefined : parseStoredInteger(epoch, 'producer epoch');
  }

  async getProducerState(
    topic: string,
    partition: number,
    producerId: number,
  ): Promise<ProducerPartitionState | undefined> {
    checkPartitionNumber(topic, partition);
    const [exists, state] = await this.transaction({ topic, partition }, (multi) =>
      multi
        .exists(this.keys.partition(topic, partition))
        .hget(this.keys.producerStates(topic, partition), String(producerId)),
    );
    if (exists === 0) throw await this.unknownPartition(topic, partition);
    return state === null ? undefined : decodeProducerState(state as string);
  }

  // ---- agents ----

  async registerAgent(agent: {
    agentId: string;
    address: string;
    kafkaAddress?: string;
    startedAt: number;
  }): Promise<void> {
    validateAgentId(agent.agentId);
    checkInteger('startedAt', agent.startedAt, 0);
    const now = String(this.clock());
    await this.transaction({ agentId: agent.agentId }, (multi) =>
      multi
        .hset(this.keys.agents, agent.agentId, encodeAgent(agent.address, agent.startedAt, agent.kafkaAddress))
        .hset(this.keys.agentHeartbeats, agent.agentId, now),
    );
  }

  async heartbeatAgent(agentId: string): Promise<void> {
    await this.script(
      'heartbeatAgent',
      [this.keys.agents, this.keys.agentHeartbeats],
      [agentId, String(this.clock())],
      { agentId },
    );
  }

  async listLiveAgents(ttlMs: number): Promise<AgentRecord[]> {
    checkInteger('ttlMs', ttlMs, 0);
    const [agents, heartbeats] = (await this.transaction({}, (multi) =>
      multi.hgetall(this.keys.agents).hgetall(this.keys.agentHeartbeats),
    )) as [Record<string, string>, Record<string, string>];
    const oldest = this.clock() - ttlMs;
    return Object.entries(agents)
      .flatMap(([agentId, json]) => {
        const heartbeat = heartbeats[agentId];
        return heartbeat === undefined ? [] : [decodeAgent(agentId, json, heartbeat)];
      })
      .filter((agent) => agent.lastHeartbeat >= oldest)
      .sort((a, b) => compareUtf8(a.agentId, b.agentId));
  }

  async deregisterAgent(agentId: string): Promise<void> {
    await this.transaction({ agentId }, (multi) =>
      multi.hdel(this.keys.agents, agentId).hdel(this.keys.agentHeartbeats, agentId),
    );
  }

  // ---- consumer groups ----

  async getGroup(groupId: string): Promise<GroupRecord | undefined> {
    const [version, record] = await this.call({ groupId }, () =>
      this.client.hmget(this.keys.group(groupId), 'version', 'record'),
    );
    if (version === null || version === undefined || record === null || record === undefined) return undefined;
    return decodeGroup(record, parseStoredInteger(version, 'group version'));
  }

  async updateGroup(group: GroupRecord, expectedVersion: number): Promise<GroupRecord | undefined> {
    checkGroupRecord(group, expectedVersion);
    const version = (await this.script(
      'updateGroup',
      [this.keys.group(group.groupId), this.keys.groups],
      [
        group.groupId,
        String(expectedVersion),
        String(group.generation),
        JSON.stringify(memberIdsOf(group)),
        encodeGroup(group),
      ],
      { groupId: group.groupId },
    )) as number;
    return version === 0 ? undefined : { ...group, version };
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.script(
      'deleteGroup',
      [this.keys.group(groupId), this.keys.offsets(groupId), this.keys.groups],
      [this.keyPrefix, groupId],
      { groupId },
    );
  }

  // ---- users ----

  async putUser(user: UserRecord): Promise<void> {
    const checked = checkUserRecord(user);
    await this.call({}, () => this.client.hset(this.keys.users, checked.name, JSON.stringify(checked)));
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    validateUserName(name);
    const json = await this.call({}, () => this.client.hget(this.keys.users, name));
    return json === null ? undefined : decodeUser(name, json);
  }

  async listUsers(): Promise<UserRecord[]> {
    const all = await this.call({}, () => this.client.hgetall(this.keys.users));
    return Object.entries(all)
      .map(([name, json]) => decodeUser(name, json))
      .sort((a, b) => compareUtf8(a.name, b.name));
  }

  async deleteUser(name: string): Promise<boolean> {
    validateUserName(name);
    return (await this.call({}, () => this.client.hdel(this.keys.users, name))) > 0;
  }

  async listGroups(): Promise<string[]> {
    const ids = await this.call({}, () => this.client.smembers(this.keys.groups));
    return ids.sort(compareUtf8);
  }

  async commitOffsets(groupId: string, generation: number, memberId: string, offsets: OffsetCommit[]): Promise<void> {
    checkOffsetCommits(groupId, generation, memberId, offsets);
    const now = this.clock();
    const triples = offsets.flatMap((c) => [c.topic, String(c.partition), encodeOffset(c.offset, c.metadata, now)]);
    await this.script(
      'commitOffsets',
      [this.keys.group(groupId), this.keys.offsets(groupId), this.keys.groups],
      [this.keyPrefix, groupId, String(generation), memberId, ...triples],
      { groupId, generation, memberId },
    );
  }

  async fetchOffsets(
    groupId: string,
    partitions?: { topic: string; partition: number }[],
  ): Promise<CommittedOffsetRecord[]> {
    validateGroupId(groupId);
    const key = this.keys.offsets(groupId);
    if (partitions === undefined) {
      const all = await this.call({ groupId }, () => this.client.hgetall(key));
      return Object.entries(all)
        .map(([field, json]) => {
          const { topic, partition } = parseOffsetField(field);
          return decodeOffset(topic, partition, json);
        })
        .sort((a, b) => compareUtf8(a.topic, b.topic) || a.partition - b.partition);
    }
    if (partitions.length === 0) return [];
    const fields = partitions.map(({ topic, partition }) => this.keys.offsetField(topic, partition));
    const values = await this.call({ groupId }, () => this.client.hmget(key, ...fields));
    return partitions.flatMap(({ topic, partition }, i) => {
      const json = values[i];
      return json === null || json === undefined ? [] : [decodeOffset(topic, partition, json)];
    });
  }

  // ---- access control ----

  async addAcl(entry: AclEntry): Promise<boolean> {
    validateAclEntry(entry);
    return (await this.call({}, () => this.client.sadd(this.keys.acls, aclKey(entry)))) > 0;
  }

  async removeAcl(entry: AclEntry): Promise<boolean> {
    validateAclEntry(entry);
    return (await this.call({}, () => this.client.srem(this.keys.acls, aclKey(entry)))) > 0;
  }

  async listAcls(): Promise<AclEntry[]> {
    const keys = await this.call({}, () => this.client.smembers(this.keys.acls));
    return keys.map(aclFromKey).sort(compareAcls);
  }

  /** Closes the connection when the store opened it; a client passed in stays open. */
  async close(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    try {
      await this.client.quit();
    } catch {
      // Quitting a connection that never came up fails; there is nothing left to release.
      this.client.disconnect();
    }
  }

  // ---- internals ----

  private segmentKeys(topic: string, partition: number, withProducers: boolean): string[] {
    const keys = [
      this.keys.partition(topic, partition),
      this.keys.segments(topic, partition),
      this.keys.segmentInfo(topic, partition),
    ];
    return withProducers ? [...keys, this.keys.producerStates(topic, partition)] : keys;
  }

  /** Runs a script; error replies and connection failures become typed errors. */
  private script(name: ScriptName, keys: string[], args: string[], context: ReplyContext): Promise<unknown> {
    return this.call(context, () => this.scripts.run(name, keys, args));
  }

  /** Runs a partition script; an unknown partition is reported with the topic's partition count. */
  private async partitionScript(
    name: ScriptName,
    topic: string,
    partition: number,
    keys: string[],
    args: string[],
    context: ReplyContext,
  ): Promise<unknown> {
    try {
      return await this.script(name, keys, args, { ...context, topic, partition });
    } catch (error) {
      if (error instanceof StreamHouseError && error.code === 'UNKNOWN_TOPIC_OR_PARTITION')
        throw await this.unknownPartition(topic, partition);
      throw error;
    }
  }

  private async call<T>(context: ReplyContext, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw fromRedisError(error, context);
    }
  }

  /** Runs a MULTI/EXEC and returns each command's result (or throws the first failure). */
  private async transaction(
    context: ReplyContext,
    build: (multi: ReturnType<Redis['multi']>) => ReturnType<Redis['multi']>,
  ): Promise<unknown[]> {
    const results = await this.call(context, () => build(this.client.multi()).exec());
    if (results === null) throw new MetadataError('Redis transaction was aborted');
    return results.map(([error, value]) => {
      if (error !== null) throw fromRedisError(error, context);
      return value;
    });
  }

  /** The error for a partition that does not exist, naming the topic's partition range when the topic exists. */
  private async unknownPartition(topic: string, partition: number): Promise<StreamHouseError> {
    const count = await this.call({ topic }, () => this.client.hget(this.keys.topic(topic), 'partitions'));
    return unknownPartitionError(
      topic,
      partition,
      count === null ? undefined : parseStoredInteger(count, 'partition count'),
    );
  }
}

/** A stored user as a checked record; MetadataError when the stored JSON is not one. */
function decodeUser(name: string, json: string): UserRecord {
  try {
    return checkUserRecord(JSON.parse(json));
  } catch (cause) {
    throw new MetadataError(`stored user ${name} is malformed`, { cause });
  }
}
