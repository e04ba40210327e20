import { expect } from 'chai';
import { ClusterMetadata } from '../../../src/client/cluster/clusterMetadata.js';
import { ConnectionPool } from '../../../src/client/cluster/connectionPool.js';
import { callAgent } from '../../../src/client/cluster/agentCall.js';
import { AgentUnavailableError } from '../../../src/protocol/errors.js';
import {
  createTestStores,
  produce,
  records,
  rejection,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../../support/agentHarness.js';

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

describe('client/cluster/ClusterMetadata: unreachable agents', function () {
  this.timeout(30_000);
  let stores: TestStores;
  let a: TestAgent;
  let b: TestAgent;
  let pool: ConnectionPool;
  let cluster: ClusterMetadata;
  /** A call to `address` as every client call is made. */
  const callTo = (address: string) =>
    callAgent({ pool, cluster }, address, 'metadata', 2000, undefined, (client, signal) =>
      client.metadata({ topics: [] }, { signal }),
    );

  beforeEach(async () => {
    stores = await createTestStores('sqlite');
    a = await startTestAgent(stores);
    b = await startTestAgent(stores);
    await a.connection.client.createTopic({ name: 'events', partitions: 4, config: undefined });
    // a takes the lease of every partition
    for (let p = 0; p < 4; p++) await produce(a.connection, 'events', p, records(1));
    pool = new ConnectionPool();
    cluster = new ClusterMetadata({ bootstrap: [a.agent.address], pool, refreshMs: 0 });
    await cluster.refresh(['events']);
  });
  afterEach(async () => {
    cluster.close();
    pool.closeAll();
    await Promise.allSettled([a.stop(), b.stop()]);
    await stores.cleanup();
  });

  it('routes around an agent as soon as a call to it fails with a connection error, lease holder or not', async () => {
    for (let p = 0; p < 4; p++) expect(cluster.addressFor('events', p)).to.equal(a.agent.address);
    await a.kill();
    expect(await rejection(callTo(a.agent.address))).to.be.instanceOf(AgentUnavailableError);
    // At once, before any new metadata: a still holds the leases, yet nothing goes to it.
    expect(cluster.isUnreachable(a.agent.address)).to.equal(true);
    for (let p = 0; p < 4; p++) expect(cluster.addressFor('events', p)).to.equal(b.agent.address);
    expect([...cluster.liveAgents().values()]).to.deep.equal([b.agent.address]);
    expect(cluster.anyAddress()).to.equal(b.agent.address);
    // Metadata still lists a (its registration and leases have not expired), but it does not answer.
    await cluster.refresh();
    expect(cluster.isUnreachable(a.agent.address)).to.equal(true);
    for (let p = 0; p < 4; p++) expect(cluster.addressFor('events', p)).to.equal(b.agent.address);
  });

  it('takes an agent back once metadata lists it and it answers', async () => {
    const address = a.agent.address;
    await a.stop();
    expect(await rejection(callTo(address))).to.be.instanceOf(AgentUnavailableError);
    expect(cluster.isUnreachable(address)).to.equal(true);
    // Back at the same address: it registers, the next metadata lists it, and it answers the probe.
    a = await startTestAgent(stores, { port: portOf(address) });
    // One refresh may not bring it back yet (then no probe ran, or the probe met the old channel): refresh until
    // one does, as the periodic refresh would.
    const until = Date.now() + 10_000;
    while (cluster.isUnreachable(address) && Date.now() < until) {
      await cluster.refresh();
      await eventually(() => !cluster.isUnreachable(address), 'the agent is reachable again', 500).catch(
        () => undefined,
      );
    }
    expect(cluster.isUnreachable(address)).to.equal(false);
    expect([...cluster.liveAgents().values()].sort()).to.deep.equal([address, b.agent.address].sort());
    expect((await callTo(address)).agents.length).to.equal(2);
  });

  it('still tries the agents when every one is unreachable, the lease holder first', async () => {
    await a.kill();
    await b.kill();
    expect(await rejection(callTo(a.agent.address))).to.be.instanceOf(AgentUnavailableError);
    expect(await rejection(callTo(b.agent.address))).to.be.instanceOf(AgentUnavailableError);
    expect(cluster.liveAgents().size).to.equal(0);
    for (let p = 0; p < 4; p++) expect(cluster.addressFor('events', p)).to.equal(a.agent.address);
    expect(await rejection(cluster.refresh())).to.be.instanceOf(AgentUnavailableError);
  });
});
