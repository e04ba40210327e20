/**
 * How both backends keep producer states: the last batch in fields of its
 * own (the layout of the first version, still read as is) and the batches
 * before it as one JSON array of `[lastSequence, baseOffset, recordCount]`
 * triples, oldest first; plus the bound on expiry work per commit.
 * @internal
 */
import { MetadataError } from '../protocol/errors.js';
import type { ProducerBatchState, ProducerPartitionState } from './metadataStore.js';

/** Batches kept per producer and partition, the last included (Kafka: 5 requests in flight). */
export const MAX_PRODUCER_BATCHES = 5;

/** Expired states one commit removes beyond the number it writes (see CommitSegmentRequest.producerIdExpirationMs). */
export const EXPIRED_STATES_PER_COMMIT = 100;

/** How many expired states a commit writing `written` states removes at most. */
export function expiryLimit(written: number): number {
  return written + EXPIRED_STATES_PER_COMMIT;
}

/** One batch as stored. */
export type BatchTriple = [lastSequence: number, baseOffset: number, recordCount: number];

/** A state's earlier batches as stored triples (empty when none). */
export function earlierTriples(state: ProducerPartitionState): BatchTriple[] {
  return (state.earlierBatches ?? []).map((b): BatchTriple => [b.lastSequence, b.baseOffset, b.recordCount]);
}

/** Earlier batches from stored triples; undefined (omitted) when none or absent; MetadataError when malformed. */
export function batchesFromTriples(triples: unknown): ProducerBatchState[] | undefined {
  if (triples === undefined || triples === null) return undefined;
  if (!Array.isArray(triples) || !triples.every(isTriple)) {
    throw new MetadataError(
      `stored producer batches ${JSON.stringify(triples).slice(0, 100)} are not [lastSequence, baseOffset, ` +
        `recordCount] triples`,
    );
  }
  return triples.length === 0
    ? undefined
    : triples.map(([lastSequence, baseOffset, recordCount]) => ({ lastSequence, baseOffset, recordCount }));
}

/** The stored text of a state's earlier batches (SQLite column; '[]' when none). */
export function encodeEarlierBatches(state: ProducerPartitionState): string {
  return JSON.stringify(earlierTriples(state));
}

/** Earlier batches from their stored text (SQLite column). */
export function decodeEarlierBatches(text: string): ProducerBatchState[] | undefined {
  if (text === '[]') return undefined;
  try {
    return batchesFromTriples(JSON.parse(text));
  } catch (cause) {
    if (cause instanceof MetadataError) throw cause;
    throw new MetadataError('stored producer batches are not valid JSON', { cause });
  }
}

function isTriple(value: unknown): value is BatchTriple {
  return Array.isArray(value) && value.length === 3 && value.every((n) => Number.isSafeInteger(n));
}
