/**
 * Produce, Fetch and ListOffsets through the Kafka port with requests we
 * encode ourselves: several batches per partition, acks, refused batches,
 * idempotence sequence rules, out-of-range fetches. Each bad request answers
 * its Kafka error code and stores nothing.
 */
import { expect } from 'chai';
import {
  createTestStores,
  startTestAgent,
  readAll,
  records,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';
import { connectRaw, type RawKafka } from './support/rawKafka.js';
import { encodeRecordBatch } from '../../src/protocol/codec/recordBatch.js';
import { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import { writeProduceRequest, type ProduceRequestInit } from '../../src/kafka/generated/produceRequest.js';
import { readProduceResponse } from '../../src/kafka/generated/produceResponse.js';
import { writeFetchRequest } from '../../src/kafka/generated/fetchRequest.js';
import { readFetchResponse } from '../../src/kafka/generated/fetchResponse.js';
import { writeListOffsetsRequest } from '../../src/kafka/generated/listOffsetsRequest.js';
import { readListOffsetsResponse } from '../../src/kafka/generated/listOffsetsResponse.js';
import { writeApiVersionsRequest } from '../../src/kafka/generated/apiVersionsRequest.js';
import { KafkaErrorCode } from '../../src/kafka/kafkaErrors.js';

const PRODUCE_V = 7;
const FETCH_V = 11;

describe('Kafka listener Produce and Fetch', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  let raw: RawKafka;
  let correlation = 0;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0 });
    raw = await connectRaw(agent.agent.kafkaAddress!);
  });

  after(async () => {
    raw?.close();
    await agent?.stop();
    await stores?.cleanup();
  });

  async function produce(
    request: ProduceRequestInit,
    version = PRODUCE_V,
  ): Promise<{ errorCode: number; baseOffset: number; errorMessage: string | null }[]> {
    const id = ++correlation;
    raw.request(0, version, id, (w) =>
      writeProduceRequest(w, version, { timeoutMs: 5000, transactionalId: null, ...request }),
    );
    const frame = await raw.response();
    expect(frame.readInt32BE(0)).to.equal(id);
    const response = readProduceResponse(new KafkaReader(frame, 4), version);
    return response.responses.flatMap((t) =>
      t.partitionResponses.map((p) => ({
        errorCode: p.errorCode,
        baseOffset: p.baseOffset,
        errorMessage: p.errorMessage,
      })),
    );
  }

  const one = (topic: string, batch: Buffer, acks = -1): ProduceRequestInit => ({
    acks,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });

  it("stores every batch of a partition's records, in order", async () => {
    await agent.connection.client.createTopic({ name: 'multi', partitions: 1, config: undefined });
    const two = Buffer.concat([encodeRecordBatch(records(2, 'a')), encodeRecordBatch(records(3, 'b'))]);
    expect(await produce(one('multi', two))).to.deep.equal([{ errorCode: 0, baseOffset: 0, errorMessage: null }]);
    expect(await readAll(agent.connection, 'multi', 0)).to.deep.equal([
      [0, 'a-0'],
      [1, 'a-1'],
      [2, 'b-0'],
      [3, 'b-1'],
      [4, 'b-2'],
    ]);
  });

  it('answers acks=0 with nothing, and the next request in order', async () => {
    await agent.connection.client.createTopic({ name: 'acks0', partitions: 1, config: undefined });
    raw.request(0, PRODUCE_V, ++correlation, (w) =>
      writeProduceRequest(w, PRODUCE_V, {
        ...one('acks0', encodeRecordBatch(records(1))),
        acks: 0,
        transactionalId: null,
      }),
    );
    const id = ++correlation;
    raw.request(18, 0, id, (w) => writeApiVersionsRequest(w, 0, {}));
    expect((await raw.response()).readInt32BE(0)).to.equal(id);
  });

  it('takes magic 2 batches through Produce v0 to v2 and refuses older message sets there too', async () => {
    await agent.connection.client.createTopic({ name: 'old-produce', partitions: 1, config: undefined });
    const magic1 = Buffer.from(encodeRecordBatch(records(1)));
    magic1[16] = 1;
    for (const version of [0, 1, 2]) {
      expect(await produce(one('old-produce', encodeRecordBatch(records(1, `v${version}`))), version)).to.deep.equal([
        { errorCode: 0, baseOffset: version, errorMessage: null },
      ]);
      const [refused] = await produce(one('old-produce', magic1), version);
      expect([refused!.errorCode, refused!.baseOffset]).to.deep.equal([
        KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        -1,
      ]);
    }
    expect(await readAll(agent.connection, 'old-produce', 0)).to.deep.equal([
      [0, 'v0-0'],
      [1, 'v1-0'],
      [2, 'v2-0'],
    ]);
  });

  it('refuses bad produce requests with Kafka error codes and stores nothing', async () => {
    await agent.connection.client.createTopic({ name: 'bad', partitions: 1, config: undefined });
    const batch = encodeRecordBatch(records(1));
    const magic1 = Buffer.from(batch);
    magic1[16] = 1;
    const corrupt = Buffer.from(batch);
    corrupt[corrupt.length - 1]! ^= 0xff;
    const cases: [ProduceRequestInit, number][] = [
      [{ ...one('bad', batch), acks: 2 }, KafkaErrorCode.INVALID_REQUIRED_ACKS],
      [{ ...one('bad', batch), transactionalId: 'tx' }, KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      [one('bad', magic1), KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT],
      [one('bad', batch.subarray(0, batch.length - 3)), KafkaErrorCode.CORRUPT_MESSAGE],
      [one('bad', corrupt), KafkaErrorCode.CORRUPT_MESSAGE],
      [one('bad', Buffer.alloc(0)), KafkaErrorCode.INVALID_REQUEST],
      [one('nope', batch), KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [
        { acks: -1, topicData: [{ name: 'bad', partitionData: [{ index: 7, records: batch }] }] },
        KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
      [
        { acks: -1, topicData: [{ name: 'bad', partitionData: [{ index: -1, records: batch }] }] },
        KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ],
    ];
    for (const [request, code] of cases) {
      const [result] = await produce(request);
      expect([result!.errorCode, result!.baseOffset], JSON.stringify(result)).to.deep.equal([code, -1]);
    }
    expect(await readAll(agent.connection, 'bad', 0)).to.deep.equal([]);
  });

  it("keeps Kafka's sequence rules for an idempotent producer: a retry is stored once, a gap is refused", async () => {
    await agent.connection.client.createTopic({ name: 'idem', partitions: 1, config: undefined });
    const { producerId, producerEpoch } = await agent.connection.client.initProducerId({
      producerId: -1,
      producerEpoch: -1,
    });
    const batch = (sequence: number, prefix: string) =>
      encodeRecordBatch(records(2, prefix), { producerId, producerEpoch, baseSequence: sequence });
    expect((await produce(one('idem', batch(0, 'a'))))[0]!.errorCode).to.equal(0);
    const retried = (await produce(one('idem', batch(0, 'a'))))[0]!;
    expect([retried.errorCode, retried.baseOffset]).to.deep.equal([0, 0]);
    expect((await produce(one('idem', batch(5, 'gap'))))[0]!.errorCode).to.equal(
      KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    expect((await produce(one('idem', batch(2, 'b'))))[0]).to.deep.include({ errorCode: 0, baseOffset: 2 });
    expect((await readAll(agent.connection, 'idem', 0)).map(([, v]) => v)).to.deep.equal(['a-0', 'a-1', 'b-0', 'b-1']);
  });

  it('fetches with bounds, answers OFFSET_OUT_OF_RANGE past the end, and lists offsets', async () => {
    await agent.connection.client.createTopic({ name: 'fetch', partitions: 2, config: undefined });
    await produce(one('fetch', encodeRecordBatch(records(3, 'f', 1_000))));
    const fetch = async (offset: number, maxWaitMs = 0) => {
      const id = ++correlation;
      raw.request(1, FETCH_V, id, (w) =>
        writeFetchRequest(w, FETCH_V, {
          replicaId: -1,
          maxWaitMs,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: [
            {
              topic: 'fetch',
              partitions: [
                { partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 },
                { partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20 },
              ],
            },
          ],
        }),
      );
      const frame = await raw.response();
      expect(frame.readInt32BE(0)).to.equal(id);
      return readFetchResponse(new KafkaReader(frame, 4), FETCH_V).responses[0]!.partitions;
    };
    const [p0, p1] = await fetch(1);
    expect([
      p0!.errorCode,
      p0!.highWatermark,
      p0!.lastStableOffset,
      p0!.logStartOffset,
      p0!.records!.length > 0,
    ]).to.deep.equal([0, 3, 3, 0, true]);
    expect([p1!.errorCode, p1!.highWatermark, p1!.records!.length]).to.deep.equal([0, 0, 0]);
    const [past] = await fetch(4);
    expect([past!.errorCode, past!.records!.length]).to.deep.equal([KafkaErrorCode.OFFSET_OUT_OF_RANGE, 0]);

    const id = ++correlation;
    raw.request(2, 5, id, (w) =>
      writeListOffsetsRequest(w, 5, {
        replicaId: -1,
        topics: [
          {
            name: 'fetch',
            partitions: [
              { partitionIndex: 0, timestamp: -2 },
              { partitionIndex: 0, timestamp: -1 },
              { partitionIndex: 0, timestamp: 1_001 },
              { partitionIndex: 0, timestamp: 5_000 },
              { partitionIndex: 0, timestamp: -7 },
              { partitionIndex: 9, timestamp: -1 },
            ],
          },
        ],
      }),
    );
    const listed = readListOffsetsResponse(new KafkaReader(await raw.response(), 4), 5).topics[0]!.partitions;
    expect(listed.map((p) => [p.partitionIndex, p.errorCode, p.offset])).to.deep.equal([
      [0, 0, 0],
      [0, 0, 3],
      [0, 0, 1],
      [0, 0, -1],
      [0, KafkaErrorCode.INVALID_REQUEST, -1],
      [9, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1],
    ]);
  });
});
