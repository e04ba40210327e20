import { expect } from 'chai';
import { ReadBufferPool } from '../../src/storage/readBufferPool.js';

describe('storage/ReadBufferPool', () => {
  it('hands out exactly the bytes asked for, in buffers of at least 64 KiB rounded up to a power of two', () => {
    const pool = new ReadBufferPool();
    const small = pool.take(10);
    expect(small.length).to.equal(10);
    expect(small.buffer.byteLength).to.equal(64 * 1024);
    const big = pool.take(1_000_000);
    expect(big.length).to.equal(1_000_000);
    expect(big.buffer.byteLength).to.equal(1024 * 1024);
  });

  it('reuses a released buffer for the next request of its size class', () => {
    const pool = new ReadBufferPool();
    const first = pool.take(700_000);
    pool.release(first.subarray(100, 200)); // any view of it hands it back
    expect(pool.heldBytes).to.equal(1024 * 1024);
    const second = pool.take(900_000);
    expect(second.buffer).to.equal(first.buffer);
    expect(pool.heldBytes).to.equal(0);
    const third = pool.take(900_000); // the only one is lent: a new one
    expect(third.buffer).not.to.equal(first.buffer);
  });

  it('ignores bytes it did not hand out, and a second release of the same buffer', () => {
    const pool = new ReadBufferPool();
    pool.release(Buffer.alloc(100_000));
    expect(pool.heldBytes).to.equal(0);
    const lent = pool.take(100_000);
    pool.release(lent);
    pool.release(lent);
    expect(pool.heldBytes).to.equal(128 * 1024);
    const again = pool.take(100_000);
    expect(again.buffer).to.equal(lent.buffer);
    expect(pool.take(100_000).buffer).not.to.equal(lent.buffer); // not handed out twice
  });

  it('keeps at most maxFreeBytes for reuse', () => {
    const pool = new ReadBufferPool(128 * 1024);
    const a = pool.take(64 * 1024);
    const b = pool.take(64 * 1024);
    const c = pool.take(64 * 1024);
    pool.release(a);
    pool.release(b);
    pool.release(c); // over the limit: left to the garbage collector
    expect(pool.heldBytes).to.equal(128 * 1024);
  });
});
