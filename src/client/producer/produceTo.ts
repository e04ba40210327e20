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
 * Completes when the source has completed and every record is acknowledged;
 * errors with the first record's typed error otherwise (records already
 * handed to the producer are still delivered or failed by it). At most
 * `maxInFlight` records are sent but unacknowledged at a time, so a fast
 * source is held back instead of filling memory.
 */
import { map, mergeMap, type Observable, type OperatorFunction } from 'rxjs';
import type { RecordHeader } from '../../protocol/record.js';
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

function defaultValue(value: unknown): Payload | null {
  if (value === null || typeof value === 'string' || value instanceof Uint8Array) return value as Payload | null;
  return JSON.stringify(value);
}

export function produceTo<T>(sink: RecordSink, topic: string, config: ProduceToConfig<T> = {}): OperatorFunction<T, ProduceAck<T>> {
  const { key, value = defaultValue, headers, partition, timestamp, maxInFlight = 10_000 } = config;
  return (source) =>
    source.pipe(
      mergeMap((item) => {
        const record: ProducerRecord = { topic, value: value(item) };
        if (key !== undefined) record.key = key(item);
        if (headers !== undefined) record.headers = headers(item);
        const p = partition?.(item);
        if (p !== undefined) record.partition = p;
        if (timestamp !== undefined) record.timestamp = timestamp(item);
        return sink.send$(record).pipe(map((meta): ProduceAck<T> => ({ ...meta, value: item })));
      }, maxInFlight),
    );
}
