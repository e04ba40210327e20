/**
 * Produce: validates each partition's batch (topic, partition, size, then
 * frame, CRC and every record in one pass, producer fields), then hands it to
 * the partition's writer and answers per partition. A refused batch writes
 * nothing.
 */
import {
  AckMode,
  type ProducePartitionData,
  type ProducePartitionResult,
  type ProduceRequest,
  type ProduceResponse,
} from '../../protocol/generated/streamhouse.js';
import { readProducerFields } from '../../protocol/codec/batchLayout.js';
import { validateProducedBatch, type ProducedBatchLimits } from '../../protocol/codec/producedBatchValidation.js';
import {
  InvalidRequestError,
  RecordTooLargeError,
  UnknownTopicOrPartitionError,
  toErrorInfo,
} from '../../protocol/errors.js';
import { ErrorCode } from '../../protocol/generated/streamhouse.js';
import type { AckKind, AppendResult, PartitionWriter } from './partitionWriter.js';
import type { TopicInfo } from '../../metadata/metadataStore.js';

/** What the produce handler needs from the agent. */
export type ProduceContext = {
  topic(name: string): Promise<TopicInfo | undefined>;
  writer(topic: string, partition: number): Promise<PartitionWriter>;
  bufferedAcksEnabled: boolean;
  /** Bounds every produced batch must keep, as of now. */
  batchLimits(): ProducedBatchLimits;
};

const ACKS: ReadonlyMap<number, AckKind> = new Map<number, AckKind>([
  [AckMode.ACK_MODE_DURABLE, 'durable'],
  [AckMode.ACK_MODE_BUFFERED, 'buffered'],
  [AckMode.ACK_MODE_NONE, 'none'],
]);

export async function handleProduce(ctx: ProduceContext, request: ProduceRequest): Promise<ProduceResponse> {
  const ack = ACKS.get(request.acks);
  if (ack === undefined) throw new InvalidRequestError(`unknown acks mode ${request.acks}`);
  if (ack === 'buffered' && !ctx.bufferedAcksEnabled) {
    throw new InvalidRequestError(
      'buffered acks need an agent with a write-ahead log (serve without --no-wal, or the walDir option)',
    );
  }
  if (request.partitions.length === 0) throw new InvalidRequestError('produce request carries no partitions');
  const results = await Promise.all(request.partitions.map((data) => producePartition(ctx, request, data, ack)));
  return { results };
}

async function producePartition(
  ctx: ProduceContext,
  request: ProduceRequest,
  data: ProducePartitionData,
  ack: AckKind,
): Promise<ProducePartitionResult> {
  const base = { topic: data.topic, partition: data.partition };
  try {
    const result = await appendBatch(ctx, request, data, ack);
    return {
      ...base,
      error: undefined,
      baseOffset: result.baseOffset,
      recordCount: result.recordCount,
      appendTimeMs: result.appendTime,
      logStartOffset: result.logStartOffset,
    };
  } catch (error) {
    const info = toErrorInfo(error);
    return {
      ...base,
      error: info.code === ErrorCode.NONE ? undefined : info,
      baseOffset: -1,
      recordCount: 0,
      appendTimeMs: 0,
      logStartOffset: -1,
    };
  }
}

async function appendBatch(
  ctx: ProduceContext,
  request: ProduceRequest,
  data: ProducePartitionData,
  ack: AckKind,
): Promise<AppendResult> {
  const context = { topic: data.topic, partition: data.partition };
  const topic = await ctx.topic(data.topic);
  if (topic === undefined || data.partition >= topic.partitions) {
    throw new UnknownTopicOrPartitionError(`no partition ${data.topic}/${data.partition}`, { context });
  }
  const batch = data.batch;
  if (batch.length > topic.config.maxMessageBytes) {
    throw new RecordTooLargeError(
      `batch of ${batch.length} bytes exceeds max.message.bytes ${topic.config.maxMessageBytes} of topic ${data.topic}`,
      { context },
    );
  }
  const frame = validateProducedBatch(batch, ctx.batchLimits());
  const { producerId, producerEpoch, baseSequence } = readProducerFields(batch);
  if (producerId !== request.producerId) {
    throw new InvalidRequestError(`batch producerId ${producerId} differs from the request's ${request.producerId}`, {
      context,
    });
  }
  if (producerId >= 0 && (producerEpoch !== request.producerEpoch || baseSequence < 0)) {
    throw new InvalidRequestError(
      `idempotent batch needs the request's epoch ${request.producerEpoch} and a sequence, got epoch ` +
        `${producerEpoch} sequence ${baseSequence}`,
      { context },
    );
  }
  const writer = await ctx.writer(data.topic, data.partition);
  return writer.append({ batch, frame, producerId, producerEpoch, baseSequence, ack });
}
