/** Shared pieces of the generated message code: arrays, tagged-field sections, default values. */
import { KafkaDecodeError, type KafkaReader } from './kafkaReader.js';
import type { KafkaWriter } from './kafkaWriter.js';

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
export const ZERO_UUID: Buffer = Buffer.alloc(16);

export function readArray<T>(r: KafkaReader, compact: boolean, nullable: false, one: () => T): T[];
export function readArray<T>(r: KafkaReader, compact: boolean, nullable: boolean, one: () => T): T[] | null;
export function readArray<T>(r: KafkaReader, compact: boolean, nullable: boolean, one: () => T): T[] | null {
  const length = r.arrayLength(compact, nullable);
  if (length < 0) return null;
  const items: T[] = [];
  for (let i = 0; i < length; i++) {
    if (r.remaining === 0 && i < length) throw new KafkaDecodeError(`array ends after ${i} of ${length} elements`);
    items.push(one());
  }
  return items;
}

export function writeArray<T>(
  w: KafkaWriter,
  compact: boolean,
  items: readonly T[] | null,
  one: (item: T) => void,
): void {
  if (items === null) {
    w.arrayLength(-1, compact);
    return;
  }
  w.arrayLength(items.length, compact);
  for (const item of items) one(item);
}

/** Writes a tagged-field section from (tag, encoded value) pairs given in increasing tag order. */
export function writeTaggedFields(w: KafkaWriter, fields: [number, KafkaWriter][]): void {
  w.uvarint(fields.length);
  for (const [tag, value] of fields) {
    w.uvarint(tag);
    w.uvarint(value.length);
    w.append(value);
  }
}
