/**
 * Behaviour every OffsetStore must show. Each backend's spec calls
 * {@link describeOffsetStoreContract} with a factory; the agent-backed store
 * can reuse it.
 */
import { expect } from 'chai';
import type { OffsetStore } from '../../../src/client/offsets/index.js';
import { InvalidRequestError } from '../../../src/protocol/errors.js';

/** Makes a fresh, empty store whose clock returns the values of `clock()` (ms). */
export type OffsetStoreFactory = (clock: () => number) => Promise<OffsetStore>;

export function describeOffsetStoreContract(name: string, create: OffsetStoreFactory): void {
  describe(`OffsetStore contract: ${name}`, () => {
    let now: number;
    let store: OffsetStore;

    beforeEach(async () => {
      now = 1_700_000_000_000;
      store = await create(() => now);
    });

    it('loads nothing for an unknown group', async () => {
      expect(await store.load('nobody')).to.deep.equal([]);
      expect(await store.load('nobody', [{ topic: 't', partition: 0 }])).to.deep.equal([]);
    });

    it('loads what was saved, sorted by topic then partition, with the commit time', async () => {
      await store.save('g', [
        { topic: 'orders', partition: 10, offset: 5, metadata: '' },
        { topic: 'orders', partition: 2, offset: 42, metadata: 'after batch 7' },
        { topic: 'audit', partition: 0, offset: 0, metadata: 'ünïcödé ✓' },
      ]);
      expect(await store.load('g')).to.deep.equal([
        { topic: 'audit', partition: 0, offset: 0, metadata: 'ünïcödé ✓', commitTime: 1_700_000_000_000 },
        { topic: 'orders', partition: 2, offset: 42, metadata: 'after batch 7', commitTime: 1_700_000_000_000 },
        { topic: 'orders', partition: 10, offset: 5, metadata: '', commitTime: 1_700_000_000_000 },
      ]);
    });

    it('loads only the asked partitions that have a commit', async () => {
      await store.save('g', [
        { topic: 't', partition: 0, offset: 1, metadata: '' },
        { topic: 't', partition: 1, offset: 2, metadata: '' },
      ]);
      const loaded = await store.load('g', [
        { topic: 't', partition: 1 },
        { topic: 't', partition: 7 },
        { topic: 'other', partition: 0 },
      ]);
      expect(loaded).to.deep.equal([
        { topic: 't', partition: 1, offset: 2, metadata: '', commitTime: 1_700_000_000_000 },
      ]);
      expect(await store.load('g', [])).to.deep.equal([]);
    });

    it('replaces earlier commits of a partition, even with a lower offset', async () => {
      await store.save('g', [{ topic: 't', partition: 0, offset: 100, metadata: 'a' }]);
      now += 5000;
      await store.save('g', [{ topic: 't', partition: 0, offset: 60, metadata: 'seek back' }]);
      expect(await store.load('g')).to.deep.equal([
        { topic: 't', partition: 0, offset: 60, metadata: 'seek back', commitTime: 1_700_000_005_000 },
      ]);
    });

    it('keeps groups apart and treats topics with slashes and colons as plain names', async () => {
      await store.save('g1', [{ topic: 'a/b:c', partition: 3, offset: 9, metadata: '' }]);
      await store.save('g2', [{ topic: 'a/b:c', partition: 3, offset: 11, metadata: '' }], {
        generation: 4,
        memberId: 'm',
      });
      expect((await store.load('g1')).map((o) => o.offset)).to.deep.equal([9]);
      expect(await store.load('g2', [{ topic: 'a/b:c', partition: 3 }])).to.deep.equal([
        { topic: 'a/b:c', partition: 3, offset: 11, metadata: '', commitTime: 1_700_000_000_000 },
      ]);
    });

    it('saves nothing for an empty commit', async () => {
      await store.save('g', []);
      expect(await store.load('g')).to.deep.equal([]);
    });

    it('refuses bad input with InvalidRequestError', async () => {
      const rejects = async (promise: Promise<unknown>, fragment: string) => {
        let thrown: unknown;
        try {
          await promise;
        } catch (error) {
          thrown = error;
        }
        expect(thrown).to.be.instanceOf(InvalidRequestError);
        expect((thrown as Error).message).to.contain(fragment);
      };
      await rejects(store.save('', []), 'group id');
      await rejects(store.save('g', [{ topic: 't', partition: 0, offset: -1, metadata: '' }]), 'offset of t/0');
      await rejects(store.save('g', [{ topic: 't', partition: 0, offset: 2 ** 53, metadata: '' }]), 'safe integer');
      await rejects(store.save('g', [{ topic: '', partition: 0, offset: 1, metadata: '' }]), 'topic');
      await rejects(store.load('g', [{ topic: 't', partition: -2 }]), 'partition of t');
      expect(await store.load('g')).to.deep.equal([]);
    });
  });
}
