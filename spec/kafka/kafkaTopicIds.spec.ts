/**
 * Topic ids on the Kafka port: Metadata v10+ reports each topic's id and
 * finds topics by it, Fetch v13+ names topics by id, CreateTopics v7 answers
 * the new id and DeleteTopics v6 deletes by it. An id of no topic (unknown,
 * zero, or a deleted namesake's) answers UNKNOWN_TOPIC_ID and nothing else
 * in the request is disturbed.
 */
import { expect } from 'chai';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';
import { connectRaw, type RawKafka } from './support/rawKafka.js';
import { decodeRecordBatches } from '../../src/protocol/codec/recordBatch.js';
import type { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import type { KafkaWriter } from '../../src/kafka/wire/kafkaWriter.js';
import { writeMetadataRequest } from '../../src/kafka/generated/metadataRequest.js';
import { readMetadataResponse } from '../../src/kafka/generated/metadataResponse.js';
import { writeFetchRequest, type FetchRequestFetchTopicInit } from '../../src/kafka/generated/fetchRequest.js';
import { readFetchResponse } from '../../src/kafka/generated/fetchResponse.js';
import { writeCreateTopicsRequest } from '../../src/kafka/generated/createTopicsRequest.js';
import { readCreateTopicsResponse } from '../../src/kafka/generated/createTopicsResponse.js';
import { writeDeleteTopicsRequest } from '../../src/kafka/generated/deleteTopicsRequest.js';
import { readDeleteTopicsResponse } from '../../src/kafka/generated/deleteTopicsResponse.js';
import { KafkaErrorCode } from '../../src/kafka/kafkaErrors.js';
import { topicIdBytes, topicIdText } from '../../src/kafka/topicIds.js';
import { ZERO_UUID } from '../../src/kafka/wire/fieldHelpers.js';

const METADATA = 3;
const FETCH = 1;
const CREATE_TOPICS = 19;
const DELETE_TOPICS = 20;
const UNKNOWN_ID = topicIdBytes('0123abcd-0000-4000-8000-000000000001');

describe('Kafka listener topic ids', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  let raw: RawKafka;

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

  /** One request in a flexible version (request header v2, response header v1). */
  const call = <T>(apiKey: number, version: number, write: (w: KafkaWriter) => void, read: (r: KafkaReader) => T) =>
    raw.call(apiKey, version, write, read, true);

  const metadata = (topics: { name: string | null; topicId?: Buffer }[]) =>
    call(
      METADATA,
      12,
      (w) => writeMetadataRequest(w, 12, { topics, allowAutoTopicCreation: false }),
      (r) => readMetadataResponse(r, 12).topics,
    );

  const fetch = (version: number, topics: FetchRequestFetchTopicInit[]) =>
    call(
      FETCH,
      version,
      (w) => writeFetchRequest(w, version, { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics }),
      (r) => readFetchResponse(r, version),
    );

  const storedId = async (name: string) => topicIdBytes((await agent.metadataStore.getTopic(name))!.id);

  const produceRecords = (topic: string, partition: number, count: number, prefix: string) =>
    produce(agent.connection, topic, partition, records(count, prefix));

  it('reports every topic with its stored id in Metadata v12, and finds a topic by id alone', async () => {
    await agent.connection.client.createTopic({ name: 'ids-a', partitions: 2 });
    await agent.connection.client.createTopic({ name: 'ids-b', partitions: 1 });
    const [a, b] = [await storedId('ids-a'), await storedId('ids-b')];
    const byName = await metadata([{ name: 'ids-a' }, { name: 'ids-b' }]);
    expect(byName.map((t) => [t.name, t.errorCode, topicIdText(t.topicId)])).to.deep.equal([
      ['ids-a', 0, topicIdText(a)],
      ['ids-b', 0, topicIdText(b)],
    ]);
    const byId = await metadata([
      { name: null, topicId: b },
      { name: null, topicId: UNKNOWN_ID },
      { name: null, topicId: ZERO_UUID },
      { name: 'ids-a' },
    ]);
    expect(byId.map((t) => [t.name, t.errorCode, topicIdText(t.topicId), t.partitions.length])).to.deep.equal([
      ['ids-b', 0, topicIdText(b), 1],
      [null, KafkaErrorCode.UNKNOWN_TOPIC_ID, topicIdText(UNKNOWN_ID), 0],
      [null, KafkaErrorCode.UNKNOWN_TOPIC_ID, topicIdText(ZERO_UUID), 0],
      ['ids-a', 0, topicIdText(a), 2],
    ]);
  });

  for (const version of [13, 17]) {
    it(`fetches by topic id in Fetch v${version}; unknown ids answer UNKNOWN_TOPIC_ID beside it`, async () => {
      const name = `ids-fetch-${version}`;
      await agent.connection.client.createTopic({ name, partitions: 2 });
      await produceRecords(name, 1, 3, 'r');
      const id = await storedId(name);
      const response = await fetch(version, [
        {
          topicId: id,
          partitions: [
            { partition: 1, fetchOffset: 1, partitionMaxBytes: 1 << 20 },
            { partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 },
          ],
        },
        { topicId: UNKNOWN_ID, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
      ]);
      expect(response.errorCode).to.equal(0);
      expect(response.responses.map((t) => topicIdText(t.topicId))).to.deep.equal([
        topicIdText(id),
        topicIdText(UNKNOWN_ID),
      ]);
      const [served, unknown] = response.responses;
      expect(served!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark])).to.deep.equal([
        [1, 0, 3],
        [0, 0, 0],
      ]);
      const values = decodeRecordBatches(served!.partitions[0]!.records!).flatMap((batch) =>
        batch.records.map((r) => [r.offset, Buffer.from(r.value!).toString()]),
      );
      expect(values).to.deep.equal([
        [0, 'r-0'],
        [1, 'r-1'],
        [2, 'r-2'],
      ]);
      expect(unknown!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.highWatermark])).to.deep.equal([
        [0, KafkaErrorCode.UNKNOWN_TOPIC_ID, -1],
      ]);
    });
  }

  it("does not read a topic created again under a deleted one's name by the old id", async () => {
    await agent.connection.client.createTopic({ name: 'ids-again', partitions: 1 });
    const old = await storedId('ids-again');
    await agent.connection.client.deleteTopic({ name: 'ids-again' });
    await agent.connection.client.createTopic({ name: 'ids-again', partitions: 1 });
    await produceRecords('ids-again', 0, 2, 'n');
    const fresh = await storedId('ids-again');
    expect(topicIdText(fresh)).to.not.equal(topicIdText(old));
    const response = await fetch(13, [
      { topicId: old, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
      { topicId: fresh, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
    ]);
    expect(response.responses.map((t) => t.partitions.map((p) => [p.errorCode, p.highWatermark]))).to.deep.equal([
      [[KafkaErrorCode.UNKNOWN_TOPIC_ID, -1]],
      [[0, 2]],
    ]);
  });

  it("answers UNKNOWN_TOPIC_ID in Metadata for a deleted topic's id while the agent still trusts it", async () => {
    await agent.connection.client.createTopic({ name: 'ids-stale', partitions: 1 });
    const old = await storedId('ids-stale');
    const before = await metadata([{ name: null, topicId: old }]);
    expect(before.map((t) => [t.name, t.errorCode])).to.deep.equal([['ids-stale', 0]]);
    await agent.connection.client.deleteTopic({ name: 'ids-stale' });
    const gone = await metadata([{ name: null, topicId: old }]);
    await agent.connection.client.createTopic({ name: 'ids-stale', partitions: 2 });
    const again = await metadata([{ name: null, topicId: old }]);
    for (const answer of [gone, again]) {
      expect(answer.map((t) => [t.name, t.errorCode, topicIdText(t.topicId), t.partitions.length])).to.deep.equal([
        [null, KafkaErrorCode.UNKNOWN_TOPIC_ID, topicIdText(old), 0],
      ]);
    }
  });

  it('refuses topics asked for by id before Metadata v12 with INVALID_REQUEST, as Kafka does', async () => {
    await agent.connection.client.createTopic({ name: 'ids-v11', partitions: 1 });
    const id = await storedId('ids-v11');
    for (const version of [10, 11]) {
      const topics = await call(
        METADATA,
        version,
        (w) =>
          writeMetadataRequest(w, version, {
            topics: [{ name: null, topicId: id }, { name: 'ids-v11' }],
            allowAutoTopicCreation: false,
          }),
        (r) => readMetadataResponse(r, version).topics,
      );
      expect(topics.map((t) => [t.name, t.errorCode, topicIdText(t.topicId)])).to.deep.equal([
        ['', KafkaErrorCode.INVALID_REQUEST, topicIdText(id)],
        ['ids-v11', KafkaErrorCode.INVALID_REQUEST, topicIdText(ZERO_UUID)],
      ]);
    }
  });

  it('answers the new id from CreateTopics v7 and deletes by id with DeleteTopics v6', async () => {
    const created = await call(
      CREATE_TOPICS,
      7,
      (w) =>
        writeCreateTopicsRequest(w, 7, {
          topics: [{ name: 'ids-admin', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 5000,
        }),
      (r) => readCreateTopicsResponse(r, 7).topics,
    );
    expect(created.map((t) => [t.name, t.errorCode])).to.deep.equal([['ids-admin', 0]]);
    expect(topicIdText(created[0]!.topicId)).to.equal(topicIdText(await storedId('ids-admin')));

    const deleted = await call(
      DELETE_TOPICS,
      6,
      (w) =>
        writeDeleteTopicsRequest(w, 6, {
          topics: [
            { name: null, topicId: UNKNOWN_ID },
            { name: null, topicId: created[0]!.topicId },
          ],
          timeoutMs: 5000,
        }),
      (r) => readDeleteTopicsResponse(r, 6).responses,
    );
    expect(deleted.map((t) => [t.name, t.errorCode, topicIdText(t.topicId)])).to.deep.equal([
      [null, KafkaErrorCode.UNKNOWN_TOPIC_ID, topicIdText(UNKNOWN_ID)],
      ['ids-admin', 0, topicIdText(created[0]!.topicId)],
    ]);
    expect(await agent.metadataStore.getTopic('ids-admin')).to.equal(undefined);
  });

  it('refuses a DeleteTopics v6 entry with both a name and an id, or neither, and deletes nothing by it', async () => {
    await agent.connection.client.createTopic({ name: 'ids-both', partitions: 1 });
    const deleted = await call(
      DELETE_TOPICS,
      6,
      (w) =>
        writeDeleteTopicsRequest(w, 6, {
          topics: [
            { name: 'ids-both', topicId: UNKNOWN_ID },
            { name: null, topicId: ZERO_UUID },
          ],
          timeoutMs: 5000,
        }),
      (r) => readDeleteTopicsResponse(r, 6).responses,
    );
    expect(deleted.map((t) => [t.name, t.errorCode, topicIdText(t.topicId), t.errorMessage])).to.deep.equal([
      [
        'ids-both',
        KafkaErrorCode.INVALID_REQUEST,
        topicIdText(UNKNOWN_ID),
        'You may not specify both topic name and topic id.',
      ],
      [null, KafkaErrorCode.INVALID_REQUEST, topicIdText(ZERO_UUID), 'Neither topic name nor id were specified.'],
    ]);
    expect((await agent.metadataStore.getTopic('ids-both'))?.name).to.equal('ids-both');
  });

  it('refuses a topic named twice in one CreateTopics or DeleteTopics, touching nothing of it', async () => {
    const topic = (name: string) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] });
    const created = await call(
      CREATE_TOPICS,
      7,
      (w) => writeCreateTopicsRequest(w, 7, { topics: [topic('dup'), topic('single'), topic('dup')], timeoutMs: 5000 }),
      (r) => readCreateTopicsResponse(r, 7).topics,
    );
    expect(created.map((t) => [t.name, t.errorCode])).to.deep.equal([
      ['dup', KafkaErrorCode.INVALID_REQUEST],
      ['single', 0],
      ['dup', KafkaErrorCode.INVALID_REQUEST],
    ]);
    expect(await agent.metadataStore.getTopic('dup')).to.equal(undefined);
    const single = await storedId('single');
    const deleted = await call(
      DELETE_TOPICS,
      6,
      (w) =>
        writeDeleteTopicsRequest(w, 6, {
          topics: [
            { name: null, topicId: single },
            { name: null, topicId: single },
          ],
          timeoutMs: 5000,
        }),
      (r) => readDeleteTopicsResponse(r, 6).responses,
    );
    expect(deleted.map((t) => t.errorCode)).to.deep.equal([
      KafkaErrorCode.INVALID_REQUEST,
      KafkaErrorCode.INVALID_REQUEST,
    ]);
    expect((await agent.metadataStore.getTopic('single'))?.id).to.equal(topicIdText(single));
  });
});
