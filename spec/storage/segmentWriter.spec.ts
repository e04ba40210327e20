import { expect } from 'chai';
import { CorruptMessageError, InvalidConfigError, InvalidRequestError } from '../../src/protocol/errors.js';
import { decodeSegmentFooter, SEGMENT_TRAILER_SIZE } from '../../src/storage/segmentFooter.js';
import { buildSegment } from '../../src/storage/segmentWriter.js';
import { fakeBatch, fakeBatches } from '../support/fakeBatch.js';

describe('storage/buildSegment', () => {
  it('concatenates the batches as they are and describes them', () => {
    const batches = [
      fakeBatch({ baseOffset: 100, recordCount: 3, baseTimestamp: 5000, maxTimestamp: 5009, payload: 40 }),
      fakeBatch({ baseOffset: 103, recordCount: 1, baseTimestamp: 4000, maxTimestamp: 4000, payload: 10 }),
      fakeBatch({
        baseOffset: 104,
        recordCount: 2,
        lastOffsetDelta: 4,
        baseTimestamp: 6000,
        maxTimestamp: 7000,
        payload: 0,
      }),
    ];
    const segment = buildSegment(batches);
    const data = Buffer.concat(batches);
    expect(segment.bytes.subarray(0, data.length).equals(data)).to.equal(true);
    expect(segment).to.include({
      baseOffset: 100,
      endOffset: 109, // 104 + lastOffsetDelta 4 + 1
      minTimestamp: 4000,
      maxTimestamp: 7000,
      sizeBytes: segment.bytes.length,
      batchCount: 3,
      recordCount: 6,
    });
    expect(segment.bytes.subarray(-4).toString('latin1')).to.equal('SHSG');
  });

  it('hands out the batches themselves as parts, then the footer: nothing is copied', () => {
    const batches = fakeBatches(0, [100, 50]);
    const segment = buildSegment(batches);
    expect(segment.parts.length).to.equal(3);
    expect(segment.parts[0]).to.equal(batches[0]);
    expect(segment.parts[1]).to.equal(batches[1]);
    const footer = segment.parts[2]!;
    expect(footer.length).to.equal(segment.sizeBytes - batches[0]!.length - batches[1]!.length);
    expect(Buffer.concat(segment.parts).equals(segment.bytes)).to.equal(true);
    expect(segment.bytes).to.equal(segment.bytes); // concatenated once
  });

  it('writes a footer that decodes to the same description, with the first batch indexed', () => {
    const batches = fakeBatches(0, [100, 100, 100]);
    const segment = buildSegment(batches);
    const footer = decodeSegmentFooter(segment.bytes, segment.sizeBytes, { objectKey: 'k' });
    expect(footer).to.include({
      baseOffset: 0,
      endOffset: 3,
      batchCount: 3,
      dataSize: 3 * 161,
      indexIntervalBytes: 4096,
      sizeBytes: segment.sizeBytes,
    });
    expect([...footer.relativeOffsets]).to.deep.equal([0]);
    expect([...footer.positions]).to.deep.equal([0]);
    expect(segment.sizeBytes).to.equal(3 * 161 + 8 + SEGMENT_TRAILER_SIZE);
  });

  it('indexes the first batch starting at least indexIntervalBytes after the previous entry', () => {
    // Batches of 61 + 39 = 100 bytes, 2 records each: positions 0, 100, 200, ...
    const batches = fakeBatches(50, Array(10).fill(39), Array(10).fill(2));
    const segment = buildSegment(batches, { indexIntervalBytes: 250 });
    const footer = decodeSegmentFooter(segment.bytes, segment.sizeBytes, { objectKey: 'k' });
    expect([...footer.positions]).to.deep.equal([0, 300, 600, 900]);
    expect([...footer.relativeOffsets]).to.deep.equal([0, 6, 12, 18]);
  });

  it('indexes the batch right after one larger than the interval', () => {
    // Sizes 5061, 71, 5061, 71, 71 at positions 0, 5061, 5132, 10193, 10264.
    const batches = fakeBatches(0, [5000, 10, 5000, 10, 10]);
    const segment = buildSegment(batches);
    const footer = decodeSegmentFooter(segment.bytes, segment.sizeBytes, { objectKey: 'k' });
    expect([...footer.positions]).to.deep.equal([0, 5061, 10193]);
    expect([...footer.relativeOffsets]).to.deep.equal([0, 1, 3]);
  });

  it('widens the interval so that a large segment has at most maxIndexEntries entries', () => {
    // 100 batches of 1061 bytes = 106 100 bytes; 10 entries at most → interval ceil(106100 / 10) = 10 610.
    const segment = buildSegment(fakeBatches(0, Array(100).fill(1000)), { maxIndexEntries: 10 });
    const footer = decodeSegmentFooter(segment.bytes, segment.sizeBytes, { objectKey: 'k' });
    expect(footer.indexIntervalBytes).to.equal(10_610);
    expect(footer.relativeOffsets.length).to.equal(10);
    expect([...footer.positions]).to.deep.equal([0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((i) => i * 1061));
    expect(() => buildSegment(fakeBatches(0, [1]), { maxIndexEntries: 0 })).to.throw(InvalidConfigError);
  });

  it('accepts one buffer holding several batches', () => {
    const batches = fakeBatches(7, [10, 2000, 30, 5000, 1]);
    const fromArray = buildSegment(batches, { indexIntervalBytes: 1024 });
    const fromBuffer = buildSegment(Buffer.concat(batches), { indexIntervalBytes: 1024 });
    expect(fromBuffer.bytes.equals(fromArray.bytes)).to.equal(true);
    expect(
      buildSegment([Buffer.concat(batches.slice(0, 2)), ...batches.slice(2)], {
        indexIntervalBytes: 1024,
      }).bytes.equals(fromArray.bytes),
    ).to.equal(true);
  });

  it('refuses no batches, offset gaps or overlaps, and bad options', () => {
    expect(() => buildSegment([])).to.throw(InvalidRequestError, /at least one batch/);
    expect(() => buildSegment(Buffer.alloc(0))).to.throw(InvalidRequestError);
    const gap = [fakeBatch({ baseOffset: 0, recordCount: 2 }), fakeBatch({ baseOffset: 3 })];
    expect(() => buildSegment(gap)).to.throw(InvalidRequestError, /offset 3/);
    const overlap = [fakeBatch({ baseOffset: 0, recordCount: 2 }), fakeBatch({ baseOffset: 1 })];
    expect(() => buildSegment(overlap)).to.throw(InvalidRequestError);
    expect(() => buildSegment(fakeBatches(0, [1]), { indexIntervalBytes: 0 })).to.throw(InvalidConfigError);
  });

  it('refuses truncated or malformed batches with CorruptMessageError', () => {
    const batch = fakeBatch({ baseOffset: 0, payload: 50 });
    expect(() => buildSegment([batch.subarray(0, batch.length - 1)])).to.throw(CorruptMessageError);
    const badMagic = Buffer.from(batch);
    badMagic[16] = 1;
    expect(() => buildSegment([badMagic])).to.throw(CorruptMessageError);
    expect(() => buildSegment(Buffer.concat([batch, Buffer.alloc(3)]))).to.throw(CorruptMessageError);
  });
});
