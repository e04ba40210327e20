/**
 * Lease renewal: an agent keeps the partitions it leads for as long as it
 * runs, however many TTLs that is, and nobody else can take them meanwhile.
 */
import { expect } from 'chai';
import { NotLeaderError } from '../../src/protocol/errors.js';
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

const TTL_MS = 600;

describe('agent: lease renewal', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let a: TestAgent;
  let b: TestAgent;

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores, { agentId: 'agent-a', leaseTtlMs: TTL_MS });
    b = await startTestAgent(stores, { agentId: 'agent-b', leaseTtlMs: TTL_MS });
    await a.connection.client.createTopic({ name: 'orders', partitions: 1, config: undefined });
  });
  afterEach(async () => {
    await Promise.allSettled([a.stop(), b.stop()]);
    await stores.cleanup();
  });

  it('keeps a lease past several TTLs: its stored expiry moves on, same holder, same epoch', async () => {
    expect(await produce(a.connection, 'orders', 0, records(2, 'first'))).to.equal(0);
    const taken = await a.metadataStore.getPartition('orders', 0);
    expect([taken.leaseHolder, taken.leaseEpoch]).to.deep.equal(['agent-a', 1]);
    // Bounded polling: renewals every third of the TTL carry the expiry past four TTLs after the first.
    const target = taken.leaseExpiresAt + 4 * TTL_MS;
    const deadline = Date.now() + 20_000;
    let now = taken;
    while (now.leaseExpiresAt < target) {
      if (Date.now() > deadline)
        throw new Error(`lease expiry stuck at ${now.leaseExpiresAt}, first ${taken.leaseExpiresAt}: not renewed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      now = await a.metadataStore.getPartition('orders', 0);
      expect([now.leaseHolder, now.leaseEpoch]).to.deep.equal(['agent-a', 1]);
    }
    // Still A's: B is refused, A goes on at the next offset with the same lease.
    const refused = await rejection(produce(b.connection, 'orders', 0, records(1, 'b')));
    expect(refused).to.be.instanceOf(NotLeaderError);
    expect((refused as NotLeaderError).message).to.match(/^orders\/0 is leased by agent-a until \d+/);
    expect(await produce(a.connection, 'orders', 0, records(2, 'later'))).to.equal(2);
    expect((await a.metadataStore.getPartition('orders', 0)).leaseEpoch).to.equal(1);
    expect(await readAll(a.connection, 'orders', 0)).to.deep.equal([
      ...expected(0, 2, 'first'),
      ...expected(2, 2, 'later'),
    ]);
  });
});
