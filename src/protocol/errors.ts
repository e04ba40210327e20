/**
 * One error hierarchy shared by agent and client.
 *
 * Every error has a stable `code` (the proto `ErrorCode` name), a message, a
 * `retriable` flag and an optional `cause`. Context that helps a reader
 * (topic, partition, offset, object key) travels in `context`.
 *
 * Across gRPC an error is a status code plus details of the form
 * `[CODE] message`; {@link toServerError} and {@link fromGrpcError} convert in
 * both directions so a client sees the agent's exact error.
 */
import { ClientError, ServerError, Status } from 'nice-grpc-common';
import { ErrorCode, type ErrorInfo } from './generated/streamhouse.js';

/** The name of an error code, e.g. `'NOT_LEADER'`. */
export type ErrorCodeName = Exclude<keyof typeof ErrorCode, 'NONE'>;

/** Context attached to an error to say where it happened. */
export type ErrorContext = {
  /** Topic the failed operation addressed. */
  topic?: string;
  /** Partition the failed operation addressed. */
  partition?: number;
  /** Offset the failed operation addressed. */
  offset?: number;
  /** Object-store key involved, e.g. a corrupt segment. */
  objectKey?: string;
};

/** Options accepted by every StreamHouse error constructor. */
export type StreamHouseErrorOptions = {
  /** The underlying error. */
  cause?: unknown;
  /** Where it happened. */
  context?: ErrorContext;
};

type CodeTraits = { retriable: boolean; status: Status };

/** Per-code traits: whether a retry may succeed, and the gRPC status it maps to. */
const CODE_TRAITS: Record<ErrorCodeName, CodeTraits> = {
  UNKNOWN: { retriable: false, status: Status.UNKNOWN },
  INVALID_REQUEST: { retriable: false, status: Status.INVALID_ARGUMENT },
  CORRUPT_MESSAGE: { retriable: false, status: Status.INVALID_ARGUMENT },
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: false, status: Status.NOT_FOUND },
  TOPIC_ALREADY_EXISTS: { retriable: false, status: Status.ALREADY_EXISTS },
  INVALID_TOPIC: { retriable: false, status: Status.INVALID_ARGUMENT },
  INVALID_PARTITIONS: { retriable: false, status: Status.INVALID_ARGUMENT },
  INVALID_CONFIG: { retriable: false, status: Status.INVALID_ARGUMENT },
  OFFSET_OUT_OF_RANGE: { retriable: false, status: Status.OUT_OF_RANGE },
  NOT_LEADER: { retriable: true, status: Status.FAILED_PRECONDITION },
  FENCED_LEASE_EPOCH: { retriable: true, status: Status.FAILED_PRECONDITION },
  HIGH_WATERMARK_CONFLICT: { retriable: true, status: Status.ABORTED },
  RECORD_TOO_LARGE: { retriable: false, status: Status.INVALID_ARGUMENT },
  REQUEST_TOO_LARGE: { retriable: false, status: Status.RESOURCE_EXHAUSTED },
  DUPLICATE_SEQUENCE: { retriable: false, status: Status.ALREADY_EXISTS },
  OUT_OF_ORDER_SEQUENCE: { retriable: false, status: Status.FAILED_PRECONDITION },
  INVALID_PRODUCER_EPOCH: { retriable: false, status: Status.FAILED_PRECONDITION },
  UNKNOWN_PRODUCER_ID: { retriable: false, status: Status.FAILED_PRECONDITION },
  REQUEST_TIMED_OUT: { retriable: true, status: Status.DEADLINE_EXCEEDED },
  AGENT_UNAVAILABLE: { retriable: true, status: Status.UNAVAILABLE },
  STORAGE_ERROR: { retriable: true, status: Status.UNAVAILABLE },
  METADATA_ERROR: { retriable: true, status: Status.UNAVAILABLE },
  CORRUPT_SEGMENT: { retriable: false, status: Status.DATA_LOSS },
  UNKNOWN_MEMBER_ID: { retriable: false, status: Status.FAILED_PRECONDITION },
  ILLEGAL_GENERATION: { retriable: false, status: Status.FAILED_PRECONDITION },
  REBALANCE_IN_PROGRESS: { retriable: true, status: Status.ABORTED },
  INVALID_SESSION_TIMEOUT: { retriable: false, status: Status.INVALID_ARGUMENT },
  GROUP_ID_NOT_FOUND: { retriable: false, status: Status.NOT_FOUND },
  INCONSISTENT_GROUP_PROTOCOL: { retriable: false, status: Status.FAILED_PRECONDITION },
  SHUTTING_DOWN: { retriable: true, status: Status.UNAVAILABLE },
  UNSAFE_INTEGER: { retriable: false, status: Status.OUT_OF_RANGE },
  PRODUCER_CLOSED: { retriable: false, status: Status.CANCELLED },
  BUFFER_FULL: { retriable: true, status: Status.RESOURCE_EXHAUSTED },
  DELIVERY_TIMEOUT: { retriable: false, status: Status.DEADLINE_EXCEEDED },
  RETRIES_EXHAUSTED: { retriable: false, status: Status.UNAVAILABLE },
  CONSUMER_CLOSED: { retriable: false, status: Status.CANCELLED },
  UNSUPPORTED_VERSION: { retriable: false, status: Status.UNIMPLEMENTED },
  OBJECT_NOT_FOUND: { retriable: false, status: Status.NOT_FOUND },
  INVALID_RECORD: { retriable: false, status: Status.INVALID_ARGUMENT },
  INVALID_TIMESTAMP: { retriable: false, status: Status.INVALID_ARGUMENT },
  OFFSET_METADATA_TOO_LARGE: { retriable: false, status: Status.INVALID_ARGUMENT },
  LIMIT_EXCEEDED: { retriable: false, status: Status.RESOURCE_EXHAUSTED },
  AGENT_BUSY: { retriable: true, status: Status.RESOURCE_EXHAUSTED },
  STORAGE_FAILURE: { retriable: false, status: Status.FAILED_PRECONDITION },
  STORAGE_FULL: { retriable: true, status: Status.RESOURCE_EXHAUSTED },
  TOPIC_AUTHORIZATION_FAILED: { retriable: false, status: Status.PERMISSION_DENIED },
  GROUP_AUTHORIZATION_FAILED: { retriable: false, status: Status.PERMISSION_DENIED },
  CLUSTER_AUTHORIZATION_FAILED: { retriable: false, status: Status.PERMISSION_DENIED },
  UNAUTHENTICATED: { retriable: false, status: Status.UNAUTHENTICATED },
  GROUP_MAX_SIZE_REACHED: { retriable: false, status: Status.RESOURCE_EXHAUSTED },
};

/** The root of every error StreamHouse raises on purpose. */
export class StreamHouseError extends Error {
  /** Stable code, the same on agent and client. */
  readonly code: ErrorCodeName;
  /** True when the same operation may succeed if tried again. */
  readonly retriable: boolean;
  /** Where it happened. */
  readonly context: ErrorContext;

  constructor(code: ErrorCodeName, message: string, options: StreamHouseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = CODE_TRAITS[code].retriable;
    this.context = options.context ?? {};
  }
}

function errorClass<C extends ErrorCodeName>(code: C) {
  return class extends StreamHouseError {
    declare readonly code: C;
    constructor(message: string, options?: StreamHouseErrorOptions) {
      super(code, message, options);
    }
  };
}

export class UnknownError extends errorClass('UNKNOWN') {}
export class InvalidRequestError extends errorClass('INVALID_REQUEST') {}
/** Bytes that do not decode: truncated, oversized, bad CRC, bad varint. */
export class CorruptMessageError extends errorClass('CORRUPT_MESSAGE') {}
export class UnknownTopicOrPartitionError extends errorClass('UNKNOWN_TOPIC_OR_PARTITION') {}
export class TopicAlreadyExistsError extends errorClass('TOPIC_ALREADY_EXISTS') {}
export class InvalidTopicError extends errorClass('INVALID_TOPIC') {}
export class InvalidPartitionsError extends errorClass('INVALID_PARTITIONS') {}
export class InvalidConfigError extends errorClass('INVALID_CONFIG') {}
export class OffsetOutOfRangeError extends errorClass('OFFSET_OUT_OF_RANGE') {}
/** The agent asked does not hold the partition's lease: refresh metadata and retry. */
export class NotLeaderError extends errorClass('NOT_LEADER') {}
/** A write carried a lease epoch that is no longer current. */
export class FencedLeaseEpochError extends errorClass('FENCED_LEASE_EPOCH') {}
/** A conditional high-watermark update found another value than expected. */
export class HighWatermarkConflictError extends errorClass('HIGH_WATERMARK_CONFLICT') {}
export class RecordTooLargeError extends errorClass('RECORD_TOO_LARGE') {}
export class RequestTooLargeError extends errorClass('REQUEST_TOO_LARGE') {}
export class DuplicateSequenceError extends errorClass('DUPLICATE_SEQUENCE') {}
export class OutOfOrderSequenceError extends errorClass('OUT_OF_ORDER_SEQUENCE') {}
export class InvalidProducerEpochError extends errorClass('INVALID_PRODUCER_EPOCH') {}
export class UnknownProducerIdError extends errorClass('UNKNOWN_PRODUCER_ID') {}
export class RequestTimedOutError extends errorClass('REQUEST_TIMED_OUT') {}
export class AgentUnavailableError extends errorClass('AGENT_UNAVAILABLE') {}
export class StorageError extends errorClass('STORAGE_ERROR') {}
export class MetadataError extends errorClass('METADATA_ERROR') {}
/** A segment object failed its checks; context names the object and offset. */
export class CorruptSegmentError extends errorClass('CORRUPT_SEGMENT') {}
export class UnknownMemberIdError extends errorClass('UNKNOWN_MEMBER_ID') {}
export class IllegalGenerationError extends errorClass('ILLEGAL_GENERATION') {}
export class RebalanceInProgressError extends errorClass('REBALANCE_IN_PROGRESS') {}
export class InvalidSessionTimeoutError extends errorClass('INVALID_SESSION_TIMEOUT') {}
export class GroupIdNotFoundError extends errorClass('GROUP_ID_NOT_FOUND') {}
export class InconsistentGroupProtocolError extends errorClass('INCONSISTENT_GROUP_PROTOCOL') {}
export class ShuttingDownError extends errorClass('SHUTTING_DOWN') {}
/** An int64 beyond Number.MAX_SAFE_INTEGER where a number was needed. */
export class UnsafeIntegerError extends errorClass('UNSAFE_INTEGER') {}
export class ProducerClosedError extends errorClass('PRODUCER_CLOSED') {}
export class BufferFullError extends errorClass('BUFFER_FULL') {}
export class DeliveryTimeoutError extends errorClass('DELIVERY_TIMEOUT') {}
/** Every retry failed; `cause` holds the last failure. */
export class RetriesExhaustedError extends errorClass('RETRIES_EXHAUSTED') {}
export class ConsumerClosedError extends errorClass('CONSUMER_CLOSED') {}
export class UnsupportedVersionError extends errorClass('UNSUPPORTED_VERSION') {}
/** An object-store key that holds no object. */
export class ObjectNotFoundError extends errorClass('OBJECT_NOT_FOUND') {}
/** A record inside a batch breaks the format's rules; nothing of the batch was written. */
export class InvalidRecordError extends errorClass('INVALID_RECORD') {}
/** A batch's timestamps are outside what the topic accepts. */
export class InvalidTimestampError extends errorClass('INVALID_TIMESTAMP') {}
/** Offset-commit metadata longer than the agent accepts. */
export class OffsetMetadataTooLargeError extends errorClass('OFFSET_METADATA_TOO_LARGE') {}
/** A request goes past a fixed limit of the agent; the message names the limit and its flag. */
export class LimitExceededError extends errorClass('LIMIT_EXCEEDED') {}
/** The agent is at a limit that frees itself (bytes or connections in use): retry after a backoff. */
export class AgentBusyError extends errorClass('AGENT_BUSY') {}
/** The object store refused for good (permission, not a directory, read-only): an operator must act. */
export class StorageFailureError extends errorClass('STORAGE_FAILURE') {}
/** The object store has no room (disk full, quota); retriable once space is freed. */
export class StorageFullError extends errorClass('STORAGE_FULL') {}
/** The caller's principal may not run the operation on the topic; the message names both. */
export class TopicAuthorizationFailedError extends errorClass('TOPIC_AUTHORIZATION_FAILED') {}
/** The caller's principal may not run the operation on the consumer group; the message names both. */
export class GroupAuthorizationFailedError extends errorClass('GROUP_AUTHORIZATION_FAILED') {}
/** The caller's principal may not run the cluster-wide operation. */
export class ClusterAuthorizationFailedError extends errorClass('CLUSTER_AUTHORIZATION_FAILED') {}
/** No valid credentials where the agent requires them (gRPC UNAUTHENTICATED); never retriable. */
export class UnauthenticatedError extends errorClass('UNAUTHENTICATED') {}
/** A new member would take the consumer group past the agent's largest group size; never retriable. */
export class GroupMaxSizeReachedError extends errorClass('GROUP_MAX_SIZE_REACHED') {}

type ErrorConstructor = new (message: string, options?: StreamHouseErrorOptions) => StreamHouseError;

const CLASS_BY_CODE: Record<ErrorCodeName, ErrorConstructor> = {
  UNKNOWN: UnknownError,
  INVALID_REQUEST: InvalidRequestError,
  CORRUPT_MESSAGE: CorruptMessageError,
  UNKNOWN_TOPIC_OR_PARTITION: UnknownTopicOrPartitionError,
  TOPIC_ALREADY_EXISTS: TopicAlreadyExistsError,
  INVALID_TOPIC: InvalidTopicError,
  INVALID_PARTITIONS: InvalidPartitionsError,
  INVALID_CONFIG: InvalidConfigError,
  OFFSET_OUT_OF_RANGE: OffsetOutOfRangeError,
  NOT_LEADER: NotLeaderError,
  FENCED_LEASE_EPOCH: FencedLeaseEpochError,
  HIGH_WATERMARK_CONFLICT: HighWatermarkConflictError,
  RECORD_TOO_LARGE: RecordTooLargeError,
  REQUEST_TOO_LARGE: RequestTooLargeError,
  DUPLICATE_SEQUENCE: DuplicateSequenceError,
  OUT_OF_ORDER_SEQUENCE: OutOfOrderSequenceError,
  INVALID_PRODUCER_EPOCH: InvalidProducerEpochError,
  UNKNOWN_PRODUCER_ID: UnknownProducerIdError,
  REQUEST_TIMED_OUT: RequestTimedOutError,
  AGENT_UNAVAILABLE: AgentUnavailableError,
  STORAGE_ERROR: StorageError,
  METADATA_ERROR: MetadataError,
  CORRUPT_SEGMENT: CorruptSegmentError,
  UNKNOWN_MEMBER_ID: UnknownMemberIdError,
  ILLEGAL_GENERATION: IllegalGenerationError,
  REBALANCE_IN_PROGRESS: RebalanceInProgressError,
  INVALID_SESSION_TIMEOUT: InvalidSessionTimeoutError,
  GROUP_ID_NOT_FOUND: GroupIdNotFoundError,
  INCONSISTENT_GROUP_PROTOCOL: InconsistentGroupProtocolError,
  SHUTTING_DOWN: ShuttingDownError,
  UNSAFE_INTEGER: UnsafeIntegerError,
  PRODUCER_CLOSED: ProducerClosedError,
  BUFFER_FULL: BufferFullError,
  DELIVERY_TIMEOUT: DeliveryTimeoutError,
  RETRIES_EXHAUSTED: RetriesExhaustedError,
  CONSUMER_CLOSED: ConsumerClosedError,
  UNSUPPORTED_VERSION: UnsupportedVersionError,
  OBJECT_NOT_FOUND: ObjectNotFoundError,
  INVALID_RECORD: InvalidRecordError,
  INVALID_TIMESTAMP: InvalidTimestampError,
  OFFSET_METADATA_TOO_LARGE: OffsetMetadataTooLargeError,
  LIMIT_EXCEEDED: LimitExceededError,
  AGENT_BUSY: AgentBusyError,
  STORAGE_FAILURE: StorageFailureError,
  STORAGE_FULL: StorageFullError,
  TOPIC_AUTHORIZATION_FAILED: TopicAuthorizationFailedError,
  GROUP_AUTHORIZATION_FAILED: GroupAuthorizationFailedError,
  CLUSTER_AUTHORIZATION_FAILED: ClusterAuthorizationFailedError,
  UNAUTHENTICATED: UnauthenticatedError,
  GROUP_MAX_SIZE_REACHED: GroupMaxSizeReachedError,
};

/** True when `name` is a known error code name. */
export function isErrorCodeName(name: string): name is ErrorCodeName {
  return Object.hasOwn(CODE_TRAITS, name);
}

/** Whether errors with this code may succeed on retry. */
export function isRetriableCode(code: ErrorCodeName): boolean {
  return CODE_TRAITS[code].retriable;
}

/** Builds the right subclass for a code. */
export function createError(code: ErrorCodeName, message: string, options?: StreamHouseErrorOptions): StreamHouseError {
  return new CLASS_BY_CODE[code](message, options);
}

/** Whether an unknown thrown value is a retriable StreamHouse error. */
export function isRetriable(error: unknown): boolean {
  return error instanceof StreamHouseError && error.retriable;
}

// ---- per-partition results --------------------------------------------------

/** The proto ErrorInfo for an error (anything not ours becomes UNKNOWN). */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof StreamHouseError) {
    return { code: ErrorCode[error.code], message: error.message };
  }
  return { code: ErrorCode.UNKNOWN, message: error instanceof Error ? error.message : String(error) };
}

/** The error an ErrorInfo stands for, or undefined for NONE or no info. */
export function fromErrorInfo(info: ErrorInfo | undefined, context?: ErrorContext): StreamHouseError | undefined {
  if (info === undefined || info.code === ErrorCode.NONE) return undefined;
  const name = ErrorCode[info.code];
  const code = name !== undefined && isErrorCodeName(name) ? name : 'UNKNOWN';
  return createError(code, info.message, context === undefined ? undefined : { context });
}

// ---- gRPC status mapping ------------------------------------------------------

const DETAILS_PATTERN = /^\[([A-Z_]+)\] ([\s\S]*)$/;

/** Converts any thrown value into the ServerError a nice-grpc handler throws. */
export function toServerError(error: unknown): ServerError {
  if (error instanceof ServerError) return error;
  if (error instanceof StreamHouseError) {
    return new ServerError(CODE_TRAITS[error.code].status, `[${error.code}] ${error.message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ServerError(Status.UNKNOWN, `[UNKNOWN] ${message}`);
}

/** gRPC statuses that carry no StreamHouse details (transport failures). */
const STATUS_FALLBACK: Partial<Record<Status, ErrorCodeName>> = {
  [Status.UNAVAILABLE]: 'AGENT_UNAVAILABLE',
  // An agent that shuts down mid-call cancels it: another agent may answer.
  [Status.CANCELLED]: 'AGENT_UNAVAILABLE',
  [Status.DEADLINE_EXCEEDED]: 'REQUEST_TIMED_OUT',
  [Status.RESOURCE_EXHAUSTED]: 'REQUEST_TOO_LARGE',
  [Status.INVALID_ARGUMENT]: 'INVALID_REQUEST',
  [Status.UNIMPLEMENTED]: 'UNSUPPORTED_VERSION',
  [Status.NOT_FOUND]: 'UNKNOWN_TOPIC_OR_PARTITION',
  [Status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
};

/**
 * Converts what a nice-grpc client call threw back into a StreamHouse error:
 * the agent's exact code when the details carry one, otherwise a code derived
 * from the gRPC status (a refused connection becomes AGENT_UNAVAILABLE).
 * Values that are not gRPC errors pass through unchanged.
 */
export function fromGrpcError(error: unknown, context?: ErrorContext): unknown {
  if (!(error instanceof ClientError)) return error;
  const match = DETAILS_PATTERN.exec(error.details);
  const options: StreamHouseErrorOptions = { cause: error };
  if (context !== undefined) options.context = context;
  if (match !== null && isErrorCodeName(match[1]!)) {
    return createError(match[1], match[2]!, options);
  }
  const code = STATUS_FALLBACK[error.code] ?? 'UNKNOWN';
  return createError(code, `${Status[error.code]}: ${error.details}`, options);
}
