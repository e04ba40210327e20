import { expect } from 'chai';
import {
  bufferSizeFor,
  MAX_POOLED_BYTES,
  MIN_POOLED_BYTES,
  RequestBufferPool,
} from '../../../src/client/producer/requestBufferPool.js';

describe('client/producer/RequestBufferPool', () => {
  it('sizes small and huge messages exactly, others to the next eighth of their power of two plus padding room', () => {
    expect(bufferSizeFor(100)).to.equal(100);
    expect(bufferSizeFor(MIN_POOLED_BYTES - 1)).to.equal(MIN_POOLED_BYTES - 1);
    expect(bufferSizeFor(MIN_POOLED_BYTES)).to.equal(65536 + 8192); // 65,538 needed: steps of 8 KiB above 64 KiB
    expect(bufferSizeFor(65536 + 8192 - 2)).to.equal(65536 + 8192);
    expect(bufferSizeFor(65536 + 8192 - 1)).to.equal(65536 + 2 * 8192);
    expect(bufferSizeFor(330_000)).to.equal(11 * 32768); // 360,448: steps of 32 KiB between 256 and 512 KiB
    expect(bufferSizeFor(524_286)).to.equal(524_288);
    expect(bufferSizeFor(524_287)).to.equal(524_288 + 65536);
    expect(bufferSizeFor(MAX_POOLED_BYTES)).to.equal(MAX_POOLED_BYTES + 2 * 1024 * 1024);
    expect(bufferSizeFor(MAX_POOLED_BYTES + 1)).to.equal(MAX_POOLED_BYTES + 1);
  });

  it('leaves room for a padding (2+ bytes) of at most an eighth plus 2 bytes, over the whole pooled range', () => {
    const pool = new RequestBufferPool(64 * 1024 * 1024);
    for (let minimum = MIN_POOLED_BYTES; minimum <= MAX_POOLED_BYTES; minimum += 9973) {
      const size = bufferSizeFor(minimum);
      expect(size - minimum, `minimum ${minimum}`).to.be.at.least(2);
      expect((size - minimum - 2) / minimum, `minimum ${minimum}`).to.be.at.most(1 / 8);
      if (minimum % 64 === 5) {
        // what take gives, give takes back
        const buffer = pool.take(minimum);
        expect(buffer.length).to.equal(size);
        pool.give(buffer);
        const again = pool.take(minimum);
        expect(again.buffer, `minimum ${minimum}`).to.equal(buffer.buffer);
        pool.give(again);
      }
    }
  });

  it("never pads past the largest buffer it was given (the producer's batchBytes)", () => {
    expect(bufferSizeFor(1_048_575)).to.equal(1_179_648); // 9 x 128 KiB
    expect(bufferSizeFor(1_048_575, 1024 * 1024)).to.equal(1_048_575); // that class is past 1 MiB: its own size
    expect(bufferSizeFor(1_000_000, 1024 * 1024)).to.equal(1024 * 1024); // 16 x 64 KiB
    expect(bufferSizeFor(330_000, 360_447)).to.equal(330_000);
    expect(bufferSizeFor(330_000, 360_448)).to.equal(360_448);
    const pool = new RequestBufferPool(64 * 1024 * 1024, 1024 * 1024);
    expect(pool.take(1_048_575).length).to.equal(1_048_575);
    expect(pool.take(1_000_000).length).to.equal(1024 * 1024);
  });

  it('hands out buffers that fill their ArrayBuffer, and reuses one given back for the same class', () => {
    const pool = new RequestBufferPool(1024 * 1024);
    const first = pool.take(330_000);
    expect(first.length).to.equal(360_448);
    expect(first.byteOffset).to.equal(0);
    expect(first.buffer.byteLength).to.equal(first.length);
    pool.give(first);
    expect(pool.heldBytes).to.equal(360_448);
    expect(pool.take(329_000).buffer).to.equal(first.buffer); // same class
    expect(pool.heldBytes).to.equal(0);
    const other = pool.take(330_000);
    expect(other.buffer).to.not.equal(first.buffer);
    const small = pool.take(1000);
    expect(small.length).to.equal(1000);
    expect(small.buffer.byteLength).to.equal(1000);
  });

  it('takes back only class-sized buffers it handed out, once each, within its bound', () => {
    const pool = new RequestBufferPool(800_000);
    pool.give(Buffer.allocUnsafeSlow(360_448)); // a class size, but not one of its own
    pool.give(pool.take(1000)); // below the pooled range: its own size, not kept
    const handedOut = pool.take(330_000);
    pool.give(handedOut.subarray(0, 1000)); // a view, not the buffer
    expect(pool.heldBytes).to.equal(0);
    const [a, b, c] = [pool.take(330_000), pool.take(330_000), pool.take(330_000)];
    pool.give(a);
    pool.give(a); // again: ignored, or a would go out twice
    pool.give(b);
    pool.give(c); // over the bound: left to the garbage collector
    expect(pool.heldBytes).to.equal(720_896);
    expect(pool.take(330_000).buffer).to.equal(b.buffer); // the last one given back first
    expect(pool.take(330_000).buffer).to.equal(a.buffer);
    const fresh = pool.take(330_000);
    expect([a, b, c].map((x) => x.buffer === fresh.buffer)).to.deep.equal([false, false, false]);
    expect(pool.heldBytes).to.equal(0);
  });
});
