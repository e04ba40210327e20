/**
 * The built-in serialisers and deserialisers: `string` (UTF-8), `json` and
 * `bytes`, plus the producer's default (strings and bytes as they are,
 * anything else as JSON).
 */
import type { Deserializer, Serializer } from './serde.js';

/** UTF-8; lone surrogates (not well-formed UTF-16) become U+FFFD. */
const stringSerializer: Serializer<string> = (value) => {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${describe(value)}`);
  return Buffer.from(value, 'utf8');
};

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8, strictly: bytes that are not well-formed UTF-8 fail (rather than turn into U+FFFD). */
const stringDeserializer: Deserializer<string> = (bytes) => fatalUtf8.decode(bytes);

const bytesSerializer: Serializer<Uint8Array> = (value) => {
  if (!(value instanceof Uint8Array)) throw new TypeError(`expected a Uint8Array, got ${describe(value)}`);
  return value;
};

/** The fetched bytes themselves: a view of the response, as records carry without a deserialiser. */
const bytesDeserializer: Deserializer<Uint8Array> = (bytes) => bytes;

function jsonSerializer<T>(): Serializer<T> {
  return (value) => {
    const text = JSON.stringify(value) as string | undefined;
    // JSON.stringify answers undefined for undefined, functions and symbols: nothing to send.
    if (text === undefined) throw new TypeError(`${describe(value)} has no JSON form`);
    return Buffer.from(text, 'utf8');
  };
}

/**
 * Parses strict UTF-8 JSON. The result is typed `T` without being checked:
 * wrap it with a validator (zod, ajv, …) to check the shape too.
 */
function jsonDeserializer<T>(): Deserializer<T> {
  return (bytes) => JSON.parse(fatalUtf8.decode(bytes)) as T;
}

/** Serialisers for `createProducer({ keySerializer, valueSerializer })`. */
export const serializers = {
  /** UTF-8 text. */
  string: stringSerializer,
  /** `JSON.stringify` as UTF-8; fails for values without a JSON form (undefined, functions, symbols, BigInt). */
  json: jsonSerializer,
  /** Bytes as they are (a Uint8Array or Buffer). */
  bytes: bytesSerializer,
} as const;

/** Deserialisers for `createConsumer({ keyDeserializer, valueDeserializer })`. */
export const deserializers = {
  /** UTF-8 text; fails on bytes that are not well-formed UTF-8. */
  string: stringDeserializer,
  /** Parses JSON from strict UTF-8; the result is not checked against `T`. */
  json: jsonDeserializer,
  /** The bytes themselves (the consumer's default). */
  bytes: bytesDeserializer,
} as const;

/**
 * @internal The producer's default: strings as UTF-8, bytes as they are,
 * anything else as JSON (the rule `produceTo` had for values). Strings and
 * bytes take the same two checks as before serialisers existed.
 */
export function defaultSerialize(value: unknown): Uint8Array {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${describe(value)} has no JSON form`);
  return Buffer.from(text, 'utf8');
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
