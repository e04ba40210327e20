/**
 * ACLs on the Kafka listener, with KafkaJS as ANONYMOUS (the listener has no
 * authentication here): allowed with ACLs for ANONYMOUS, denied without,
 * with Kafka's codes 29, 30 and 31 where Kafka answers them.
 */
import { expect } from 'chai';
import { ConfigResourceTypes, Kafka, logLevel, type Admin, type EachMessagePayload } from 'kafkajs';
import type { AclEntry } from '../../src/metadata/aclRules.js';
import type { MetadataStore } from '../../src/metadata/metadataStore.js';
import { writeDescribeClusterRequest } from '../../src/kafka/generated/describeClusterRequest.js';
import { readDescribeClusterResponse } from '../../src/kafka/generated/describeClusterResponse.js';
import { writeDescribeGroupsRequest } from '../../src/kafka/generated/describeGroupsRequest.js';
import { readDescribeGroupsResponse } from '../../src/kafka/generated/describeGroupsResponse.js';
import { writeDescribeConfigsRequest } from '../../src/kafka/generated/describeConfigsRequest.js';
import { readDescribeConfigsResponse } from '../../src/kafka/generated/describeConfigsResponse.js';
import { writeFindCoordinatorRequest } from '../../src/kafka/generated/findCoordinatorRequest.js';
import { readFindCoordinatorResponse } from '../../src/kafka/generated/findCoordinatorResponse.js';
import { writeMetadataRequest } from '../../src/kafka/generated/metadataRequest.js';
import { readMetadataResponse } from '../../src/kafka/generated/metadataResponse.js';
import { writeFetchRequest } from '../../src/kafka/generated/fetchRequest.js';
import { readFetchResponse } from '../../src/kafka/generated/fetchResponse.js';
import { writeDeleteTopicsRequest } from '../../src/kafka/generated/deleteTopicsRequest.js';
import { readDeleteTopicsResponse } from '../../src/kafka/generated/deleteTopicsResponse.js';
import { topicIdBytes, topicIdText } from '../../src/kafka/topicIds.js';
import { KafkaReader } from '../../src/kafka/wire/kafkaReader.js';
import { connectRaw } from './support/rawKafka.js';
import { createTestStores, readAll, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';

const FETCH = 1;
const METADATA = 3;
const DELETE_TOPICS = 20;
const FIND_COORDINATOR = 10;
const DESCRIBE_GROUPS = 15;
const DESCRIBE_CLUSTER = 60;
const DESCRIBE_CONFIGS = 32;

const anonymous = (
  operation: AclEntry['operation'],
  resourceType: AclEntry['resourceType'],
  name: string,
  patternType: AclEntry['patternType'] = 'literal',
  permission: AclEntry['permission'] = 'allow',
): AclEntry => ({ principal: 'ANONYMOUS', permission, operation, resourceType, patternType, resourceName: name });

/** What a rejected promise carried: KafkaJS protocol errors have `type` and `code`. */
async function failure(promise: Promise<unknown>): Promise<{ type?: string; code?: number; name?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { type?: string; code?: number };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

describe('ACLs on the Kafka listener (KafkaJS as ANONYMOUS)', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let store: MetadataStore;
  let agent: TestAgent;
  let kafka: Kafka;
  let admin: Admin;

  before(async () => {
    stores = await createTestStores('sqlite');
    store = stores.newMetadataStore();
    for (const topic of ['k.orders', 'k.other', 'secret']) await store.createTopic(topic, 1);
    for (const entry of [
      anonymous('produce', 'topic', 'k.', 'prefix'),
      anonymous('consume', 'topic', 'k.orders'),
      anonymous('read', 'group', 'kg'),
      anonymous('create', 'topic', 'made.', 'prefix'),
      anonymous('delete', 'topic', 'made.', 'prefix'),
      anonymous('produce', 'topic', 'k.other', 'literal', 'deny'),
    ])
      await store.addAcl(entry);
    agent = await startTestAgent(stores, { kafkaPort: 0, groupInitialRebalanceDelayMs: 0, authorizer: {} });
    kafka = new Kafka({
      clientId: 'acl-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await admin?.disconnect();
    await agent?.stop();
    await store?.close();
    await stores?.cleanup();
  });

  it('produces and consumes in a group where ACLs allow ANONYMOUS', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const [sent] = await producer.send({ topic: 'k.orders', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
      expect(sent).to.include({ topicName: 'k.orders', errorCode: 0, baseOffset: '0' });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'kg', maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'k.orders', fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }: EachMessagePayload) => {
              seen.push(message.value!.toString());
              if (seen.length === 2) resolve();
            },
          })
          .catch(reject);
      });
      expect(seen).to.deep.equal(['a', 'b']);
    } finally {
      await consumer.disconnect();
    }
  });

  it('refuses produce without an ACL or under a deny with TOPIC_AUTHORIZATION_FAILED, writing nothing', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      // Metadata answers 29 for the topic, which KafkaJS reports before it produces.
      const secret = await failure(producer.send({ topic: 'secret', acks: -1, messages: [{ value: 'x' }] }));
      expect((secret as Error).message).to.equal('Not authorized to access topics: [Topic authorization failed]');
      // Described (produce on k.* implies it) but produce denied: the Produce answer carries 29.
      const denied = await failure(producer.send({ topic: 'k.other', acks: -1, messages: [{ value: 'x' }] }));
      expect(denied.type).to.equal('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await producer.disconnect();
    }
    expect((await store.getPartition('secret', 0)).highWatermark).to.equal(0);
    expect((await store.getPartition('k.other', 0)).highWatermark).to.equal(0);
  });

  it('refuses a group without read: FindCoordinator answers 30, so KafkaJS finds no coordinator', async () => {
    const consumer = kafka.consumer({ groupId: 'not-kg', maxWaitTimeInMs: 100, retry: { retries: 0 } });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'k.orders', fromBeginning: true });
      const crashed = new Promise<{ name?: string }>((resolve) =>
        consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error as { name?: string })),
      );
      await consumer.run({ eachMessage: async () => undefined });
      expect((await crashed).name).to.equal('KafkaJSGroupCoordinatorNotFound');
    } finally {
      await consumer.disconnect();
    }
    expect(await store.getGroup('not-kg')).to.equal(undefined);
  });

  it('hides topics ANONYMOUS may not describe from listings and checks admin calls', async () => {
    expect((await admin.listTopics()).sort()).to.deep.equal(['k.orders', 'k.other']);
    const meta = await failure(admin.fetchTopicMetadata({ topics: ['secret'] }));
    expect(meta.type).to.equal('TOPIC_AUTHORIZATION_FAILED');

    expect(await admin.createTopics({ topics: [{ topic: 'made.1' }] })).to.equal(true);
    const created = await failure(admin.createTopics({ topics: [{ topic: 'other.1' }] }));
    expect(created.name).to.equal('KafkaJSAggregateError');
    const validate = await failure(admin.createTopics({ validateOnly: true, topics: [{ topic: 'other.2' }] }));
    expect(validate.name).to.equal('KafkaJSAggregateError');
    expect(await store.getTopic('other.1')).to.equal(undefined);
    await admin.deleteTopics({ topics: ['made.1'] });
    const deleted = await failure(admin.deleteTopics({ topics: ['k.orders'] }));
    expect(deleted.type ?? deleted.name).to.be.oneOf(['TOPIC_AUTHORIZATION_FAILED', 'KafkaJSDeleteTopicRecordsError']);
    expect(await store.getTopic('k.orders')).to.not.equal(undefined);
  });

  it('answers group and cluster look-ups with 30 and 31 where Kafka does', async () => {
    const raw = await connectRaw(agent.agent.kafkaAddress!);
    try {
      raw.request(FIND_COORDINATOR, 1, 1, (w) => writeFindCoordinatorRequest(w, 1, { key: 'hidden', keyType: 0 }));
      const hidden = readFindCoordinatorResponse(new KafkaReader(await raw.response(), 4), 1);
      expect([hidden.errorCode, hidden.nodeId]).to.deep.equal([30, -1]);
      raw.request(FIND_COORDINATOR, 1, 2, (w) => writeFindCoordinatorRequest(w, 1, { key: 'kg', keyType: 0 }));
      expect(readFindCoordinatorResponse(new KafkaReader(await raw.response(), 4), 1).errorCode).to.equal(0);
      raw.request(DESCRIBE_GROUPS, 0, 3, (w) => writeDescribeGroupsRequest(w, 0, { groups: ['kg', 'hidden'] }));
      const groups = readDescribeGroupsResponse(new KafkaReader(await raw.response(), 4), 0).groups;
      expect(groups.map((g) => [g.groupId, g.errorCode])).to.deep.equal([
        ['kg', 0],
        ['hidden', 30],
      ]);
      raw.request(DESCRIBE_CONFIGS, 0, 5, (w) =>
        writeDescribeConfigsRequest(w, 0, {
          resources: [{ resourceType: 4, resourceName: '1', configurationKeys: null }],
        }),
      );
      const broker = readDescribeConfigsResponse(new KafkaReader(await raw.response(), 4), 0).results;
      expect(broker.map((r) => [r.errorCode, r.errorMessage])).to.deep.equal([
        [31, "principal 'ANONYMOUS' may not admin on the cluster"],
      ]);
      raw.request(DESCRIBE_CLUSTER, 0, 4, (w) => writeDescribeClusterRequest(w, 0, {}), true);
      // Response header v1: correlation id, then an empty tagged-field section.
      const cluster = readDescribeClusterResponse(new KafkaReader(await raw.response(), 5), 0);
      expect([cluster.errorCode, cluster.errorMessage]).to.deep.equal([
        31,
        "principal 'ANONYMOUS' may not admin on the cluster",
      ]);
    } finally {
      raw.close();
    }
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).to.deep.equal(['kg']);
    const configs = await failure(
      admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'secret' }],
        includeSynonyms: false,
      }),
    );
    expect([configs.type, configs.code]).to.deep.equal(['TOPIC_AUTHORIZATION_FAILED', 29]);
  });

  it('checks topics named by id like topics named by name, and never shows a hidden name', async () => {
    const ids = {
      secret: topicIdBytes((await store.getTopic('secret'))!.id),
      orders: topicIdBytes((await store.getTopic('k.orders'))!.id),
    };
    const raw = await connectRaw(agent.agent.kafkaAddress!);
    try {
      const topics = await raw.call(
        METADATA,
        12,
        (w) =>
          writeMetadataRequest(w, 12, {
            topics: [
              { name: null, topicId: ids.secret },
              { name: null, topicId: ids.orders },
            ],
          }),
        (r) => readMetadataResponse(r, 12).topics,
        true,
      );
      expect(topics.map((t) => [t.name, t.errorCode, topicIdText(t.topicId)])).to.deep.equal([
        [null, 29, topicIdText(ids.secret)],
        ['k.orders', 0, topicIdText(ids.orders)],
      ]);
      const fetched = await raw.call(
        FETCH,
        13,
        (w) =>
          writeFetchRequest(w, 13, {
            maxWaitMs: 0,
            topics: [{ topicId: ids.secret, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
          }),
        (r) => readFetchResponse(r, 13).responses,
        true,
      );
      expect(fetched.map((t) => t.partitions.map((p) => p.errorCode))).to.deep.equal([[29]]);
      const deleted = await raw.call(
        DELETE_TOPICS,
        6,
        (w) => writeDeleteTopicsRequest(w, 6, { topics: [{ name: null, topicId: ids.secret }], timeoutMs: 1000 }),
        (r) => readDeleteTopicsResponse(r, 6).responses,
        true,
      );
      expect(deleted.map((t) => [t.name, t.errorCode])).to.deep.equal([[null, 29]]);
    } finally {
      raw.close();
    }
    expect(await store.getTopic('secret')).to.not.equal(undefined);
  });

  it('applies the same ACLs to ANONYMOUS gRPC calls', async () => {
    expect(await readAll(agent.connection, 'k.orders', 0)).to.deep.equal([
      [0, 'a'],
      [1, 'b'],
    ]);
    expect(await readAll(agent.connection, 'secret', 0).catch((e: Error) => e.message)).to.equal(
      "principal 'ANONYMOUS' may not consume on topic 'secret'",
    );
  });
});
