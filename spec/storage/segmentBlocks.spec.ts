import { expect } from 'chai';
import { takeBatches } from '../../src/storage/segmentBlocks.js';
import { fakeBatches } from '../support/fakeBatch.js';

const source = { objectKey: 'topics/t/0/x.seg' };

describe('storage/takeBatches', () => {
  it('returns batches spread over blocks of one read as a view of that read, not a copy', () => {
    const batches = fakeBatches(10, [40, 50, 60, 70]);
    const read = Buffer.concat(batches);
    // Two blocks, as the segment reader slices one ranged read: [b0 b1] [b2 b3]
    const split = batches[0]!.length + batches[1]!.length;
    const blocks = [read.subarray(0, split), read.subarray(split)];
    const run = takeBatches(blocks, 11, 1_000_000, 0, source);
    expect(run).to.include({ firstOffset: 11, nextOffset: 14, batchCount: 3 });
    expect(run.bytes.equals(Buffer.concat(batches.slice(1)))).to.equal(true);
    expect(run.bytes.buffer).to.equal(read.buffer);
    expect(run.bytes.byteOffset).to.equal(read.byteOffset + batches[0]!.length);
  });

  it('copies batches from blocks that are not back to back', () => {
    const batches = fakeBatches(0, [40, 50]);
    // Two buffers of their own (as cached blocks are; Buffer.from could place both in one pool slab).
    const own = (bytes: Buffer) => {
      const copy = Buffer.allocUnsafeSlow(bytes.length);
      bytes.copy(copy);
      return copy;
    };
    const blocks = [own(batches[0]!), own(batches[1]!)];
    const run = takeBatches(blocks, 0, 1_000_000, 0, source);
    expect(run).to.include({ firstOffset: 0, nextOffset: 2, batchCount: 2 });
    expect(run.bytes.equals(Buffer.concat(batches))).to.equal(true);
    expect(run.bytes.buffer).not.to.equal(blocks[0]!.buffer);
    expect(run.bytes.buffer).not.to.equal(blocks[1]!.buffer);
  });

  it('stops before a batch that would overshoot maxBytes, returning the view up to there', () => {
    const batches = fakeBatches(0, [40, 50, 60]);
    const read = Buffer.concat(batches);
    const blocks = [read.subarray(0, batches[0]!.length), read.subarray(batches[0]!.length)];
    const run = takeBatches(blocks, 0, batches[0]!.length + batches[1]!.length, 0, source);
    expect(run).to.include({ firstOffset: 0, nextOffset: 2, batchCount: 2 });
    expect(run.bytes.length).to.equal(batches[0]!.length + batches[1]!.length);
    expect(run.bytes.buffer).to.equal(read.buffer);
  });
});
