/** The typed errors of (de)serialisation. */
import { InvalidRecordError, InvalidRequestError } from '../../protocol/errors.js';

/** Which part of a record failed. */
export type RecordSide = 'key' | 'value';

/**
 * A record's key or value did not serialise: `send` refuses the record (it
 * is not buffered). Not retriable: the same value fails again.
 */
export class SerializationError extends InvalidRequestError {
  constructor(
    /** The topic the record was sent to. */
    readonly topic: string,
    /** Key or value. */
    readonly side: RecordSide,
    cause: unknown,
  ) {
    super(`record ${side} for topic ${topic} could not be serialized: ${reason(cause)}`, {
      cause,
      context: { topic },
    });
  }
}

/**
 * A fetched record's key or value did not deserialise. Not retriable: the
 * bytes are stored and fail the same way when read again. `cause` is what
 * the deserialiser threw; `context` names topic, partition and offset too.
 */
export class DeserializationError extends InvalidRecordError {
  constructor(
    /** Topic of the record. */
    readonly topic: string,
    /** Partition of the record. */
    readonly partition: number,
    /** Offset of the record. */
    readonly offset: number,
    /** Key or value. */
    readonly side: RecordSide,
    cause: unknown,
  ) {
    super(`record ${side} at ${topic}/${partition}@${offset} could not be deserialized: ${reason(cause)}`, {
      cause,
      context: { topic, partition, offset },
    });
  }
}

function reason(cause: unknown): string {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
