/**
 * Every SQL statement of the SQLite metadata store, prepared once per
 * connection and reused, with the row shapes they return and the mapping from
 * rows to the store's types.
 * @internal
 */
import type Database from 'better-sqlite3';
import type {
  AgentRecord,
  PartitionState,
  ProducerPartitionState,
  SegmentInfo,
  TopicConfig,
  TopicInfo,
} from '../metadataStore.js';
import { decodeEarlierBatches, encodeEarlierBatches } from '../producerStates.js';

export type TopicRow = { name: string; id: string; partitions: number; config: string; created_at: number };
export type PartitionRow = {
  topic: string;
  partition: number;
  high_watermark: number;
  log_start_offset: number;
  lease_holder: string | null;
  lease_epoch: number;
  lease_expires_at: number;
};
export type SegmentRow = {
  key: string;
  base_offset: number;
  end_offset: number;
  size_bytes: number;
  min_timestamp: number;
  max_timestamp: number;
  created_at: number;
};
export type ProducerStateRow = {
  producer_id: number;
  producer_epoch: number;
  last_sequence: number;
  last_base_offset: number;
  last_record_count: number;
  /** The batches before the last, as producerStates.ts encodes them. */
  earlier_batches: string;
  updated_at: number;
};
export type AgentRow = {
  agent_id: string;
  address: string;
  kafka_address: string | null;
  started_at: number;
  last_heartbeat: number;
};
export type GroupRow = { group_id: string; version: number; generation: number; member_ids: string; record: string };
export type OffsetRow = {
  topic: string;
  partition: number;
  committed_offset: number;
  metadata: string;
  commit_time: number;
};

type Where = { topic: string; partition: number };

/** The part of a prepared better-sqlite3 statement the store uses: parameters `P`, rows `R`. */
export type Statement<P extends unknown[], R = unknown> = {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
};

/** Prepares every statement on `db`. */
export function prepareStatements(db: Database.Database) {
  // Named here so the inferred type of the result can be written in declaration files.
  const prepare = <P extends unknown[], R = unknown>(source: string): Statement<P, R> => db.prepare<P, R>(source);
  return {
    // ---- topics and partitions ----
    getTopic: prepare<[string], TopicRow>('SELECT * FROM topics WHERE name = ?'),
    getTopicById: prepare<[string], TopicRow>('SELECT * FROM topics WHERE id = ?'),
    listTopics: prepare<[], TopicRow>('SELECT * FROM topics ORDER BY name'),
    countTopics: prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM topics'),
    insertTopic: prepare<[TopicRow]>(
      `INSERT INTO topics (name, id, partitions, config, created_at)
       VALUES (@name, @id, @partitions, @config, @created_at)`,
    ),
    insertPartition: prepare<[Where & { epoch: number }]>(
      'INSERT INTO partitions (topic, partition, lease_epoch) VALUES (@topic, @partition, @epoch)',
    ),
    getEpochFloor: prepare<[string], { epoch: number }>('SELECT epoch FROM lease_epoch_floors WHERE topic = ?'),
    /** Raises the floor of a topic to the largest lease epoch of its partitions. */
    raiseEpochFloor: prepare<[string]>(
      `INSERT INTO lease_epoch_floors (topic, epoch)
       SELECT topic, MAX(lease_epoch) FROM partitions WHERE topic = ? GROUP BY topic
       ON CONFLICT (topic) DO UPDATE SET epoch = MAX(epoch, excluded.epoch)`,
    ),
    getPartition: prepare<[Where], PartitionRow>(
      'SELECT * FROM partitions WHERE topic = @topic AND partition = @partition',
    ),
    listPartitions: prepare<[string], PartitionRow>('SELECT * FROM partitions WHERE topic = ? ORDER BY partition'),
    setLease: prepare<[Where & { holder: string | null; epoch: number; expiresAt: number }]>(
      `UPDATE partitions SET lease_holder = @holder, lease_epoch = @epoch, lease_expires_at = @expiresAt
       WHERE topic = @topic AND partition = @partition`,
    ),
    setHighWatermark: prepare<[Where & { highWatermark: number }]>(
      'UPDATE partitions SET high_watermark = @highWatermark WHERE topic = @topic AND partition = @partition',
    ),
    setLogStartOffset: prepare<[Where & { logStartOffset: number }]>(
      'UPDATE partitions SET log_start_offset = @logStartOffset WHERE topic = @topic AND partition = @partition',
    ),
    deleteTopic: prepare<[string]>('DELETE FROM topics WHERE name = ?'),
    updateTopicConfig: prepare<[{ name: string; config: string }]>(
      'UPDATE topics SET config = @config WHERE name = @name',
    ),
    deletePartitions: prepare<[string]>('DELETE FROM partitions WHERE topic = ?'),
    deleteTopicSegments: prepare<[string]>('DELETE FROM segments WHERE topic = ?'),
    deleteTopicProducerStates: prepare<[string]>('DELETE FROM producer_states WHERE topic = ?'),
    deleteTopicOffsets: prepare<[string]>('DELETE FROM offsets WHERE topic = ?'),

    // ---- segments ----
    insertSegment: prepare<[Where & SegmentRow]>(
      `INSERT INTO segments (topic, partition, key, base_offset, end_offset, size_bytes, min_timestamp, max_timestamp,
         created_at)
       VALUES (@topic, @partition, @key, @base_offset, @end_offset, @size_bytes, @min_timestamp, @max_timestamp,
         @created_at)`,
    ),
    getSegmentByKey: prepare<[Where & { key: string }], SegmentRow>(
      'SELECT * FROM segments WHERE topic = @topic AND partition = @partition AND key = @key',
    ),
    deleteSegmentByKey: prepare<[Where & { key: string }]>(
      'DELETE FROM segments WHERE topic = @topic AND partition = @partition AND key = @key',
    ),
    listSegments: prepare<[Where & { fromOffset: number; limit: number }], SegmentRow>(
      `SELECT * FROM segments WHERE topic = @topic AND partition = @partition AND end_offset > @fromOffset
       ORDER BY end_offset LIMIT @limit`,
    ),
    oldestSegments: prepare<[Where & { count: number }], SegmentRow>(
      'SELECT * FROM segments WHERE topic = @topic AND partition = @partition ORDER BY end_offset LIMIT @count',
    ),

    // ---- producers ----
    insertProducerId: prepare<[]>('INSERT INTO producer_ids (epoch) VALUES (0)'),
    getProducerEpoch: prepare<[number], { epoch: number }>('SELECT epoch FROM producer_ids WHERE producer_id = ?'),
    setProducerEpoch: prepare<[{ producerId: number; epoch: number }]>(
      'UPDATE producer_ids SET epoch = @epoch WHERE producer_id = @producerId',
    ),
    upsertProducerState: prepare<[Where & ProducerStateRow]>(
      `INSERT INTO producer_states (topic, partition, producer_id, producer_epoch, last_sequence, last_base_offset,
         last_record_count, earlier_batches, updated_at)
       VALUES (@topic, @partition, @producer_id, @producer_epoch, @last_sequence, @last_base_offset, @last_record_count,
         @earlier_batches, @updated_at)
       ON CONFLICT (topic, partition, producer_id) DO UPDATE SET producer_epoch = excluded.producer_epoch,
         last_sequence = excluded.last_sequence, last_base_offset = excluded.last_base_offset,
         last_record_count = excluded.last_record_count, earlier_batches = excluded.earlier_batches,
         updated_at = excluded.updated_at`,
    ),
    // The oldest states not updated since `before`, at most `limit` (producer_states_by_update finds them).
    expireProducerStates: prepare<[Where & { before: number; limit: number }]>(
      `DELETE FROM producer_states WHERE topic = @topic AND partition = @partition AND producer_id IN (
         SELECT producer_id FROM producer_states
         WHERE topic = @topic AND partition = @partition AND updated_at < @before
         ORDER BY updated_at LIMIT @limit)`,
    ),
    getProducerState: prepare<[Where & { producerId: number }], ProducerStateRow>(
      'SELECT * FROM producer_states WHERE topic = @topic AND partition = @partition AND producer_id = @producerId',
    ),

    // ---- agents ----
    upsertAgent: prepare<[AgentRow]>(
      `INSERT INTO agents (agent_id, address, kafka_address, started_at, last_heartbeat)
       VALUES (@agent_id, @address, @kafka_address, @started_at, @last_heartbeat)
       ON CONFLICT (agent_id) DO UPDATE SET address = excluded.address, kafka_address = excluded.kafka_address,
         started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat`,
    ),
    heartbeatAgent: prepare<[{ agentId: string; now: number }]>(
      'UPDATE agents SET last_heartbeat = @now WHERE agent_id = @agentId',
    ),
    liveAgents: prepare<[number], AgentRow>('SELECT * FROM agents WHERE last_heartbeat >= ? ORDER BY agent_id'),
    deleteAgent: prepare<[string]>('DELETE FROM agents WHERE agent_id = ?'),

    // ---- groups and offsets ----
    getGroup: prepare<[string], GroupRow>('SELECT * FROM groups WHERE group_id = ?'),
    insertGroup: prepare<[GroupRow]>(
      `INSERT INTO groups (group_id, version, generation, member_ids, record)
       VALUES (@group_id, @version, @generation, @member_ids, @record)`,
    ),
    updateGroup: prepare<[GroupRow & { expected: number }]>(
      `UPDATE groups SET version = @version, generation = @generation, member_ids = @member_ids, record = @record
       WHERE group_id = @group_id AND version = @expected`,
    ),
    // Groups known by a record or by committed offsets alone (commits outside group management).
    listGroups: prepare<[], { group_id: string }>(
      'SELECT group_id FROM groups UNION SELECT group_id FROM offsets ORDER BY group_id',
    ),
    deleteGroup: prepare<[string]>('DELETE FROM groups WHERE group_id = ?'),
    deleteGroupOffsets: prepare<[string]>('DELETE FROM offsets WHERE group_id = ?'),
    countGroupOffsets: prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM offsets WHERE group_id = ?'),
    upsertOffset: prepare<[OffsetRow & { group_id: string }]>(
      `INSERT INTO offsets (group_id, topic, partition, committed_offset, metadata, commit_time)
       VALUES (@group_id, @topic, @partition, @committed_offset, @metadata, @commit_time)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET committed_offset = excluded.committed_offset,
         metadata = excluded.metadata, commit_time = excluded.commit_time`,
    ),
    groupOffsets: prepare<[string], OffsetRow>('SELECT * FROM offsets WHERE group_id = ? ORDER BY topic, partition'),
    getOffset: prepare<[{ groupId: string } & Where], OffsetRow>(
      'SELECT * FROM offsets WHERE group_id = @groupId AND topic = @topic AND partition = @partition',
    ),
  };
}

/** @internal The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;

export function toTopicInfo(row: TopicRow): TopicInfo {
  return {
    name: row.name,
    id: row.id,
    partitions: row.partitions,
    config: JSON.parse(row.config) as TopicConfig,
    createdAt: row.created_at,
  };
}

export function toPartitionState(row: PartitionRow): PartitionState {
  return {
    topic: row.topic,
    partition: row.partition,
    highWatermark: row.high_watermark,
    logStartOffset: row.log_start_offset,
    leaseHolder: row.lease_holder ?? undefined,
    leaseEpoch: row.lease_epoch,
    leaseExpiresAt: row.lease_expires_at,
  };
}

export function toSegmentInfo(row: SegmentRow): SegmentInfo {
  return {
    key: row.key,
    baseOffset: row.base_offset,
    endOffset: row.end_offset,
    sizeBytes: row.size_bytes,
    minTimestamp: row.min_timestamp,
    maxTimestamp: row.max_timestamp,
    createdAt: row.created_at,
  };
}

export function toSegmentRow(segment: SegmentInfo): SegmentRow {
  return {
    key: segment.key,
    base_offset: segment.baseOffset,
    end_offset: segment.endOffset,
    size_bytes: segment.sizeBytes,
    min_timestamp: segment.minTimestamp,
    max_timestamp: segment.maxTimestamp,
    created_at: segment.createdAt,
  };
}

export function toProducerState(row: ProducerStateRow): ProducerPartitionState {
  const state: ProducerPartitionState = {
    producerId: row.producer_id,
    producerEpoch: row.producer_epoch,
    lastSequence: row.last_sequence,
    lastBaseOffset: row.last_base_offset,
    lastRecordCount: row.last_record_count,
  };
  const earlierBatches = decodeEarlierBatches(row.earlier_batches);
  return earlierBatches === undefined ? state : { ...state, earlierBatches };
}

export function toProducerStateRow(state: ProducerPartitionState, updatedAt: number): ProducerStateRow {
  return {
    producer_id: state.producerId,
    producer_epoch: state.producerEpoch,
    last_sequence: state.lastSequence,
    last_base_offset: state.lastBaseOffset,
    last_record_count: state.lastRecordCount,
    earlier_batches: encodeEarlierBatches(state),
    updated_at: updatedAt,
  };
}

export function toAgentRecord(row: AgentRow): AgentRecord {
  return {
    agentId: row.agent_id,
    address: row.address,
    ...(row.kafka_address === null ? {} : { kafkaAddress: row.kafka_address }),
    startedAt: row.started_at,
    lastHeartbeat: row.last_heartbeat,
  };
}
