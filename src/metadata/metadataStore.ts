/**
 * The metadata store: everything an agent needs to be stateless. Topics,
 * partitions (high watermark, log start offset, lease), the segment registry,
 * live agents, consumer groups, committed offsets and producer ids.
 *
 * Backends: SQLite (one file, the embedded default) and Redis (shared by many
 * agents). Every method that changes more than one thing does so atomically.
 *
 * Fencing: every write that concerns a partition's log carries the caller's
 * lease epoch and is rejected with FencedLeaseEpochError when it is not the
 * partition's current epoch, so an agent that lost its lease can never commit.
 *
 * Times are ms since the epoch, taken from the store's `clock` option
 * (default `Date.now`); agents sharing a store should keep clocks in sync
 * well within the lease TTL.
 *
 * Leases: a lease is live while it has a holder and `now <= expiresAt`.
 * Segment writes (commit, replace, delete) need the current epoch AND a live
 * lease: an agent whose lease expired gets FencedLeaseEpochError even if
 * nobody took the lease over yet, and must renew (allowed while its epoch is
 * still current) or re-acquire first. The rules live in leaseRules.ts and are
 * shared by both backends, as are the input checks (validation.ts,
 * requestValidation.ts) and the registry rules (segmentRules.ts).
 *
 * Partition-scoped calls (getPartition, leases, segments, getProducerState)
 * throw UnknownTopicOrPartitionError for a topic or partition that does not
 * exist. Infrastructure failures (Redis unreachable, SQLite busy beyond its
 * timeout, I/O) throw MetadataError (retriable) with the cause.
 */
import type { AclEntry } from './aclRules.js';
import type { UserStore } from './users.js';

/** Per-topic settings; every field has a default (see DEFAULT_TOPIC_CONFIG). */
export type TopicConfig = {
  /** Delete segments older than this, ms; -1 keeps forever. Default -1. */
  retentionMs: number;
  /** Delete oldest segments while a partition holds more bytes than this; -1 = unlimited. Default -1. */
  retentionBytes: number;
  /** Compaction merges small objects into segments up to this size. Default 64 MiB. */
  segmentBytes: number;
  /** Largest batch Produce accepts, bytes. Default 1 MiB. */
  maxMessageBytes: number;
};

export const DEFAULT_TOPIC_CONFIG: TopicConfig = {
  retentionMs: -1,
  retentionBytes: -1,
  segmentBytes: 64 * 1024 * 1024,
  maxMessageBytes: 1024 * 1024,
};

export type TopicInfo = {
  name: string;
  /**
   * The topic's id, a random UUID (lower-case, hyphenated) fixed when it is
   * created: a topic created again under the same name has a new one.
   */
  id: string;
  /** Number of partitions, numbered 0..partitions-1. */
  partitions: number;
  config: TopicConfig;
  createdAt: number;
};

export type PartitionState = {
  topic: string;
  partition: number;
  /** Offset the next record will get; every offset below it is durable. */
  highWatermark: number;
  /** First offset still kept. */
  logStartOffset: number;
  /** Agent holding the lease, or undefined when none ever did or it was released. */
  leaseHolder: string | undefined;
  /** Epoch of the latest acquisition; 0 when never leased (or the deleted namesake's last epoch, see deleteTopic). */
  leaseEpoch: number;
  /** When the current lease expires, ms; 0 when none. */
  leaseExpiresAt: number;
};

/** A held lease; the epoch fences every write made under it. */
export type Lease = {
  topic: string;
  partition: number;
  agentId: string;
  epoch: number;
  expiresAt: number;
};

/** One object in the segment registry, covering offsets [baseOffset, endOffset). */
export type SegmentInfo = {
  /** Object-store key. */
  key: string;
  baseOffset: number;
  /** One past the last offset in the object. */
  endOffset: number;
  sizeBytes: number;
  /** Smallest and largest record timestamps in the object, ms. */
  minTimestamp: number;
  maxTimestamp: number;
  createdAt: number;
};

/** One committed batch of an idempotent producer: its sequences and the offsets it was given. */
export type ProducerBatchState = {
  /** Sequence of the batch's last record; the first is `recordCount - 1` before it, wrapping at int32 max. */
  lastSequence: number;
  /** Offset of the batch's first record. */
  baseOffset: number;
  /** Records in the batch, at least 1. */
  recordCount: number;
};

/**
 * Idempotence state of one producer on one partition (Kafka's producer-state
 * snapshot): its last committed batches, so that a retry of any of them is
 * answered with its original offsets after a restart or failover.
 */
export type ProducerPartitionState = {
  producerId: number;
  producerEpoch: number;
  /** Sequence of the last record of the last committed batch. */
  lastSequence: number;
  /** Base offset given to the last committed batch. */
  lastBaseOffset: number;
  /** Records in the last committed batch. */
  lastRecordCount: number;
  /**
   * The batches committed before the last one, oldest first, at most
   * MAX_PRODUCER_BATCHES - 1 (4) of them. Omitted when there are none: stores
   * read state written before this field existed as the last batch alone.
   */
  earlierBatches?: ProducerBatchState[];
};

export type CommitSegmentRequest = {
  topic: string;
  partition: number;
  /** Caller's lease epoch; must be current. */
  epoch: number;
  /** Must equal the partition's high watermark and `segment.baseOffset`. */
  expectedHighWatermark: number;
  segment: SegmentInfo;
  /**
   * Producer states to store in the same atomic step (idempotent produce); each replaces that producer's stored state.
   */
  producers?: ProducerPartitionState[];
  /**
   * When set, the same step removes the partition's producer states that no
   * commit has updated for longer than this, ms (Kafka's
   * `producer.id.expiration.ms`): at most `producers.length` + 100 per
   * commit, oldest first, so one step stays short while expiry keeps up.
   */
  producerIdExpirationMs?: number;
};

/**
 * What became of one request of {@link MetadataStore.commitSegments}: its new high watermark, or why it was refused.
 */
export type CommitSegmentOutcome = { ok: true; highWatermark: number } | { ok: false; error: unknown };

export type ReplaceSegmentsRequest = {
  topic: string;
  partition: number;
  epoch: number;
  /** Keys that must all be registered now; they are removed. */
  remove: string[];
  /** The merged object; must cover exactly the removed ranges. */
  add: SegmentInfo;
};

export type DeleteSegmentsRequest = {
  topic: string;
  partition: number;
  epoch: number;
  /** Keys of the oldest segments, removed from the registry. */
  keys: string[];
  /** New log start offset (the endOffset of the last removed segment). */
  logStartOffset: number;
};

export type AgentRecord = {
  agentId: string;
  /** host:port clients dial. */
  address: string;
  /** host:port Kafka clients dial; undefined when the agent serves no Kafka (or registered before it was kept). */
  kafkaAddress?: string;
  startedAt: number;
  lastHeartbeat: number;
};

export type GroupMemberRecord = {
  memberId: string;
  clientId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Protocols offered, in preference order: name and opaque metadata. */
  protocols: { name: string; metadata: Uint8Array }[];
  /** Assignment given at the last sync, opaque bytes. */
  assignment: Uint8Array;
  lastHeartbeat: number;
  /** Generation this member last joined. */
  joinedGeneration: number;
};

export type GroupState = 'empty' | 'preparing-rebalance' | 'completing-rebalance' | 'stable';

/** A consumer group as the coordinator sees it. */
export type GroupRecord = {
  groupId: string;
  /** Increases by one at every completed join phase. */
  generation: number;
  state: GroupState;
  protocolName: string;
  leaderId: string;
  members: GroupMemberRecord[];
  /** When the current join phase started or the state last changed, ms. */
  stateChangedAt: number;
  /** Optimistic-concurrency version, increased by every successful update. */
  version: number;
};

export type OffsetCommit = {
  topic: string;
  partition: number;
  /** Next offset to consume. */
  offset: number;
  metadata: string;
};

export type CommittedOffsetRecord = OffsetCommit & { commitTime: number };

/** Conditions of MetadataStore.createTopic. */
export type CreateTopicOptions = {
  /** Most topics the cluster may hold once this one is created (a safe integer >= 0); undefined: no bound. */
  maxTopics?: number | undefined;
};

export interface MetadataStore extends UserStore {
  // ---- topics ----
  /**
   * Creates a topic and its partitions (high watermark 0). Throws
   * TopicAlreadyExistsError, InvalidTopicError (name not matching
   * `[A-Za-z0-9._-]{1,249}` or `.`/`..`), InvalidPartitionsError (not 1..10000),
   * InvalidConfigError. With `options.maxTopics`, the topic count is checked
   * in the same atomic step as the create: a cluster already holding that many
   * topics answers InvalidConfigError (nothing written), so concurrent creates
   * from any number of agents never pass it. An existing name answers
   * TopicAlreadyExistsError first.
   */
  createTopic(
    name: string,
    partitions: number,
    config?: Partial<TopicConfig>,
    options?: CreateTopicOptions,
  ): Promise<TopicInfo>;
  /**
   * Deletes a topic with its partitions, segments registry, producer states
   * and offsets. Throws UnknownTopicOrPartitionError. Its leases end with it:
   * a topic created again under the name starts at the deleted one's largest
   * lease epoch, unleased, so no lease or write of the old topic is ever
   * accepted by the new one.
   */
  deleteTopic(name: string): Promise<void>;
  getTopic(name: string): Promise<TopicInfo | undefined>;
  /** The topic with this id (see TopicInfo.id); undefined when none, e.g. deleted or not a UUID. */
  getTopicById(id: string): Promise<TopicInfo | undefined>;
  /**
   * Changes the given fields of a topic's config, keeping the others, in one
   * atomic step; returns the topic with its new config. Throws
   * UnknownTopicOrPartitionError, or InvalidConfigError (nothing changed) when
   * the resulting config is not valid.
   */
  alterTopicConfig(name: string, config: Partial<TopicConfig>): Promise<TopicInfo>;
  /** Every topic, sorted by name. */
  listTopics(): Promise<TopicInfo[]>;

  // ---- partitions and leases ----
  /** Throws UnknownTopicOrPartitionError. */
  getPartition(topic: string, partition: number): Promise<PartitionState>;
  /** Every partition of a topic, by number. Throws UnknownTopicOrPartitionError. */
  listPartitions(topic: string): Promise<PartitionState[]>;
  /**
   * Takes the lease when it is free, expired, or already held by `agentId`;
   * each acquisition increments the epoch. Throws NotLeaderError naming the
   * current holder when another agent holds an unexpired lease.
   */
  acquireLease(topic: string, partition: number, agentId: string, ttlMs: number): Promise<Lease>;
  /** Extends a held lease. Throws FencedLeaseEpochError when the epoch or holder changed. */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives a lease up (expiry set to now). A lease no longer current is ignored. */
  releaseLease(lease: Lease): Promise<void>;

  // ---- segment registry ----
  /**
   * Registers a segment and sets the high watermark to `segment.endOffset`, in
   * one atomic step. Throws FencedLeaseEpochError when `epoch` is not current,
   * HighWatermarkConflictError when the high watermark is not the expected one.
   * Returns the new high watermark.
   *
   * Also FencedLeaseEpochError when the lease was released or has expired
   * (`now > expiresAt`); HighWatermarkConflictError too when
   * `segment.baseOffset !== expectedHighWatermark`; InvalidRequestError for a
   * malformed segment (`endOffset <= baseOffset`, unsafe integers) or a key
   * already registered, or a malformed producer state (more than
   * MAX_PRODUCER_BATCHES batches, batches out of offset order). Producer
   * states are upserted by producer id; see `producerIdExpirationMs` for
   * their expiry.
   */
  commitSegment(request: CommitSegmentRequest): Promise<number>;
  /**
   * Commits several segments (of different partitions, or of one partition in
   * offset order) in one step where the store can (one SQLite transaction, so
   * one fsync for all: an agent's group commit). Each request is checked and
   * applied exactly as {@link commitSegment} would, in order and on its own: a
   * request that fails leaves the others committed. Resolves with one outcome
   * per request, in request order; rejects only when the step as a whole
   * failed (then none is committed, e.g. SQLite could not commit), with the
   * error commitSegment would have thrown.
   */
  commitSegments(requests: readonly CommitSegmentRequest[]): Promise<CommitSegmentOutcome[]>;
  /**
   * Atomically swaps merged segments for one (compaction). Fenced like commitSegment.
   * InvalidRequestError unless every removed key is registered, the removed
   * segments are contiguous, `add` covers exactly their offsets, and `add.key`
   * is new (or one of the removed keys).
   */
  replaceSegments(request: ReplaceSegmentsRequest): Promise<void>;
  /**
   * Removes the oldest segments and advances the log start offset (retention).
   * Fenced like commitSegment. InvalidRequestError unless `keys` are exactly the
   * oldest `keys.length` registered segments (any order) and `logStartOffset`
   * is the end offset of the last of them.
   */
  deleteSegments(request: DeleteSegmentsRequest): Promise<void>;
  /**
   * Segments with `endOffset > fromOffset`, by base offset, at most `limit`
   * (default all).
   */
  listSegments(topic: string, partition: number, fromOffset?: number, limit?: number): Promise<SegmentInfo[]>;

  // ---- producer ids ----
  /** A new producer id, unique in this store, epoch 0. Ids count up from 1. */
  allocateProducerId(): Promise<{ producerId: number; producerEpoch: number }>;
  /**
   * Bumps an existing producer's epoch; throws UnknownProducerIdError.
   * InvalidProducerEpochError once the epoch is 32767 (the batch header's
   * int16): allocate a new id then.
   */
  bumpProducerEpoch(producerId: number): Promise<{ producerId: number; producerEpoch: number }>;
  /** The current epoch of a producer id, or undefined when unknown. */
  getProducerEpoch(producerId: number): Promise<number | undefined>;
  /** The producer's state on a partition, or undefined when it never committed there (or its state expired). */
  getProducerState(topic: string, partition: number, producerId: number): Promise<ProducerPartitionState | undefined>;

  // ---- agents ----
  /** Registers or refreshes an agent (its lastHeartbeat = now). */
  registerAgent(agent: { agentId: string; address: string; kafkaAddress?: string; startedAt: number }): Promise<void>;
  /** Sets lastHeartbeat = now; InvalidRequestError when the agent is not registered (register again). */
  heartbeatAgent(agentId: string): Promise<void>;
  /** Agents whose last heartbeat is within `ttlMs` of now, sorted by id. */
  listLiveAgents(ttlMs: number): Promise<AgentRecord[]>;
  deregisterAgent(agentId: string): Promise<void>;

  // ---- consumer groups ----
  getGroup(groupId: string): Promise<GroupRecord | undefined>;
  /**
   * Stores `group` when the stored version equals `expectedVersion` (0 for a
   * group that does not exist yet). Returns the stored record with its new
   * version, or undefined when the version did not match (the caller reloads
   * and retries).
   */
  updateGroup(group: GroupRecord, expectedVersion: number): Promise<GroupRecord | undefined>;
  /** Every group id with a record or committed offsets, sorted (by UTF-8 bytes). */
  listGroups(): Promise<string[]>;
  /**
   * Deletes an empty group: its record and committed offsets, in one atomic
   * step. Throws GroupIdNotFoundError when it has neither, and
   * IllegalGenerationError (nothing deleted) while it has members.
   */
  deleteGroup(groupId: string): Promise<void>;
  /**
   * Commits offsets atomically. With `generation >= 0` the commit is fenced:
   * IllegalGenerationError unless the group's generation equals it,
   * UnknownMemberIdError unless `memberId` is a member. With -1 it is a
   * commit outside group management, allowed only while the group has no
   * members (IllegalGenerationError otherwise, as Kafka refuses a simple
   * commit to a live group). Every partition must exist
   * (UnknownTopicOrPartitionError); nothing is written when any check fails.
   */
  commitOffsets(groupId: string, generation: number, memberId: string, offsets: OffsetCommit[]): Promise<void>;
  /**
   * Committed offsets for the given partitions, in the order asked, skipping
   * those with none (all of the group's, by topic then partition, when omitted).
   */
  fetchOffsets(groupId: string, partitions?: { topic: string; partition: number }[]): Promise<CommittedOffsetRecord[]>;

  /**
   * Stores an access-control entry (see aclRules.ts); true when it was new,
   * false when the same entry was already stored. InvalidRequestError for an
   * entry that breaks the rules, and nothing is stored.
   */
  addAcl(entry: AclEntry): Promise<boolean>;
  /** Removes an entry equal in every field; true when there was one. */
  removeAcl(entry: AclEntry): Promise<boolean>;
  /** Every stored entry, ordered by compareAcls. */
  listAcls(): Promise<AclEntry[]>;

  /**
   * Checks that the store answers (Redis PING, a SQLite read), as an agent
   * does before it listens. Throws MetadataError naming the store and why.
   */
  ping(): Promise<void>;
  /** Closes connections or the file. */
  close(): Promise<void>;
}
