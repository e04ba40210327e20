import { expect } from 'chai';
import { isRetriable } from '../../src/protocol/errors.js';
import {
  createTestStores,
  expected,
  produce,
  readAll,
  records,
  startTestAgent,
  type TestAgent,
  type TestStores,
} from '../support/agentHarness.js';

/** Produces through `agent`, retrying retriable errors (a stale writer being fenced) a bounded number of times. */
async function produceRetrying(
  agent: TestAgent,
  topic: string,
  partition: number,
  count: number,
  prefix: string,
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await produce(agent.connection, topic, partition, records(count, prefix));
    } catch (error) {
      if (!isRetriable(error) || attempt >= 20) throw error;
    }
  }
}

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`agent: a topic deleted and created again starts fresh (${kind})`, function () {
    this.timeout(30_000);
    let stores: TestStores;
    const agents: TestAgent[] = [];

    beforeEach(async () => {
      stores = await createTestStores(kind);
    });
    afterEach(async () => {
      await Promise.all(agents.splice(0).map((a) => a.stop()));
      await stores.cleanup();
    });

    it('gives offsets from 0, reads only new records, keeps no writer or producer state of the old topic', async () => {
      const agent = await startTestAgent(stores);
      agents.push(agent);
      const { client } = agent.connection;
      await client.createTopic({ name: 't', partitions: 2 });
      const { producerId, producerEpoch } = await client.initProducerId({ producerId: -1, producerEpoch: -1 });
      const idempotent = { producerId, producerEpoch, baseSequence: 0 };
      expect(await produce(agent.connection, 't', 0, records(5, 'old'), undefined, idempotent)).to.equal(0);
      expect(await produce(agent.connection, 't', 1, records(3, 'old'))).to.equal(0);
      const oldEpoch = (await agent.metadataStore.getPartition('t', 0)).leaseEpoch;

      await client.deleteTopic({ name: 't' });
      await client.createTopic({ name: 't', partitions: 3 });

      // The same producer and sequence: a new batch of the new topic, not a duplicate of the old one.
      expect(await produce(agent.connection, 't', 0, records(2, 'new'), undefined, idempotent)).to.equal(0);
      expect(await produce(agent.connection, 't', 2, records(4, 'new'))).to.equal(0);
      expect(await readAll(agent.connection, 't', 0)).to.deep.equal(expected(0, 2, 'new'));
      expect(await readAll(agent.connection, 't', 1)).to.deep.equal([]);
      expect(await readAll(agent.connection, 't', 2)).to.deep.equal(expected(0, 4, 'new'));
      const partition = await agent.metadataStore.getPartition('t', 0);
      expect(partition.highWatermark).to.equal(2);
      expect(partition.leaseEpoch).to.equal(oldEpoch + 1);
      expect((await agent.metadataStore.listSegments('t', 0)).map((s) => [s.baseOffset, s.endOffset])).to.deep.equal([
        [0, 2],
      ]);
    });

    it('fences the writer another agent kept for the old topic: it never writes into the new one', async () => {
      const a = await startTestAgent(stores, { agentId: 'agent-a' });
      const b = await startTestAgent(stores, { agentId: 'agent-b' });
      agents.push(a, b);
      await a.connection.client.createTopic({ name: 't', partitions: 1 });
      expect(await produce(a.connection, 't', 0, records(10, 'old'))).to.equal(0);

      // Deleted and created again through agent-b while agent-a still holds the old writer and lease.
      await b.connection.client.deleteTopic({ name: 't' });
      await b.connection.client.createTopic({ name: 't', partitions: 1 });

      expect(await produceRetrying(a, 't', 0, 3, 'new')).to.equal(0);
      expect(await produceRetrying(a, 't', 0, 2, 'more')).to.equal(3);
      const fresh = [...expected(0, 3, 'new'), ...expected(0, 2, 'more').map(([o, v]): [number, string] => [o + 3, v])];
      expect(await readAll(a.connection, 't', 0)).to.deep.equal(fresh);
      expect(await readAll(b.connection, 't', 0)).to.deep.equal(fresh);
      expect((await a.metadataStore.listSegments('t', 0)).reduce((n, s) => n + s.endOffset - s.baseOffset, 0)).to.equal(
        5,
      );
    });

    it('never lets the old writer of one agent commit beside the new writer of another', async () => {
      const a = await startTestAgent(stores, { agentId: 'agent-a' });
      const b = await startTestAgent(stores, { agentId: 'agent-b' });
      agents.push(a, b);
      await a.connection.client.createTopic({ name: 't', partitions: 1 });
      expect(await produce(a.connection, 't', 0, records(10, 'old'))).to.equal(0);
      await b.connection.client.deleteTopic({ name: 't' });
      await b.connection.client.createTopic({ name: 't', partitions: 1 });
      // agent-b leads the new topic up to offset 10, where agent-a's old writer would continue.
      expect(await produce(b.connection, 't', 0, records(10, 'b'))).to.equal(0);
      const refused = await produce(a.connection, 't', 0, records(1, 'stale')).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused, 'agent-a must not write').to.not.equal(undefined);
      expect(isRetriable(refused)).to.equal(true);
      expect(await readAll(b.connection, 't', 0)).to.deep.equal(expected(0, 10, 'b'));
      expect((await b.metadataStore.getPartition('t', 0)).highWatermark).to.equal(10);
    });
  });
}
