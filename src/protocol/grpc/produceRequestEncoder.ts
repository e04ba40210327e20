/**
 * The producer's encoder of a one-partition Produce request: the RecordBatch
 * is encoded straight into the request message, between the fields the
 * generated encoder writes around it, so the batch is never copied.
 *
 * Why: the generated encoder copies the batch (up to several MiB) into a
 * fresh buffer, and grpc-js copies that into its frame; with a 1 MiB batch
 * per request those copies, and the garbage collections their memory set
 * off, were a tenth of the producer's CPU per record.
 *
 * The bytes (before any padding) are exactly `ProduceRequest.encode(request).finish()`'s: the
 * generated encoder writes acks (1), producerId (2), producerEpoch (3), the
 * partitions (4), then timeoutMs (5); the parts before and after the
 * partition are taken from the generated encoder itself, the partition's own
 * head (topic, partition) too, and only the batch field's tag and length are
 * written here.
 *
 * From a RecordBatchBuilder, whose records are already encoded, the records
 * section is copied into the message once and the header written around it;
 * an already encoded batch (a retry under new producer fields) is copied whole.
 *
 * The request object handed to the generated client carries the encoded
 * message under {@link PRE_ENCODED}; the service definition's serializer
 * (serviceDefinition.ts) sends those bytes as they are.
 *
 * The message's buffer comes from an allocator: by default one of the
 * message's exact size; the producer's gives reused buffers of a size class,
 * and the message then ends with ProduceRequest.padding up to the buffer's end.
 */
import { encodeRecordBatchInto, type BatchTarget, type EncodeOptions } from '../codec/recordBatchEncoder.js';
import { RecordBatchBuilder } from '../codec/recordBatchBuilder.js';
import { ProducePartitionData, ProduceRequest, type AckMode } from '../generated/streamhouse.js';
import type { RecordInput } from '../codec/record.js';
import { varintSize, writeVarint } from './protobufVarint.js';
import { MIN_PADDING_BYTES, writePadding } from './messagePadding.js';

/** The key under which a request object carries its already encoded message. */
export const PRE_ENCODED: unique symbol = Symbol('streamhouse.preEncodedMessage');

/** A request object with its encoded message attached. */
export type PreEncoded<T> = T & { readonly [PRE_ENCODED]: Uint8Array };

/** Whether `value` carries an encoded message (see {@link PRE_ENCODED}). */
export function isPreEncoded(value: unknown): value is PreEncoded<object> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Partial<PreEncoded<object>>)[PRE_ENCODED] instanceof Uint8Array
  );
}

/** The fields of a one-partition Produce request besides its batch. */
export type ProduceEnvelope = {
  acks: AckMode;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  topic: string;
  partition: number;
};

/**
 * Gives the buffer for a message of `minimum` bytes: one that fills its own
 * ArrayBuffer (so gRPC sends it without a copy), `minimum` bytes long or at
 * least {@link MIN_PADDING_BYTES} longer (the rest becomes padding).
 */
export type MessageAllocator = (minimum: number) => Buffer;

/**
 * A fresh buffer of the message's size. Unpooled, so the message fills its ArrayBuffer and Buffer.from of that is a
 * view.
 */
export const exactMessageBuffer: MessageAllocator = (minimum) => Buffer.allocUnsafeSlow(minimum);

/** Tag of ProduceRequest.partitions (field 4, length-delimited). */
const PARTITIONS_TAG = (4 << 3) | 2;
/** Tag of ProducePartitionData.batch (field 3, length-delimited). */
const BATCH_TAG = (3 << 3) | 2;
const NO_BYTES = Buffer.alloc(0);

/**
 * Encodes `source` as one RecordBatch inside a Produce request for
 * `envelope`: a list of records (encoded like encodeRecordBatch, with the
 * same options and errors) or a RecordBatchBuilder the records were appended
 * to (finished like RecordBatchBuilder.finishInto; the builder is not
 * changed). Both give the same bytes for the same records. Or an encoded
 * batch, copied as it is (`options` then unused): the caller stamps the copy.
 *
 * Returns the request to pass to the client, its encoded message (the buffer
 * `allocate` gave, which the message fills, padding included), and the batch
 * as a view into the message.
 * @throws RangeError when `allocate` breaks its contract.
 */
export function encodeProduceRequest(
  envelope: ProduceEnvelope,
  source: readonly RecordInput[] | RecordBatchBuilder | Uint8Array,
  options: EncodeOptions,
  allocateMessage: MessageAllocator = exactMessageBuffer,
): { request: PreEncoded<ProduceRequest>; message: Buffer; batch: Buffer } {
  const { acks, producerId, producerEpoch, timeoutMs, topic, partition } = envelope;
  const head = ProduceRequest.encode({
    acks,
    producerId,
    producerEpoch,
    partitions: [],
    timeoutMs: 0,
    padding: NO_BYTES,
  }).finish();
  const tail = ProduceRequest.encode({
    acks: 0,
    producerId: 0,
    producerEpoch: 0,
    partitions: [],
    timeoutMs,
    padding: NO_BYTES,
  }).finish();
  const partitionHead = ProducePartitionData.encode({ topic, partition, batch: NO_BYTES }).finish();
  let message: Buffer | undefined;
  const allocate = (batchSize: number): BatchTarget => {
    const inner = partitionHead.length + 1 + varintSize(batchSize) + batchSize;
    const total = head.length + 1 + varintSize(inner) + inner + tail.length;
    message = allocateMessage(total);
    checkMessageBuffer(message, total);
    message.set(head, 0);
    let position = head.length;
    message[position++] = PARTITIONS_TAG;
    position = writeVarint(message, position, inner);
    message.set(partitionHead, position);
    position += partitionHead.length;
    message[position++] = BATCH_TAG;
    position = writeVarint(message, position, batchSize);
    message.set(tail, position + batchSize);
    writePadding(message, total, message.length);
    return { buffer: message, offset: position };
  };
  const { offset, length } =
    source instanceof RecordBatchBuilder
      ? source.finishInto(options, allocate)
      : source instanceof Uint8Array
        ? copyBatchInto(source, allocate)
        : encodeRecordBatchInto(source, options, allocate);
  const bytes = message!;
  const batch = bytes.subarray(offset, offset + length);
  const request: PreEncoded<ProduceRequest> = {
    acks,
    producerId,
    producerEpoch,
    timeoutMs,
    partitions: [{ topic, partition, batch }],
    padding: NO_BYTES,
    [PRE_ENCODED]: bytes,
  };
  return { request, message: bytes, batch };
}

function copyBatchInto(batch: Uint8Array, allocate: (size: number) => BatchTarget): { offset: number; length: number } {
  const { buffer, offset } = allocate(batch.length);
  buffer.set(batch, offset);
  return { offset, length: batch.length };
}

function checkMessageBuffer(message: Buffer, minimum: number): void {
  const fillsItsArrayBuffer = message.byteOffset === 0 && message.buffer.byteLength === message.length;
  const paddable = message.length === minimum || message.length >= minimum + MIN_PADDING_BYTES;
  if (!fillsItsArrayBuffer || !paddable) {
    throw new RangeError(
      `the allocator gave ${message.length} bytes (at ${message.byteOffset} of ${message.buffer.byteLength}) for a ` +
        `message of ${minimum}: ` +
        `it must fill its ArrayBuffer and be ${minimum} or at least ${minimum + MIN_PADDING_BYTES} bytes long`,
    );
  }
}
