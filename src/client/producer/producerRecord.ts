/** What users hand to `send`, and its normalised internal form. */
import { InvalidRequestError } from '../../protocol/errors.js';
import type { RecordHeader } from '../../protocol/codec/record.js';

/** Bytes, or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

/** A record to send; `K` and `V` are what the producer's serialisers take (default: Payload). */
export type ProducerRecord<K = Payload, V = Payload> = {
  topic: string;
  /** Routes the record (murmur2 of its bytes by default); null or absent for none. */
  key?: K | null;
  /** The value; null for a tombstone. */
  value: V | null;
  /** Headers as an object (string or bytes values) or an ordered list. */
  headers?: Readonly<Record<string, Payload | null>> | readonly RecordHeader[];
  /** Explicit partition; wins over the partitioner. */
  partition?: number;
  /** ms since the epoch. Default: now (scheduler time). */
  timestamp?: number;
};

const RECORD_OVERHEAD = 24;

export function toBytes(payload: Payload | null | undefined, what: string): Uint8Array | null {
  if (payload === null || payload === undefined) return null;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return payload;
  throw new InvalidRequestError(`record ${what} must be a string, Uint8Array or null, got ${typeof payload}`);
}

/**
 * The headers as a list; a list given is checked (its records are encoded
 * when sent, so a bad header must be refused here, not fail a batch later).
 */
export function toHeaders(headers: ProducerRecord<unknown, unknown>['headers']): RecordHeader[] | undefined {
  if (headers === undefined) return undefined;
  if (Array.isArray(headers)) {
    for (let h = 0; h < headers.length; h++) {
      const header = headers[h] as RecordHeader | null | undefined;
      if (typeof header !== 'object' || header === null || typeof header.key !== 'string') {
        throw new InvalidRequestError(`record header ${h} must be { key: string, value: Uint8Array | null }`);
      }
      if (header.value !== null && !(header.value instanceof Uint8Array)) {
        throw new InvalidRequestError(`record header ${h} (${header.key}) value must be a Uint8Array or null`);
      }
    }
    return headers as RecordHeader[];
  }
  if (typeof headers !== 'object' || headers === null)
    throw new InvalidRequestError('record headers must be an object or a list of { key, value }');
  return Object.entries(headers as Record<string, Payload | null>).map(([key, value]) => ({
    key,
    value: toBytes(value, `header ${key}`),
  }));
}

/** Bytes a record takes in a batch, roughly (for batch and buffer limits). */
export function recordSize(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: RecordHeader[] | undefined,
): number {
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  if (headers !== undefined) for (const h of headers) size += h.key.length * 3 + (h.value?.length ?? 0) + 4;
  return size;
}

export function checkRecord(record: ProducerRecord<unknown, unknown>): void {
  if (record === null || typeof record !== 'object')
    throw new InvalidRequestError(
      'send needs a record object { topic, value, key?, headers?, partition?, timestamp? }',
    );
  if (typeof record.topic !== 'string' || record.topic.length === 0)
    throw new InvalidRequestError('record topic must be a non-empty string');
  if (record.partition !== undefined && (!Number.isSafeInteger(record.partition) || record.partition < 0)) {
    throw new InvalidRequestError(`record partition must be a non-negative integer, got ${record.partition}`, {
      context: { topic: record.topic },
    });
  }
  if (record.timestamp !== undefined && !Number.isSafeInteger(record.timestamp)) {
    throw new InvalidRequestError(`record timestamp must be a safe integer (ms), got ${record.timestamp}`, {
      context: { topic: record.topic },
    });
  }
}
