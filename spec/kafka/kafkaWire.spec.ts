/** The Kafka wire primitives and generated codecs: round trips, growth past the scratch buffer, bounds. */
import { expect } from 'chai';
import { KafkaReader, KafkaDecodeError } from '../../src/kafka/wire/kafkaReader.js';
import { KafkaWriter } from '../../src/kafka/wire/kafkaWriter.js';
import {
  readMetadataResponse,
  writeMetadataResponse,
  type MetadataResponseInit,
} from '../../src/kafka/generated/metadataResponse.js';
import { readRequestHeader, writeRequestHeader } from '../../src/kafka/generated/requestHeader.js';
import { assignNodeIds, nodeIdOf } from '../../src/kafka/brokers.js';
import { splitBatches } from '../../src/kafka/handlers/produce.js';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';

function bytesOf(write: (w: KafkaWriter) => void, initialBytes = 8): Buffer {
  const w = new KafkaWriter(initialBytes);
  write(w);
  const chunks = w.finish();
  expect(chunks.reduce((n, c) => n + c.length, 0)).to.equal(w.length);
  return Buffer.concat(chunks);
}

describe('kafka/wire', () => {
  it('round-trips primitives through a writer that grows many times, compact and classic', () => {
    const big = Buffer.alloc(10_000, 7);
    const buf = bytesOf((w) => {
      for (let i = 0; i < 100; i++) {
        w.int8(-3);
        w.int16(-300);
        w.int32(-70_000);
        w.int64(-(2 ** 40));
        w.uvarint(300);
        w.string(`s${i}`, i % 2 === 0);
        w.nullableString(null, i % 2 === 1);
        w.bytes(i === 50 ? big : Buffer.from([i]), true);
        w.bool(true);
      }
    });
    const r = new KafkaReader(buf);
    for (let i = 0; i < 100; i++) {
      expect([
        r.int8(),
        r.int16(),
        r.int32(),
        r.int64(),
        r.uvarint(),
        r.string(i % 2 === 0),
        r.nullableString(i % 2 === 1),
      ]).to.deep.equal([-3, -300, -70_000, -(2 ** 40), 300, `s${i}`, null]);
      expect(r.bytes(true).equals(i === 50 ? big : Buffer.from([i]))).to.equal(true);
      expect(r.bool()).to.equal(true);
    }
    expect(r.remaining).to.equal(0);
  });

  it('round-trips a flexible Metadata v12 response and a classic v1', () => {
    const response: MetadataResponseInit = {
      brokers: [{ nodeId: 5, host: 'h', port: 9092, rack: null }],
      clusterId: 'c',
      controllerId: 5,
      topics: [
        {
          errorCode: 0,
          name: 't',
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 5,
              leaderEpoch: 1,
              replicaNodes: [5],
              isrNodes: [5],
              offlineReplicas: [],
            },
          ],
        },
      ],
    };
    for (const version of [1, 12]) {
      const decoded = readMetadataResponse(
        new KafkaReader(bytesOf((w) => writeMetadataResponse(w, version, response))),
        version,
      );
      expect(decoded.brokers).to.deep.equal(response.brokers);
      expect(decoded.topics[0]!.partitions[0]!.replicaNodes).to.deep.equal([5]);
      expect(decoded.topics[0]!.name).to.equal('t');
    }
  });

  it('keeps the header client id a classic string in flexible header v2', () => {
    const buf = bytesOf((w) =>
      writeRequestHeader(w, 2, { requestApiKey: 3, requestApiVersion: 12, correlationId: 9, clientId: 'abc' }),
    );
    expect(buf.readInt16BE(8)).to.equal(3); // int16 length, not a varint
    expect(readRequestHeader(new KafkaReader(buf), 2)).to.deep.equal({
      requestApiKey: 3,
      requestApiVersion: 12,
      correlationId: 9,
      clientId: 'abc',
    });
  });

  it('refuses lengths and counts beyond the bytes left, without allocating them', () => {
    const lengths = Buffer.alloc(4);
    lengths.writeInt32BE(0x7fffffff);
    expect(() => new KafkaReader(lengths).bytes(false)).to.throw(KafkaDecodeError);
    expect(() => new KafkaReader(lengths).arrayLength(false, false)).to.throw(KafkaDecodeError);
    expect(() => new KafkaReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])).uvarint()).to.throw(
      KafkaDecodeError,
    );
    expect(() => new KafkaReader(Buffer.from([0xff, 0xff])).string(false)).to.throw(KafkaDecodeError);
    const unsafe = Buffer.alloc(8);
    unsafe.writeBigInt64BE(2n ** 60n);
    expect(() => new KafkaReader(unsafe).int64()).to.throw(KafkaDecodeError);
  });
});

describe('kafka/brokers', () => {
  it('derives a positive int32 node id from the agent id, the same every time', () => {
    expect(nodeIdOf('agent-a')).to.equal(nodeIdOf('agent-a'));
    expect(nodeIdOf('agent-a')).to.be.within(0, 0x7fffffff);
    expect(nodeIdOf('agent-a')).to.not.equal(nodeIdOf('agent-b'));
  });

  it('gives clashing agents distinct ids, the later id in order moving up', () => {
    const clash = (agentId: string) => (agentId === 'c' ? 9 : 0x7fffffff);
    expect([...assignNodeIds(['b', 'a', 'c', 'a'], clash)]).to.deep.equal([
      ['a', 0x7fffffff],
      ['b', 0],
      ['c', 9],
    ]);
    expect(assignNodeIds(['x', 'y']).get('x')).to.equal(nodeIdOf('x'));
  });
});

describe('kafka/produce splitBatches', () => {
  it('cuts a records field into whole batches and refuses partial ones', () => {
    const a = encodeRecordBatch([{ key: null, value: Buffer.from('a'), timestamp: 1 }]);
    const b = encodeRecordBatch([{ key: null, value: Buffer.from('bb'), timestamp: 2 }]);
    const both = Buffer.concat([a, b]);
    const split = splitBatches(both) as Buffer[];
    expect(split.map((x) => x.length)).to.deep.equal([a.length, b.length]);
    expect(splitBatches(both.subarray(0, both.length - 1))).to.equal(2);
    expect(splitBatches(null)).to.equal(42);
  });
});
