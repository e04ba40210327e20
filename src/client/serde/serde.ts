/**
 * Serialisers turn a record's key or value into bytes for the producer;
 * deserialisers turn fetched bytes back into typed values for the consumer.
 *
 * Both are synchronous: the producer accepts a record and the consumer builds
 * one in the same call that hands it on, with no Promise per record. A format
 * that needs I/O (a schema registry) looks its schemas up beforehand, or
 * caches them and fails the record while one is missing.
 */
import type { RecordHeader } from '../../protocol/codec/record.js';

/**
 * Turns a value (never null: null keys and values are sent as null) into
 * bytes. `topic` is where the record goes. Throwing refuses the record: `send`
 * rejects with SerializationError carrying the thrown error as its cause.
 */
export type Serializer<T> = (value: T, topic: string) => Uint8Array;

/**
 * Turns bytes (never null: null keys and values are delivered as null) into a
 * value. `bytes` is a view of the fetched response (copy what must outlive it).
 * Throwing marks the record as not deserialisable (see DeserializationError).
 */
export type Deserializer<T> = (bytes: Uint8Array, topic: string, headers: readonly RecordHeader[]) => T;
