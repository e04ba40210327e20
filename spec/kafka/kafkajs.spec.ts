/**
 * KafkaJS 2.2, a client we did not write, against an agent's Kafka port:
 * admin, produce, consume with a group, and records crossing between KafkaJS
 * and our own RxJS client.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type Consumer as KafkaConsumer, type EachMessagePayload } from 'kafkajs';
import { firstValueFrom, take, toArray } from 'rxjs';
import { createTestStores, startTestAgent, readAll, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { createConsumer } from '../../src/client/consumer/consumer.js';
import { createProducer } from '../../src/client/producer/producer.js';
import { decodeRecordBatches } from '../../src/protocol/codec/recordBatch.js';

describe('Kafka listener with KafkaJS', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let kafka: Kafka;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0 });
    kafka = new Kafka({
      clientId: 'kafkajs-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: process.env['KAFKAJS_LOG'] ? logLevel.DEBUG : logLevel.NOTHING,
      retry: { retries: 3 },
    });
  });

  after(async () => {
    await agent?.stop();
    await stores?.cleanup();
  });

  it('creates, lists and deletes topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }] })).to.equal(true);
      expect((await admin.listTopics()).sort()).to.include('admin-a');
      const meta = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
      expect(meta.topics[0]!.partitions.map((p) => p.partitionId).sort()).to.deep.equal([0, 1, 2]);
      await admin.deleteTopics({ topics: ['admin-a'] });
      expect(await admin.listTopics()).to.not.include('admin-a');
    } finally {
      await admin.disconnect();
    }
  });

  it('produces plain, keyed and header-carrying records that our agent stores as sent', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'produce-a', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const [first] = await producer.send({
        topic: 'produce-a',
        acks: -1,
        messages: [
          { value: 'plain' },
          { key: 'k1', value: 'keyed' },
          { key: 'k2', value: 'headers', headers: { h: 'x' } },
        ],
      });
      expect(first).to.include({ topicName: 'produce-a', partition: 0, errorCode: 0, baseOffset: '0' });
    } finally {
      await producer.disconnect();
    }
    expect(await readAll(agent.connection, 'produce-a', 0)).to.deep.equal([
      [0, 'plain'],
      [1, 'keyed'],
      [2, 'headers'],
    ]);
  });

  it('consumes from the beginning in a consumer group', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'consume-a', numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'consume-a',
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } })),
    });
    await producer.disconnect();

    const consumer: KafkaConsumer = kafka.consumer({
      groupId: 'group-a',
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
    });
    await consumer.connect();
    const seen: { key: string; value: string; n: string }[] = [];
    try {
      await consumer.subscribe({ topic: 'consume-a', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }: EachMessagePayload) => {
              seen.push({
                key: message.key!.toString(),
                value: message.value!.toString(),
                n: message.headers!['n']!.toString(),
              });
              if (seen.length === 10) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen.map((s) => s.value).sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
    for (const s of seen) expect(s.key.slice(1)).to.equal(s.n);
  });

  async function createTopic(name: string, partitions: number): Promise<void> {
    await agent.connection.client.createTopic({ name, partitions, config: undefined });
  }

  it('writes records our RxJS Consumer reads with identical key, value, headers, timestamp and offset', async () => {
    await createTopic('cross-a', 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'cross-a',
      messages: [
        { key: 'k0', value: 'v0', headers: { h: 'x' }, timestamp: '1700000000000' },
        { key: null, value: 'v1', timestamp: '1700000000001' },
        { key: 'k2', value: null, headers: { a: '1', b: '2' }, timestamp: '1700000000002' },
      ],
    });
    await producer.disconnect();
    const consumer = createConsumer({
      bootstrap: [agent.agent.address],
      assignment: [{ topic: 'cross-a', partition: 0 }],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
    });
    try {
      const got = await firstValueFrom(consumer.records$.pipe(take(3), toArray()));
      const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());
      expect(
        got.map((r) => [
          r.offset,
          text(r.key),
          text(r.value),
          r.timestamp,
          r.headers.map((h) => [h.key, text(h.value)]),
        ]),
      ).to.deep.equal([
        [0, 'k0', 'v0', 1_700_000_000_000, [['h', 'x']]],
        [1, null, 'v1', 1_700_000_000_001, []],
        [
          2,
          'k2',
          null,
          1_700_000_000_002,
          [
            ['a', '1'],
            ['b', '2'],
          ],
        ],
      ]);
    } finally {
      await consumer.close();
    }
  });

  it('reads what our RxJS Producer wrote, with identical key, value, headers, timestamp and offset', async () => {
    await createTopic('cross-b', 1);
    const producer = await createProducer({ bootstrap: [agent.agent.address], lingerMs: 1 });
    try {
      await producer.sendAndWait({
        topic: 'cross-b',
        partition: 0,
        key: 'k0',
        value: 'v0',
        headers: { h: 'x' },
        timestamp: 1_700_000_000_000,
      });
      await producer.sendAndWait({
        topic: 'cross-b',
        partition: 0,
        key: null,
        value: 'v1',
        timestamp: 1_700_000_000_001,
      });
    } finally {
      await producer.close();
    }
    const consumer = kafka.consumer({ groupId: 'cross-b-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    const seen: [string, string | null, string, string, Record<string, string>][] = [];
    try {
      await consumer.subscribe({ topic: 'cross-b', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
              seen.push([
                message.offset,
                message.key?.toString() ?? null,
                message.value!.toString(),
                message.timestamp,
                headers,
              ]);
              if (seen.length === 2) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(seen).to.deep.equal([
      ['0', 'k0', 'v0', '1700000000000', { h: 'x' }],
      ['1', null, 'v1', '1700000000001', {}],
    ]);
  });

  it('stores the batches of an idempotent producer once, with its producer id and sequences', async () => {
    await createTopic('idem-a', 1);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await producer.send({ topic: 'idem-a', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.send({ topic: 'idem-a', acks: -1, messages: [{ value: 'c' }] });
    } finally {
      await producer.disconnect();
    }
    const { results } = await agent.connection.client.fetch({
      partitions: [{ topic: 'idem-a', partition: 0, offset: 0, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    const batches = [...decodeRecordBatches(results[0]!.records)];
    expect(
      batches.map((b) => [b.baseOffset, b.baseSequence, b.records.map((r) => Buffer.from(r.value!).toString())]),
    ).to.deep.equal([
      [0, 0, ['a', 'b']],
      [2, 2, ['c']],
    ]);
    expect(batches[0]!.producerId).to.be.at.least(0);
    expect(batches[1]!.producerId).to.equal(batches[0]!.producerId);
  });

  it('commits offsets that our gRPC service reads back, and lists and describes the group', async () => {
    await createTopic('commit-a', 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'commit-a', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'commit-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'commit-a', fromBeginning: true });
    let seen = 0;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ message }) => {
              seen++;
              if (seen === 3) {
                await consumer.commitOffsets([
                  { topic: 'commit-a', partition: 0, offset: String(Number(message.offset) + 1) },
                ]);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      const { groups } = await admin.listGroups();
      expect(groups).to.deep.include({ groupId: 'commit-group', protocolType: 'consumer' });
      const described = await admin.describeGroups(['commit-group']);
      expect(described.groups[0]!.state).to.equal('Stable');
      expect(described.groups[0]!.members).to.have.length(1);
    } finally {
      await consumer.disconnect();
    }
    try {
      const { offsets } = await agent.connection.client.fetchOffsets({
        groupId: 'commit-group',
        partitions: [{ topic: 'commit-a', partition: 0 }],
      });
      expect(offsets.map((o) => [o.topic, o.partition, o.offset])).to.deep.equal([['commit-a', 0, 3]]);
      const fetched = await admin.fetchOffsets({ groupId: 'commit-group', topics: ['commit-a'] });
      expect(fetched).to.deep.equal([
        { topic: 'commit-a', partitions: [{ partition: 0, offset: '3', metadata: null }] },
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('lists offsets: earliest, latest and by timestamp', async () => {
    await createTopic('offsets-a', 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'offsets-a',
      messages: [0, 1, 2, 3].map((i) => ({ value: `v${i}`, timestamp: String(1_700_000_000_000 + i * 10) })),
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.fetchTopicOffsets('offsets-a')).to.deep.equal([
        { partition: 0, offset: '4', high: '4', low: '0' },
      ]);
      expect(await admin.fetchTopicOffsetsByTimestamp('offsets-a', 1_700_000_000_015)).to.deep.equal([
        { partition: 0, offset: '2' },
      ]);
      const config = await admin.describeConfigs({
        resources: [{ type: 2, name: 'offsets-a', configNames: ['retention.ms', 'max.message.bytes'] }],
        includeSynonyms: false,
      });
      expect(config.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).to.deep.equal([
        ['retention.ms', '-1'],
        ['max.message.bytes', '1048576'],
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses a topic config it does not know, and a topic that exists', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const unknown = await admin
        .createTopics({
          topics: [{ topic: 'cfg-a', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'zstd' }] }],
        })
        .catch((e: { type?: string }) => e);
      expect(
        (unknown as { errors?: { type: string }[] }).errors?.[0]?.type ?? (unknown as { type?: string }).type,
      ).to.equal('INVALID_CONFIG');
      expect(
        await admin.createTopics({
          topics: [{ topic: 'cfg-b', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }],
        }),
      ).to.equal(true);
      expect(await admin.createTopics({ topics: [{ topic: 'cfg-b', numPartitions: 1 }] })).to.equal(false);
      const topic = await agent.connection.client.describeTopic({ name: 'cfg-b' });
      expect(topic.topic!.config!.retentionMs).to.equal(60_000);
    } finally {
      await admin.disconnect();
    }
  });
});
