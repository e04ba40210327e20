import { expect } from 'chai';
import { AckMode, ProduceRequest } from '../../../src/protocol/generated/streamhouse.js';
import {
  encodeProduceRequest,
  isPreEncoded,
  PRE_ENCODED,
  type ProduceEnvelope,
} from '../../../src/protocol/grpc/produceRequestEncoder.js';
import { readLengthDelimitedFields } from '../fixtures/protobufFields.js';
import { encodeRecordBatch, RecordBatchBuilder } from '../../../src/protocol/codec/recordBatch.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';
import type { RecordInput } from '../../../src/protocol/codec/record.js';
import { StreamHouseService } from '../../../src/protocol/grpc/serviceDefinition.js';
import { builderOf } from '../fixtures/batchTools.js';

function recordsOf(count: number, valueBytes: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.alloc(valueBytes, i),
    timestamp: 1_700_000_000_000 + i,
  }));
}

const envelopes: ProduceEnvelope[] = [
  {
    acks: AckMode.ACK_MODE_DURABLE,
    producerId: 12,
    producerEpoch: 3,
    timeoutMs: 30_000,
    topic: 'orders',
    partition: 5,
  },
  { acks: AckMode.ACK_MODE_DURABLE, producerId: -1, producerEpoch: -1, timeoutMs: 0, topic: 'ø-тема', partition: 0 },
  { acks: 0 as AckMode, producerId: 0, producerEpoch: 0, timeoutMs: 1, topic: 't', partition: 2 ** 31 },
  {
    acks: AckMode.ACK_MODE_NONE,
    producerId: 2 ** 53 - 1,
    producerEpoch: 32767,
    timeoutMs: 2 ** 32 - 1,
    topic: 'x'.repeat(300),
    partition: 127,
  },
];
// Batch sizes around the varint length boundaries of the batch and of the partition entry.
const shapes: Array<[number, number]> = [
  [1, 0],
  [1, 40],
  [3, 30],
  [1, 16_300],
  [2, 8_150],
  [100, 100],
  [9000, 100],
];

describe('protocol/encodeProduceRequest', () => {
  for (const [e, envelope] of envelopes.entries()) {
    for (const [count, valueBytes] of shapes) {
      it(`matches the generated encoder byte for byte (envelope ${e}, ${count} records of ${valueBytes} bytes)`, () => {
        const records = recordsOf(count, valueBytes);
        const options = { producerId: 9, producerEpoch: 1, baseSequence: 17 };
        const { request, message, batch } = encodeProduceRequest(envelope, records, options);
        const expectedBatch = encodeRecordBatch(records, options);
        expect(batch.equals(expectedBatch)).to.equal(true);
        expect(batch.buffer).to.equal(message.buffer); // the batch lives inside the message
        const { topic, partition, ...fields } = envelope;
        const generated = Buffer.from(
          ProduceRequest.encode({
            ...fields,
            partitions: [{ topic, partition, batch: expectedBatch }],
            padding: Buffer.alloc(0),
          }).finish(),
        );
        expect(message.equals(generated)).to.equal(true);
        expect(message.byteOffset).to.equal(0);
        expect(message.byteLength).to.equal(message.buffer.byteLength);
        expect(request[PRE_ENCODED]).to.equal(message);
        expect(request.partitions[0]!.batch).to.equal(batch);
      });
    }
  }

  for (const [e, envelope] of envelopes.entries()) {
    for (const [count, valueBytes] of shapes) {
      it(`gives one message from a RecordBatchBuilder or records (envelope ${e}, ${count} x ${valueBytes} B)`, () => {
        const records = recordsOf(count, valueBytes);
        const options = { producerId: 9, producerEpoch: 1, baseSequence: 17 };
        const fromRecords = encodeProduceRequest(envelope, records, options);
        const { request, message, batch } = encodeProduceRequest(envelope, builderOf(records, 256), options);
        expect(message.equals(fromRecords.message)).to.equal(true);
        expect(batch.equals(fromRecords.batch)).to.equal(true);
        expect(batch.buffer).to.equal(message.buffer);
        expect(message.byteOffset).to.equal(0);
        expect(message.byteLength).to.equal(message.buffer.byteLength);
        expect(request[PRE_ENCODED]).to.equal(message);
        expect(request.partitions[0]!.batch).to.equal(batch);
        const { [PRE_ENCODED]: _message, partitions, ...fields } = request;
        const {
          [PRE_ENCODED]: _expectedMessage,
          partitions: expectedPartitions,
          ...expectedFields
        } = fromRecords.request;
        expect(fields).to.deep.equal(expectedFields);
        expect(partitions.map(({ topic, partition }) => ({ topic, partition }))).to.deep.equal(
          expectedPartitions.map(({ topic, partition }) => ({ topic, partition })),
        );
      });
    }
  }

  for (const [e, envelope] of envelopes.entries()) {
    it(`copies an encoded batch whole into another envelope's request, as the generated encoder (${e})`, () => {
      const sent = encodeProduceRequest(envelopes[0]!, recordsOf(100, 100), {
        producerId: 12,
        producerEpoch: 3,
        baseSequence: 17,
      });
      const { request, message, batch } = encodeProduceRequest(envelope, sent.batch, { baseSequence: 99 });
      expect(batch.equals(sent.batch)).to.equal(true);
      expect(batch.buffer).to.equal(message.buffer);
      const { topic, partition, ...fields } = envelope;
      const generated = ProduceRequest.encode({
        ...fields,
        partitions: [{ topic, partition, batch: sent.batch }],
        padding: Buffer.alloc(0),
      }).finish();
      expect(message.equals(Buffer.from(generated))).to.equal(true);
      expect(request[PRE_ENCODED]).to.equal(message);
    });
  }

  it('leaves the builder as it was: a retry can encode it again, with another sequence or compression', () => {
    const records = recordsOf(50, 30);
    const builder = builderOf(records);
    for (const options of [
      { baseSequence: 1 },
      { baseSequence: 51, compression: 'lz4' as const },
      { baseSequence: 1 },
    ]) {
      const fromBuilder = encodeProduceRequest(envelopes[0]!, builder, options).message;
      expect(fromBuilder.equals(encodeProduceRequest(envelopes[0]!, records, options).message)).to.equal(true);
    }
    expect(builder.count).to.equal(50);
  });

  it("throws the builder's errors for an empty builder or bad options", () => {
    expect(() => encodeProduceRequest(envelopes[0]!, new RecordBatchBuilder(), {})).to.throw(
      InvalidRequestError,
      'a record batch needs at least one record',
    );
    expect(() => encodeProduceRequest(envelopes[0]!, builderOf(recordsOf(1, 1)), { baseSequence: -2 })).to.throw(
      InvalidRequestError,
      'baseSequence -2 must be an integer in [-1, 2147483647]',
    );
  });

  it('is sent as it is by the service definition, and plain requests are still encoded', () => {
    const { request, message } = encodeProduceRequest(envelopes[0]!, recordsOf(10, 10), {});
    const type = StreamHouseService.methods.produce.requestType;
    expect(isPreEncoded(request)).to.equal(true);
    const sent = Buffer.from(type.encode(type.fromPartial(request)).finish());
    expect(sent.equals(message)).to.equal(true);
    const plain = { acks: 1, producerId: 4, producerEpoch: 0, timeoutMs: 5, partitions: [] };
    expect(isPreEncoded(plain)).to.equal(false);
    expect(
      Buffer.from(type.encode(type.fromPartial(plain)).finish()).equals(
        Buffer.from(ProduceRequest.encode(ProduceRequest.fromPartial(plain)).finish()),
      ),
    ).to.equal(true);
  });

  for (const extra of [0, 2, 3, 130, 131, 16_387, 70_000]) {
    it(`fills a larger buffer with the padding field, ${extra} bytes past the message; decodes the same`, () => {
      const records = recordsOf(20, 50);
      const exact = encodeProduceRequest(envelopes[0]!, records, {});
      let asked = -1;
      const { request, message, batch } = encodeProduceRequest(envelopes[0]!, builderOf(records), {}, (minimum) => {
        asked = minimum;
        return Buffer.allocUnsafeSlow(minimum + extra).fill(0xee);
      });
      expect(asked).to.equal(exact.message.length);
      expect(message.length).to.equal(exact.message.length + extra);
      expect(request[PRE_ENCODED]).to.equal(message);
      expect(message.subarray(0, asked).equals(exact.message)).to.equal(true);
      expect(batch.equals(exact.batch)).to.equal(true);
      // what follows the request is padding (field 15) and nothing else
      const tail = readLengthDelimitedFields(message.subarray(asked));
      expect(tail.map((field) => field.fieldNumber)).to.deep.equal(
        extra === 0 ? [] : extra === 130 || extra === 16_387 ? [15, 15] : [15],
      );
      const decoded = ProduceRequest.decode(message);
      const expected = ProduceRequest.decode(exact.message);
      expect({ ...decoded, padding: undefined }).to.deep.equal({ ...expected, padding: undefined });
    });
  }

  it('refuses an allocator that gives a buffer it cannot fill or send without a copy', () => {
    const records = recordsOf(3, 10);
    expect(() =>
      encodeProduceRequest(envelopes[0]!, records, {}, (minimum) => Buffer.allocUnsafeSlow(minimum + 1)),
    ).to.throw(RangeError, /must fill its ArrayBuffer and be \d+ or at least \d+ bytes long/);
    expect(() =>
      encodeProduceRequest(envelopes[0]!, records, {}, (minimum) => Buffer.allocUnsafeSlow(minimum + 8).subarray(4)),
    ).to.throw(RangeError, /at 4 of \d+/);
  });

  it("throws the encoder's errors for bad records", () => {
    expect(() => encodeProduceRequest(envelopes[0]!, [], {})).to.throw(
      InvalidRequestError,
      'a record batch needs at least one record',
    );
  });
});
