import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import { createConsumer } from '../../../src/client/consumer/consumer.js';
import {
  createTestStores,
  produce,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';
import { waitFor } from './consumerSupport.js';

describe('client/consumer: the agent it reads from dies', function () {
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

  it('moves to another agent and reads on, in order, nothing lost or repeated', async () => {
    for (let p = 0; p < 2; p++) await produce(a.connection, 'events', p, records(50, `first${p}`));
    const consumer = createConsumer({
      bootstrap: [a.agent.address, b.agent.address],
      assignment: [
        { topic: 'events', partition: 0 },
        { topic: 'events', partition: 1 },
      ],
      resetStrategy: { type: 'earliest' },
      fetchMaxWaitMs: 100,
      retry: { initialBackoffMs: 50, maxBackoffMs: 500, maxRetries: 30 },
    });
    const seen: [number, number, string][] = [];
    const subscription: Subscription = consumer.records$.subscribe((r) =>
      seen.push([r.partition, r.offset, Buffer.from(r.value!).toString()]),
    );
    await waitFor(() => seen.length === 100, 'the first records');
    await a.kill();
    // b takes the partitions over once a's leases lapse, and stores the next records after the first ones
    for (let p = 0; p < 2; p++) {
      for (;;) {
        try {
          await produce(b.connection, 'events', p, records(30, `second${p}`));
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
    await waitFor(() => seen.length === 160, 'the records stored by b', 30_000);
    for (let p = 0; p < 2; p++) {
      const expected = [
        ...Array.from({ length: 50 }, (_, i) => [p, i, `first${p}-${i}`]),
        ...Array.from({ length: 30 }, (_, i) => [p, 50 + i, `second${p}-${i}`]),
      ];
      expect(seen.filter(([partition]) => partition === p)).to.deep.equal(expected);
    }
    subscription.unsubscribe();
    await consumer.close();
  });
});
