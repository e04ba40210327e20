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
import type { RecordMetadata } from './producer.js';

/** Anything that sends one record and emits where it was stored (the Producer's `send$`). */
export type RecordSink = { send$(record: ProducerRecord): Observable<RecordMetadata> };

export type ProduceToConfig<T> = {
  /** The record key. Default: none (null). */
  key?: (value: T) => Payload | null;
  /** The record value. Default: strings and byte arrays as they are, anything else as JSON. */
  value?: (value: T) => Payload | null;
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

function defaultValue(value: unknown): Payload | null {
  if (value === null || typeof value === 'string' || value instanceof Uint8Array) return value as Payload | null;
  return JSON.stringify(value);
}

export function produceTo<T>(
  sink: RecordSink,
  topic: TopicRoute<T>,
  config?: ProduceToConfig<T> & { errors?: 'error' },
): OperatorFunction<T, ProduceAck<T>>;
export function produceTo<T>(
  sink: RecordSink,
  topic: TopicRoute<T>,
  config: ProduceToConfig<T> & { errors: 'emit' },
): OperatorFunction<T, ProduceOutcome<T>>;
export function produceTo<T>(
  sink: RecordSink,
  topic: TopicRoute<T>,
  config: ProduceToConfig<T> & { errors?: 'error' | 'emit' } = {},
): OperatorFunction<T, ProduceAck<T> | ProduceOutcome<T>> {
  const { key, value = defaultValue, headers, partition, timestamp, maxInFlight = 10_000, errors = 'error' } = config;
  const topicOf = typeof topic === 'string' ? () => topic : topic;
  const toRecord = (item: T, routed: string): ProducerRecord => {
    const record: ProducerRecord = { topic: routed, value: value(item) };
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
