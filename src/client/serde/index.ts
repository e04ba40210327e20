/** Typed keys and values: serialisers, deserialisers, the built-ins and their errors. */
export type { Serializer, Deserializer } from './serde.js';
export { serializers, deserializers } from './builtins.js';
export { SerializationError, DeserializationError, type RecordSide } from './errors.js';
export type {
  DeserializationDeadLetter,
  DeserializationOptions,
  OnDeserializationError,
} from './deserializationOptions.js';
