/**
 * Several agents in one process sharing one Redis prefix and one object store
 * (a directory, then an S3-compatible server): partition leadership by lease,
 * NOT_LEADER from the others, cluster metadata, reads served by any agent, and
 * long-polls woken across agents through the Redis relay.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { NotLeaderError } from '../../src/protocol/errors.js';
import { S3ObjectStore } from '../../src/storage/s3ObjectStore.js';
import { startS3Server, type S3TestServer } from '../support/s3Server.js';
import {
  createTestStores,
  expected,
  fetchOnce,
  nextLongPoll,
  produce,
  readAll,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

/** Produces through `first`; on NOT_LEADER asks it who leads and produces there, as a client would. */
async function produceAtLeader(
  first: TestAgent,
  all: TestAgent[],
  topic: string,
  partition: number,
  prefix: string,
  count: number,
): Promise<number> {
  try {
    return await produce(first.connection, topic, partition, records(count, prefix));
  } catch (error) {
    if (!(error instanceof NotLeaderError)) throw error;
    const meta = await first.connection.client.metadata({ topics: [topic] });
    const leaderId = meta.topics[0]!.partitions[partition]!.leaderAgentId;
    const leader = all.find((a) => a.agent.agentId === leaderId)!;
    return produce(leader.connection, topic, partition, records(count, prefix));
  }
}

/**
 * Starts a long-poll on `reader` that may wait 30 s, and produces through
 * `writer` once it waits. Callers bound their test below 30 s: only the
 * commit's notification can then answer the poll in time.
 */
async function longPollAcross(reader: TestAgent, writer: TestAgent, topic: string, partition: number, offset: number) {
  const parked = nextLongPoll(reader.agent);
  const polling = fetchOnce(reader.connection, topic, partition, offset, 30_000);
  await parked;
  const base = await produce(writer.connection, topic, partition, records(2, 'wake'));
  return { base, woken: await polling };
}

describe('agents: three agents sharing Redis and a directory object store', () => {
  let stores: TestStores;
  let agents: TestAgent[];
  let a: TestAgent;
  let b: TestAgent;
  let c: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('redis');
    agents = [];
    for (const id of ['agent-a', 'agent-b', 'agent-c']) agents.push(await startTestAgent(stores, { agentId: id }));
    [a, b, c] = agents as [TestAgent, TestAgent, TestAgent];
    await a.connection.client.createTopic({ name: 'events', partitions: 3, config: undefined });
    // Each agent takes the lease of "its" partition by writing to it first.
    expect(await produce(a.connection, 'events', 0, records(3, 'a'))).to.equal(0);
    expect(await produce(b.connection, 'events', 1, records(2, 'b'))).to.equal(0);
    expect(await produce(c.connection, 'events', 2, records(1, 'c'))).to.equal(0);
  });
  afterEach(async () => {
    await Promise.all(agents.map((x) => x.stop()));
    await stores.cleanup();
  });

  it('answers NOT_LEADER for a partition another agent leads, naming the holder', async () => {
    const error = await rejection(produce(b.connection, 'events', 0, records(1, 'x')));
    expect(error).to.be.instanceOf(NotLeaderError);
    expect((error as NotLeaderError).code).to.equal('NOT_LEADER');
    expect((error as NotLeaderError).message).to.match(/^events\/0 is leased by agent-a until \d+/);
    expect(await rejection(produce(a.connection, 'events', 2, records(1, 'x')))).to.be.instanceOf(NotLeaderError);
    // The leader carries on where it was; the refused batches took no offsets.
    expect(await produce(a.connection, 'events', 0, records(2, 'a2'))).to.equal(3);
    expect(await readAll(a.connection, 'events', 0)).to.deep.equal([...expected(0, 3, 'a'), ...expected(3, 2, 'a2')]);
  });

  it("tells the same story from every agent: three live agents and each partition's leader", async () => {
    for (const asked of agents) {
      const meta = await asked.connection.client.metadata({ topics: ['events'] });
      expect(meta.agentId).to.equal(asked.agent.agentId);
      expect(meta.agents.map((x) => [x.agentId, x.address])).to.deep.equal(
        agents.map((x) => [x.agent.agentId, x.agent.address]),
      );
      expect(
        meta.topics[0]!.partitions.map((p) => [
          p.partition,
          p.leaderAgentId,
          p.leaderAddress,
          p.leaseEpoch,
          p.highWatermark,
        ]),
      ).to.deep.equal([
        [0, 'agent-a', a.agent.address, 1, 3],
        [1, 'agent-b', b.agent.address, 1, 2],
        [2, 'agent-c', c.agent.address, 1, 1],
      ]);
    }
  });

  it('serves data written through one agent from every agent (fetch reads the shared store)', async () => {
    expect(await produce(a.connection, 'events', 0, records(4, 'more'))).to.equal(3);
    const all = [...expected(0, 3, 'a'), ...expected(3, 4, 'more')];
    for (const x of agents) {
      expect(await readAll(x.connection, 'events', 0)).to.deep.equal(all);
      expect(await readAll(x.connection, 'events', 0, 5)).to.deep.equal(all.slice(5));
      expect(await readAll(x.connection, 'events', 1)).to.deep.equal(expected(0, 2, 'b'));
      expect(await readAll(x.connection, 'events', 2)).to.deep.equal(expected(0, 1, 'c'));
    }
  });

  it('wakes a long-poll on agent B when agent A commits (Redis relay)', async function () {
    // Without the relay B would sleep out its 30 s poll, beyond this test's timeout.
    this.timeout(15_000);
    const { base, woken } = await longPollAcross(b, a, 'events', 0, 3);
    expect(base).to.equal(3);
    expect(woken.records).to.deep.equal(expected(3, 2, 'wake'));
    expect(woken.highWatermark).to.equal(5);
    // And the other way round, on another partition.
    const back = await longPollAcross(c, b, 'events', 1, 2);
    expect(back.base).to.equal(2);
    expect(back.woken.records).to.deep.equal(expected(2, 2, 'wake'));
  });

  it('gives concurrent producers on every agent dense, unique offsets in one partition', async () => {
    // 30 batches of 4 sent through all three agents at once; the non-leaders refuse and the batch goes to the leader.
    const sends = Array.from({ length: 30 }, (_, i) =>
      produceAtLeader(agents[i % 3]!, agents, 'events', 1, `p${i}`, 4),
    );
    const bases = await Promise.all(sends);
    expect([...bases].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 30 }, (_, i) => 2 + i * 4));
    const all = await readAll(c.connection, 'events', 1);
    expect(all.map(([o]) => o)).to.deep.equal(Array.from({ length: 122 }, (_, i) => i));
    for (const [i, base] of bases.entries())
      expect(all.slice(base, base + 4)).to.deep.equal(expected(base, 4, `p${i}`));
    // The registry is dense: each segment starts where the previous one ended.
    const segments = await a.metadataStore.listSegments('events', 1);
    expect(segments[0]!.baseOffset).to.equal(0);
    for (let i = 1; i < segments.length; i++) expect(segments[i]!.baseOffset).to.equal(segments[i - 1]!.endOffset);
    expect(segments[segments.length - 1]!.endOffset).to.equal(122);
  });

  it('refuses buffered acks on agents without a write-ahead log, with INVALID_REQUEST', async () => {
    const error = await rejection(produce(a.connection, 'events', 0, records(1), AckMode.ACK_MODE_BUFFERED));
    expect((error as { code?: string }).code).to.equal('INVALID_REQUEST');
  });
});

describe('agents: two agents sharing Redis and an S3-compatible object store', () => {
  let server: S3TestServer;
  let stores: TestStores;
  let a: TestAgent;
  let b: TestAgent;
  let extraStore: S3ObjectStore;

  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    await server.stop();
  });
  beforeEach(async () => {
    const prefix = `run-${randomUUID().slice(0, 8)}`;
    stores = await createTestStores('redis', new S3ObjectStore(server.storeOptions(prefix)));
    a = await startTestAgent(stores, { agentId: 'agent-a' });
    // B has an S3 client of its own on the same bucket and prefix, as a separate process would.
    extraStore = new S3ObjectStore(server.storeOptions(prefix));
    b = await startTestAgent(stores, { agentId: 'agent-b', objectStore: extraStore });
    await a.connection.client.createTopic({ name: 'events', partitions: 2, config: undefined });
  });
  afterEach(async () => {
    await a.stop();
    await b.stop();
    await extraStore.close();
    await stores.cleanup();
  });

  it('leads by lease, reads through either agent, wakes long-polls across agents', async function () {
    this.timeout(15_000);
    expect(await produce(a.connection, 'events', 0, records(3, 'a'))).to.equal(0);
    expect(await produce(b.connection, 'events', 1, records(2, 'b'))).to.equal(0);
    expect(await rejection(produce(b.connection, 'events', 0, records(1)))).to.be.instanceOf(NotLeaderError);
    expect(await produce(a.connection, 'events', 0, records(2, 'a2'))).to.equal(3);

    expect(await readAll(b.connection, 'events', 0)).to.deep.equal([...expected(0, 3, 'a'), ...expected(3, 2, 'a2')]);
    expect(await readAll(a.connection, 'events', 1)).to.deep.equal(expected(0, 2, 'b'));

    const { base, woken } = await longPollAcross(b, a, 'events', 0, 5);
    expect(base).to.equal(5);
    expect(woken.records).to.deep.equal(expected(5, 2, 'wake'));

    // One object per flush, named by range and the writer's epoch, in the bucket both agents use.
    expect((await extraStore.list('topics/events/0/')).map((o) => o.key)).to.deep.equal([
      'topics/events/0/00000000000000000000-00000000000000000003-e1.seg',
      'topics/events/0/00000000000000000003-00000000000000000005-e1.seg',
      'topics/events/0/00000000000000000005-00000000000000000007-e1.seg',
    ]);
  });
});
