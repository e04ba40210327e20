/**
 * Turns what an ioredis call threw into a StreamHouse error:
 * - a script's `redis.error_reply('<CODE> <json>')` becomes the typed error
 *   for that code, built by the same builders the SQLite store uses, with the
 *   request's context filled in by the caller;
 * - anything else (connection refused, timeouts, MaxRetriesPerRequestError,
 *   other Redis errors) becomes a retriable MetadataError with the cause.
 * @internal
 */
import { MetadataError, StreamHouseError } from '../../protocol/errors.js';
import { fencedError, highWatermarkConflictError, notLeaderError, type FenceReason } from '../leaseRules.js';
import { segmentRuleError, type SegmentRuleViolation } from '../segmentRules.js';
import {
  deleteNonEmptyGroupError,
  groupNotEmptyError,
  illegalGenerationError,
  producerEpochExhaustedError,
  tooManyTopicsError,
  topicExistsError,
  unknownAgentError,
  unknownGroupError,
  unknownMemberError,
  unknownPartitionError,
  unknownProducerError,
} from '../storeErrors.js';

/** What the caller knows about the request, used to word the error. */
export type ReplyContext = {
  topic?: string;
  partition?: number;
  /** Lease epoch the request carried. */
  epoch?: number;
  /** Expected high watermark and segment base offset of a commit. */
  expectedHighWatermark?: number;
  baseOffset?: number;
  /** Partition count of the topic when known (for unknown-partition messages). */
  partitions?: number;
  groupId?: string;
  generation?: number;
  memberId?: string;
  producerId?: number;
  agentId?: string;
};

const REPLY_PATTERN = /^([A-Z_]+) (\{[\s\S]*\}|\[\])$/;

type Fields = Record<string, string>;

/** The StreamHouse error for whatever `error` an ioredis call rejected with. */
export function fromRedisError(error: unknown, context: ReplyContext = {}): StreamHouseError {
  if (error instanceof StreamHouseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = REPLY_PATTERN.exec(message);
  if (match !== null) {
    // cjson encodes an empty table as {}; our scripts only send objects.
    const fields = (match[2] === '[]' ? {} : JSON.parse(match[2]!)) as Fields;
    const mapped = fromScriptReply(match[1]!, fields, context);
    if (mapped !== undefined) return mapped;
  }
  return new MetadataError(`Redis metadata operation failed: ${message}`, { cause: error });
}

function fromScriptReply(code: string, fields: Fields, context: ReplyContext): StreamHouseError | undefined {
  const topic = context.topic ?? fields.topic ?? '';
  const partition = context.partition ?? Number(fields.partition ?? -1);
  switch (code) {
    case 'UNKNOWN_TOPIC_OR_PARTITION': {
      const partitions = fields.partitions !== undefined ? optionalNumber(fields.partitions) : context.partitions;
      return unknownPartitionError(fields.topic ?? topic, Number(fields.partition ?? partition), partitions);
    }
    case 'TOPIC_ALREADY_EXISTS':
      return topicExistsError(topic);
    case 'INVALID_CONFIG':
      return fields.reason === 'max-topics'
        ? tooManyTopicsError(topic, Number(fields.count), Number(fields.max))
        : undefined;
    case 'NOT_LEADER':
      return notLeaderError(topic, partition, fields.holder ?? '', Number(fields.expiresAt));
    case 'FENCED_LEASE_EPOCH': {
      const current = {
        holder: fields.holder === '' || fields.holder === undefined ? undefined : fields.holder,
        epoch: Number(fields.epoch),
        expiresAt: Number(fields.expiresAt),
      };
      return fencedError(
        topic,
        partition,
        context.epoch ?? -1,
        current,
        fields.reason as FenceReason,
        Number(fields.now),
      );
    }
    case 'HIGH_WATERMARK_CONFLICT':
      return highWatermarkConflictError(
        topic,
        partition,
        context.expectedHighWatermark ?? -1,
        context.baseOffset ?? -1,
        Number(fields.actual),
      );
    case 'INVALID_REQUEST': {
      if (fields.reason === 'unknown-agent') return unknownAgentError(context.agentId ?? '');
      const violation = toViolation(fields);
      return violation === undefined ? undefined : segmentRuleError(topic, partition, violation);
    }
    case 'ILLEGAL_GENERATION':
      if (fields.deleting !== undefined) return deleteNonEmptyGroupError(context.groupId ?? '', Number(fields.members));
      if (fields.members !== undefined) return groupNotEmptyError(context.groupId ?? '', Number(fields.members));
      return illegalGenerationError(
        context.groupId ?? '',
        context.generation ?? -1,
        optionalNumber(fields.current ?? ''),
      );
    case 'GROUP_ID_NOT_FOUND':
      return unknownGroupError(context.groupId ?? '');
    case 'UNKNOWN_MEMBER_ID':
      return unknownMemberError(context.groupId ?? '', context.memberId ?? '', context.generation ?? -1);
    case 'UNKNOWN_PRODUCER_ID':
      return unknownProducerError(context.producerId ?? -1);
    case 'INVALID_PRODUCER_EPOCH':
      return producerEpochExhaustedError(context.producerId ?? -1);
    default:
      return undefined;
  }
}

function optionalNumber(text: string): number | undefined {
  return text === '' ? undefined : Number(text);
}

/** The violation a script reported; numeric fields arrive as decimal strings. */
function toViolation(fields: Fields): SegmentRuleViolation | undefined {
  const key = fields.key ?? '';
  switch (fields.reason) {
    case 'gap':
      return { reason: 'gap', key, expectedBase: Number(fields.expectedBase) };
    case 'coverage':
      return { reason: 'coverage', key, baseOffset: Number(fields.baseOffset), endOffset: Number(fields.endOffset) };
    case 'log-start':
      return { reason: 'log-start', expected: Number(fields.expected), given: Number(fields.given) };
    case 'key-exists':
    case 'not-oldest':
    case 'unknown-key':
      return { reason: fields.reason, key };
    default:
      return undefined;
  }
}
