/**
 * Pipes an Observable of values into a topic and emits their
 * acknowledgements, each carrying the value it came from (as Reactor Kafka's
 * SenderRecord/SenderResult carry correlation data).
 *
 * ```ts
 * orders$.pipe(
 *   produceTo(producer, 'orders', { key: (o) => o.id, value: (o) => JSON.stringify(o) }),
 * ).subscribe(({ value, partition, offset }) => console.log(value.id, partition, offset));
 * ```
 *
 * `topic` may be a function of the value, to route each one. Completes when
 * the source has completed and every record is acknowledged; by default
 * errors with the first record's typed error (records already handed to the
 * producer are still delivered or failed by it). With `errors: 'emit'` each
 * value yields a {@link ProduceOutcome} carrying its offset or its error and
 * the stream goes on, so the pipeline routes failures itself. At most
 * `maxInFlight` records are sent but unacknowledged at a time, so a fast
 * source is held back instead of filling memory.
 */
import { catchError, defer, map, mergeMap, of, type Observable, type OperatorFunction } from 'rxjs';
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { Payload, ProducerRecord } from './producerRecord.js';
import { Producer, type RecordMetadata } from './producer.js';

/**
 * Anything that sends one record and emits where it was stored (the
 * Producer's `send$`); `K` and `V` are the key and value types it takes.
 */
export type RecordSink<K = Payload, V = Payload> = { send$(record: ProducerRecord<K, V>): Observable<RecordMetadata> };

/** How each value becomes a record; `K` and `V` are the sink's (its producer's serialisers') key and value types. */
export type ProduceToConfig<T, K = Payload, V = Payload> = {
  /** The record key. Default: none (null). */
  key?: (value: T) => K | null;
  /**
   * The record value. Default: the value itself, which the producer's value
   * serialiser turns into bytes (the default one: strings and byte arrays as
   * they are, anything else as JSON); a sink that is not a Producer gets
   * strings and byte arrays as they are, anything else as a JSON string.
   */
  value?: (value: T) => V | null;
  /** Record headers. Default: none. */
  headers?: (value: T) => Readonly<Record<string, Payload | null>> | readonly RecordHeader[];
  /** Explicit partition. Default: the producer's partitioner. */
  partition?: (value: T) => number | undefined;
  /** Record timestamp, ms. Default: send time. */
  timestamp?: (value: T) => number;
  /** Records sent but not yet acknowledged, at most. Default 10 000. */
  maxInFlight?: number;
};

/** One value's acknowledgement. */
export type ProduceAck<T> = RecordMetadata & { value: T };

/** One value's outcome with `errors: 'emit'`: its acknowledgement, or why it was not stored. */
export type ProduceOutcome<T> =
  | (ProduceAck<T> & { ok: true })
  | {
      ok: false;
      /** The value whose record failed. */
      value: T;
      /** The topic it was routed to, if routing succeeded. */
      topic: string | undefined;
      /** Why: a typed StreamHouse error from the producer, or what a mapping function threw. */
      error: unknown;
    };

/** Where each value goes: one topic, or a function of the value. */
export type TopicRoute<T> = string | ((value: T) => string);

/** The value itself, for the producer's value serialiser (the overloads make sure it is of the sink's value type). */
const itself = <T, V>(value: T): V => value as unknown as V;

/** For a sink that is not a Producer (no serialiser): strings and bytes as they are, anything else as JSON. */
function asPayload<T, V>(value: T): V {
  if (value === null || typeof value === 'string' || value instanceof Uint8Array) return value as unknown as V;
  return JSON.stringify(value) as unknown as V;
}

/**
 * Whether `produceTo` needs a `value` mapping: not when the values are of the
 * sink's value type, nor for a sink of Payload (a producer with the default
 * serialiser, which sends anything else as JSON); else it does.
 */
export type NeedsValueMapping<T, V> = [T] extends [V] ? false : [Payload] extends [V] ? false : true;

/** `config` with `value` required when {@link NeedsValueMapping}. */
export type ProduceToConfigFor<T, K, V> =
  NeedsValueMapping<T, V> extends true
    ? ProduceToConfig<T, K, V> & { value: (value: T) => V | null }
    : ProduceToConfig<T, K, V>;

export function produceTo<T, K = Payload, V = Payload>(
  sink: RecordSink<K, V>,
  topic: TopicRoute<T>,
  ...config: NeedsValueMapping<T, V> extends true
    ? [config: ProduceToConfigFor<T, K, V> & { errors?: 'error' }]
    : [config?: ProduceToConfigFor<T, K, V> & { errors?: 'error' }]
): OperatorFunction<T, ProduceAck<T>>;
export function produceTo<T, K = Payload, V = Payload>(
  sink: RecordSink<K, V>,
  topic: TopicRoute<T>,
  config: ProduceToConfigFor<T, K, V> & { errors: 'emit' },
): OperatorFunction<T, ProduceOutcome<T>>;
export function produceTo<T, K = Payload, V = Payload>(
  sink: RecordSink<K, V>,
  topic: TopicRoute<T>,
  config: ProduceToConfig<T, K, V> & { errors?: 'error' | 'emit' } = {},
): OperatorFunction<T, ProduceAck<T> | ProduceOutcome<T>> {
  const { key, headers, partition, timestamp, maxInFlight = 10_000, errors = 'error' } = config;
  const value = config.value ?? (sink instanceof Producer ? itself<T, V> : asPayload<T, V>);
  const topicOf = typeof topic === 'string' ? () => topic : topic;
  const toRecord = (item: T, routed: string): ProducerRecord<K, V> => {
    const record: ProducerRecord<K, V> = { topic: routed, value: value(item) };
    if (key !== undefined) record.key = key(item);
    if (headers !== undefined) record.headers = headers(item);
    const p = partition?.(item);
    if (p !== undefined) record.partition = p;
    if (timestamp !== undefined) record.timestamp = timestamp(item);
    return record;
  };
  if (errors === 'error') {
    return (source) =>
      source.pipe(
        mergeMap(
          (item) =>
            sink.send$(toRecord(item, topicOf(item))).pipe(map((meta): ProduceAck<T> => ({ ...meta, value: item }))),
          maxInFlight,
        ),
      );
  }
  return (source) =>
    source.pipe(
      mergeMap((item) => {
        let routed: string | undefined;
        return defer(() => {
          routed = topicOf(item);
          return sink.send$(toRecord(item, routed));
        }).pipe(
          map((meta): ProduceOutcome<T> => ({ ...meta, value: item, ok: true })),
          catchError((error: unknown) => of<ProduceOutcome<T>>({ ok: false, value: item, topic: routed, error })),
        );
      }, maxInFlight),
    );
}
