import {
  asyncScheduler,
  catchError,
  concat,
  defer,
  ignoreElements,
  map,
  mergeMap,
  of,
  retry,
  tap,
  timer,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import { InvalidConfigError } from '../../protocol/errors.js';
import type { RecordMetadata } from '../producer/producer.js';
import type { RecordSink } from '../producer/produceTo.js';
import type { ProducerRecord } from '../producer/producerRecord.js';
import type { RecordHeader } from '../../protocol/codec/record.js';
import type { ConsumerRecord } from './consumerTypes.js';

/** Header names a dead-lettered record carries (values UTF-8). */
export const DEAD_LETTER_HEADERS = {
  /** Topic the record was consumed from. */
  topic: 'streamhouse.dlq.topic',
  /** Its partition, decimal. */
  partition: 'streamhouse.dlq.partition',
  /** Its offset, decimal. */
  offset: 'streamhouse.dlq.offset',
  /** The last processing error: `name: message`. */
  error: 'streamhouse.dlq.error',
} as const;

/**
 * Options of {@link deadLetter}. `K` and `V` are the records' key and value
 * types; the dead letter carries them as they are, so the producer's
 * serialisers must take them (a producer with the default serialisers takes
 * bytes, the consumer's default).
 */
export type DeadLetterConfig<K = Uint8Array, V = Uint8Array> = {
  /** Processes one record; done when the Promise resolves or the Observable completes. */
  process: (record: ConsumerRecord<K, V>) => ObservableInput<unknown>;
  /** Where dead letters go: a Producer, or anything with `send$`. */
  producer: RecordSink<K, V>;
  /** The dead-letter topic. */
  topic: string;
  /** Retries of a failed `process` before the record is dead-lettered. Default `{ count: 2, delayMs: 100 }`. */
  retries?: {
    /** Retries after the first attempt; a non-negative integer. Default 2. */
    count?: number;
    /** Wait before each retry, ms. Default 100. */
    delayMs?: number;
    /** Scheduler of the waits. Default `asyncScheduler`. */
    scheduler?: SchedulerLike;
  };
  /** Records processed at once. Default 1 (in order). */
  concurrency?: number;
};

/** What became of one record. */
export type DeadLetterOutcome<K = Uint8Array, V = Uint8Array> =
  | { ok: true; record: ConsumerRecord<K, V> }
  | {
      ok: false;
      record: ConsumerRecord<K, V>;
      /** The last processing error. */
      error: unknown;
      /** Where the dead letter was stored. */
      deadLetter: RecordMetadata;
    };

/**
 * Processes each consumed record and sends the ones whose processing still
 * fails after its retries to a dead-letter topic: same key, value and
 * headers, plus `DEAD_LETTER_HEADERS` naming the source topic, partition,
 * offset and error. Either way the record is then acknowledged
 * (`record.ack()`, which commits it with `ackMode: 'explicit'`) and its
 * outcome emitted. A failed dead-letter send errors the stream and leaves
 * the record unacknowledged, so it is delivered again.
 *
 * @example
 * const consumer = createConsumer({ bootstrap, groupId: 'billing', topics: ['orders'], ackMode: 'explicit' });
 * consumer.records$
 *   .pipe(deadLetter({ process: (record) => save(record), producer, topic: 'orders.dlq', retries: { count: 3, delayMs:
 * 500 } }))
 *   .subscribe((outcome) => outcome.ok || log.warn(outcome.error));
 *
 * @param config what to do with each record and where failures go
 */
export function deadLetter<K = Uint8Array, V = Uint8Array>(
  config: DeadLetterConfig<K, V>,
): OperatorFunction<ConsumerRecord<K, V>, DeadLetterOutcome<K, V>> {
  const { process, producer, topic, retries = {}, concurrency = 1 } = config;
  const { count = 2, delayMs = 100, scheduler = asyncScheduler } = retries;
  if (typeof process !== 'function') throw new InvalidConfigError('deadLetter needs a process function');
  if (typeof producer?.send$ !== 'function') throw new InvalidConfigError('deadLetter needs a producer with send$');
  if (typeof topic !== 'string' || topic === '')
    throw new InvalidConfigError(`deadLetter topic must be a non-empty string, got ${JSON.stringify(topic)}`);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new InvalidConfigError(`deadLetter retries.count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(delayMs) || delayMs < 0)
    throw new InvalidConfigError(`deadLetter retries.delayMs must be a non-negative integer, got ${delayMs}`);
  if (!(Number.isSafeInteger(concurrency) || concurrency === Infinity) || concurrency < 1) {
    throw new InvalidConfigError(`deadLetter concurrency must be a positive integer, got ${concurrency}`);
  }
  const delay = () => timer(delayMs, scheduler);
  return (source) =>
    source.pipe(
      mergeMap(
        (record) =>
          concat(
            defer(() => process(record)).pipe(ignoreElements(), retry({ count, delay })),
            of<DeadLetterOutcome<K, V>>({ ok: true, record }),
          ).pipe(
            catchError((error: unknown) =>
              producer
                .send$(deadLetterRecord(topic, record, error))
                .pipe(map((deadLetter): DeadLetterOutcome<K, V> => ({ ok: false, record, error, deadLetter }))),
            ),
            tap(() => record.ack()),
          ),
        concurrency,
      ),
    );
}

/** A record's dead letter: its key, value and headers, plus the DEAD_LETTER_HEADERS. @internal */
export function deadLetterRecord<K, V>(
  topic: string,
  record: Pick<ConsumerRecord<K, V>, 'topic' | 'partition' | 'offset' | 'key' | 'value' | 'headers'>,
  error: unknown,
): ProducerRecord<K, V> {
  const text = (value: string) => Buffer.from(value, 'utf8');
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const headers: RecordHeader[] = [
    ...record.headers,
    { key: DEAD_LETTER_HEADERS.topic, value: text(record.topic) },
    { key: DEAD_LETTER_HEADERS.partition, value: text(String(record.partition)) },
    { key: DEAD_LETTER_HEADERS.offset, value: text(String(record.offset)) },
    { key: DEAD_LETTER_HEADERS.error, value: text(reason) },
  ];
  return { topic, key: record.key, value: record.value, headers };
}
