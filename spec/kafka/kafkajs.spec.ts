/**
 * KafkaJS 2.2, a client we did not write, against an agent's Kafka port:
 * admin, produce, consume with a group, and records crossing between KafkaJS
 * and our own RxJS client.
 */
import { expect } from 'chai';
import { Kafka, logLevel, type Consumer as KafkaConsumer, type EachMessagePayload } from 'kafkajs';
import { createTestStores, startTestAgent, readAll, type TestAgent, type TestStores } from '../support/agentHarness.js';

describe('Kafka listener with KafkaJS', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let kafka: Kafka;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0 });
    kafka = new Kafka({ clientId: "kafkajs-spec", brokers: [agent.agent.kafkaAddress!], logLevel: process.env["KAFKAJS_LOG"] ? logLevel.DEBUG : logLevel.NOTHING, retry: { retries: 3 } });
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
        messages: [{ value: 'plain' }, { key: 'k1', value: 'keyed' }, { key: 'k2', value: 'headers', headers: { h: 'x' } }],
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
    await producer.send({ topic: 'consume-a', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { n: String(i) } })) });
    await producer.disconnect();

    const consumer: KafkaConsumer = kafka.consumer({ groupId: 'group-a', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    const seen: { key: string; value: string; n: string }[] = [];
    try {
      await consumer.subscribe({ topic: 'consume-a', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }: EachMessagePayload) => {
              seen.push({ key: message.key!.toString(), value: message.value!.toString(), n: message.headers!['n']!.toString() });
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
});
