/**
 * Builds consumer records with deserialised keys and values, and decides
 * what a record that does not deserialise becomes: an error, or a dropped
 * record left for the consumer to skip or dead-letter.
 *
 * @internal
 */
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { RecordCursor } from '../../protocol/codec/recordBatchDecoder.js';
import { ConsumedRecord } from '../consumer/consumedRecord.js';
import type { ConsumerRecord } from '../consumer/consumerTypes.js';
import { DeserializationError } from './errors.js';
import type { Deserializer } from './serde.js';

/** A fetched record that did not deserialise, with its stored bytes. @internal */
export type DroppedRecord = {
  topic: string;
  partition: number;
  offset: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
  timestamp: number;
  error: DeserializationError;
};

/** @internal */
export class RecordDecoder {
  constructor(
    private readonly keyDeserializer: Deserializer<unknown> | undefined,
    private readonly valueDeserializer: Deserializer<unknown> | undefined,
    /**
     * Whether decoding goes on after a bad record (skip, dead letter); else a
     * batch's records end before its first bad one, which fails the reader.
     */
    readonly dropsBad: boolean,
  ) {}

  /**
   * The record at the cursor. One that does not deserialise is pushed to
   * `dropped` (undefined returned) when given, else thrown as DeserializationError.
   */
  decode(
    topic: string,
    partition: number,
    cursor: RecordCursor,
    dropped: DroppedRecord[] | undefined,
  ): ConsumerRecord | undefined {
    const { offset, headers } = cursor;
    const rawKey = cursor.key;
    const rawValue = cursor.value;
    let side: 'key' | 'value' = 'key';
    try {
      const key =
        rawKey === null || this.keyDeserializer === undefined ? rawKey : this.keyDeserializer(rawKey, topic, headers);
      side = 'value';
      const value =
        rawValue === null || this.valueDeserializer === undefined
          ? rawValue
          : this.valueDeserializer(rawValue, topic, headers);
      // Typed by the consumer's generics at its surface; bytes-typed inside the fetch engine.
      return new ConsumedRecord(topic, partition, offset, key, value, headers, cursor.timestamp) as ConsumerRecord;
    } catch (cause) {
      const error = new DeserializationError(topic, partition, offset, side, cause);
      if (dropped === undefined) throw error;
      const { timestamp } = cursor;
      dropped.push({ topic, partition, offset, key: rawKey, value: rawValue, headers, timestamp, error });
      return undefined;
    }
  }
}
