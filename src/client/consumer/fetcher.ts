/**
 * The I/O half of fetching: one Fetch RPC to one agent for several
 * partitions, and the batches of consumer records in its answer.
 *
 * Decoding waits until a batch is delivered: at fetch time only the batch
 * headers are read (to know whether records at or after the asked offset are
 * there and where the next fetch starts), so the prefetch buffer holds the
 * received bytes rather than a graph of record objects, and those objects are
 * short-lived garbage.
 */
import type { Observable } from 'rxjs';
import { readBatchFrames } from '../../protocol/codec/batchLayout.js';
import { fromErrorInfo } from '../../protocol/errors.js';
import type { FetchPartitionResult } from '../../protocol/generated/streamhouse.js';
import { checkRecordBatch, type RecordCursor } from '../../protocol/codec/recordBatchDecoder.js';
import { fromAbortable } from '../fromAbortable.js';
import { callAgent, type AgentCallContext } from '../cluster/agentCall.js';
import type { AckWindow } from './ackWindow.js';
import { ConsumedRecord, bindRecord } from './consumedRecord.js';
import type { ConsumerBatch, ConsumerRecord } from './consumerTypes.js';
import type { FetchTarget, PartitionFetchResult } from './fetchTypes.js';
import type { DroppedRecord, RecordDecoder } from '../serde/recordDecoder.js';

/** Options of {@link createFetch}. */
export type FetcherOptions = AgentCallContext & {
  /** Long-poll wait, ms. */
  maxWaitMs: number;
  /** Bytes the agent waits for. */
  minBytes: number;
  /** Bytes of the whole response. */
  maxBytes: number;
  /** Bytes per partition. */
  maxPartitionBytes: number;
  /** Timeout on top of the long-poll wait, ms. */
  requestTimeoutMs: number;
  /** Deserialises keys and values; undefined: records carry the fetched bytes. */
  decoder?: RecordDecoder | undefined;
};

/**
 * A fetch function for the FetchPipeline: unsubscribing cancels the call;
 * per-partition errors come back in the results as typed errors, a failure
 * of the whole call (transport, timeout) as the Observable's error.
 */
export function createFetch(
  options: FetcherOptions,
): (address: string, targets: FetchTarget[]) => Observable<PartitionFetchResult[]> {
  const { maxWaitMs, minBytes, maxBytes, maxPartitionBytes, requestTimeoutMs, decoder } = options;
  return (address, targets) =>
    fromAbortable(async (signal) => {
      const request = {
        partitions: targets.map(({ topic, partition, offset }) => ({
          topic,
          partition,
          offset,
          maxBytes: maxPartitionBytes,
        })),
        maxWaitMs,
        minBytes,
        maxBytes,
      };
      const response = await callAgent(
        options,
        address,
        'fetch',
        maxWaitMs + requestTimeoutMs,
        signal,
        (client, combined) => client.fetch(request, { signal: combined }),
      );
      const offsets = new Map(targets.map((t) => [`${t.partition}:${t.topic}`, t.offset]));
      return response.results.map((result) =>
        toPartitionResult(result, offsets.get(`${result.partition}:${result.topic}`) ?? 0, decoder),
      );
    });
}

/** One partition's result: its error, or its records (decoded on first read) and where the next fetch starts. */
export function toPartitionResult(
  result: FetchPartitionResult,
  fromOffset: number,
  decoder?: RecordDecoder,
): PartitionFetchResult {
  const { topic, partition, highWatermark } = result;
  const error = fromErrorInfo(result.error, { topic, partition, offset: fromOffset });
  if (error !== undefined) return { topic, partition, nextOffset: fromOffset, highWatermark, error };
  let nextOffset = fromOffset;
  let hasRecords = false;
  try {
    for (const frame of readBatchFrames(result.records)) {
      if (frame.recordCount > 0 && frame.nextOffset > fromOffset) hasRecords = true;
      if (frame.nextOffset > nextOffset) nextOffset = frame.nextOffset;
    }
  } catch (cause) {
    return { topic, partition, nextOffset: fromOffset, highWatermark, error: cause };
  }
  if (!hasRecords) return { topic, partition, nextOffset, highWatermark };
  const batch = new FetchedBatch(topic, partition, fromOffset, nextOffset, highWatermark, result.records, decoder);
  return { topic, partition, batch, nextOffset, highWatermark };
}

/** A ConsumerBatch over received bytes, decoded once, when first read. */
class FetchedBatch implements ConsumerBatch {
  private decoded: ConsumerRecord[] | undefined;
  /** The window its records were delivered in (explicit ack mode). */
  ackWindow: AckWindow | undefined = undefined;
  /**
   * With a decoder: records left out because they did not deserialise, filled
   * as records are built (with `dropsBad` false, only the first: decoding stops there).
   */
  readonly dropped: DroppedRecord[] | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly fromOffset: number,
    readonly nextOffset: number,
    readonly highWatermark: number,
    private bytes: Uint8Array | undefined,
    private readonly decoder: RecordDecoder | undefined,
  ) {
    this.dropped = decoder === undefined ? undefined : [];
  }

  get records(): ConsumerRecord[] {
    if (this.decoded === undefined) {
      const { topic, partition, fromOffset, decoder, dropped } = this;
      this.decoded = decodeFetchedRecords(topic, partition, fromOffset, this.bytes!, decoder, dropped);
      // The records keep views on the bytes; the batch itself no longer needs them.
      this.bytes = undefined;
    }
    return this.decoded;
  }

  get firstOffset(): number {
    return this.records[0]!.offset;
  }

  get lastOffset(): number {
    const { records } = this;
    return records[records.length - 1]!.offset;
  }

  ack(): void {
    this.ackWindow?.ackRange(this.firstOffset, this.lastOffset);
  }

  /** See {@link streamRecords}. */
  stream(): RecordStream {
    if (this.decoded !== undefined) return arrayStream(this.decoded);
    const { topic, partition, fromOffset, decoder } = this;
    const cursors = checkFetchedBatches(this.bytes!);
    let current = 0;
    return () => {
      for (; current < cursors.length; current++) {
        const cursor = cursors[current]!;
        while (cursor.next()) {
          if (cursor.offset < fromOffset) continue;
          // Records are streamed only without a decoder (the consumer decodes whole batches then).
          const record = toRecord(topic, partition, cursor, decoder, undefined);
          if (record !== undefined) return record;
        }
      }
      return undefined;
    };
  }
}

/**
 * Ties every record of a batch to `window` before the batch is delivered
 * (explicit ack mode), so `record.ack()` and `batch.ack()` reach it.
 */
export function bindBatch(batch: ConsumerBatch, window: AckWindow): void {
  if (batch instanceof FetchedBatch) batch.ackWindow = window;
  for (const record of batch.records) bindRecord(record, window);
}

/** Hands out a batch's records one at a time: the next one, or undefined after the last. */
export type RecordStream = () => ConsumerRecord | undefined;

/**
 * The batch's records one at a time, each built when it is taken, for a
 * reader that hands every record on at once (`records$`): the records then
 * die young, one by one, instead of a whole batch of them living until its
 * last one is delivered, which is what made the garbage collector copy and
 * promote them. The same records as `batch.records`, and the same errors
 * before the first record: every stored batch of the fetch is checked
 * whole before anything is handed out. A batch that is not a fetched one, or
 * whose records were read already, is streamed from `records`.
 */
export function streamRecords(batch: ConsumerBatch): RecordStream {
  return batch instanceof FetchedBatch ? batch.stream() : arrayStream(batch.records);
}

/**
 * Records of the batch left out so far because they did not deserialise (see RecordDecoder); none for other batches.
 */
export function droppedRecords(batch: ConsumerBatch): readonly DroppedRecord[] {
  return batch instanceof FetchedBatch && batch.dropped !== undefined ? batch.dropped : NONE_DROPPED;
}

const NONE_DROPPED: readonly DroppedRecord[] = Object.freeze([]);

function arrayStream(records: readonly ConsumerRecord[]): RecordStream {
  let index = 0;
  return () => (index < records.length ? records[index++] : undefined);
}

/** The records at or after `fromOffset` in concatenated stored batches. */
export function decodeFetchedRecords(
  topic: string,
  partition: number,
  fromOffset: number,
  bytes: Uint8Array,
  decoder?: RecordDecoder,
  dropped?: DroppedRecord[],
): ConsumerRecord[] {
  const cursors = checkFetchedBatches(bytes);
  let total = 0;
  for (const cursor of cursors) total += cursor.count;
  // Sized once: this loop runs for every record consumed.
  const records = new Array<ConsumerRecord>(total);
  let n = 0;
  decoding: for (const cursor of cursors) {
    while (cursor.next()) {
      if (cursor.offset < fromOffset) continue;
      const record = toRecord(topic, partition, cursor, decoder, dropped);
      if (record !== undefined) records[n++] = record;
      else if (!decoder!.dropsBad) break decoding;
    }
  }
  if (n < total) records.length = n;
  return records;
}

/** Checks every batch of `bytes` (see decodeRecordBatch for the errors); a cursor over each one's records. */
function checkFetchedBatches(bytes: Uint8Array): RecordCursor[] {
  const cursors: RecordCursor[] = [];
  for (let position = 0; position < bytes.length; ) {
    const { frame, cursor } = checkRecordBatch(bytes, position);
    cursors.push(cursor);
    position += frame.size;
  }
  return cursors;
}

/**
 * The consumer record at the cursor, built straight from it (no intermediate
 * DecodedRecord); with a decoder, deserialised (undefined: dropped).
 */
function toRecord(
  topic: string,
  partition: number,
  cursor: RecordCursor,
  decoder: RecordDecoder | undefined,
  dropped: DroppedRecord[] | undefined,
): ConsumerRecord | undefined {
  if (decoder !== undefined) return decoder.decode(topic, partition, cursor, dropped);
  return new ConsumedRecord(
    topic,
    partition,
    cursor.offset,
    cursor.key,
    cursor.value,
    cursor.headers,
    cursor.timestamp,
  );
}
