/**
 * One Kafka API as the listener serves it: the versions it answers, the
 * generated reader of its request and writer of its response, and a handler
 * that turns one into the other.
 */
import type { KafkaReader } from './wire/kafkaReader.js';
import type { KafkaWriter } from './wire/kafkaWriter.js';
import type { KafkaContext } from './kafkaContext.js';
import type { SaslSession } from './saslSession.js';

/** What a handler knows about the request beside its body. */
export type RequestInfo = {
  version: number;
  clientId: string | null;
  /** Aborted when the connection closes or the listener stops: long polls end. */
  signal: AbortSignal;
  /** The connection's authenticated user (SASL), or undefined: anonymous. Handed to the service by callContext. */
  principal: string | undefined;
  /** The connection's SASL state; undefined when the agent does not authenticate. */
  sasl: SaslSession | undefined;
};

export type KafkaApi<Req, Res> = {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  /** First flexible version: request header v2, response header v1 from there on. */
  flexibleMin: number;
  read(r: KafkaReader, version: number): Req;
  write(w: KafkaWriter, version: number, response: Res): void;
  /** The response, or undefined for none (Produce with acks=0). */
  handle(ctx: KafkaContext, request: Req, info: RequestInfo): Promise<Res | undefined>;
};

type Schema = { apiKey: number; minVersion: number; maxVersion: number; flexibleMin: number };

/** Declares an API from its request schema, served from `minVersion` to `maxVersion` (within the schema's). */
export function defineApi<Req, Res>(
  name: string,
  schema: Schema,
  versions: { min: number; max: number },
  read: (r: KafkaReader, version: number) => Req,
  write: (w: KafkaWriter, version: number, response: Res) => void,
  handle: (ctx: KafkaContext, request: Req, info: RequestInfo) => Promise<Res | undefined>,
): KafkaApi<unknown, unknown> {
  if (versions.min < schema.minVersion || versions.max > schema.maxVersion) {
    throw new RangeError(
      `${name}: versions ${versions.min}-${versions.max} ` +
        `outside the schema's ${schema.minVersion}-${schema.maxVersion}`,
    );
  }
  const api: KafkaApi<Req, Res> = {
    key: schema.apiKey,
    name,
    minVersion: versions.min,
    maxVersion: versions.max,
    flexibleMin: schema.flexibleMin,
    read,
    write,
    handle,
  };
  return api as KafkaApi<unknown, unknown>;
}
