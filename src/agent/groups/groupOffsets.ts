/**
 * CommitOffsets and FetchOffsets: translation between the wire messages and
 * the MetadataStore, with one result per partition.
 *
 * A commit is checked partition by partition first (name, number, offset,
 * metadata size, topic existence, no repeats); the partitions that pass are committed in one atomic
 * store call, fenced by generation and membership when `generationId >= 0`,
 * and that call's failure (e.g. ILLEGAL_GENERATION) becomes every one of
 * those partitions' result.
 */
import type { MetadataStore, OffsetCommit, TopicInfo } from '../../metadata/metadataStore.js';
import { validateGroupId, validateTopicName } from '../../metadata/validation.js';
import {
  InvalidRequestError,
  MetadataError,
  StreamHouseError,
  UnknownTopicOrPartitionError,
  toErrorInfo,
} from '../../protocol/errors.js';
import { DEFAULT_MAX_OFFSET_METADATA_BYTES, offsetMetadataProblem } from './groupLimits.js';
import type {
  CommitOffsetsRequest,
  CommitOffsetsResponse,
  CommittedOffset,
  ErrorInfo,
  FetchOffsetsRequest,
  FetchOffsetsResponse,
  OffsetCommitPartition,
  OffsetCommitResult,
} from '../../protocol/generated/streamhouse.js';
import { topicPartitionId } from '../../protocol/topicPartition.js';

/** Offset (and commit time) reported for a partition with nothing committed. */
export const NO_COMMITTED_OFFSET = -1;

/**
 * Commits a group's offsets. `generationId` -1 commits outside group
 * management (the member id is ignored), refused by the store while the
 * group has members. Throws only for the
 * whole request: InvalidRequestError for a bad group id or generation.
 */
export async function commitGroupOffsets(
  store: MetadataStore,
  request: CommitOffsetsRequest,
  maxMetadataBytes = DEFAULT_MAX_OFFSET_METADATA_BYTES,
): Promise<CommitOffsetsResponse> {
  validateGroupId(request.groupId);
  const { generationId } = request;
  if (!Number.isSafeInteger(generationId) || generationId < -1) {
    throw new InvalidRequestError(
      `generation ${generationId} is invalid: use the generation from JoinGroup, or -1 outside a group`,
    );
  }
  const topics = new Map<string, Promise<TopicInfo | undefined>>();
  const topicOf = (name: string) => {
    let info = topics.get(name);
    if (info === undefined) topics.set(name, (info = store.getTopic(name)));
    return info;
  };
  const seen = new Set<string>();
  const problems = await Promise.all(
    request.partitions.map(async (partition) => {
      const key = topicPartitionId(partition.topic, partition.partition);
      if (seen.has(key)) {
        const context = { topic: partition.topic, partition: partition.partition };
        return new InvalidRequestError(
          `${partition.topic}/${partition.partition} appears twice in one commit: send it once`,
          {
            context,
          },
        );
      }
      seen.add(key);
      return checkPartition(partition, topicOf, maxMetadataBytes);
    }),
  );
  const accepted: OffsetCommit[] = [];
  request.partitions.forEach((partition, index) => {
    if (problems[index] === undefined) {
      accepted.push({
        topic: partition.topic,
        partition: partition.partition,
        offset: partition.offset,
        metadata: partition.metadata,
      });
    }
  });
  let commitError: ErrorInfo | undefined;
  if (accepted.length > 0) {
    const memberId = generationId < 0 ? '' : request.memberId;
    try {
      await store.commitOffsets(request.groupId, generationId, memberId, accepted);
    } catch (error) {
      commitError = toErrorInfo(asStreamHouseError(error, request.groupId));
    }
  }
  const results: OffsetCommitResult[] = request.partitions.map((partition, index) => {
    const problem = problems[index];
    const error = problem === undefined ? commitError : toErrorInfo(problem);
    return { topic: partition.topic, partition: partition.partition, error };
  });
  return { results };
}

async function checkPartition(
  partition: OffsetCommitPartition,
  topicOf: (name: string) => Promise<TopicInfo | undefined>,
  maxMetadataBytes: number,
): Promise<StreamHouseError | undefined> {
  const { topic, partition: number, offset } = partition;
  const context = { topic, partition: number, offset };
  const tooLarge = offsetMetadataProblem(partition.metadata, maxMetadataBytes, context);
  if (tooLarge !== undefined) return tooLarge;
  try {
    validateTopicName(topic);
  } catch (error) {
    return asStreamHouseError(error, '');
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    return new InvalidRequestError(
      `offset ${offset} of ${topic}/${number} is invalid: commit the next offset to consume (>= 0)`,
      {
        context,
      },
    );
  }
  const info = await topicOf(topic);
  if (info === undefined || !Number.isInteger(number) || number < 0 || number >= info.partitions) {
    return new UnknownTopicOrPartitionError(`${topic}/${number} does not exist`, { context });
  }
  return undefined;
}

/**
 * The committed offsets of a group, in request order, with offset -1, empty
 * metadata and commit time -1 for partitions with nothing committed. An empty
 * partition list asks for every partition the group has committed.
 */
export async function fetchGroupOffsets(
  store: MetadataStore,
  request: FetchOffsetsRequest,
): Promise<FetchOffsetsResponse> {
  validateGroupId(request.groupId);
  if (request.partitions.length === 0) {
    const all = await store.fetchOffsets(request.groupId);
    return {
      offsets: all.map((record) => ({
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        metadata: record.metadata,
        commitTimeMs: record.commitTime,
      })),
    };
  }
  const wanted = request.partitions.map(({ topic, partition }) => ({ topic, partition }));
  const records = await store.fetchOffsets(request.groupId, wanted);
  const byPartition = new Map(records.map((record) => [topicPartitionId(record.topic, record.partition), record]));
  const offsets: CommittedOffset[] = wanted.map(({ topic, partition }) => {
    const record = byPartition.get(topicPartitionId(topic, partition));
    return {
      topic,
      partition,
      offset: record?.offset ?? NO_COMMITTED_OFFSET,
      metadata: record?.metadata ?? '',
      commitTimeMs: record?.commitTime ?? NO_COMMITTED_OFFSET,
    };
  });
  return { offsets };
}

/** Our errors pass through; anything else the store threw is a (retriable) metadata failure. */
function asStreamHouseError(error: unknown, groupId: string): StreamHouseError {
  if (error instanceof StreamHouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MetadataError(`committing offsets of group ${groupId} failed: ${message}`, { cause: error });
}
