import { expect } from 'chai';
import { createProducer } from '../../../src/client/producer/producer.js';
import type { SendResult } from '../../../src/client/sendResult.js';
import {
  createTestStores,
  readAll,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

describe('client/producer: an agent stops mid-stream', function () {
  this.timeout(60_000);
  let stores: TestStores;
  let a: TestAgent;
  let b: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    b = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'events', partitions: 2, config: undefined });
  });
  afterEach(async () => {
    await Promise.allSettled([a.stop(), b.stop()]);
    await stores.cleanup();
  });

  it('finds the other agent through discovery and loses nothing, duplicates nothing', async () => {
    const producer = await createProducer({
      bootstrap: [a.agent.address],
      lingerMs: 1,
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
    });
    const results = [];
    let stopping: Promise<void> | undefined;
    for (let i = 0; i < 400; i++) {
      results.push(await producer.send({ topic: 'events', partition: i % 2, value: `e${i}` }));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      // The first agent leaves while records are in flight: it answers what it has, then refuses new calls.
      if (i === 200) stopping = a.stop();
    }
    await stopping;
    await producer.flush();
    const failed = results.filter((r) => r.error !== undefined);
    expect(failed.map((r) => String(r.error))).to.deep.equal([]);
    for (let p = 0; p < 2; p++) {
      const stored = await readAll(b.connection, 'events', p);
      const sent = results.filter((r) => r.partition === p);
      expect(stored.map(([o]) => o)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i));
      expect(sent.map((r) => r.offset)).to.deep.equal(stored.map(([o]) => o));
      expect(stored.map(([, v]) => v)).to.deep.equal(sent.map((_, i) => `e${i * 2 + p}`));
    }
    await producer.close();
  });
});

describe('client/producer: the lease holder is killed (agents on shared Redis)', function () {
  this.timeout(60_000);
  const leaseTtlMs = 2000;
  let stores: TestStores;
  let agents: TestAgent[];

  beforeEach(async () => {
    stores = await createTestStores('redis');
    agents = [await startTestAgent(stores, { leaseTtlMs }), await startTestAgent(stores, { leaseTtlMs })];
    await agents[0]!.connection.client.createTopic({ name: 'events', partitions: 1, config: undefined });
  });
  afterEach(async () => {
    await Promise.allSettled(agents.map((agent) => agent.stop()));
    await stores.cleanup();
  });

  it('moves the records to the other agent within lease TTL + 1 s, losing and duplicating nothing', async () => {
    const producer = await createProducer({ bootstrap: [agents[0]!.agent.address], lingerMs: 1 });
    const results: SendResult[] = [];
    const send = async (i: number) => results.push(await producer.send({ topic: 'events', value: `e${i}` }));
    for (let i = 0; i < 50; i++) await send(i);
    await producer.flush();
    const { topics } = await agents[0]!.connection.client.metadata({ topics: ['events'] });
    const holder = agents.find((agent) => agent.agent.address === topics[0]!.partitions[0]!.leaderAddress)!;
    const survivor = agents.find((agent) => agent !== holder)!;

    // Records in flight when the holder dies, and more after: those go to the survivor once the lease expires.
    for (let i = 50; i < 100; i++) await send(i);
    const killedAt = Date.now();
    const killed = holder.kill();
    await send(100);
    const firstAfter = results[100]!;
    const recoveredAt = await firstAfter.waitOffset(30_000).then(() => Date.now());
    await killed;
    for (let i = 101; i < 150; i++) await send(i);
    await producer.flush();

    expect(results.filter((r) => r.error !== undefined).map((r) => String(r.error))).to.deep.equal([]);
    const stored = await readAll(survivor.connection, 'events', 0);
    expect(stored).to.deep.equal(results.map((_, i) => [i, `e${i}`]));
    expect(results.map((r) => r.offset)).to.deep.equal(results.map((_, i) => i));
    // The bound on a failover: the lease TTL and one backoff (1 s) after the failure.
    expect(recoveredAt - killedAt).to.be.at.most(leaseTtlMs + 1000);
    await producer.close();
  });
});
