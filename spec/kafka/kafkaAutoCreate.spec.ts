/**
 * Topic auto-creation on the Kafka port (`kafkaAutoCreatePartitions`): off by
 * default; when on, Metadata that names a missing topic and allows it
 * creates the topic with the configured partitions, under ACLs and limits.
 */
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { createTestStores, readAll, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { connectRaw } from './support/rawKafka.js';
import { writeMetadataRequest, type MetadataRequestInit } from '../../src/kafka/generated/metadataRequest.js';
import { readMetadataResponse } from '../../src/kafka/generated/metadataResponse.js';
import { KafkaErrorCode } from '../../src/kafka/kafkaErrors.js';
import { topicIdText } from '../../src/kafka/topicIds.js';
import type { AgentOptions } from '../../src/agent/agentOptions.js';

const METADATA = 3;

describe('Kafka listener topic auto-creation', function () {
  this.timeout(60_000);
  let stores: TestStores;
  const agents: TestAgent[] = [];

  before(async () => {
    stores = await createTestStores('sqlite');
  });

  after(async () => {
    for (const agent of agents) await agent.stop();
    await stores?.cleanup();
  });

  async function start(options: Partial<AgentOptions>): Promise<TestAgent> {
    const agent = await startTestAgent(stores, { kafkaPort: 0, ...options });
    agents.push(agent);
    return agent;
  }

  /** Metadata in `version` (flexible from 9): each topic's name, error code and partition count. */
  async function metadata(agent: TestAgent, version: number, request: MetadataRequestInit) {
    const raw = await connectRaw(agent.agent.kafkaAddress!);
    try {
      const response = await raw.call(
        METADATA,
        version,
        (w) => writeMetadataRequest(w, version, request),
        (r) => readMetadataResponse(r, version),
        version >= 9,
      );
      return response.topics.map((t) => ({
        name: t.name,
        errorCode: t.errorCode,
        partitions: t.partitions.length,
        topicId: version >= 10 ? topicIdText(t.topicId) : undefined,
      }));
    } finally {
      raw.close();
    }
  }

  it('creates nothing by default, whatever the request allows', async () => {
    const agent = await start({});
    expect(await metadata(agent, 12, { topics: [{ name: 'off-1' }], allowAutoTopicCreation: true })).to.deep.equal([
      {
        name: 'off-1',
        errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        partitions: 0,
        topicId: topicIdText(Buffer.alloc(16)),
      },
    ]);
    expect(await metadata(agent, 1, { topics: [{ name: 'off-2' }] })).to.deep.equal([
      { name: 'off-2', errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partitions: 0, topicId: undefined },
    ]);
    expect(await agent.metadataStore.listTopics()).to.deep.equal([]);
  });

  it('creates a missing topic with the configured partitions when the request allows, answering it', async () => {
    const agent = await start({ kafkaAutoCreatePartitions: 3 });
    await agent.metadataStore.createTopic('there', 1);
    expect(await metadata(agent, 12, { topics: [{ name: 'auto-no' }], allowAutoTopicCreation: false })).to.deep.equal([
      {
        name: 'auto-no',
        errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        partitions: 0,
        topicId: topicIdText(Buffer.alloc(16)),
      },
    ]);
    const answered = await metadata(agent, 12, {
      topics: [{ name: 'auto-a' }, { name: 'bad name' }, { name: 'there' }],
      allowAutoTopicCreation: true,
    });
    expect(answered).to.deep.equal([
      { name: 'auto-a', errorCode: 0, partitions: 3, topicId: (await agent.metadataStore.getTopic('auto-a'))!.id },
      {
        name: 'bad name',
        errorCode: KafkaErrorCode.INVALID_TOPIC_EXCEPTION,
        partitions: 0,
        topicId: topicIdText(Buffer.alloc(16)),
      },
      { name: 'there', errorCode: 0, partitions: 1, topicId: (await agent.metadataStore.getTopic('there'))!.id },
    ]);
    // Before v4 a Metadata request always allows it.
    expect(await metadata(agent, 1, { topics: [{ name: 'auto-v1' }] })).to.deep.equal([
      { name: 'auto-v1', errorCode: 0, partitions: 3, topicId: undefined },
    ]);
    expect((await agent.metadataStore.listTopics()).map((t) => [t.name, t.partitions])).to.deep.equal([
      ['auto-a', 3],
      ['auto-v1', 3],
      ['there', 1],
    ]);
    // A request for every topic creates nothing.
    expect(
      (await metadata(agent, 12, { topics: null, allowAutoTopicCreation: true })).map((t) => t.name),
    ).to.deep.equal(['auto-a', 'auto-v1', 'there']);
  });

  it('lets a KafkaJS producer write to a topic nobody created', async () => {
    const agent = await start({ kafkaAutoCreatePartitions: 1 });
    const kafka = new Kafka({
      clientId: 'auto-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'auto-kafkajs', messages: [{ key: 'k', value: 'v-0' }, { value: 'v-1' }] });
    } finally {
      await producer.disconnect();
    }
    expect((await agent.metadataStore.getTopic('auto-kafkajs'))?.partitions).to.equal(1);
    expect(await readAll(agent.connection, 'auto-kafkajs', 0)).to.deep.equal([
      [0, 'v-0'],
      [1, 'v-1'],
    ]);
  });

  it('keeps to --max-topics and the create ACL, creating nothing refused', async () => {
    const limited = await start({ kafkaAutoCreatePartitions: 1, maxTopics: 1 });
    await limited.metadataStore.createTopic('only', 1);
    expect(await metadata(limited, 12, { topics: [{ name: 'one-more' }], allowAutoTopicCreation: true })).to.deep.equal(
      [
        {
          name: 'one-more',
          errorCode: KafkaErrorCode.INVALID_CONFIG,
          partitions: 0,
          topicId: topicIdText(Buffer.alloc(16)),
        },
      ],
    );
    await limited.metadataStore.deleteTopic('only');

    const store = stores.newMetadataStore();
    try {
      await store.addAcl({
        principal: 'ANONYMOUS',
        permission: 'allow',
        operation: 'describe',
        resourceType: 'topic',
        patternType: 'prefix',
        resourceName: 'acl-',
      });
      await store.addAcl({
        principal: 'ANONYMOUS',
        permission: 'allow',
        operation: 'create',
        resourceType: 'topic',
        patternType: 'literal',
        resourceName: 'acl-made',
      });
    } finally {
      await store.close();
    }
    const guarded = await start({ kafkaAutoCreatePartitions: 2, authorizer: {} });
    expect(
      await metadata(guarded, 12, {
        topics: [{ name: 'acl-made' }, { name: 'acl-refused' }],
        allowAutoTopicCreation: true,
      }),
    ).to.deep.equal([
      {
        name: 'acl-made',
        errorCode: 0,
        partitions: 2,
        topicId: (await guarded.metadataStore.getTopic('acl-made'))!.id,
      },
      {
        name: 'acl-refused',
        errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED,
        partitions: 0,
        topicId: topicIdText(Buffer.alloc(16)),
      },
    ]);
    expect(await guarded.metadataStore.getTopic('acl-refused')).to.equal(undefined);
    expect(await guarded.metadataStore.getTopic('one-more')).to.equal(undefined);
  });
});
