/**
 * @platformatic/kafka, a third Kafka client we did not write, against an
 * agent's Kafka port: admin (create, alter and describe topic configs),
 * produce, and a consumer group (it names topics by id: Metadata v12, Fetch
 * v17) reading what it and our own client wrote, committing its offsets.
 */
import { expect } from 'chai';
import {
  Admin,
  ConfigResourceTypes,
  Consumer,
  IncrementalAlterConfigOperationTypes,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { decodeRecordBatches } from '../../src/protocol/codec/recordBatch.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

describe('Kafka listener with @platformatic/kafka', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let agent: TestAgent;
  let admin: Admin;
  let brokers: string[];

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0 });
    brokers = [agent.agent.kafkaAddress!];
    admin = new Admin({ clientId: 'platformatic-spec', bootstrapBrokers: brokers });
  });

  after(async () => {
    await admin?.close();
    await agent?.stop();
    await stores?.cleanup();
  });

  it('creates a topic, then alters and describes its configs', async () => {
    await admin.createTopics({ topics: ['pl-admin'], partitions: 2, replicas: 1 });
    const metadata = await admin.metadata({ topics: ['pl-admin'] });
    expect(metadata.topics.get('pl-admin')?.partitionsCount).to.equal(2);
    await admin.alterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'pl-admin',
          configs: [{ name: 'retention.ms', value: '7200000' }],
        },
      ],
    });
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'pl-admin',
          configs: [
            { name: 'max.message.bytes', configOperation: IncrementalAlterConfigOperationTypes.SET, value: '500000' },
          ],
        },
      ],
    });
    const [described] = await admin.describeConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: 'pl-admin',
          configurationKeys: ['retention.ms', 'max.message.bytes'],
        },
      ],
    });
    expect(described!.configs.map((c) => [c.name, c.value])).to.deep.equal([
      ['retention.ms', '7200000'],
      ['max.message.bytes', '500000'],
    ]);
    const refused = await admin
      .incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: 'pl-admin',
            configs: [{ name: 'retention.ms', configOperation: IncrementalAlterConfigOperationTypes.SET, value: 'x' }],
          },
        ],
      })
      .then(
        () => 'accepted',
        (error: Error) => error.constructor.name,
      );
    expect(refused).to.not.equal('accepted');
    expect((await agent.metadataStore.getTopic('pl-admin'))!.config.retentionMs).to.equal(7_200_000);
  });

  it('produces keyed records with headers that our agent stores as sent', async () => {
    await admin.createTopics({ topics: ['pl-records'], partitions: 1, replicas: 1 });
    const producer = new Producer({
      clientId: 'platformatic-spec',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
    });
    try {
      await producer.send({
        acks: -1,
        messages: [0, 1, 2].map((i) => ({
          topic: 'pl-records',
          partition: 0,
          key: `k${i}`,
          value: `v${i}`,
          headers: { h: `${i}` },
        })),
      });
    } finally {
      await producer.close();
    }
    const { results } = await agent.connection.client.fetch({
      partitions: [{ topic: 'pl-records', partition: 0, offset: 0, maxBytes: 0 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 0,
    });
    const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString());
    const records = decodeRecordBatches(results[0]!.records).flatMap((batch) => batch.records);
    expect(
      records.map((r) => [r.offset, text(r.key), text(r.value), r.headers.map((h) => `${h.key}=${text(h.value)}`)]),
    ).to.deep.equal([0, 1, 2].map((i) => [i, `k${i}`, `v${i}`, [`h=${i}`]]));
  });

  it('consumes in a group what it and our client wrote, by topic id, and commits the offsets', async () => {
    await admin.createTopics({ topics: ['pl-consume'], partitions: 2, replicas: 1 });
    const producer = new Producer({ clientId: 'pl-spec', bootstrapBrokers: brokers, serializers: stringSerializers });
    try {
      await producer.send({
        acks: -1,
        messages: [0, 1].map((i) => ({
          topic: 'pl-consume',
          partition: 0,
          key: `k${i}`,
          value: `pl-${i}`,
          headers: { n: `${i}` },
        })),
      });
    } finally {
      await producer.close();
    }
    await produce(agent.connection, 'pl-consume', 1, records(3, 'ours'));
    const consumer = new Consumer({
      groupId: 'pl-group',
      clientId: 'pl-spec',
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
      maxWaitTime: 100,
    });
    const seen: [number, string, string, string, string][] = [];
    try {
      const stream = await consumer.consume({
        topics: ['pl-consume'],
        mode: MessagesStreamModes.EARLIEST,
        autocommit: false,
      });
      for await (const message of stream) {
        const headers = [...message.headers].map(([k, v]) => `${k}=${v}`).join(',');
        seen.push([message.partition, String(message.offset), message.key, message.value, headers]);
        await message.commit();
        if (seen.length === 5) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    expect(seen.sort((a, b) => a[0] - b[0] || Number(a[1]) - Number(b[1]))).to.deep.equal([
      [0, '0', 'k0', 'pl-0', 'n=0'],
      [0, '1', 'k1', 'pl-1', 'n=1'],
      [1, '0', 'k0', 'ours-0', ''],
      [1, '1', 'k1', 'ours-1', ''],
      [1, '2', 'k2', 'ours-2', ''],
    ]);
    const committed = await agent.metadataStore.fetchOffsets('pl-group', [
      { topic: 'pl-consume', partition: 0 },
      { topic: 'pl-consume', partition: 1 },
    ]);
    expect(committed.map((c) => [c.partition, c.offset])).to.deep.equal([
      [0, 2],
      [1, 3],
    ]);
  });
});
