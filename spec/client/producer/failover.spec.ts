import { expect } from 'chai';
import { createProducer } from '../../../src/client/producer/producer.js';
import { createTestStores, readAll, startTestAgent, type TestAgent, type TestStores } from '../../support/agentHarness.js';

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
    const producer = await createProducer({ bootstrap: [a.agent.address], lingerMs: 1, retry: { initialBackoffMs: 20, maxBackoffMs: 200 } });
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
