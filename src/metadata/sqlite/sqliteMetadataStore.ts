/**
 * The embedded MetadataStore: one SQLite file through better-sqlite3.
 *
 * - WAL journal, so readers never block the writer; `synchronous` FULL by
 *   default because a segment commit acknowledges durable produces (see
 *   SqliteSynchronous).
 * - Every write runs in `db.transaction(...).immediate()` (BEGIN IMMEDIATE):
 *   the write lock is taken before anything is read, so the checks (epoch,
 *   high watermark, versions) and the writes see the same state even when
 *   other connections, in this process or another, share the file. A
 *   connection that finds the lock taken waits up to `busyTimeoutMs`.
 * - The clock is read inside the transaction, after the lock is held.
 * - Statements are prepared once (statements.ts).
 *
 * better-sqlite3 is synchronous: each method does its work before returning
 * a settled promise. SQLite failures (busy beyond the timeout, I/O errors)
 * become MetadataError (retriable) with the SqliteError as cause; a full
 * disk (SQLITE_FULL) becomes StorageFullError (retriable).
 */
import Database from 'better-sqlite3';
import { validateAclEntry, type AclEntry } from '../aclRules.js';
import { AclStatements } from './aclStatements.js';
import { MetadataError, StorageFullError, StreamHouseError } from '../../protocol/errors.js';
import { decodeGroup } from '../groupCodec.js';
import {
  acquireBlocker,
  fencedError,
  highWatermarkConflictError,
  notLeaderError,
  renewFenceReason,
  writeFenceReason,
  type LeaseView,
} from '../leaseRules.js';
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
import { checkDeletion, checkReplacement, segmentRuleError } from '../segmentRules.js';
import {
  producerEpochExhaustedError,
  tooManyTopicsError,
  topicExistsError,
  unknownAgentError,
  unknownPartitionError,
  unknownProducerError,
  unknownTopicError,
  deleteNonEmptyGroupError,
  unknownGroupError,
} from '../storeErrors.js';
import {
  resolveTopicConfig,
  validateAgentId,
  validateGroupId,
  validatePartitionCount,
  validateTopicName,
} from '../validation.js';
import { commitOffsetsStep, fetchOffsetsStep, updateGroupStep } from './groupTransactions.js';
import { expiryLimit } from '../producerStates.js';
import { migrate } from './schema.js';
import { isTopicId, newTopicId } from '../topicIds.js';
import { prepareUserStatements, toUserRecord, type UserStatements } from './userStatements.js';
import { checkUserRecord, validateUserName, type UserRecord } from '../users.js';
import { resolveSqliteOptions, type ResolvedSqliteOptions, type SqliteMetadataStoreOptions } from './sqliteOptions.js';
import {
  prepareStatements,
  toAgentRecord,
  toPartitionState,
  toProducerState,
  toProducerStateRow,
  toSegmentInfo,
  toSegmentRow,
  toTopicInfo,
  type PartitionRow,
  type Statements,
} from './statements.js';

export class SqliteMetadataStore implements MetadataStore {
  private readonly options: ResolvedSqliteOptions;
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly acls: AclStatements;
  private readonly userSql: UserStatements;
  private closed = false;

  /** Opens (creating if needed) the file and its schema. Throws MetadataError when the file cannot be opened. */
  constructor(options: SqliteMetadataStoreOptions) {
    this.options = resolveSqliteOptions(options);
    try {
      this.db = new Database(this.options.path, { timeout: this.options.busyTimeoutMs });
    } catch (cause) {
      throw new MetadataError(`cannot open SQLite metadata file ${this.options.path}: ${String(cause)}`, { cause });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${this.options.synchronous.toUpperCase()}`);
      migrate(this.db, this.options.clock());
      this.sql = prepareStatements(this.db);
      this.acls = new AclStatements(this.db);
      this.userSql = prepareUserStatements(this.db);
    } catch (cause) {
      this.db.close();
      throw toMetadataError(cause, `cannot prepare SQLite metadata file ${this.options.path}`);
    }
  }

  /** The database file path (or `:memory:`). */
  get path(): string {
    return this.options.path;
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
    return this.write(() => {
      if (this.sql.getTopic.get(name) !== undefined) throw topicExistsError(name);
      // Counted under the write lock, so no other create lands between the count and the insert.
      if (maxTopics !== undefined) {
        const count = this.sql.countTopics.get()!.count;
        if (count >= maxTopics) throw tooManyTopicsError(name, count, maxTopics);
      }
      const createdAt = this.options.clock();
      const id = newTopicId();
      this.sql.insertTopic.run({ name, id, partitions, config: JSON.stringify(resolved), created_at: createdAt });
      const epoch = this.sql.getEpochFloor.get(name)?.epoch ?? 0;
      for (let partition = 0; partition < partitions; partition++)
        this.sql.insertPartition.run({ topic: name, partition, epoch });
      return { name, id, partitions, config: resolved, createdAt };
    });
  }

  async deleteTopic(name: string): Promise<void> {
    return this.write(() => {
      if (this.sql.getTopic.get(name) === undefined) throw unknownTopicError(name);
      this.sql.deleteTopicOffsets.run(name);
      this.sql.deleteTopicProducerStates.run(name);
      this.sql.deleteTopicSegments.run(name);
      this.sql.raiseEpochFloor.run(name);
      this.sql.deletePartitions.run(name);
      this.sql.deleteTopic.run(name);
    });
  }

  async alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicInfo> {
    resolveTopicConfig(config, name);
    return this.write(() => {
      const row = this.sql.getTopic.get(name);
      if (row === undefined) throw unknownTopicError(name);
      const topic = toTopicInfo(row);
      const altered = resolveTopicConfig({ ...topic.config, ...config }, name);
      this.sql.updateTopicConfig.run({ name, config: JSON.stringify(altered) });
      return { ...topic, config: altered };
    });
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    return this.read(() => {
      const row = this.sql.getTopic.get(name);
      return row === undefined ? undefined : toTopicInfo(row);
    });
  }

  async getTopicById(id: string): Promise<TopicInfo | undefined> {
    if (!isTopicId(id)) return undefined;
    return this.read(() => {
      const row = this.sql.getTopicById.get(id);
      return row === undefined ? undefined : toTopicInfo(row);
    });
  }

  async listTopics(): Promise<TopicInfo[]> {
    return this.read(() => this.sql.listTopics.all().map(toTopicInfo));
  }

  // ---- partitions and leases ----

  async getPartition(topic: string, partition: number): Promise<PartitionState> {
    checkPartitionNumber(topic, partition);
    return this.read(() => toPartitionState(this.requirePartition(topic, partition)));
  }

  async listPartitions(topic: string): Promise<PartitionState[]> {
    return this.read(() => {
      const rows = this.sql.listPartitions.all(topic);
      if (rows.length === 0) throw unknownTopicError(topic);
      return rows.map(toPartitionState);
    });
  }

  async acquireLease(topic: string, partition: number, agentId: string, ttlMs: number): Promise<Lease> {
    checkPartitionNumber(topic, partition);
    validateAgentId(agentId);
    checkTtl(ttlMs);
    return this.write(() => {
      const row = this.requirePartition(topic, partition);
      const now = this.options.clock();
      const blocker = acquireBlocker(leaseView(row), agentId, now);
      if (blocker !== undefined) throw notLeaderError(topic, partition, blocker, row.lease_expires_at);
      const lease: Lease = { topic, partition, agentId, epoch: row.lease_epoch + 1, expiresAt: now + ttlMs };
      this.sql.setLease.run({ topic, partition, holder: agentId, epoch: lease.epoch, expiresAt: lease.expiresAt });
      return lease;
    });
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<Lease> {
    const { topic, partition } = lease;
    checkPartitionNumber(topic, partition);
    checkTtl(ttlMs);
    return this.write(() => {
      const row = this.requirePartition(topic, partition);
      const now = this.options.clock();
      const reason = renewFenceReason(leaseView(row), lease.epoch, lease.agentId);
      if (reason !== undefined) throw fencedError(topic, partition, lease.epoch, leaseView(row), reason, now);
      const renewed: Lease = { ...lease, expiresAt: now + ttlMs };
      this.sql.setLease.run({
        topic,
        partition,
        holder: lease.agentId,
        epoch: lease.epoch,
        expiresAt: renewed.expiresAt,
      });
      return renewed;
    });
  }

  async releaseLease(lease: Lease): Promise<void> {
    const { topic, partition } = lease;
    checkPartitionNumber(topic, partition);
    return this.write(() => {
      const row = this.requirePartition(topic, partition);
      if (renewFenceReason(leaseView(row), lease.epoch, lease.agentId) !== undefined) return;
      this.sql.setLease.run({ topic, partition, holder: null, epoch: lease.epoch, expiresAt: this.options.clock() });
    });
  }

  // ---- segment registry ----

  async commitSegment(request: CommitSegmentRequest): Promise<number> {
    checkCommitSegmentRequest(request);
    return this.write(() => this.applyCommit(request));
  }

  /**
   * One BEGIN IMMEDIATE transaction, so one WAL fsync, for all the requests;
   * each runs in a savepoint of its own (better-sqlite3 nests transactions
   * that way), so one that is refused is rolled back alone.
   */
  async commitSegments(requests: readonly CommitSegmentRequest[]): Promise<CommitSegmentOutcome[]> {
    const outcomes: CommitSegmentOutcome[] = requests.map(() => ({ ok: false, error: undefined }));
    const valid: number[] = [];
    requests.forEach((request, i) => {
      try {
        checkCommitSegmentRequest(request);
        valid.push(i);
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    });
    if (valid.length === 0) return outcomes;
    const applyOne = this.db.transaction((request: CommitSegmentRequest) => this.applyCommit(request));
    return this.write(() => {
      for (const i of valid) {
        try {
          outcomes[i] = { ok: true, highWatermark: applyOne(requests[i]!) };
        } catch (error) {
          outcomes[i] = { ok: false, error: toMetadataError(error, 'SQLite segment commit failed') };
        }
      }
      return outcomes;
    });
  }

  /** Checks and applies one segment commit inside the caller's transaction; returns the new high watermark. */
  private applyCommit(request: CommitSegmentRequest): number {
    const { topic, partition, epoch, segment } = request;
    const row = this.requireWritablePartition(topic, partition, epoch);
    if (request.expectedHighWatermark !== row.high_watermark || segment.baseOffset !== request.expectedHighWatermark) {
      throw highWatermarkConflictError(
        topic,
        partition,
        request.expectedHighWatermark,
        segment.baseOffset,
        row.high_watermark,
      );
    }
    if (this.sql.getSegmentByKey.get({ topic, partition, key: segment.key }) !== undefined) {
      throw segmentRuleError(topic, partition, { reason: 'key-exists', key: segment.key });
    }
    this.sql.insertSegment.run({ topic, partition, ...toSegmentRow(segment) });
    this.sql.setHighWatermark.run({ topic, partition, highWatermark: segment.endOffset });
    const now = this.options.clock();
    const producers = request.producers ?? [];
    for (const state of producers) {
      this.sql.upsertProducerState.run({ topic, partition, ...toProducerStateRow(state, now) });
    }
    if (request.producerIdExpirationMs !== undefined) {
      const before = now - request.producerIdExpirationMs;
      this.sql.expireProducerStates.run({ topic, partition, before, limit: expiryLimit(producers.length) });
    }
    return segment.endOffset;
  }

  async replaceSegments(request: ReplaceSegmentsRequest): Promise<void> {
    checkReplaceSegmentsRequest(request);
    const { topic, partition, epoch, remove, add } = request;
    return this.write(() => {
      this.requireWritablePartition(topic, partition, epoch);
      const removed = remove.map((key) => this.findSegment(topic, partition, key));
      const addKeyTaken = !remove.includes(add.key) && this.findSegment(topic, partition, add.key) !== undefined;
      const violation = checkReplacement(remove, removed, add, addKeyTaken);
      if (violation !== undefined) throw segmentRuleError(topic, partition, violation);
      for (const key of remove) this.sql.deleteSegmentByKey.run({ topic, partition, key });
      this.sql.insertSegment.run({ topic, partition, ...toSegmentRow(add) });
    });
  }

  async deleteSegments(request: DeleteSegmentsRequest): Promise<void> {
    checkDeleteSegmentsRequest(request);
    const { topic, partition, epoch, keys, logStartOffset } = request;
    return this.write(() => {
      this.requireWritablePartition(topic, partition, epoch);
      const registered = keys.map((key) => this.findSegment(topic, partition, key) !== undefined);
      const oldest = this.sql.oldestSegments.all({ topic, partition, count: keys.length }).map(toSegmentInfo);
      const violation = checkDeletion(keys, registered, oldest, logStartOffset);
      if (violation !== undefined) throw segmentRuleError(topic, partition, violation);
      for (const key of keys) this.sql.deleteSegmentByKey.run({ topic, partition, key });
      this.sql.setLogStartOffset.run({ topic, partition, logStartOffset });
    });
  }

  async listSegments(topic: string, partition: number, fromOffset = 0, limit?: number): Promise<SegmentInfo[]> {
    checkPartitionNumber(topic, partition);
    checkInteger('fromOffset', fromOffset, 0, { topic, partition });
    if (limit !== undefined) checkInteger('limit', limit, 0, { topic, partition });
    return this.read(() => {
      this.requirePartition(topic, partition);
      // LIMIT -1 is SQLite's "no limit".
      return this.sql.listSegments.all({ topic, partition, fromOffset, limit: limit ?? -1 }).map(toSegmentInfo);
    });
  }

  // ---- producer ids ----

  async allocateProducerId(): Promise<{ producerId: number; producerEpoch: number }> {
    return this.write(() => ({
      producerId: Number(this.sql.insertProducerId.run().lastInsertRowid),
      producerEpoch: 0,
    }));
  }

  async bumpProducerEpoch(producerId: number): Promise<{ producerId: number; producerEpoch: number }> {
    checkInteger('producerId', producerId, 0);
    return this.write(() => {
      const row = this.sql.getProducerEpoch.get(producerId);
      if (row === undefined) throw unknownProducerError(producerId);
      if (row.epoch >= MAX_PRODUCER_EPOCH) throw producerEpochExhaustedError(producerId);
      this.sql.setProducerEpoch.run({ producerId, epoch: row.epoch + 1 });
      return { producerId, producerEpoch: row.epoch + 1 };
    });
  }

  async getProducerEpoch(producerId: number): Promise<number | undefined> {
    return this.read(() => this.sql.getProducerEpoch.get(producerId)?.epoch);
  }

  async getProducerState(
    topic: string,
    partition: number,
    producerId: number,
  ): Promise<ProducerPartitionState | undefined> {
    checkPartitionNumber(topic, partition);
    return this.read(() => {
      this.requirePartition(topic, partition);
      const row = this.sql.getProducerState.get({ topic, partition, producerId });
      return row === undefined ? undefined : toProducerState(row);
    });
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
    return this.write(() => {
      const row = {
        agent_id: agent.agentId,
        address: agent.address,
        kafka_address: agent.kafkaAddress ?? null,
        started_at: agent.startedAt,
        last_heartbeat: this.options.clock(),
      };
      this.sql.upsertAgent.run(row);
    });
  }

  async heartbeatAgent(agentId: string): Promise<void> {
    return this.write(() => {
      if (this.sql.heartbeatAgent.run({ agentId, now: this.options.clock() }).changes === 0)
        throw unknownAgentError(agentId);
    });
  }

  async listLiveAgents(ttlMs: number): Promise<AgentRecord[]> {
    checkInteger('ttlMs', ttlMs, 0);
    return this.read(() => this.sql.liveAgents.all(this.options.clock() - ttlMs).map(toAgentRecord));
  }

  async deregisterAgent(agentId: string): Promise<void> {
    return this.write(() => void this.sql.deleteAgent.run(agentId));
  }

  // ---- consumer groups ----

  async getGroup(groupId: string): Promise<GroupRecord | undefined> {
    return this.read(() => {
      const row = this.sql.getGroup.get(groupId);
      return row === undefined ? undefined : decodeGroup(row.record, row.version);
    });
  }

  async updateGroup(group: GroupRecord, expectedVersion: number): Promise<GroupRecord | undefined> {
    checkGroupRecord(group, expectedVersion);
    return this.write(() => updateGroupStep(this.sql, group, expectedVersion));
  }

  async deleteGroup(groupId: string): Promise<void> {
    return this.write(() => {
      const group = this.sql.getGroup.get(groupId);
      const members = group === undefined ? 0 : (JSON.parse(group.member_ids) as string[]).length;
      if (members > 0) throw deleteNonEmptyGroupError(groupId, members);
      if (group === undefined && this.sql.countGroupOffsets.get(groupId)!.n === 0) throw unknownGroupError(groupId);
      this.sql.deleteGroupOffsets.run(groupId);
      this.sql.deleteGroup.run(groupId);
    });
  }

  // ---- users ----

  async putUser(user: UserRecord): Promise<void> {
    const checked = checkUserRecord(user);
    return this.write(() => void this.userSql.put.run(checked.name, JSON.stringify(checked)));
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    validateUserName(name);
    return this.read(() => {
      const row = this.userSql.get.get(name);
      return row === undefined ? undefined : toUserRecord(row);
    });
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.read(() => this.userSql.list.all().map(toUserRecord));
  }

  async deleteUser(name: string): Promise<boolean> {
    validateUserName(name);
    return this.write(() => this.userSql.delete.run(name).changes > 0);
  }

  async listGroups(): Promise<string[]> {
    return this.read(() => this.sql.listGroups.all().map((row) => row.group_id));
  }

  async commitOffsets(groupId: string, generation: number, memberId: string, offsets: OffsetCommit[]): Promise<void> {
    checkOffsetCommits(groupId, generation, memberId, offsets);
    return this.write(() => commitOffsetsStep(this.sql, groupId, generation, memberId, offsets, this.options.clock()));
  }

  async fetchOffsets(
    groupId: string,
    partitions?: { topic: string; partition: number }[],
  ): Promise<CommittedOffsetRecord[]> {
    validateGroupId(groupId);
    return this.read(() => fetchOffsetsStep(this.sql, groupId, partitions));
  }

  // ---- access control ----

  async addAcl(entry: AclEntry): Promise<boolean> {
    validateAclEntry(entry);
    return this.write(() => this.acls.add(entry));
  }

  async removeAcl(entry: AclEntry): Promise<boolean> {
    validateAclEntry(entry);
    return this.write(() => this.acls.delete(entry));
  }

  async listAcls(): Promise<AclEntry[]> {
    return this.read(() => this.acls.list());
  }

  /** Reads from the file; MetadataError naming it when that fails. */
  async ping(): Promise<void> {
    await this.read(() => this.db.prepare('SELECT 1').get()).catch((error: unknown) => {
      throw toMetadataError(error, `SQLite metadata file ${this.options.path} cannot be read`);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  // ---- internals ----

  /** Runs `work` in one BEGIN IMMEDIATE transaction. */
  private write<T>(work: () => T): Promise<T> {
    return this.guard(() => this.db.transaction(work).immediate());
  }

  /** Runs `work` in one read transaction (a consistent snapshot across statements). */
  private read<T>(work: () => T): Promise<T> {
    return this.guard(() => this.db.transaction(work).deferred());
  }

  private guard<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new MetadataError(`SQLite metadata store ${this.options.path} is closed`));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toMetadataError(error, 'SQLite metadata operation failed'));
    }
  }

  private requirePartition(topic: string, partition: number): PartitionRow {
    const row = this.sql.getPartition.get({ topic, partition });
    if (row !== undefined) return row;
    throw unknownPartitionError(topic, partition, this.sql.getTopic.get(topic)?.partitions);
  }

  /** The partition row, when a write under `epoch` may go ahead now; otherwise FencedLeaseEpochError. */
  private requireWritablePartition(topic: string, partition: number, epoch: number): PartitionRow {
    const row = this.requirePartition(topic, partition);
    const now = this.options.clock();
    const reason = writeFenceReason(leaseView(row), epoch, now);
    if (reason !== undefined) throw fencedError(topic, partition, epoch, leaseView(row), reason, now);
    return row;
  }

  private findSegment(topic: string, partition: number, key: string): SegmentInfo | undefined {
    const row = this.sql.getSegmentByKey.get({ topic, partition, key });
    return row === undefined ? undefined : toSegmentInfo(row);
  }
}

function leaseView(row: PartitionRow): LeaseView {
  return { holder: row.lease_holder ?? undefined, epoch: row.lease_epoch, expiresAt: row.lease_expires_at };
}

/**
 * Our own errors pass through; a full disk (SQLITE_FULL) becomes a retriable
 * StorageFullError; anything else (SqliteError, I/O) a retriable MetadataError.
 */
function toMetadataError(error: unknown, what: string): StreamHouseError {
  if (error instanceof StreamHouseError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  if ((error as { code?: unknown } | null)?.code === 'SQLITE_FULL') {
    return new StorageFullError(`${what}: ${detail} (SQLITE_FULL: free space on its disk, e.g. delete a topic)`, {
      cause: error,
    });
  }
  return new MetadataError(`${what}: ${detail}`, { cause: error });
}
