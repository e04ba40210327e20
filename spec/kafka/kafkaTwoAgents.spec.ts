/**
 * Two agents sharing one metadata store, each on a Kafka port of its own: a
 * KafkaJS client given only agent A learns agent B's Kafka address from
 * Metadata and produces every partition to the agent advertised as its
 * leader, which takes the partition's lease.
 */
import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { createTestStores, readAll, startTestAgent, type TestAgent, type TestStores } from '../support/agentHarness.js';
import { nodeIdOf } from '../../src/kafka/brokers.js';

const PARTITIONS = 8;

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`Kafka listener: two agents over one ${kind} metadata store`, function () {
    this.timeout(60_000);
    let stores: TestStores;
    let a: TestAgent;
    let b: TestAgent;

    before(async () => {
      stores = await createTestStores(kind);
      a = await startTestAgent(stores, { agentId: 'agent-a', kafkaPort: 0, leaseTtlMs: 30_000 });
      b = await startTestAgent(stores, { agentId: 'agent-b', kafkaPort: 0, leaseTtlMs: 30_000 });
    });

    after(async () => {
      await b?.stop();
      await a?.stop();
      await stores?.cleanup();
    });

    it('registers each agent with its own Kafka address', async () => {
      const agents = await a.metadataStore.listLiveAgents(60_000);
      expect(agents.map((x) => [x.agentId, x.kafkaAddress])).to.deep.equal([
        ['agent-a', a.agent.kafkaAddress],
        ['agent-b', b.agent.kafkaAddress],
      ]);
      expect(a.agent.kafkaAddress).to.not.equal(b.agent.kafkaAddress);
    });

    it('advertises both brokers at their own ports, and KafkaJS produces each partition to its leader', async () => {
      const kafka = new Kafka({
        clientId: 'two-agents-spec',
        brokers: [a.agent.kafkaAddress!],
        logLevel: logLevel.NOTHING,
        retry: { retries: 2 },
      });
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: PARTITIONS }] });
        const cluster = await admin.describeCluster();
        const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
        expect(cluster.brokers.map((x) => [x.nodeId, x.port]).sort((p, q) => p[0]! - q[0]!)).to.deep.equal(
          [
            [nodeIdOf('agent-a'), port(a.agent.kafkaAddress!)],
            [nodeIdOf('agent-b'), port(b.agent.kafkaAddress!)],
          ].sort((p, q) => p[0]! - q[0]!),
        );
        const meta = await admin.fetchTopicMetadata({ topics: ['spread'] });
        const leaders = new Map(meta.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]));
        expect(new Set(leaders.values())).to.deep.equal(new Set([nodeIdOf('agent-a'), nodeIdOf('agent-b')]));

        const producer = kafka.producer({ allowAutoTopicCreation: false });
        await producer.connect();
        try {
          for (let partition = 0; partition < PARTITIONS; partition++) {
            await producer.send({ topic: 'spread', acks: -1, messages: [{ partition, value: `p${partition}` }] });
          }
        } finally {
          await producer.disconnect();
        }
        const holders = await a.metadataStore.listPartitions('spread');
        const agentOfNode = new Map([
          [nodeIdOf('agent-a'), 'agent-a'],
          [nodeIdOf('agent-b'), 'agent-b'],
        ]);
        expect(holders.map((p) => p.leaseHolder)).to.deep.equal(
          holders.map((p) => agentOfNode.get(leaders.get(p.partition)!)),
        );
        for (let partition = 0; partition < PARTITIONS; partition++) {
          expect(await readAll(a.connection, 'spread', partition)).to.deep.equal([[0, `p${partition}`]]);
        }
      } finally {
        await admin.disconnect();
      }
    });
  });
}
