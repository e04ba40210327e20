/**
 * Idempotent produce across a restart: the last five batches of each producer
 * and partition are committed with the segments, so a retry of any of them
 * after the agent comes back (or another takes over) is answered with its
 * original offsets and written nowhere.
 */
import { expect } from 'chai';
import { AckMode } from '../../src/protocol/generated/streamhouse.js';
import { OutOfOrderSequenceError } from '../../src/protocol/errors.js';
import type { EncodeOptions } from '../../src/protocol/codec/recordBatch.js';
import { RECENT_BATCHES } from '../../src/agent/write/producerSequences.js';
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

for (const kind of ['sqlite', 'redis'] as const) {
  describe(`idempotent produce across a restart (${kind})`, () => {
    let stores: TestStores;
    let agent: TestAgent | undefined;

    beforeEach(async () => {
      stores = await createTestStores(kind);
      agent = await startTestAgent(stores, { agentId: 'agent-a' });
      await agent.connection.client.createTopic({ name: 'orders', partitions: 2, config: undefined });
    });
    afterEach(async () => {
      await agent?.stop();
      await stores.cleanup();
    });

    it(`answers a retry of any last ${RECENT_BATCHES} batch with its offsets, writing nothing twice`, async () => {
      const { producerId, producerEpoch } = await agent!.connection.client.initProducerId({
        producerId: -1,
        producerEpoch: -1,
      });
      const idem = (baseSequence: number): EncodeOptions => ({ producerId, producerEpoch, baseSequence });
      // Another producer's batch first, so offsets and sequences differ.
      expect(await produce(agent!.connection, 'orders', 0, records(2, 'plain'))).to.equal(0);
      const sizes = [3, 1, 4, 2, 5];
      const sent: { sequence: number; count: number; base: number; prefix: string }[] = [];
      let sequence = 0;
      for (const [i, count] of sizes.entries()) {
        const base = await produce(
          agent!.connection,
          'orders',
          0,
          records(count, `b${i}`),
          AckMode.ACK_MODE_DURABLE,
          idem(sequence),
        );
        sent.push({ sequence, count, base, prefix: `b${i}` });
        sequence += count;
      }
      expect(sent.map((b) => b.base)).to.deep.equal([2, 5, 6, 10, 12]);
      const log = [...expected(0, 2, 'plain'), ...sent.flatMap((b) => expected(b.base, b.count, b.prefix))];

      await agent!.kill();
      agent = await startTestAgent(stores, { agentId: 'agent-a' });
      for (const b of sent) {
        const retried = await produce(
          agent.connection,
          'orders',
          0,
          records(b.count, b.prefix),
          AckMode.ACK_MODE_DURABLE,
          idem(b.sequence),
        );
        expect(retried, `retry of sequence ${b.sequence}`).to.equal(b.base);
      }
      expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal(log);
      expect((await agent.metadataStore.getPartition('orders', 0)).highWatermark).to.equal(17);
      // The producer carries on after its last batch; a sequence that is no batch of its own is still refused.
      expect(
        await produce(agent.connection, 'orders', 0, records(1, 'next'), AckMode.ACK_MODE_DURABLE, idem(sequence)),
      ).to.equal(17);
      const gap = await rejection(
        produce(agent.connection, 'orders', 0, records(1, 'gap'), AckMode.ACK_MODE_DURABLE, idem(4)),
      );
      expect(gap).to.be.instanceOf(OutOfOrderSequenceError);
      expect(await readAll(agent.connection, 'orders', 0)).to.deep.equal([...log, ...expected(17, 1, 'next')]);
    });

    it('answers retries on an agent that takes the partition over, whichever batches they repeat', async () => {
      const { producerId, producerEpoch } = await agent!.connection.client.initProducerId({
        producerId: -1,
        producerEpoch: -1,
      });
      const idem = (baseSequence: number): EncodeOptions => ({ producerId, producerEpoch, baseSequence });
      const bases = [];
      for (let i = 0; i < 7; i++)
        bases.push(
          await produce(agent!.connection, 'orders', 1, records(2, `s${i}`), AckMode.ACK_MODE_DURABLE, idem(2 * i)),
        );
      expect(bases).to.deep.equal([0, 2, 4, 6, 8, 10, 12]);
      await agent!.stop(); // releases the lease
      agent = await startTestAgent(stores, { agentId: 'agent-b' });
      // The five most recent are recognised, in any order; older ones are out of the window.
      for (const i of [6, 2, 4, 3, 5]) {
        expect(
          await produce(agent.connection, 'orders', 1, records(2, `s${i}`), AckMode.ACK_MODE_DURABLE, idem(2 * i)),
        ).to.equal(2 * i);
      }
      expect(
        await rejection(produce(agent.connection, 'orders', 1, records(2, 's1'), AckMode.ACK_MODE_DURABLE, idem(2))),
      ).to.be.instanceOf(OutOfOrderSequenceError);
      expect(await readAll(agent.connection, 'orders', 1)).to.deep.equal(
        Array.from({ length: 7 }, (_, i) => expected(2 * i, 2, `s${i}`)).flat(),
      );
    });

    it('forgets a producer idle longer than producerIdExpirationMs, in memory and in the store', async () => {
      await agent!.stop();
      let now = Date.now();
      const clock = () => now;
      agent = await startTestAgent(stores, {
        agentId: 'agent-c',
        clock,
        metadataStore: stores.newMetadataStore({ clock }),
        producerIdExpirationMs: 1000,
        leaseTtlMs: 60_000,
      });
      const idle = await agent.connection.client.initProducerId({ producerId: -1, producerEpoch: -1 });
      const busy = await agent.connection.client.initProducerId({ producerId: -1, producerEpoch: -1 });
      const as = (p: typeof idle, baseSequence: number): EncodeOptions => ({
        producerId: p.producerId,
        producerEpoch: p.producerEpoch,
        baseSequence,
      });
      expect(
        await produce(agent.connection, 'orders', 0, records(1, 'idle'), AckMode.ACK_MODE_DURABLE, as(idle, 0)),
      ).to.equal(0);
      now += 1001;
      expect(
        await produce(agent.connection, 'orders', 0, records(1, 'busy'), AckMode.ACK_MODE_DURABLE, as(busy, 0)),
      ).to.equal(1);
      expect(await agent.metadataStore.getProducerState('orders', 0, idle.producerId)).to.equal(undefined);
      expect((await agent.metadataStore.getProducerState('orders', 0, busy.producerId))?.lastBaseOffset).to.equal(1);
      // Its next sequence is refused (its state is gone); starting over at 0 is a new batch.
      expect(
        await rejection(
          produce(agent.connection, 'orders', 0, records(1, 'late'), AckMode.ACK_MODE_DURABLE, as(idle, 1)),
        ),
      ).to.be.instanceOf(OutOfOrderSequenceError);
      expect(
        await produce(agent.connection, 'orders', 0, records(1, 'again'), AckMode.ACK_MODE_DURABLE, as(idle, 0)),
      ).to.equal(2);
    });
  });
}
