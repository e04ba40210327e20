/**
 * Shape checks on requests, made before a backend is touched so that both
 * backends refuse malformed input identically (InvalidRequestError, or
 * UnknownTopicOrPartitionError for a partition number that cannot exist).
 * Numbers must be safe integers: stores keep them exactly as decimal strings
 * (Redis) or 64-bit integers (SQLite).
 */
import { InvalidRequestError, UnknownTopicOrPartitionError, type ErrorContext } from '../protocol/errors.js';
import type {
  CommitSegmentRequest,
  DeleteSegmentsRequest,
  GroupRecord,
  GroupState,
  OffsetCommit,
  ProducerPartitionState,
  ReplaceSegmentsRequest,
  SegmentInfo,
} from './metadataStore.js';
import { validateGroupId } from './validation.js';
import { MAX_PRODUCER_BATCHES } from './producerStates.js';

/** Largest producer epoch: the RecordBatch header carries it as an int16. */
export const MAX_PRODUCER_EPOCH = 32767;

const GROUP_STATES: readonly GroupState[] = ['empty', 'preparing-rebalance', 'completing-rebalance', 'stable'];

/** Throws InvalidRequestError unless `value` is a safe integer >= `min`. */
export function checkInteger(name: string, value: number, min: number, context?: ErrorContext): void {
  if (Number.isSafeInteger(value) && value >= min) return;
  throw new InvalidRequestError(
    `${name} ${String(value)} is invalid: use a safe integer >= ${min}`,
    context && { context },
  );
}

/** Throws UnknownTopicOrPartitionError for a partition number that no topic can have. */
export function checkPartitionNumber(topic: string, partition: number): void {
  if (Number.isInteger(partition) && partition >= 0) return;
  throw new UnknownTopicOrPartitionError(`partition ${String(partition)} of topic '${topic}' does not exist`, {
    context: { topic },
  });
}

/** Throws InvalidRequestError unless the lease TTL is a positive safe integer (ms). */
export function checkTtl(ttlMs: number): void {
  checkInteger('lease ttlMs', ttlMs, 1);
}

/** Checks a segment's fields: key non-empty, 0 <= baseOffset < endOffset, sizes and times integers. */
export function checkSegment(segment: SegmentInfo, context: ErrorContext): void {
  if (segment === null || typeof segment !== 'object') {
    throw new InvalidRequestError('segment is missing', { context });
  }
  if (typeof segment.key !== 'string' || segment.key.length === 0) {
    throw new InvalidRequestError('segment key is empty: give the object-store key of the segment', { context });
  }
  const where = { ...context, objectKey: segment.key };
  checkInteger('segment baseOffset', segment.baseOffset, 0, where);
  checkInteger('segment endOffset', segment.endOffset, segment.baseOffset + 1, where);
  checkInteger('segment sizeBytes', segment.sizeBytes, 0, where);
  checkInteger('segment minTimestamp', segment.minTimestamp, -1, where);
  checkInteger('segment maxTimestamp', segment.maxTimestamp, -1, where);
  checkInteger('segment createdAt', segment.createdAt, 0, where);
}

/**
 * Checks one producer state stored along with a commit: numbers in range, at
 * most MAX_PRODUCER_BATCHES batches, each earlier batch ending before the
 * next begins.
 */
export function checkProducerState(state: ProducerPartitionState, context: ErrorContext): void {
  checkInteger('producerId', state.producerId, 0, context);
  checkInteger('producerEpoch', state.producerEpoch, 0, context);
  checkInteger('lastSequence', state.lastSequence, -1, context);
  checkInteger('lastBaseOffset', state.lastBaseOffset, 0, context);
  checkInteger('lastRecordCount', state.lastRecordCount, 0, context);
  const earlier = state.earlierBatches ?? [];
  const where = `producer ${state.producerId}`;
  if (!Array.isArray(earlier) || earlier.length > MAX_PRODUCER_BATCHES - 1) {
    throw new InvalidRequestError(
      `${where} has more than ${MAX_PRODUCER_BATCHES - 1} earlier batches: keep the last ${MAX_PRODUCER_BATCHES} only`,
      { context },
    );
  }
  let nextFree = 0;
  for (const batch of earlier) {
    checkInteger(`${where} batch lastSequence`, batch.lastSequence, 0, context);
    checkInteger(`${where} batch baseOffset`, batch.baseOffset, nextFree, context);
    checkInteger(`${where} batch recordCount`, batch.recordCount, 1, context);
    nextFree = batch.baseOffset + batch.recordCount;
  }
  if (earlier.length > 0 && state.lastBaseOffset < nextFree) {
    throw new InvalidRequestError(
      `${where}'s last batch at ${state.lastBaseOffset} overlaps its earlier batches (which end at ${nextFree})`,
      { context },
    );
  }
}

/** Checks a commit request's shape (not its fencing, which the store decides). */
export function checkCommitSegmentRequest(request: CommitSegmentRequest): void {
  const context = { topic: request.topic, partition: request.partition };
  checkPartitionNumber(request.topic, request.partition);
  checkInteger('epoch', request.epoch, 0, context);
  checkInteger('expectedHighWatermark', request.expectedHighWatermark, 0, context);
  checkSegment(request.segment, context);
  if (request.producerIdExpirationMs !== undefined)
    checkInteger('producerIdExpirationMs', request.producerIdExpirationMs, 1, context);
  const seen = new Set<number>();
  for (const state of request.producers ?? []) {
    checkProducerState(state, context);
    if (seen.has(state.producerId)) {
      throw new InvalidRequestError(
        `producer ${state.producerId} appears twice in one commit: send one state per producer`,
        {
          context,
        },
      );
    }
    seen.add(state.producerId);
  }
}

function checkKeyList(name: string, keys: string[], context: ErrorContext): void {
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidRequestError(`${name} is empty: name at least one segment key`, { context });
  }
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'string' || key.length === 0)
      throw new InvalidRequestError(`${name} holds an empty key`, { context });
    if (seen.has(key)) {
      throw new InvalidRequestError(`${name} names segment ${key} twice`, { context: { ...context, objectKey: key } });
    }
    seen.add(key);
  }
}

/** Checks a replace request's shape: keys non-empty and distinct, `add` well formed. */
export function checkReplaceSegmentsRequest(request: ReplaceSegmentsRequest): void {
  const context = { topic: request.topic, partition: request.partition };
  checkPartitionNumber(request.topic, request.partition);
  checkInteger('epoch', request.epoch, 0, context);
  checkKeyList('remove', request.remove, context);
  checkSegment(request.add, context);
}

/** Checks a delete request's shape: keys non-empty and distinct, log start offset an offset. */
export function checkDeleteSegmentsRequest(request: DeleteSegmentsRequest): void {
  const context = { topic: request.topic, partition: request.partition };
  checkPartitionNumber(request.topic, request.partition);
  checkInteger('epoch', request.epoch, 0, context);
  checkKeyList('keys', request.keys, context);
  checkInteger('logStartOffset', request.logStartOffset, 0, context);
}

/** Checks an offset commit's arguments. */
export function checkOffsetCommits(
  groupId: string,
  generation: number,
  memberId: string,
  offsets: OffsetCommit[],
): void {
  validateGroupId(groupId);
  checkInteger('generation', generation, -1);
  if (typeof memberId !== 'string') throw new InvalidRequestError('memberId must be a string');
  if (!Array.isArray(offsets)) throw new InvalidRequestError('offsets must be an array');
  const seen = new Set<string>();
  for (const commit of offsets) {
    const context = { topic: commit.topic, partition: commit.partition };
    checkPartitionNumber(commit.topic, commit.partition);
    checkInteger('committed offset', commit.offset, 0, context);
    if (typeof commit.metadata !== 'string') {
      throw new InvalidRequestError('offset metadata must be a string (use "" for none)', { context });
    }
    const id = `${commit.topic}:${commit.partition}`;
    if (seen.has(id))
      throw new InvalidRequestError(`offsets name ${commit.topic}/${commit.partition} twice`, { context });
    seen.add(id);
  }
}

/** Checks a group record before it is stored. */
export function checkGroupRecord(group: GroupRecord, expectedVersion: number): void {
  validateGroupId(group.groupId);
  checkInteger('expectedVersion', expectedVersion, 0);
  checkInteger('generation', group.generation, 0);
  checkInteger('stateChangedAt', group.stateChangedAt, 0);
  if (!GROUP_STATES.includes(group.state)) {
    throw new InvalidRequestError(
      `group state '${String(group.state)}' is invalid: use one of ${GROUP_STATES.join(', ')}`,
    );
  }
  if (!Array.isArray(group.members)) throw new InvalidRequestError('group members must be an array');
  const seen = new Set<string>();
  for (const member of group.members) {
    if (typeof member.memberId !== 'string' || member.memberId.length === 0) {
      throw new InvalidRequestError(`group ${group.groupId} has a member with an empty id`);
    }
    if (seen.has(member.memberId))
      throw new InvalidRequestError(`group ${group.groupId} lists member ${member.memberId} twice`);
    seen.add(member.memberId);
    if (!(member.assignment instanceof Uint8Array)) {
      throw new InvalidRequestError(`assignment of member ${member.memberId} must be a Uint8Array`);
    }
    for (const protocol of member.protocols) {
      if (!(protocol.metadata instanceof Uint8Array)) {
        throw new InvalidRequestError(
          `metadata of protocol ${protocol.name} of member ${member.memberId} must be a Uint8Array`,
        );
      }
    }
  }
}
