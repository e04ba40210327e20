/**
 * Partitions moving between agents: a graceful stop hands leases over at
 * once, a crash after the lease TTL; a stale agent is fenced by epoch;
 * acknowledged records and idempotence state survive the move.
 */
import { expect } from 'chai';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { NotLeaderError } from '../../src/protocol/errors.js';
import type { EncodeOptions } from '../../src/protocol/codec/recordBatch.js';
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
} from '../support/agentHarness.js';

/**
 * Produces through `agent` until it leads the partition (bounded polling); returns the offset, with every refusal seen
 * before.
 */
async function produceOnceLeading(
  agent: TestAgent,
  topic: string,
  partition: number,
  prefix: string,
  count: number,
  encode: EncodeOptions = {},
) {
  const refusals: unknown[] = [];
  for (;;) {
    try {
      const base = await produce(
        agent.connection,
        topic,
        partition,
        records(count, prefix),
        AckMode.ACK_MODE_DURABLE,
        encode,
      );
      return { base, refusals };
    } catch (error) {
      if (!(error instanceof NotLeaderError) || refusals.length > 200) throw error;
      refusals.push(error);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Every segment starts where the previous one ended, from the log start to the high watermark. */
async function expectDenseRegistry(
  agent: TestAgent,
  topic: string,
  partition: number,
  from: number,
  to: number,
): Promise<string[]> {
  const segments = await agent.metadataStore.listSegments(topic, partition);
  expect(segments.map((s) => [s.baseOffset, s.endOffset])).to.deep.equal(
    segments.map((s, i) => [i === 0 ? from : segments[i - 1]!.endOffset, s.endOffset]),
  );
  expect(segments[segments.length - 1]!.endOffset).to.equal(to);
  return segments.map((s) => s.key);
}

describe('failover: agents sharing Redis and a directory object store', () => {
  let stores: TestStores;
  let started: TestAgent[];
  const start = async (agentId: string, leaseTtlMs: number) => {
    const agent = await startTestAgent(stores, { agentId, leaseTtlMs });
    started.push(agent);
    return agent;
  };

  beforeEach(async () => {
    stores = await createTestStores('redis');
    started = [];
  });
  afterEach(async () => {
    await Promise.all(started.map((x) => x.stop()));
    await stores.cleanup();
  });

  it("hands a gracefully stopped agent's partitions over at once; offsets continue densely", async () => {
    const a = await start('agent-a', 10_000);
    const b = await start('agent-b', 10_000);
    await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    for (let i = 0; i < 3; i++) expect(await produce(a.connection, 'orders', 0, records(3, `a${i}`))).to.equal(i * 3);
    expect(await rejection(produce(b.connection, 'orders', 0, records(1)))).to.be.instanceOf(NotLeaderError);

    await a.stop();
    // No waiting for the 10 s TTL: the lease was released.
    expect(await produce(b.connection, 'orders', 0, records(2, 'b'))).to.equal(9);
    expect(await readAll(b.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 3, 'a0'),
      ...expected(3, 3, 'a1'),
      ...expected(6, 3, 'a2'),
      ...expected(9, 2, 'b'),
    ]);
    const meta = await b.connection.client.metadata({ topics: ['orders'] });
    const p0 = meta.topics[0]!.partitions[0]!;
    expect([p0.leaderAgentId, p0.leaseEpoch, p0.highWatermark]).to.deep.equal(['agent-b', 2, 11]);
    expect(meta.agents.map((x) => x.agentId)).to.deep.equal(['agent-b']);
    await expectDenseRegistry(b, 'orders', 0, 0, 11);
  });

  it("moves a killed agent's partition only after its lease TTL, keeping each acked record's offset", async () => {
    // Lease time is a clock of the test's own: it stands still unless moved, so expiry happens exactly when the test
    // says.
    let now = Date.now();
    const clock = () => now;
    const startAt = async (agentId: string) => {
      const agent = await startTestAgent(stores, {
        agentId,
        leaseTtlMs: 500,
        clock,
        metadataStore: stores.newMetadataStore({ clock }),
      });
      started.push(agent);
      return agent;
    };
    const a = await startAt('agent-a');
    const b = await startAt('agent-b');
    await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    for (let i = 0; i < 3; i++) expect(await produce(a.connection, 'orders', 0, records(2, `s${i}`))).to.equal(i * 2);
    // A crash with produces in flight: some are acknowledged before it, the rest fail or are lost.
    const inflight = Array.from({ length: 10 }, (_, i) =>
      produce(a.connection, 'orders', 0, records(2, `f${i}`)).then(
        (base) => ({ i, base }),
        () => ({ i, base: -1 }),
      ),
    );
    await Promise.race(inflight);
    await a.kill();
    const acked = (await Promise.all(inflight)).filter((r) => r.base >= 0);
    expect(acked.length).to.be.greaterThan(0);
    // Every renewal, even one landing after the kill, was made at the same `now`.
    const { leaseExpiresAt, leaseHolder } = await b.metadataStore.getPartition('orders', 0);
    expect([leaseHolder, leaseExpiresAt]).to.deep.equal(['agent-a', now + 500]);

    // Refused while A's lease lives, up to and including its expiry time; accepted the moment after.
    for (const at of [now, leaseExpiresAt]) {
      now = at;
      const refused = await rejection(produce(b.connection, 'orders', 0, records(2, 'b')));
      expect(refused).to.be.instanceOf(NotLeaderError);
      expect((refused as NotLeaderError).message).to.match(
        new RegExp(`^orders/0 is leased by agent-a until ${leaseExpiresAt}`),
      );
    }
    now = leaseExpiresAt + 1;
    const takeover = { base: await produce(b.connection, 'orders', 0, records(2, 'b')) };

    const all = await readAll(b.connection, 'orders', 0);
    expect(all.map(([o]) => o)).to.deep.equal(Array.from({ length: takeover.base + 2 }, (_, i) => i));
    expect(all.slice(0, 6)).to.deep.equal([...expected(0, 2, 's0'), ...expected(2, 2, 's1'), ...expected(4, 2, 's2')]);
    for (const { i, base } of acked) expect(all.slice(base, base + 2)).to.deep.equal(expected(base, 2, `f${i}`));
    expect(all.slice(takeover.base)).to.deep.equal(expected(takeover.base, 2, 'b'));
    await expectDenseRegistry(b, 'orders', 0, 0, takeover.base + 2);
    const p0 = await b.metadataStore.getPartition('orders', 0);
    expect([p0.leaseHolder, p0.leaseEpoch, p0.leaseExpiresAt]).to.deep.equal(['agent-b', 2, leaseExpiresAt + 1 + 500]);
  });

  it('lets a restarted agent (same id) take its partitions back at once after a crash', async () => {
    const a = await start('agent-a', 10_000);
    await a.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
    const acked: [number, string][] = [];
    for (let i = 0; i < 5; i++)
      acked.push(...expected(await produce(a.connection, 'orders', i % 2, records(2, `r${i}`)), 2, `r${i}`));
    await a.kill();
    const again = await start('agent-a', 10_000);
    expect(await readAll(again.connection, 'orders', 0)).to.deep.equal([
      ...acked.slice(0, 2),
      ...acked.slice(4, 6),
      ...acked.slice(8, 10),
    ]);
    expect(await readAll(again.connection, 'orders', 1)).to.deep.equal([...acked.slice(2, 4), ...acked.slice(6, 8)]);
    // The same holder re-acquires without waiting for the TTL (epoch 2).
    expect(await produce(again.connection, 'orders', 0, records(1, 'after'))).to.equal(6);
    expect((await again.metadataStore.getPartition('orders', 0)).leaseEpoch).to.equal(2);
  });

  it('answers a retried idempotent batch on the new leader with its original offset', async () => {
    const a = await start('agent-a', 500);
    const b = await start('agent-b', 500);
    await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    const { producerId, producerEpoch } = await a.connection.client.initProducerId({
      producerId: -1,
      producerEpoch: -1,
    });
    const idem = (baseSequence: number): EncodeOptions => ({ producerId, producerEpoch, baseSequence });
    expect(await produce(a.connection, 'orders', 0, records(3, 'one'), AckMode.ACK_MODE_DURABLE, idem(0))).to.equal(0);
    expect(await produce(a.connection, 'orders', 0, records(2, 'two'), AckMode.ACK_MODE_DURABLE, idem(3))).to.equal(3);
    await a.kill();

    // The client never saw the ack of sequence 3 and retries it on the new leader.
    const retried = await produceOnceLeading(b, 'orders', 0, 'two', 2, idem(3));
    expect(retried.base).to.equal(3);
    expect(await produce(b.connection, 'orders', 0, records(1, 'three'), AckMode.ACK_MODE_DURABLE, idem(5))).to.equal(
      5,
    );
    expect(await readAll(b.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 3, 'one'),
      ...expected(3, 2, 'two'),
      ...expected(5, 1, 'three'),
    ]);
    expect(await b.metadataStore.getProducerState('orders', 0, producerId)).to.deep.equal({
      producerId,
      producerEpoch,
      lastSequence: 5,
      lastBaseOffset: 5,
      lastRecordCount: 1,
      earlierBatches: [
        { lastSequence: 2, baseOffset: 0, recordCount: 3 },
        { lastSequence: 4, baseOffset: 3, recordCount: 2 },
      ],
    });
  });
});

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`failover: a stale agent is fenced (${kind})`, () => {
    let stores: TestStores;
    let a: TestAgent;
    let b: TestAgent;

    beforeEach(async () => {
      stores = await createTestStores(kind);
      // Long TTLs: A's own renewal would only notice in 10 s, so A still believes it leads when B takes over.
      a = await startTestAgent(stores, { agentId: 'agent-a', leaseTtlMs: 30_000 });
      await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
    });
    afterEach(async () => {
      await b.stop();
      await a.stop();
      await stores.cleanup();
    });

    it("rejects the old leader's commit by epoch; nothing it wrote after that is readable", async () => {
      expect(await produce(a.connection, 'orders', 0, records(3, 'a0'))).to.equal(0);
      expect(await produce(a.connection, 'orders', 0, records(3, 'a1'))).to.equal(3);
      // B's clock runs a minute ahead: to B, A's lease has long expired, so B takes it (epoch 2).
      b = await startTestAgent(stores, {
        agentId: 'agent-b',
        leaseTtlMs: 30_000,
        metadataStore: stores.newMetadataStore({ clock: () => Date.now() + 60_000 }),
      });
      expect(await produce(b.connection, 'orders', 0, records(2, 'b0'))).to.equal(6);
      const state = await a.metadataStore.getPartition('orders', 0);
      expect([state.leaseHolder, state.leaseEpoch, state.highWatermark]).to.deep.equal(['agent-b', 2, 8]);

      // A still holds epoch 1 in memory: it stamps, writes an object, and its commit is refused.
      const fenced = await rejection(produce(a.connection, 'orders', 0, records(4, 'stale')));
      expect(fenced).to.be.instanceOf(NotLeaderError);
      expect((fenced as NotLeaderError).message).to.equal('partition orders/0 lost its lease while flushing');
      // Afterwards A does not even try: the lease is B's.
      expect(await rejection(produce(a.connection, 'orders', 0, records(1, 'stale2')))).to.be.instanceOf(
        NotLeaderError,
      );

      expect(await produce(b.connection, 'orders', 0, records(2, 'b1'))).to.equal(8);
      const want = [...expected(0, 3, 'a0'), ...expected(3, 3, 'a1'), ...expected(6, 2, 'b0'), ...expected(8, 2, 'b1')];
      expect(await readAll(b.connection, 'orders', 0)).to.deep.equal(want);
      expect(await readAll(a.connection, 'orders', 0)).to.deep.equal(want);

      const registered = await expectDenseRegistry(b, 'orders', 0, 0, 10);
      expect(registered).to.deep.equal([
        'topics/orders/0/00000000000000000000-00000000000000000003-e1.seg',
        'topics/orders/0/00000000000000000003-00000000000000000006-e1.seg',
        'topics/orders/0/00000000000000000006-00000000000000000008-e2.seg',
        'topics/orders/0/00000000000000000008-00000000000000000010-e2.seg',
      ]);
      // A's fenced object lies next to B's under a key of its own epoch, overwriting nothing, referenced by nothing.
      const objects = (await stores.objectStore.list('topics/orders/0/')).map((o) => o.key);
      expect(objects).to.deep.equal([
        ...registered.slice(0, 3),
        'topics/orders/0/00000000000000000006-00000000000000000010-e1.seg',
        registered[3],
      ]);
    });
  });
}
