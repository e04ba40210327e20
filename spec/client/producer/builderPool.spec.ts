import { expect } from 'chai';
import { BuilderPool } from '../../../src/client/producer/builderPool.js';

describe('client/producer/builderPool', () => {
  it('makes new builders of the initial capacity while none was given back', () => {
    const pool = new BuilderPool(512, 4096);
    const [a, b] = [pool.take(), pool.take()];
    expect(a).not.to.equal(b);
    expect([a.capacity, b.capacity, pool.heldBytes]).to.deep.equal([512, 512, 0]);
  });

  it('reuses the last builder given back, emptied but with its grown buffer', () => {
    const pool = new BuilderPool(16, 1 << 20);
    const builder = pool.take();
    builder.append(null, new Uint8Array(1000), undefined, 5);
    const grown = builder.capacity;
    expect(grown).to.be.at.least(1000);
    pool.give(builder);
    expect(pool.heldBytes).to.equal(grown);
    const again = pool.take();
    expect(again).to.equal(builder);
    expect([again.count, again.recordsBytes, again.capacity, pool.heldBytes]).to.deep.equal([0, 0, grown, 0]);
  });

  it('keeps no more than maxFreeBytes of free builders', () => {
    const pool = new BuilderPool(1000, 2500);
    const builders = [pool.take(), pool.take(), pool.take()];
    for (const b of builders) pool.give(b);
    expect(pool.heldBytes).to.equal(2000);
    expect(pool.take()).to.equal(builders[1]);
    expect(pool.take()).to.equal(builders[0]);
    expect(pool.take()).not.to.be.oneOf(builders);
  });
});
