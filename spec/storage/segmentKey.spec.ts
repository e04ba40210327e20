import { expect } from 'chai';
import { InvalidRequestError } from '../../src/protocol/errors.js';
import { isValidObjectKey } from '../../src/storage/objectKey.js';
import { parseSegmentKey, partitionSegmentPrefix, segmentKey, segmentObjectKey } from '../../src/storage/segmentKey.js';

describe('storage/segmentKey', () => {
  it('formats topics/<topic>/<partition>/<20-digit base offset>.seg', () => {
    expect(segmentKey('orders', 3, 42)).to.equal('topics/orders/3/00000000000000000042.seg');
    expect(segmentKey('a.b-c_d', 0, 0)).to.equal('topics/a.b-c_d/0/00000000000000000000.seg');
    expect(segmentKey('t', 12, Number.MAX_SAFE_INTEGER)).to.equal('topics/t/12/00009007199254740991.seg');
    expect(partitionSegmentPrefix('orders', 3)).to.equal('topics/orders/3/');
    expect(isValidObjectKey(segmentKey('orders', 3, 42))).to.equal(true);
  });

  it('sorts keys of one partition in offset order', () => {
    const offsets = [0, 9, 10, 99, 100, 123_456_789, 2 ** 40];
    const keys = offsets.map((o) => segmentKey('t', 0, o));
    expect([...keys].sort()).to.deep.equal(keys);
  });

  it('parses what it formats', () => {
    for (const [topic, partition, offset] of [
      ['orders', 3, 42],
      ['x', 0, 0],
      ['t.1', 999, Number.MAX_SAFE_INTEGER],
    ] as const) {
      expect(parseSegmentKey(segmentKey(topic, partition, offset))).to.deep.equal({
        topic,
        partition,
        baseOffset: offset,
      });
    }
  });

  it('refuses keys that are not segment keys', () => {
    for (const key of [
      'topics/orders/3/42.seg',
      'topics/orders/3/00000000000000000042',
      'topics/orders/03/00000000000000000042.seg',
      'topics/orders/-1/00000000000000000042.seg',
      'topics//3/00000000000000000042.seg',
      'topics/../3/00000000000000000042.seg',
      'other/orders/3/00000000000000000042.seg',
      'topics/orders/3/99999999999999999999.seg',
      'topics/a/b/3/00000000000000000042.seg',
    ]) {
      expect(() => parseSegmentKey(key), key).to.throw(InvalidRequestError);
    }
  });

  it('refuses topics, partitions and offsets that cannot make a key', () => {
    expect(() => segmentKey('a/b', 0, 0)).to.throw(InvalidRequestError);
    expect(() => segmentKey('..', 0, 0)).to.throw(InvalidRequestError);
    expect(() => segmentKey('', 0, 0)).to.throw(InvalidRequestError);
    expect(() => segmentKey('t', -1, 0)).to.throw(InvalidRequestError);
    expect(() => segmentKey('t', 0, 1.5)).to.throw(InvalidRequestError);
    expect(() => segmentKey('t', 0, 2 ** 53)).to.throw(InvalidRequestError);
  });

  it('names agent-written objects by range and lease epoch, sorting with plain keys', () => {
    const key = segmentObjectKey('orders', 3, 42, 50, 7);
    expect(key).to.equal('topics/orders/3/00000000000000000042-00000000000000000050-e7.seg');
    expect(parseSegmentKey(key)).to.deep.equal({
      topic: 'orders',
      partition: 3,
      baseOffset: 42,
      endOffset: 50,
      epoch: 7,
    });
    expect(isValidObjectKey(key)).to.equal(true);
    const keys = [segmentObjectKey('t', 0, 100, 120, 2), segmentObjectKey('t', 0, 7, 100, 1), segmentKey('t', 0, 120)];
    expect([...keys].sort()).to.deep.equal([keys[1], keys[0], keys[2]]);
    expect(() => segmentObjectKey('t', 0, 5, 5, 1)).to.throw(InvalidRequestError);
    expect(() => segmentObjectKey('t', 0, 5, 6, -1)).to.throw(InvalidRequestError);
  });
});
