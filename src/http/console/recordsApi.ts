/**
 * The console's message browser: a page of a partition's records from an
 * offset, a timestamp or (by default) the last ones, and producing one test
 * record. Reads stop at the high watermark of when the read began.
 */
import type { StreamHouseClient } from '../../client/agentClient.js';
import { partitionForKey } from '../../client/partitioners/keyHashPartitioner.js';
import { parseJsonLine } from '../../cli/recordLines.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../protocol/codec/recordBatch.js';
import {
  fromErrorInfo,
  InvalidRecordError,
  InvalidRequestError,
  OffsetOutOfRangeError,
  UnknownTopicOrPartitionError,
} from '../../protocol/errors.js';
import { AckMode, OffsetSpec, type PartitionMetadata } from '../../protocol/generated/streamhouse.js';
import { integerField, objectBody, queryInteger } from './apiInput.js';

/** Records on a page unless `limit` says otherwise, and the most a page holds. */
export const DEFAULT_PAGE_RECORDS = 50;
export const MAX_PAGE_RECORDS = 500;
/** A page ends at the record bringing its keys, values and headers to this many bytes; one Fetch reads as much. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Most Fetch calls one page makes. */
const MAX_FETCHES = 16;

/** Bytes as JSON: their UTF-8 text when they are valid UTF-8, and always base64. */
export type BytesJson = { text: string | null; base64: string } | null;

export type RecordJson = {
  offset: number;
  timestamp: number;
  key: BytesJson;
  value: BytesJson;
  headers: { key: string; value: BytesJson }[];
};

export type RecordsPage = {
  topic: string;
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  /** Where the page starts, and the offset after its last record. */
  startOffset: number;
  nextOffset: number;
  records: RecordJson[];
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesJson(bytes: Uint8Array | null): BytesJson {
  if (bytes === null) return null;
  let text: string | null;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = null;
  }
  return { text, base64: Buffer.from(bytes).toString('base64') };
}

/** The partition's metadata; UnknownTopicOrPartitionError for a topic or partition that does not exist. */
async function partitionOf(client: StreamHouseClient, topic: string, partition: number): Promise<PartitionMetadata> {
  const { topics } = await client.metadata({ topics: [topic] });
  const failure = fromErrorInfo(topics[0]?.error, { topic });
  if (failure !== undefined) throw failure;
  const found = topics[0]?.partitions.find((p) => p.partition === partition);
  if (found === undefined) {
    throw new UnknownTopicOrPartitionError(
      `topic ${topic} has ${topics[0]?.partitions.length ?? 0} partitions; there is no partition ${partition}`,
      { context: { topic, partition } },
    );
  }
  return found;
}

/** Query: `offset` or `timestamp` (ms), not both; `limit` records (1 to MAX_PAGE_RECORDS). */
export async function readRecords(
  client: StreamHouseClient,
  topic: string,
  partition: number,
  url: URL,
): Promise<RecordsPage> {
  const limit = queryInteger(url, 'limit', DEFAULT_PAGE_RECORDS, MAX_PAGE_RECORDS);
  if (limit === 0) throw new InvalidRequestError(`limit must be from 1 to ${MAX_PAGE_RECORDS}`);
  const offset = url.searchParams.has('offset') ? queryInteger(url, 'offset', 0) : undefined;
  const timestamp = url.searchParams.has('timestamp') ? queryInteger(url, 'timestamp', 0) : undefined;
  if (offset !== undefined && timestamp !== undefined)
    throw new InvalidRequestError('give offset or timestamp, not both');
  const meta = await partitionOf(client, topic, partition);
  const { logStartOffset, highWatermark } = meta;
  let start: number;
  if (timestamp !== undefined) {
    const { results } = await client.listOffsets({
      partitions: [{ topic, partition, spec: OffsetSpec.OFFSET_SPEC_TIMESTAMP, timestampMs: timestamp }],
    });
    const failure = fromErrorInfo(results[0]?.error, { topic, partition });
    if (failure !== undefined) throw failure;
    // A timestamp after every record: nothing to show yet.
    start = results[0]!.offset < 0 ? highWatermark : results[0]!.offset;
  } else if (offset !== undefined) {
    if (offset < logStartOffset || offset > highWatermark) {
      throw new OffsetOutOfRangeError(
        `offset ${offset} is outside ${topic}/${partition}'s offsets ${logStartOffset} to ${highWatermark}`,
        { context: { topic, partition } },
      );
    }
    start = offset;
  } else {
    start = Math.max(logStartOffset, highWatermark - limit);
  }
  const records: RecordJson[] = [];
  let position = start;
  let pageBytes = 0;
  const full = () => records.length >= limit || pageBytes >= MAX_PAGE_BYTES;
  for (let i = 0; i < MAX_FETCHES && position < highWatermark && !full(); i++) {
    const { results } = await client.fetch({
      partitions: [{ topic, partition, offset: position, maxBytes: MAX_PAGE_BYTES }],
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: MAX_PAGE_BYTES,
    });
    const result = results[0];
    const failure = fromErrorInfo(result?.error, { topic, partition });
    if (failure !== undefined) throw failure;
    if (result === undefined || result.records.length === 0) break;
    batches: for (const batch of decodeRecordBatches(result.records)) {
      for (const record of batch.records) {
        if (record.offset < position) continue;
        if (record.offset >= highWatermark || full()) break batches;
        records.push({
          offset: record.offset,
          timestamp: record.timestamp,
          key: bytesJson(record.key),
          value: bytesJson(record.value),
          headers: record.headers.map((h) => ({ key: h.key, value: bytesJson(h.value) })),
        });
        position = record.offset + 1;
        pageBytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
        for (const header of record.headers) pageBytes += header.key.length + (header.value?.length ?? 0);
      }
      // Past the batch unless the page ended inside it.
      if (!full()) position = Math.min(highWatermark, Math.max(position, batch.nextOffset));
    }
  }
  return { topic, partition, logStartOffset, highWatermark, startOffset: start, nextOffset: position, records };
}

/**
 * Produces one record, durably: body `{key, value, headers, partition}` as a `produce --format json` line plus
 * the partition (default: by the key's hash, else 0). Answers where it landed.
 */
export async function produceRecord(
  client: StreamHouseClient,
  topic: string,
  body: unknown,
): Promise<{ topic: string; partition: number; offset: number }> {
  const { partition: _, ...record } = objectBody(body, ['key', 'value', 'headers', 'partition']);
  let parsed: ReturnType<typeof parseJsonLine>;
  try {
    parsed = parseJsonLine(JSON.stringify(record), 1, []);
  } catch (error) {
    // The CLI's rules, without its line number.
    if (error instanceof InvalidRecordError) throw new InvalidRecordError(error.message.replace(/^line 1: /, ''));
    throw error;
  }
  const { topics } = await client.metadata({ topics: [topic] });
  const failure = fromErrorInfo(topics[0]?.error, { topic });
  if (failure !== undefined) throw failure;
  const count = topics[0]?.partitions.length ?? 0;
  const asked = integerField(objectBody(body, ['key', 'value', 'headers', 'partition']), 'partition', 0);
  if (asked !== undefined && asked >= count) {
    throw new UnknownTopicOrPartitionError(`topic ${topic} has ${count} partitions; there is no partition ${asked}`, {
      context: { topic, partition: asked },
    });
  }
  const partition = asked ?? (parsed.key === null ? 0 : partitionForKey(parsed.key, count));
  const { results } = await client.produce({
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: -1,
    producerEpoch: -1,
    timeoutMs: 0,
    partitions: [{ topic, partition, batch: encodeRecordBatch([{ ...parsed, timestamp: Date.now() }]) }],
  });
  const refused = fromErrorInfo(results[0]?.error, { topic, partition });
  if (refused !== undefined) throw refused;
  return { topic, partition, offset: results[0]!.baseOffset };
}
