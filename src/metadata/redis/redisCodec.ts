/**
 * How the Redis store writes values into keys and reads them back. Numbers
 * are decimal strings; a value that does not parse means the data was written
 * by something else, which is reported as MetadataError, never guessed around.
 * @internal
 */
import { MetadataError } from '../../protocol/errors.js';
import { batchesFromTriples, earlierTriples, type BatchTriple } from '../producerStates.js';
import type {
  AgentRecord,
  CommittedOffsetRecord,
  PartitionState,
  ProducerPartitionState,
  SegmentInfo,
  TopicConfig,
  TopicInfo,
} from '../metadataStore.js';

/** A stored decimal string as a number; MetadataError when it is not a safe integer. */
export function parseStoredInteger(text: string | null | undefined, what: string): number {
  const value = text === null || text === undefined || text === '' ? NaN : Number(text);
  if (!Number.isSafeInteger(value)) throw new MetadataError(`stored ${what} '${String(text)}' is not an integer`);
  return value;
}

function parseJson<T>(text: string | null | undefined, what: string): T {
  try {
    return JSON.parse(text ?? '') as T;
  } catch (cause) {
    throw new MetadataError(`stored ${what} is not valid JSON`, { cause });
  }
}

/** Orders strings by their UTF-8 bytes, as SQLite's BINARY collation does, so both backends sort alike. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function toTopicInfo(
  name: string,
  id: string,
  partitions: string | null,
  config: string | null,
  createdAt: string | null,
): TopicInfo {
  return {
    name,
    id,
    partitions: parseStoredInteger(partitions, 'partition count'),
    config: parseJson<TopicConfig>(config, 'topic config'),
    createdAt: parseStoredInteger(createdAt, 'topic creation time'),
  };
}

/** A partition from its hash fields hwm, lso, holder ('' or null when none), epoch, expiresAt. */
export function toPartitionState(topic: string, partition: number, fields: (string | null)[]): PartitionState {
  const [hwm, lso, holder, epoch, expiresAt] = fields;
  return {
    topic,
    partition,
    highWatermark: parseStoredInteger(hwm, 'high watermark'),
    logStartOffset: parseStoredInteger(lso, 'log start offset'),
    leaseHolder: holder === null || holder === undefined || holder === '' ? undefined : holder,
    leaseEpoch: parseStoredInteger(epoch, 'lease epoch'),
    leaseExpiresAt: parseStoredInteger(expiresAt, 'lease expiry'),
  };
}

/** The JSON stored for a segment (only the SegmentInfo fields, whatever else the object carries). */
export function encodeSegment(segment: SegmentInfo): string {
  const { key, baseOffset, endOffset, sizeBytes, minTimestamp, maxTimestamp, createdAt } = segment;
  return JSON.stringify({ key, baseOffset, endOffset, sizeBytes, minTimestamp, maxTimestamp, createdAt });
}

export function decodeSegment(json: string | null): SegmentInfo {
  return parseJson<SegmentInfo>(json, 'segment info');
}

/** Stored producer state: the fields of ProducerPartitionState, the earlier batches (when any) as triples. */
type StoredProducerState = Omit<ProducerPartitionState, 'earlierBatches'> & { earlierBatches?: BatchTriple[] };

export function encodeProducerState(state: ProducerPartitionState): string {
  const { producerId, producerEpoch, lastSequence, lastBaseOffset, lastRecordCount } = state;
  const stored: StoredProducerState = { producerId, producerEpoch, lastSequence, lastBaseOffset, lastRecordCount };
  const earlier = earlierTriples(state);
  if (earlier.length > 0) stored.earlierBatches = earlier;
  return JSON.stringify(stored);
}

/** A stored producer state; one written before earlier batches were kept reads as its last batch alone. */
export function decodeProducerState(json: string): ProducerPartitionState {
  const {
    producerId,
    producerEpoch,
    lastSequence,
    lastBaseOffset,
    lastRecordCount,
    earlierBatches: earlier,
  } = parseJson<StoredProducerState>(json, 'producer state');
  const state: ProducerPartitionState = { producerId, producerEpoch, lastSequence, lastBaseOffset, lastRecordCount };
  const earlierBatches = batchesFromTriples(earlier);
  return earlierBatches === undefined ? state : { ...state, earlierBatches };
}

type StoredAgent = { address: string; startedAt: number; kafkaAddress?: string };

export function encodeAgent(address: string, startedAt: number, kafkaAddress?: string): string {
  const stored: StoredAgent =
    kafkaAddress === undefined ? { address, startedAt } : { address, startedAt, kafkaAddress };
  return JSON.stringify(stored);
}

export function decodeAgent(agentId: string, json: string, lastHeartbeat: string): AgentRecord {
  const stored = parseJson<StoredAgent>(json, 'agent');
  return {
    agentId,
    address: stored.address,
    ...(typeof stored.kafkaAddress === 'string' ? { kafkaAddress: stored.kafkaAddress } : {}),
    startedAt: stored.startedAt,
    lastHeartbeat: parseStoredInteger(lastHeartbeat, 'agent heartbeat'),
  };
}

type StoredOffset = { offset: number; metadata: string; commitTime: number };

export function encodeOffset(offset: number, metadata: string, commitTime: number): string {
  return JSON.stringify({ offset, metadata, commitTime } satisfies StoredOffset);
}

export function decodeOffset(topic: string, partition: number, json: string): CommittedOffsetRecord {
  const stored = parseJson<StoredOffset>(json, 'committed offset');
  return { topic, partition, offset: stored.offset, metadata: stored.metadata, commitTime: stored.commitTime };
}

/** Splits an offsets-hash field `<topic>:<partition>` (topic names hold no ':'). */
export function parseOffsetField(field: string): { topic: string; partition: number } {
  const colon = field.lastIndexOf(':');
  return { topic: field.slice(0, colon), partition: parseStoredInteger(field.slice(colon + 1), 'offset partition') };
}
