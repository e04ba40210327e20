/** The consumer's deserialisation options, their defaults, and their checks. */
import { InvalidConfigError } from '../../protocol/errors.js';
import type { RecordSink } from '../producer/produceTo.js';
import { RecordDecoder } from './recordDecoder.js';
import type { Deserializer } from './serde.js';

/** Where records that do not deserialise go with `onDeserializationError: { deadLetter }`. */
export type DeserializationDeadLetter = {
  /** A producer that sends bytes as they are (the default serialisers), or anything with such a `send$`. */
  producer: RecordSink<Uint8Array, Uint8Array>;
  /** The dead-letter topic. */
  topic: string;
};

/**
 * What the consumer does with a record whose key or value does not
 * deserialise: `'error'` errors the reader with DeserializationError (the
 * record and those after it are not processed, so they are delivered again
 * after a restart); `'skip'` leaves it out (logged at warn); `{ deadLetter }`
 * sends its stored bytes and headers, plus the `DEAD_LETTER_HEADERS` of the
 * deadLetter operator, to the dead-letter topic and leaves it out.
 */
export type OnDeserializationError = 'error' | 'skip' | { deadLetter: DeserializationDeadLetter };

/** The consumer options of deserialisation. */
export type DeserializationOptions<K, V> = {
  /** Turns key bytes into `K`. Default: none, keys are the fetched bytes (`Uint8Array`). */
  keyDeserializer?: Deserializer<K>;
  /** Turns value bytes into `V`. Default: none, values are the fetched bytes (`Uint8Array`). */
  valueDeserializer?: Deserializer<V>;
  /** What a record that does not deserialise becomes. Default `'error'`. */
  onDeserializationError?: OnDeserializationError;
};

/** @internal The options checked: a decoder when anything is deserialised, and where bad records go. */
export type ResolvedDeserialization = {
  /** Undefined without deserialisers: records carry the fetched bytes, built as before. */
  decoder: RecordDecoder | undefined;
  /** Set with `{ deadLetter }`. */
  deadLetter: DeserializationDeadLetter | undefined;
};

/** @internal Checks the options; throws InvalidConfigError naming what to change. */
export function resolveDeserialization(options: DeserializationOptions<unknown, unknown>): ResolvedDeserialization {
  const { keyDeserializer, valueDeserializer, onDeserializationError = 'error' } = options;
  for (const [name, value] of Object.entries({ keyDeserializer, valueDeserializer })) {
    if (value !== undefined && typeof value !== 'function')
      throw new InvalidConfigError(`consumer option ${name} must be a function (bytes, topic, headers) => value`);
  }
  let deadLetter: DeserializationDeadLetter | undefined;
  if (typeof onDeserializationError === 'object' && onDeserializationError !== null) {
    deadLetter = onDeserializationError.deadLetter;
    if (typeof deadLetter?.producer?.send$ !== 'function')
      throw new InvalidConfigError('onDeserializationError.deadLetter needs a producer with send$');
    if (typeof deadLetter.topic !== 'string' || deadLetter.topic === '') {
      throw new InvalidConfigError(
        `onDeserializationError.deadLetter.topic must be a non-empty string, got ${JSON.stringify(deadLetter.topic)}`,
      );
    }
  } else if (onDeserializationError !== 'error' && onDeserializationError !== 'skip') {
    throw new InvalidConfigError(
      `consumer option onDeserializationError must be 'error', 'skip' or { deadLetter: { producer, topic } }, got ` +
        `${JSON.stringify(onDeserializationError)}`,
    );
  }
  if (keyDeserializer === undefined && valueDeserializer === undefined) return { decoder: undefined, deadLetter };
  const decoder = new RecordDecoder(keyDeserializer, valueDeserializer, onDeserializationError !== 'error');
  return { decoder, deadLetter };
}
