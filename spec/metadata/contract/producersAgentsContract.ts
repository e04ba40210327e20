/** Contract: producer ids and the live-agent registry. */
import { expect } from 'chai';
import { InvalidRequestError, MetadataError, UnknownProducerIdError } from '../../../src/protocol/errors.js';
import { rejection, useStore, type StoreHarnessFactory } from './harness.js';

export function producersAgentsContract(factory: StoreHarnessFactory): void {
  describe('producer ids', () => {
    const ctx = useStore(factory);

    it('allocates ids from 1 with epoch 0 and bumps epochs', async () => {
      const { store } = ctx();
      expect(await store.allocateProducerId()).to.deep.equal({ producerId: 1, producerEpoch: 0 });
      expect(await store.allocateProducerId()).to.deep.equal({ producerId: 2, producerEpoch: 0 });
      expect(await store.bumpProducerEpoch(1)).to.deep.equal({ producerId: 1, producerEpoch: 1 });
      expect(await store.bumpProducerEpoch(1)).to.deep.equal({ producerId: 1, producerEpoch: 2 });
      expect(await store.getProducerEpoch(1)).to.equal(2);
      expect(await store.getProducerEpoch(2)).to.equal(0);
      expect(await store.getProducerEpoch(3)).to.equal(undefined);
      const error = await rejection(store.bumpProducerEpoch(3), UnknownProducerIdError, 'UNKNOWN_PRODUCER_ID');
      expect(error.message).to.equal('producer id 3 was never allocated; allocate a new one');
    });

    it('never hands out an id twice, across concurrent store instances', async () => {
      const { store, harness, clock } = ctx();
      const other = await harness.open(clock.read);
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).allocateProducerId()),
      );
      expect(ids.map((p) => p.producerId).sort((a, b) => a - b)).to.deep.equal(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });
  });

  describe('agents', () => {
    const ctx = useStore(factory);

    it('lists agents whose heartbeat is within the ttl, sorted by id', async () => {
      const { store, clock } = ctx();
      const t0 = clock.now;
      await store.registerAgent({ agentId: 'agent-b', address: '10.0.0.2:7070', startedAt: t0 - 5 });
      clock.advance(100);
      await store.registerAgent({ agentId: 'agent-a', address: '10.0.0.1:7070', startedAt: t0 - 9 });
      expect(await store.listLiveAgents(1000)).to.deep.equal([
        { agentId: 'agent-a', address: '10.0.0.1:7070', startedAt: t0 - 9, lastHeartbeat: t0 + 100 },
        { agentId: 'agent-b', address: '10.0.0.2:7070', startedAt: t0 - 5, lastHeartbeat: t0 },
      ]);
      clock.advance(950); // agent-b last seen 1050 ms ago, agent-a 950 ms ago
      expect((await store.listLiveAgents(1000)).map((a) => a.agentId)).to.deep.equal(['agent-a']);
      await store.heartbeatAgent('agent-b');
      expect(await store.listLiveAgents(1000)).to.deep.equal([
        { agentId: 'agent-a', address: '10.0.0.1:7070', startedAt: t0 - 9, lastHeartbeat: t0 + 100 },
        { agentId: 'agent-b', address: '10.0.0.2:7070', startedAt: t0 - 5, lastHeartbeat: clock.now },
      ]);
      clock.advance(50); // agent-a exactly 1000 ms ago: still live
      expect((await store.listLiveAgents(1000)).map((a) => a.agentId)).to.deep.equal(['agent-a', 'agent-b']);
      await store.deregisterAgent('agent-a');
      expect((await store.listLiveAgents(60_000)).map((a) => a.agentId)).to.deep.equal(['agent-b']);
      const error = await rejection(store.heartbeatAgent('agent-a'), InvalidRequestError, 'INVALID_REQUEST');
      expect(error.message).to.equal("agent 'agent-a' is not registered; register it before sending heartbeats");
      // Registering again refreshes the address.
      await store.registerAgent({ agentId: 'agent-b', address: '10.0.0.3:7070', startedAt: t0 });
      expect(await store.listLiveAgents(0)).to.deep.equal([
        { agentId: 'agent-b', address: '10.0.0.3:7070', startedAt: t0, lastHeartbeat: clock.now },
      ]);
    });

    it('keeps the Kafka address an agent registers, and drops it when it registers again without one', async () => {
      const { store, clock } = ctx();
      const t0 = clock.now;
      await store.registerAgent({
        agentId: 'agent-k',
        address: '10.0.0.1:7070',
        kafkaAddress: 'k1:9093',
        startedAt: t0,
      });
      expect(await store.listLiveAgents(0)).to.deep.equal([
        { agentId: 'agent-k', address: '10.0.0.1:7070', kafkaAddress: 'k1:9093', startedAt: t0, lastHeartbeat: t0 },
      ]);
      await store.heartbeatAgent('agent-k');
      expect((await store.listLiveAgents(0))[0]!.kafkaAddress).to.equal('k1:9093');
      await store.registerAgent({ agentId: 'agent-k', address: '10.0.0.1:7070', startedAt: t0 });
      expect(await store.listLiveAgents(0)).to.deep.equal([
        { agentId: 'agent-k', address: '10.0.0.1:7070', startedAt: t0, lastHeartbeat: t0 },
      ]);
    });

    it('answers ping, and fails it with METADATA_ERROR once closed', async () => {
      const { harness, clock } = ctx();
      const other = await harness.open(clock.read);
      await other.ping();
      await other.close();
      await rejection(other.ping(), MetadataError, 'METADATA_ERROR');
    });
  });
}
