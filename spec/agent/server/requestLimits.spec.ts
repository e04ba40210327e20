import { expect } from 'chai';
import { AckMode, LimitExceededError, OffsetSpec } from '../../../src/protocol/index.js';
import { encodeRecordBatch } from '../../../src/protocol/codec/recordBatch.js';
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { waitFor } from '../../support/waitFor.js';

const LIMIT = 10;

describe('agent: partitions per request', function () {
  this.timeout(20_000);
  let stores: TestStores;
  let agent: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { maxPartitionsPerRequest: LIMIT });
    await agent.connection.client.createTopic({ name: 't', partitions: LIMIT + 1 });
  });
  afterEach(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  const partitions = (count: number) => Array.from({ length: count }, (_, partition) => partition);

  it('refuses a Produce naming more partitions than the limit: nothing written, no lease taken', async () => {
    const { client } = agent.connection;
    const request = (count: number) => ({
      acks: AckMode.ACK_MODE_DURABLE,
      producerId: -1,
      producerEpoch: -1,
      timeoutMs: 0,
      partitions: partitions(count).map((partition) => ({
        topic: 't',
        partition,
        batch: encodeRecordBatch(records(2)),
      })),
    });
    const error = await rejection(client.produce(request(LIMIT + 1)));
    expect(error).to.be.instanceOf(LimitExceededError);
    expect((error as Error).message).to.equal(
      'Produce request names 11 partitions; this agent accepts at most 10 per request ' +
        '(--max-partitions-per-request): split it',
    );
    expect((await agent.metadataStore.listPartitions('t')).map((p) => [p.highWatermark, p.leaseHolder])).to.deep.equal(
      partitions(LIMIT + 1).map(() => [0, undefined]),
    );
    const { results } = await client.produce(request(LIMIT));
    expect(results.map((r) => [r.partition, r.baseOffset, r.error])).to.deep.equal(
      partitions(LIMIT).map((p) => [p, 0, undefined]),
    );
    expect(await readAll(agent.connection, 't', 9)).to.deep.equal(expected(0, 2));
  });

  it('refuses Fetch, ListOffsets, CommitOffsets and FetchOffsets beyond the limit', async () => {
    const { client } = agent.connection;
    const over = partitions(LIMIT + 1);
    const calls: [string, Promise<unknown>][] = [
      [
        'Fetch',
        client.fetch({
          partitions: over.map((partition) => ({ topic: 't', partition, offset: 0, maxBytes: 0 })),
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 0,
        }),
      ],
      [
        'ListOffsets',
        client.listOffsets({
          partitions: over.map((partition) => ({
            topic: 't',
            partition,
            spec: OffsetSpec.OFFSET_SPEC_LATEST,
            timestampMs: 0,
          })),
        }),
      ],
      [
        'CommitOffsets',
        client.commitOffsets({
          groupId: 'g',
          generationId: -1,
          memberId: '',
          partitions: over.map((partition) => ({ topic: 't', partition, offset: 1, metadata: '' })),
        }),
      ],
      [
        'FetchOffsets',
        client.fetchOffsets({ groupId: 'g', partitions: over.map((partition) => ({ topic: 't', partition })) }),
      ],
    ];
    for (const [method, call] of calls) {
      const error = await rejection(call);
      expect(error, method).to.be.instanceOf(LimitExceededError);
      expect((error as Error).message).to.equal(
        `${method} request names 11 partitions; this agent accepts at most 10 per request ` +
          `(--max-partitions-per-request): split it`,
      );
    }
    expect(await agent.metadataStore.fetchOffsets('g')).to.deep.equal([]);
    const { results } = await client.fetch({
      partitions: partitions(LIMIT).map((partition) => ({ topic: 't', partition, offset: 0, maxBytes: 0 })),
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 0,
    });
    expect(results.map((r) => r.error)).to.deep.equal(partitions(LIMIT).map(() => undefined));
  });
});

describe('agent: idle leases are released', function () {
  this.timeout(20_000);
  let stores: TestStores;
  let agent: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    agent = await startTestAgent(stores, { agentId: 'agent-a', leaseIdleReleaseMs: 300 });
  });
  afterEach(async () => {
    await agent.stop();
    await stores.cleanup();
  });

  it('releases leases of partitions nobody writes to, not with retention, and leases again on a write', async () => {
    const { client } = agent.connection;
    await client.createTopic({
      name: 'kept',
      partitions: 1,
      config: { retentionMs: 3_600_000, retentionBytes: 0, segmentBytes: 0, maxMessageBytes: 0 },
    });
    await client.createTopic({ name: 't', partitions: 3 });
    await client.createTopic({ name: 'gone', partitions: 1 });
    // The retention topic is written first, so it is idle at least as long as the others when they are released.
    await produce(agent.connection, 'kept', 0, records(1));
    // A topic deleted behind this agent's back (through the store): its lease cannot be released, the others still are.
    await produce(agent.connection, 'gone', 0, records(1));
    await agent.metadataStore.deleteTopic('gone');
    for (const partition of [0, 1, 2]) await produce(agent.connection, 't', partition, records(3));
    const holders = async (topic: string) =>
      (await agent.metadataStore.listPartitions(topic)).map((p) => p.leaseHolder);
    expect(await holders('t')).to.deep.equal(['agent-a', 'agent-a', 'agent-a']);
    await waitFor(
      async () => (await holders('t')).every((holder) => holder === undefined),
      'the idle leases to be released',
    );
    expect(await holders('kept')).to.deep.equal(['agent-a']);
    const epoch = (await agent.metadataStore.getPartition('t', 1)).leaseEpoch;
    expect(await produce(agent.connection, 't', 1, records(2, 'again'))).to.equal(3);
    expect(await agent.metadataStore.getPartition('t', 1)).to.deep.include({
      leaseHolder: 'agent-a',
      leaseEpoch: epoch + 1,
      highWatermark: 5,
    });
    expect(await readAll(agent.connection, 't', 1)).to.deep.equal([...expected(0, 3), [3, 'again-0'], [4, 'again-1']]);
  });
});
