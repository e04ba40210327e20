/**
 * Produce: Kafka's acks become our ack modes (0 → none, 1 → buffered when
 * the agent has a write-ahead log else durable, -1 → durable); each
 * partition's records may hold several batches, sent in rounds (the k-th
 * batch of every partition in round k) so a partition's batches stay in
 * order. Per-partition errors carry Kafka's codes.
 */
import {
  AckMode,
  ProduceResponse as ProtoProduceResponse,
  type ProducePartitionData,
} from '../../protocol/generated/streamhouse.js';
import {
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BATCH_LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAGIC_V2,
  readProducerFields,
} from '../../protocol/codec/batchLayout.js';
import type { ProduceRequest } from '../generated/produceRequest.js';
import type { ProduceResponseInit, ProduceResponsePartitionProduceResponseInit } from '../generated/produceResponse.js';
import type { KafkaContext } from '../kafkaContext.js';
import type { RequestInfo } from '../api.js';
import { KafkaErrorCode, errorMessage, kafkaErrorCode, kafkaErrorCodeOfInfo } from '../kafkaErrors.js';
import { callContext } from './callService.js';

type PartitionSlot = {
  topic: string;
  partition: number;
  batches: Buffer[];
  result: ProduceResponsePartitionProduceResponseInit;
  failed: boolean;
};

/** Cuts a records field into its batches, or a Kafka error code when it is not a run of whole v2 batches. */
export function splitBatches(records: Buffer | null): Buffer[] | number {
  if (records === null || records.length === 0) return KafkaErrorCode.INVALID_REQUEST;
  const batches: Buffer[] = [];
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < MAGIC_OFFSET + 1) return KafkaErrorCode.CORRUPT_MESSAGE;
    if (records[pos + MAGIC_OFFSET] !== MAGIC_V2) return KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT;
    const size = BATCH_LOG_OVERHEAD + records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (size < BATCH_HEADER_SIZE || size > records.length - pos) return KafkaErrorCode.CORRUPT_MESSAGE;
    batches.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return batches;
}

function ackMode(acks: number, bufferedAcksEnabled: boolean): AckMode | undefined {
  if (acks === 0) return AckMode.ACK_MODE_NONE;
  if (acks === 1) return bufferedAcksEnabled ? AckMode.ACK_MODE_BUFFERED : AckMode.ACK_MODE_DURABLE;
  if (acks === -1) return AckMode.ACK_MODE_DURABLE;
  return undefined;
}

export async function handleProduce(
  ctx: KafkaContext,
  request: ProduceRequest,
  info: RequestInfo,
): Promise<ProduceResponseInit | undefined> {
  const acks = ackMode(request.acks, ctx.bufferedAcksEnabled);
  const slots: PartitionSlot[] = [];
  for (const topic of request.topicData) {
    for (const data of topic.partitionData) {
      const slot: PartitionSlot = {
        topic: topic.name,
        partition: data.index,
        batches: [],
        result: { index: data.index, errorCode: 0, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 },
        failed: false,
      };
      slots.push(slot);
      const batches = splitBatches(data.records);
      if (acks === undefined)
        fail(slot, KafkaErrorCode.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${request.acks}`);
      else if (request.transactionalId !== null)
        fail(slot, KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'transactions are not supported');
      else if (data.index < 0) fail(slot, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${data.index}`);
      else if (typeof batches === 'number') fail(slot, batches, 'records are not whole RecordBatch v2 batches');
      else slot.batches = batches;
    }
  }
  if (acks !== undefined) {
    for (let round = 0; ; round++) {
      const sending = slots.filter((s) => !s.failed && round < s.batches.length);
      if (sending.length === 0) break;
      await sendRound(ctx, sending, round, acks, request.timeoutMs, info.signal, info.principal);
    }
  }
  if (acks === AckMode.ACK_MODE_NONE) return undefined;
  const topics = new Map<string, ProduceResponsePartitionProduceResponseInit[]>();
  for (const slot of slots) {
    const list = topics.get(slot.topic) ?? [];
    list.push(slot.result);
    topics.set(slot.topic, list);
  }
  return { responses: [...topics].map(([name, partitionResponses]) => ({ name, partitionResponses })) };
}

function fail(slot: PartitionSlot, code: number, message: string): void {
  slot.failed = true;
  slot.result.errorCode = code;
  slot.result.errorMessage = message;
}

async function sendRound(
  ctx: KafkaContext,
  slots: PartitionSlot[],
  round: number,
  acks: AckMode,
  timeoutMs: number,
  signal: AbortSignal,
  principal: string | undefined,
): Promise<void> {
  const partitions: ProducePartitionData[] = slots.map((s) => ({
    topic: s.topic,
    partition: s.partition,
    batch: s.batches[round]!,
  }));
  try {
    // One Kafka producer per request: its id and epoch are those of the first batch (the agent checks each batch
    // agrees).
    const { producerId, producerEpoch } = readProducerFields(partitions[0]!.batch);
    const response = ProtoProduceResponse.fromPartial(
      await ctx.service.produce(
        { acks, producerId, producerEpoch, partitions, timeoutMs: Math.max(0, timeoutMs), padding: Buffer.alloc(0) },
        callContext(signal, principal),
      ),
    );
    slots.forEach((slot, i) => {
      const result = response.results[i];
      const code = kafkaErrorCodeOfInfo(result?.error);
      if (result === undefined || code !== KafkaErrorCode.NONE) {
        fail(
          slot,
          result === undefined ? KafkaErrorCode.UNKNOWN_SERVER_ERROR : code,
          result?.error?.message ?? 'no result',
        );
        return;
      }
      if (round === 0) slot.result.baseOffset = result.baseOffset;
      slot.result.logStartOffset = result.logStartOffset;
    });
  } catch (error) {
    for (const slot of slots) fail(slot, kafkaErrorCode(error), errorMessage(error));
  }
}
