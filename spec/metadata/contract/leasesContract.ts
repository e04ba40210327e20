/** Contract: lease acquisition, contention, renewal, release and expiry. */
import { expect } from 'chai';
import { FencedLeaseEpochError, InvalidRequestError, NotLeaderError } from '../../../src/protocol/errors.js';
import type { Lease } from '../../../src/metadata/metadataStore.js';
import { rejection, segment, useStore, type StoreHarnessFactory } from './harness.js';

const TTL = 10_000;

export function leasesContract(factory: StoreHarnessFactory): void {
  describe('leases', () => {
    const ctx = useStore(factory);

    it('increments the epoch on every acquisition, including by the same agent', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      expect(await store.acquireLease('t', 0, 'agent-a', TTL)).to.deep.equal({
        topic: 't',
        partition: 0,
        agentId: 'agent-a',
        epoch: 1,
        expiresAt: clock.now + TTL,
      });
      clock.advance(5);
      expect(await store.acquireLease('t', 0, 'agent-a', 500)).to.deep.equal({
        topic: 't',
        partition: 0,
        agentId: 'agent-a',
        epoch: 2,
        expiresAt: clock.now + 500,
      });
      expect(await store.getPartition('t', 0)).to.deep.include({
        leaseHolder: 'agent-a',
        leaseEpoch: 2,
        leaseExpiresAt: clock.now + 500,
      });
    });

    it('refuses another agent while the lease is live, naming the holder and expiry', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      const lease = await store.acquireLease('t', 0, 'agent-a', TTL);
      clock.advance(TTL); // now == expiresAt: still live
      const error = await rejection(store.acquireLease('t', 0, 'agent-b', TTL), NotLeaderError, 'NOT_LEADER');
      expect(error.message).to.equal(
        `t/0 is leased by agent-a until ${lease.expiresAt} (${new Date(lease.expiresAt).toISOString()})`,
      );
      expect(error.retriable).to.equal(true);
      expect(error.context).to.deep.equal({ topic: 't', partition: 0 });
      expect((await store.getPartition('t', 0)).leaseEpoch).to.equal(1);
    });

    it('lets exactly one of two concurrent contenders win, per partition, across store instances', async () => {
      const { store, harness, clock } = ctx();
      const other = await harness.open(clock.read);
      await store.createTopic('t', 6);
      for (let partition = 0; partition < 6; partition++) {
        const results = await Promise.allSettled([
          store.acquireLease('t', partition, 'agent-a', TTL),
          other.acquireLease('t', partition, 'agent-b', TTL),
          store.acquireLease('t', partition, 'agent-c', TTL),
        ]);
        const won = results.filter((r): r is PromiseFulfilledResult<Lease> => r.status === 'fulfilled');
        expect(won, `partition ${partition}`).to.have.length(1);
        expect(won[0]!.value.epoch).to.equal(1);
        for (const lost of results.filter((r) => r.status === 'rejected')) {
          expect((lost as PromiseRejectedResult).reason).to.be.instanceOf(NotLeaderError);
        }
        expect((await other.getPartition('t', partition)).leaseHolder).to.equal(won[0]!.value.agentId);
      }
    });

    it('lets another agent take over an expired lease with epoch + 1, fencing the old holder', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      const old = await store.acquireLease('t', 0, 'agent-a', TTL);
      clock.advance(TTL + 1);
      const taken = await store.acquireLease('t', 0, 'agent-b', TTL);
      expect(taken).to.deep.equal({
        topic: 't',
        partition: 0,
        agentId: 'agent-b',
        epoch: old.epoch + 1,
        expiresAt: clock.now + TTL,
      });
      const renew = await rejection(store.renewLease(old, TTL), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      expect(renew.message).to.equal('lease epoch 1 of t/0 is fenced: the current epoch is 2 (holder agent-b)');
      await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch: old.epoch,
          expectedHighWatermark: 0,
          segment: segment('t', 0, 0, 1),
        }),
        FencedLeaseEpochError,
        'FENCED_LEASE_EPOCH',
      );
      await store.releaseLease(old); // no longer current: ignored
      expect(await store.getPartition('t', 0)).to.deep.include({
        leaseHolder: 'agent-b',
        leaseEpoch: 2,
        leaseExpiresAt: taken.expiresAt,
      });
    });

    it('renews only under the current epoch and holder, even after expiry when nobody took over', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      const lease = await store.acquireLease('t', 0, 'agent-a', TTL);
      clock.advance(1000);
      expect(await store.renewLease(lease, TTL)).to.deep.equal({ ...lease, expiresAt: clock.now + TTL });
      await rejection(
        store.renewLease({ ...lease, agentId: 'agent-b' }, TTL),
        FencedLeaseEpochError,
        'FENCED_LEASE_EPOCH',
      );
      await rejection(store.renewLease({ ...lease, epoch: 5 }, TTL), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      clock.advance(TTL * 3);
      const renewed = await store.renewLease(lease, TTL);
      expect(renewed.expiresAt).to.equal(clock.now + TTL);
      expect(renewed.epoch).to.equal(1);
      await rejection(store.renewLease(lease, 0), InvalidRequestError, 'INVALID_REQUEST');
    });

    it('refuses commits under an expired lease until it is renewed', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      const lease = await store.acquireLease('t', 0, 'agent-a', TTL);
      clock.advance(TTL + 1);
      const commit = {
        topic: 't',
        partition: 0,
        epoch: lease.epoch,
        expectedHighWatermark: 0,
        segment: segment('t', 0, 0, 3),
      };
      const error = await rejection(store.commitSegment(commit), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      expect(error.message).to.equal(
        `lease epoch 1 of t/0 is fenced: the lease expired at ${lease.expiresAt} (now ${clock.now}); renew or ` +
          `acquire it again`,
      );
      expect((await store.getPartition('t', 0)).highWatermark).to.equal(0);
      await store.renewLease(lease, TTL);
      expect(await store.commitSegment(commit)).to.equal(3);
    });

    it('ends the leases of a deleted topic: none renews or writes in a topic created again with its name', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 3);
      const a = await store.acquireLease('t', 0, 'agent-a', TTL);
      const b = await store.acquireLease('t', 2, 'agent-b', TTL);
      const b2 = await store.acquireLease('t', 2, 'agent-b', TTL);
      expect([a.epoch, b.epoch, b2.epoch]).to.deep.equal([1, 1, 2]);
      await store.deleteTopic('t');
      await store.createTopic('t', 2);
      expect(
        (await store.listPartitions('t')).map((p) => [p.leaseEpoch, p.leaseHolder, p.leaseExpiresAt]),
      ).to.deep.equal([
        [2, undefined, 0],
        [2, undefined, 0],
      ]);
      const renewed = await rejection(store.renewLease(a, TTL), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      expect(renewed.message).to.equal('lease epoch 1 of t/0 is fenced: the current epoch is 2 (holder nobody)');
      const fresh = await store.acquireLease('t', 0, 'agent-c', TTL);
      expect(fresh).to.deep.equal({
        topic: 't',
        partition: 0,
        agentId: 'agent-c',
        epoch: 3,
        expiresAt: clock.now + TTL,
      });
      // The old topic's newest epoch (2, of partition 2) matches no partition of the new one.
      for (const partition of [0, 1]) {
        await rejection(
          store.commitSegment({
            topic: 't',
            partition,
            epoch: 2,
            expectedHighWatermark: 0,
            segment: segment('t', partition, 0, 1),
          }),
          FencedLeaseEpochError,
          'FENCED_LEASE_EPOCH',
        );
      }
      await rejection(store.renewLease({ ...b2, partition: 1 }, TTL), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      // Deleting again keeps the largest epoch ever reached, not the last topic's.
      await store.deleteTopic('t');
      await store.createTopic('t', 1);
      expect((await store.getPartition('t', 0)).leaseEpoch).to.equal(3);
      expect(
        await store.commitSegment({
          topic: 't',
          partition: 0,
          epoch: (await store.acquireLease('t', 0, 'agent-a', TTL)).epoch,
          expectedHighWatermark: 0,
          segment: segment('t', 0, 0, 5),
        }),
      ).to.equal(5);
    });

    it('releases: holder cleared, expiry now, writes fenced, another agent may take it at once', async () => {
      const { store, clock } = ctx();
      await store.createTopic('t', 1);
      const lease = await store.acquireLease('t', 0, 'agent-a', TTL);
      clock.advance(10);
      await store.releaseLease(lease);
      expect(await store.getPartition('t', 0)).to.deep.include({
        leaseHolder: undefined,
        leaseEpoch: 1,
        leaseExpiresAt: clock.now,
      });
      const error = await rejection(
        store.commitSegment({
          topic: 't',
          partition: 0,
          epoch: 1,
          expectedHighWatermark: 0,
          segment: segment('t', 0, 0, 1),
        }),
        FencedLeaseEpochError,
        'FENCED_LEASE_EPOCH',
      );
      expect(error.message).to.equal('lease epoch 1 of t/0 is fenced: the lease was released');
      await rejection(store.renewLease(lease, TTL), FencedLeaseEpochError, 'FENCED_LEASE_EPOCH');
      expect((await store.acquireLease('t', 0, 'agent-b', TTL)).epoch).to.equal(2);
    });
  });
}
