/**
 * AlterConfigs and IncrementalAlterConfigs on the Kafka port: KafkaJS's
 * admin.alterConfigs, then raw requests at every version we list, read back
 * through DescribeConfigs and the metadata store; bad resources and values
 * answer per resource and change nothing.
 */
import { expect } from 'chai';
import { Kafka, logLevel, ConfigResourceTypes, type Admin } from 'kafkajs';
import { createTestStores, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { connectRaw, type RawKafka } from './support/rawKafka.js';
import {
  writeAlterConfigsRequest,
  type AlterConfigsRequestInit,
} from '../../src/kafka/generated/alterConfigsRequest.js';
import { readAlterConfigsResponse } from '../../src/kafka/generated/alterConfigsResponse.js';
import {
  writeIncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsRequestInit,
} from '../../src/kafka/generated/incrementalAlterConfigsRequest.js';
import { readIncrementalAlterConfigsResponse } from '../../src/kafka/generated/incrementalAlterConfigsResponse.js';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/metadataStore.js';

const ALTER_CONFIGS = 33;
const INCREMENTAL_ALTER_CONFIGS = 44;
const TOPIC = 2;
const BROKER = 4;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const INVALID_CONFIG = 40;
const INVALID_REQUEST = 42;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

type Answer = { errorCode: number; resourceType: number; resourceName: string };

describe('Kafka AlterConfigs and IncrementalAlterConfigs', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent;
  let admin: Admin;
  let raw: RawKafka;

  before(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { kafkaPort: 0 });
    const kafka = new Kafka({
      clientId: 'alter-configs-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    admin = kafka.admin();
    await admin.connect();
    raw = await connectRaw(agent.agent.kafkaAddress!);
  });

  after(async () => {
    raw?.close();
    await admin?.disconnect();
    await agent?.stop();
    await stores?.cleanup();
  });

  async function configOf(topic: string) {
    return (await agent.metadataStore.getTopic(topic))!.config;
  }

  async function alter(version: number, request: AlterConfigsRequestInit): Promise<Answer[]> {
    const answer = await raw.call(
      ALTER_CONFIGS,
      version,
      (w) => writeAlterConfigsRequest(w, version, request),
      (r) => readAlterConfigsResponse(r, version),
      version >= 2,
    );
    return answer.responses.map(pick);
  }

  async function alterIncremental(version: number, request: IncrementalAlterConfigsRequestInit): Promise<Answer[]> {
    const answer = await raw.call(
      INCREMENTAL_ALTER_CONFIGS,
      version,
      (w) => writeIncrementalAlterConfigsRequest(w, version, request),
      (r) => readIncrementalAlterConfigsResponse(r, version),
      version >= 1,
    );
    return answer.responses.map(pick);
  }

  function pick(r: Answer): Answer {
    return { errorCode: r.errorCode, resourceType: r.resourceType, resourceName: r.resourceName };
  }

  it('KafkaJS alterConfigs sets topic configs and describeConfigs reads them back', async () => {
    await admin.createTopics({ topics: [{ topic: 'alter-js', numPartitions: 1 }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'alter-js',
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'retention.bytes', value: '1073741824' },
            { name: 'max.message.bytes', value: '2097152' },
            { name: 'segment.bytes', value: '16777216' },
          ],
        },
      ],
    });
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'alter-js' }],
      includeSynonyms: false,
    });
    expect(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).to.deep.equal([
      ['retention.ms', '3600000'],
      ['retention.bytes', '1073741824'],
      ['segment.bytes', '16777216'],
      ['max.message.bytes', '2097152'],
    ]);
  });

  it('KafkaJS alterConfigs replaces the whole config: entries left out go back to their defaults', async () => {
    await admin.createTopics({
      topics: [{ topic: 'alter-replace', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '5000' }] }],
    });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'alter-replace',
          configEntries: [{ name: 'retention.bytes', value: '4096' }],
        },
      ],
    });
    expect(await configOf('alter-replace')).to.deep.equal({ ...DEFAULT_TOPIC_CONFIG, retentionBytes: 4096 });
  });

  it('KafkaJS alterConfigs with validateOnly checks and changes nothing', async () => {
    await admin.createTopics({ topics: [{ topic: 'alter-validate', numPartitions: 1 }] });
    await admin.alterConfigs({
      validateOnly: true,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'alter-validate',
          configEntries: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
    });
    expect(await configOf('alter-validate')).to.deep.equal(DEFAULT_TOPIC_CONFIG);
    const refused = await admin
      .alterConfigs({
        validateOnly: true,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'alter-validate',
            configEntries: [{ name: 'retention.ms', value: 'soon' }],
          },
        ],
      })
      .then(
        () => undefined,
        (e: { type?: string }) => e.type,
      );
    expect(refused).to.equal('INVALID_CONFIG');
  });

  for (const version of [0, 1, 2]) {
    it(`AlterConfigs v${version} answers per resource: topic, unknown topic, broker, bad value, bad name`, async () => {
      const topic = `alter-v${version}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const answers = await alter(version, {
        validateOnly: false,
        resources: [
          { resourceType: TOPIC, resourceName: topic, configs: [{ name: 'max.message.bytes', value: '65536' }] },
          { resourceType: TOPIC, resourceName: 'no-such-topic', configs: [{ name: 'retention.ms', value: '1' }] },
          { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', value: '1' }] },
          { resourceType: TOPIC, resourceName: 'alter-js', configs: [{ name: 'retention.ms', value: '0' }] },
          {
            resourceType: TOPIC,
            resourceName: 'alter-replace',
            configs: [{ name: 'compression.type', value: 'zstd' }],
          },
        ],
      });
      expect(answers).to.deep.equal([
        { errorCode: 0, resourceType: TOPIC, resourceName: topic },
        { errorCode: UNKNOWN_TOPIC_OR_PARTITION, resourceType: TOPIC, resourceName: 'no-such-topic' },
        { errorCode: INVALID_REQUEST, resourceType: BROKER, resourceName: '1' },
        { errorCode: INVALID_CONFIG, resourceType: TOPIC, resourceName: 'alter-js' },
        { errorCode: INVALID_CONFIG, resourceType: TOPIC, resourceName: 'alter-replace' },
      ]);
      expect(await configOf(topic)).to.deep.equal({ ...DEFAULT_TOPIC_CONFIG, maxMessageBytes: 65536 });
      expect((await configOf('alter-js')).retentionMs).to.equal(3_600_000);
      expect((await configOf('alter-replace')).retentionBytes).to.equal(4096);
    });
  }

  for (const version of [0, 1]) {
    it(`IncrementalAlterConfigs v${version} sets one entry, keeps the rest, deletes back to the default`, async () => {
      const topic = `incremental-v${version}`;
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.bytes', value: '8192' }] }],
      });
      const set = await alterIncremental(version, {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: topic,
            configs: [
              { name: 'retention.ms', configOperation: SET, value: '60000' },
              { name: 'cleanup.policy', configOperation: SET, value: 'delete' },
            ],
          },
        ],
      });
      expect(set).to.deep.equal([{ errorCode: 0, resourceType: TOPIC, resourceName: topic }]);
      expect(await configOf(topic)).to.deep.equal({
        ...DEFAULT_TOPIC_CONFIG,
        retentionMs: 60_000,
        retentionBytes: 8192,
      });
      await alterIncremental(version, {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: topic,
            configs: [{ name: 'retention.bytes', configOperation: DELETE, value: null }],
          },
        ],
      });
      expect(await configOf(topic)).to.deep.equal({ ...DEFAULT_TOPIC_CONFIG, retentionMs: 60_000 });
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'retention.bytes'] }],
        includeSynonyms: false,
      });
      expect(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).to.deep.equal([
        ['retention.ms', '60000'],
        ['retention.bytes', '-1'],
      ]);
    });
  }

  it('IncrementalAlterConfigs refuses a whole resource for one bad entry and honours validateOnly', async () => {
    await admin.createTopics({ topics: [{ topic: 'incremental-bad', numPartitions: 1 }] });
    const cases: [IncrementalAlterConfigsRequestInit['resources'], number][] = [
      [
        [
          {
            configs: [
              { name: 'retention.ms', configOperation: SET, value: '5' },
              { name: 'x.y', configOperation: SET, value: '1' },
            ],
          },
        ],
        INVALID_CONFIG,
      ],
      [[{ configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] }], INVALID_CONFIG],
      [[{ configs: [{ name: 'retention.ms', configOperation: 9, value: '5' }] }], INVALID_REQUEST],
      [[{ configs: [{ name: 'retention.ms', configOperation: SET, value: null }] }], INVALID_REQUEST],
      [[{ configs: [{ name: 'segment.bytes', configOperation: SET, value: '1024' }] }], INVALID_CONFIG],
      [[{ configs: [{ name: 'retention.ms', configOperation: SET, value: '99999999999999999999' }] }], INVALID_CONFIG],
      [[{ configs: [{ name: 'retention.ms', configOperation: SET, value: ' 5' }] }], INVALID_CONFIG],
      [[{ configs: [{ name: 'cleanup.policy', configOperation: SET, value: 'compact' }] }], INVALID_CONFIG],
      [
        [
          {
            configs: [
              { name: 'retention.ms', configOperation: SET, value: '5' },
              { name: 'retention.ms', configOperation: DELETE, value: null },
            ],
          },
        ],
        INVALID_REQUEST,
      ],
    ];
    for (const [resources, code] of cases) {
      const answers = await alterIncremental(1, {
        resources: resources!.map((r) => ({ ...r, resourceType: TOPIC, resourceName: 'incremental-bad' })),
      });
      expect(answers, JSON.stringify(resources)).to.deep.equal([
        { errorCode: code, resourceType: TOPIC, resourceName: 'incremental-bad' },
      ]);
    }
    const twice = await alterIncremental(1, {
      resources: [0, 1].map(() => ({
        resourceType: TOPIC,
        resourceName: 'incremental-bad',
        configs: [{ name: 'retention.ms', configOperation: SET, value: '5' }],
      })),
    });
    expect(twice.map((a) => a.errorCode)).to.deep.equal([INVALID_REQUEST, INVALID_REQUEST]);
    const validated = await alterIncremental(1, {
      validateOnly: true,
      resources: [
        {
          resourceType: TOPIC,
          resourceName: 'incremental-bad',
          configs: [{ name: 'retention.ms', configOperation: SET, value: '5' }],
        },
        { resourceType: 7, resourceName: 'x', configs: [] },
      ],
    });
    expect(validated.map((a) => a.errorCode)).to.deep.equal([0, INVALID_REQUEST]);
    expect(await configOf('incremental-bad')).to.deep.equal(DEFAULT_TOPIC_CONFIG);
  });
});
