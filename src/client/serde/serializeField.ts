/** The producer's step from a record's key or value to bytes. @internal */
import { SerializationError, type RecordSide } from './errors.js';
import type { Serializer } from './serde.js';
import { defaultSerialize } from './builtins.js';

/**
 * The bytes of a key or value: null stays null (no key, or a tombstone),
 * anything else goes through `serializer`; what it throws becomes SerializationError.
 */
export function serializeField(
  serializer: Serializer<unknown>,
  value: unknown,
  topic: string,
  side: RecordSide,
): Uint8Array | null {
  if (value === null || value === undefined) return null;
  // The default serialiser's strings and bytes, inline: the same work per record as before serialisers existed.
  if (serializer === defaultSerialize) {
    if (typeof value === 'string') return Buffer.from(value, 'utf8');
    if (value instanceof Uint8Array) return value;
  }
  try {
    return serializer(value, topic);
  } catch (cause) {
    throw new SerializationError(topic, side, cause);
  }
}

/** A user's serialiser, made to refuse what is not bytes (the default serialiser needs no such check). */
export function checkedSerializer(serializer: Serializer<unknown>): Serializer<unknown> {
  return (value, topic) => {
    const bytes: unknown = serializer(value, topic);
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`the serializer returned ${bytes === null ? 'null' : typeof bytes}, not a Uint8Array`);
    }
    return bytes;
  };
}
