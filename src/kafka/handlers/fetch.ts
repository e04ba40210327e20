/**
 * Fetch and ListOffsets. Fetch passes stored batches through as they are;
 * the last stable offset is the high watermark (there are no transactions).
 * Fetch sessions are not kept: every answer has session id 0, so clients
 * send full fetches. From v13 topics are named by id (see topicIds.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  FetchResponse as ProtoFetchResponse,
  ListOffsetsResponse as ProtoListOffsetsResponse,
  OffsetSpec,
} from '../../protocol/generated/streamhouse.js';
import type { FetchRequest } from '../generated/fetchRequest.js';
import type { FetchResponseInit, FetchResponsePartitionDataInit } from '../generated/fetchResponse.js';
import type { ListOffsetsRequest } from '../generated/listOffsetsRequest.js';
import type {
  ListOffsetsResponseInit,
  ListOffsetsResponseListOffsetsPartitionResponseInit,
} from '../generated/listOffsetsResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { KafkaErrorCode, kafkaErrorCode, kafkaErrorCodeOfInfo } from '../kafkaErrors.js';
import { EMPTY_BYTES } from '../wire/fieldHelpers.js';
import { callContext } from './callService.js';

export async function handleFetch(
  ctx: KafkaContext,
  request: FetchRequest,
  info: RequestInfo,
): Promise<FetchResponseInit> {
  // v13+ names topics by id; an id of no topic answers UNKNOWN_TOPIC_ID for each of its partitions.
  const names: (string | undefined)[] =
    info.version >= 13
      ? await ctx.topicIds.names(request.topics.map((t) => t.topicId))
      : request.topics.map((t) => t.topic);
  const asked = request.topics.flatMap((t, i) =>
    t.partitions.map((p) => ({
      topic: names[i],
      partition: p.partition,
      offset: p.fetchOffset,
      maxBytes: Math.max(1, p.partitionMaxBytes),
    })),
  );
  const maxWaitMs = Math.max(0, request.maxWaitMs);
  if (asked.length === 0) {
    // Nothing to fetch (a client's idle fetch): answer after its wait, as a broker would.
    const release = maxWaitMs > 0 ? ctx.longPolls?.acquire() : undefined;
    if (maxWaitMs > 0 && ctx.longPolls !== undefined && release === undefined) return { responses: [] };
    await sleep(maxWaitMs, undefined, { signal: info.signal }).catch(() => undefined);
    release?.();
    return { responses: [] };
  }
  // One answer per partition asked, in request order; `served` are the indexes of those of known topics.
  const results: FetchResponsePartitionDataInit[] = new Array(asked.length);
  const served: number[] = [];
  asked.forEach((p, index) => {
    if (p.topic === undefined) results[index] = failed(p.partition, KafkaErrorCode.UNKNOWN_TOPIC_ID);
    else served.push(index);
  });
  const partitions = served.map((index) => ({ ...asked[index]!, topic: asked[index]!.topic! }));
  const invalid = partitions.find((p) => p.partition < 0 || p.offset < 0);
  if (invalid !== undefined) {
    partitions.forEach((p, k) => {
      results[served[k]!] = failed(
        p.partition,
        p === invalid ? KafkaErrorCode.OFFSET_OUT_OF_RANGE : KafkaErrorCode.NONE,
      );
    });
  } else if (partitions.length > 0) {
    try {
      const response = ProtoFetchResponse.fromPartial(
        await ctx.service.fetch(
          {
            partitions,
            maxWaitMs,
            minBytes: Math.max(0, request.minBytes),
            maxBytes: Math.max(request.maxBytes, 0),
          },
          callContext(info.signal, info.principal),
        ),
      );
      partitions.forEach((p, k) => {
        const r = response.results[k];
        results[served[k]!] =
          r === undefined
            ? failed(p.partition, KafkaErrorCode.UNKNOWN_SERVER_ERROR)
            : {
                partitionIndex: p.partition,
                errorCode: kafkaErrorCodeOfInfo(r.error),
                highWatermark: r.highWatermark,
                lastStableOffset: r.highWatermark,
                logStartOffset: r.logStartOffset,
                abortedTransactions: null,
                records: r.records.length > 0 ? r.records : EMPTY_BYTES,
              };
      });
    } catch (error) {
      const code = kafkaErrorCode(error);
      partitions.forEach((p, k) => {
        results[served[k]!] = failed(p.partition, code);
      });
    }
  }
  let i = 0;
  return {
    responses: request.topics.map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map(() => results[i++]!),
    })),
  };
}

function failed(partition: number, errorCode: number): FetchResponsePartitionDataInit {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: null,
    records: EMPTY_BYTES,
  };
}

const LATEST = -1;
const EARLIEST = -2;

export async function handleListOffsets(
  ctx: KafkaContext,
  request: ListOffsetsRequest,
  info: RequestInfo,
): Promise<ListOffsetsResponseInit> {
  const asked = request.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, timestamp: p.timestamp })),
  );
  const results: ListOffsetsResponseListOffsetsPartitionResponseInit[] = new Array(asked.length);
  const valid: { index: number; spec: OffsetSpec }[] = [];
  asked.forEach((p, index) => {
    const spec =
      p.timestamp === LATEST
        ? OffsetSpec.OFFSET_SPEC_LATEST
        : p.timestamp === EARLIEST
          ? OffsetSpec.OFFSET_SPEC_EARLIEST
          : p.timestamp >= 0
            ? OffsetSpec.OFFSET_SPEC_TIMESTAMP
            : undefined;
    if (spec === undefined || p.partition < 0) {
      results[index] = {
        partitionIndex: p.partition,
        errorCode: p.partition < 0 ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : KafkaErrorCode.INVALID_REQUEST,
        timestamp: -1,
        offset: -1,
      };
    } else {
      valid.push({ index, spec });
    }
  });
  if (valid.length > 0) {
    try {
      const response = ProtoListOffsetsResponse.fromPartial(
        await ctx.service.listOffsets(
          {
            partitions: valid.map(({ index, spec }) => ({
              topic: asked[index]!.topic,
              partition: asked[index]!.partition,
              spec,
              timestampMs: Math.max(0, asked[index]!.timestamp),
            })),
          },
          callContext(info.signal, info.principal),
        ),
      );
      valid.forEach(({ index }, i) => {
        const r = response.results[i];
        const errorCode = r === undefined ? KafkaErrorCode.UNKNOWN_SERVER_ERROR : kafkaErrorCodeOfInfo(r.error);
        results[index] = {
          partitionIndex: asked[index]!.partition,
          errorCode,
          timestamp: r?.timestampMs ?? -1,
          offset: errorCode === 0 ? (r?.offset ?? -1) : -1,
          oldStyleOffsets: [],
        };
      });
    } catch (error) {
      for (const { index } of valid)
        results[index] = {
          partitionIndex: asked[index]!.partition,
          errorCode: kafkaErrorCode(error),
          timestamp: -1,
          offset: -1,
        };
    }
  }
  let i = 0;
  return { topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map(() => results[i++]!) })) };
}
