/**
 * The agent's limits, each taken past its bound and back: connections per
 * client address (gRPC and Kafka ports), Fetch calls waiting at once, topics
 * per cluster and partitions per topic (gRPC and Kafka CreateTopics, validateOnly too).
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { waitFor } from '../../support/waitFor.js';
import { connectRaw } from '../../kafka/support/rawKafka.js';
import { writeApiVersionsRequest } from '../../../src/kafka/generated/apiVersionsRequest.js';
import { writeCreateTopicsRequest } from '../../../src/kafka/generated/createTopicsRequest.js';
import { readCreateTopicsResponse } from '../../../src/kafka/generated/createTopicsResponse.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

/** A TCP connection to `address`, once connected. */
async function dial(address: string): Promise<Socket> {
  const [host, port] = address.split(':') as [string, string];
  const socket = createConnection(Number(port), host);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

describe('agent limits', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let agent: TestAgent | undefined;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await agent?.stop();
    agent = undefined;
    await stores.cleanup();
  });

  it('closes gRPC connections beyond maxConnectionsPerAddress at once, and admits again once one closes', async () => {
    // The harness's own client holds one connection from 127.0.0.1.
    agent = await startTestAgent(stores, { maxConnectionsPerAddress: 3 });
    await agent.connection.client.listTopics({});
    for (let i = 0; i < 3; i++) sockets.push(await dial(agent.agent.address));
    await once(sockets[2]!, 'close');
    expect(agent.agent.connections).to.deep.include({ refusedPerAddress: 1 });
    await waitFor(() => agent!.agent.connections.open === 3, 'the refused socket to be counted closed');
    sockets[0]!.destroy();
    await waitFor(() => agent!.agent.connections.open === 2, 'a closed connection to free its place');
    const again = await dial(agent.agent.address);
    sockets.push(again);
    await waitFor(() => agent!.agent.connections.open === 3, 'the new connection to be admitted');
    expect(agent.agent.connections).to.deep.include({ refusedPerAddress: 1 });
    expect(again.destroyed).to.equal(false);
    expect((await agent.connection.client.listTopics({})).names).to.deep.equal([]);
  });

  it('closes Kafka connections beyond maxConnectionsPerAddress at once; a freed place serves again', async () => {
    agent = await startTestAgent(stores, { kafkaPort: 0, maxConnectionsPerAddress: 2 });
    const address = agent.agent.kafkaAddress!;
    const first = await connectRaw(address);
    const second = await connectRaw(address);
    const third = await connectRaw(address);
    await third.closed;
    first.close();
    await first.closed;
    // The agent sees the close a little later: retry until a new connection is served.
    let served: Buffer | undefined;
    while (served === undefined) {
      const next = await connectRaw(address);
      next.request(18, 0, 7, (w) => writeApiVersionsRequest(w, 0, {}));
      served = await next.response().catch(() => undefined);
      if (served === undefined) await next.closed;
      else next.close();
    }
    expect(served.readInt32BE(0)).to.equal(7);
    second.close();
  });

  it('answers a Fetch at once with what there is while maxLongPolls Fetches wait; long polls again after', async () => {
    agent = await startTestAgent(stores, { maxLongPolls: 2 });
    const { client } = agent.connection;
    await client.createTopic({ name: 'lp', partitions: 1 });
    const longPoll = () =>
      client.fetch({
        partitions: [{ topic: 'lp', partition: 0, offset: 0, maxBytes: 0 }],
        maxWaitMs: 20_000,
        minBytes: 1,
      });
    const waiting = [longPoll(), longPoll()];
    await waitFor(() => agent!.agent.longPolls.active === 2, 'two Fetches to wait');
    const started = Date.now();
    const third = await longPoll();
    expect(Date.now() - started).to.be.below(5000);
    expect(third.results.map((r) => [r.records.length, r.highWatermark])).to.deep.equal([[0, 0]]);
    expect(agent.agent.longPolls.refused).to.equal(1);
    await produce(agent.connection, 'lp', 0, records(1));
    const woken = await Promise.all(waiting);
    expect(woken.map((w) => w.results[0]!.highWatermark)).to.deep.equal([1, 1]);
    expect(agent.agent.longPolls.active).to.equal(0);
    const fourth = client.fetch({
      partitions: [{ topic: 'lp', partition: 0, offset: 1, maxBytes: 0 }],
      maxWaitMs: 20_000,
      minBytes: 1,
    });
    await waitFor(() => agent!.agent.longPolls.active === 1, 'a new Fetch to wait');
    await produce(agent.connection, 'lp', 0, records(1));
    expect((await fourth).results[0]!.highWatermark).to.equal(2);
    expect(agent.agent.longPolls.refused).to.equal(1);
  });

  it('refuses topics beyond maxTopics and partitions beyond maxPartitionsPerTopic with INVALID_CONFIG', async () => {
    agent = await startTestAgent(stores, { maxTopics: 2, maxPartitionsPerTopic: 4 });
    const { client } = agent.connection;
    const tooWide = await client.createTopic({ name: 'wide', partitions: 5 }).catch((e: unknown) => e);
    expect(tooWide).to.be.instanceOf(InvalidConfigError);
    expect((tooWide as InvalidConfigError).retriable).to.equal(false);
    expect((tooWide as Error).message).to.contain('at most 4 per topic (--max-partitions-per-topic)');
    await client.createTopic({ name: 'a', partitions: 4 });
    await client.createTopic({ name: 'b', partitions: 1 });
    const third = await client.createTopic({ name: 'c', partitions: 1 }).catch((e: unknown) => e);
    expect(third).to.be.instanceOf(InvalidConfigError);
    expect((third as Error).message).to.contain('the cluster has 2 topics, at most 2 allowed (--max-topics)');
    expect((await client.listTopics({})).names.sort()).to.deep.equal(['a', 'b']);
    await client.deleteTopic({ name: 'b' });
    await client.createTopic({ name: 'c', partitions: 1 });
    expect((await client.listTopics({})).names.sort()).to.deep.equal(['a', 'c']);
  });

  it('answers Kafka CreateTopics beyond the limits with INVALID_CONFIG, creating nothing', async () => {
    agent = await startTestAgent(stores, { kafkaPort: 0, maxTopics: 1, maxPartitionsPerTopic: 2 });
    const admin = new Kafka({
      clientId: 'limits-spec',
      brokers: [agent.agent.kafkaAddress!],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
    try {
      const wide = await admin.createTopics({ topics: [{ topic: 'wide', numPartitions: 3 }] }).catch((e: unknown) => e);
      expect((wide as { errors: { type: string }[] }).errors.map((e) => e.type)).to.deep.equal(['INVALID_CONFIG']);
      expect(await admin.createTopics({ topics: [{ topic: 'one', numPartitions: 2 }] })).to.equal(true);
      const more = await admin.createTopics({ topics: [{ topic: 'two', numPartitions: 1 }] }).catch((e: unknown) => e);
      expect((more as { errors: { type: string }[] }).errors.map((e) => e.type)).to.deep.equal(['INVALID_CONFIG']);
      expect(await admin.listTopics()).to.deep.equal(['one']);
    } finally {
      await admin.disconnect();
    }
  });

  it('answers Kafka CreateTopics validateOnly as the create would for the limits, writing nothing', async () => {
    agent = await startTestAgent(stores, { kafkaPort: 0, maxTopics: 2, maxPartitionsPerTopic: 2 });
    const raw = await connectRaw(agent.agent.kafkaAddress!);
    /** CreateTopics v7 (flexible: request header v2, response header v1): [name, code, message, partitions]. */
    const createTopics = async (validateOnly: boolean, topics: [string, number][]) => {
      const asked = topics.map(([name, numPartitions]) => ({
        name,
        numPartitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      }));
      const answer = await raw.call(
        19,
        7,
        (w) => writeCreateTopicsRequest(w, 7, { topics: asked, timeoutMs: 5000, validateOnly }),
        (r) => readCreateTopicsResponse(r, 7),
        true,
      );
      return answer.topics.map((t) => [t.name, t.errorCode, t.errorMessage, t.numPartitions]);
    };
    const tooWide =
      'topic wide asks for 3 partitions; this cluster allows at most 2 per topic (--max-partitions-per-topic)';
    try {
      expect(
        await createTopics(true, [
          ['wide', 3],
          ['one', 2],
        ]),
      ).to.deep.equal([
        ['wide', 40, tooWide, -1],
        ['one', 0, null, 2],
      ]);
      expect(await agent.metadataStore.listTopics()).to.deep.equal([]);
      expect(
        await createTopics(false, [
          ['one', 2],
          ['two', -1],
        ]),
      ).to.deep.equal([
        ['one', 0, null, 2],
        ['two', 0, null, 1],
      ]);
      // Full: validateOnly and the create answer alike, and only the create would have written.
      const full = [
        ['one', 36, "topic 'one' already exists", -1],
        ['three', 40, 'topic three not created: the cluster has 2 topics, at most 2 allowed (--max-topics)', -1],
        ['wide', 40, tooWide, -1],
      ];
      const asked: [string, number][] = [
        ['one', 1],
        ['three', 1],
        ['wide', 3],
      ];
      expect(await createTopics(true, asked)).to.deep.equal(full);
      expect(await createTopics(false, asked)).to.deep.equal(full);
      expect((await agent.metadataStore.listTopics()).map((t) => t.name)).to.deep.equal(['one', 'two']);
      await agent.connection.client.deleteTopic({ name: 'two' });
      expect(await createTopics(true, [['three', 1]])).to.deep.equal([['three', 0, null, 1]]);
      expect((await agent.metadataStore.listTopics()).map((t) => t.name)).to.deep.equal(['one']);
    } finally {
      raw.close();
    }
  });
});
