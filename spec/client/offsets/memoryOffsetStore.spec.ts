import { expect } from 'chai';
import { MemoryOffsetStore } from '../../../src/client/offsets/index.js';
import { describeOffsetStoreContract } from './offsetStoreContract.js';

describe('client/offsets/MemoryOffsetStore', () => {
  describeOffsetStoreContract('MemoryOffsetStore', async (now) => new MemoryOffsetStore({ now }));

  it('hands out copies, so callers cannot change what is stored', async () => {
    const store = new MemoryOffsetStore({ now: () => 7 });
    await store.save('g', [{ topic: 't', partition: 0, offset: 1, metadata: '' }]);
    const [loaded] = await store.load('g');
    loaded!.offset = 999;
    expect(await store.load('g')).to.deep.equal([{ topic: 't', partition: 0, offset: 1, metadata: '', commitTime: 7 }]);
  });
});
