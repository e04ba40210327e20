/** What users hand to `send`, and its normalised internal form. */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { RecordHeader } from '../../protocol/record.js';
import { SendResult } from '../sendResult.js';
import type { PartitionCounters } from './producerMetrics.js';

/** Bytes, or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

/** A record to send. */
export type ProducerRecord = {
  topic: string;
  /** Routes the record (murmur2 by default); null or absent for none. */
  key?: Payload | null;
  /** The value; null for a tombstone. */
  value: Payload | null;
  /** Headers as an object (string or bytes values) or an ordered list. */
  headers?: Readonly<Record<string, Payload | null>> | readonly RecordHeader[];
  /** Explicit partition; wins over the partitioner. */
  partition?: number;
  /** ms since the epoch. Default: now (scheduler time). */
  timestamp?: number;
};

/**
 * @internal A record accepted into the buffer. It is also the SendResult the
 * caller got back: one object per record instead of two, which matters at a
 * million records a second (allocation and GC were the producer's largest
 * per-record costs). The payload is dropped once the record settles, so a
 * SendResult kept by the caller does not keep the record's bytes alive.
 */
export class PendingRecord extends SendResult {
  /** The key's bytes; null once settled. */
  key: Uint8Array | null;
  /** The value's bytes; null once settled. */
  value: Uint8Array | null;
  /** The headers; undefined once settled. */
  headers: RecordHeader[] | undefined;

  constructor(
    topic: string,
    partition: number,
    timestamp: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: RecordHeader[] | undefined,
    /** Bytes counted against the buffer. */
    readonly size: number,
    sentAt: number,
    /** Its partition's counters; `counters.key` is the `topic/partition` it is batched under. */
    readonly counters: PartitionCounters,
  ) {
    super(topic, partition, timestamp);
    this.key = key;
    this.value = value;
    this.headers = headers;
    // Most records are stamped with their send time: keep one number, not two (each is a heap object).
    this.#sentAt = sentAt === timestamp ? undefined : sentAt;
  }

  #sentAt: number | undefined;

  /** When `send` accepted it (scheduler time), for delivery timeout and latency. */
  get sentAt(): number {
    return this.#sentAt ?? this.timestamp;
  }

  /** Forgets the payload (after the record settled). */
  releasePayload(): void {
    this.key = null;
    this.value = null;
    this.headers = undefined;
  }
}

const RECORD_OVERHEAD = 24;

export function toBytes(payload: Payload | null | undefined, what: string): Uint8Array | null {
  if (payload === null || payload === undefined) return null;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return payload;
  throw new InvalidRequestError(`record ${what} must be a string, Uint8Array or null, got ${typeof payload}`);
}

export function toHeaders(headers: ProducerRecord['headers']): RecordHeader[] | undefined {
  if (headers === undefined) return undefined;
  if (Array.isArray(headers)) return headers as RecordHeader[];
  return Object.entries(headers as Record<string, Payload | null>).map(([key, value]) => ({ key, value: toBytes(value, `header ${key}`) }));
}

/** Bytes a record takes in a batch, roughly (for batch and buffer limits). */
export function recordSize(key: Uint8Array | null, value: Uint8Array | null, headers: RecordHeader[] | undefined): number {
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  if (headers !== undefined) for (const h of headers) size += h.key.length * 3 + (h.value?.length ?? 0) + 4;
  return size;
}

export function checkRecord(record: ProducerRecord): void {
  if (record === null || typeof record !== 'object') throw new InvalidRequestError('send needs a record object { topic, value, key?, headers?, partition?, timestamp? }');
  if (typeof record.topic !== 'string' || record.topic.length === 0) throw new InvalidRequestError('record topic must be a non-empty string');
  if (record.partition !== undefined && (!Number.isSafeInteger(record.partition) || record.partition < 0)) {
    throw new InvalidRequestError(`record partition must be a non-negative integer, got ${record.partition}`, { context: { topic: record.topic } });
  }
  if (record.timestamp !== undefined && !Number.isSafeInteger(record.timestamp)) {
    throw new InvalidRequestError(`record timestamp must be a safe integer (ms), got ${record.timestamp}`, { context: { topic: record.topic } });
  }
}
