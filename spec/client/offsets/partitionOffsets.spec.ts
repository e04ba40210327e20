import { expect } from 'chai';
import { PartitionOffsets } from '../../../src/client/offsets/index.js';
import { InvalidRequestError, UnknownTopicOrPartitionError } from '../../../src/protocol/errors.js';

describe('client/offsets/PartitionOffsets', () => {
  let clock: number;
  let offsets: PartitionOffsets;

  beforeEach(() => {
    clock = 1000;
    offsets = new PartitionOffsets({ now: () => clock });
  });

  it('starts at the given position with nothing pending and the given lag', () => {
    offsets.assign('t', 0, { position: 40, committed: 40, highWatermark: 100 });
    expect(offsets.position('t', 0)).to.equal(40);
    expect(offsets.committed('t', 0)).to.equal(40);
    expect(offsets.lag('t', 0)).to.equal(60);
    expect(offsets.pending()).to.deep.equal([]);
    expect(offsets.info('t', 0)).to.deep.equal({
      topic: 't',
      partition: 0,
      offset: 40,
      highWatermark: 100,
      lag: 60,
      timestamp: 1000,
      metadata: '',
    });
  });

  it('moves the position past processed records, tracks lag and what is pending', () => {
    offsets.assign('t', 0, { position: 40, highWatermark: 100 });
    clock = 2000;
    offsets.markProcessed('t', 0, 49, 'batch-7');
    expect(offsets.position('t', 0)).to.equal(50);
    expect(offsets.lag('t', 0)).to.equal(50);
    expect(offsets.pending()).to.deep.equal([{ topic: 't', partition: 0, offset: 50, metadata: 'batch-7' }]);
    expect(offsets.info('t', 0)).to.deep.include({ offset: 50, lag: 50, timestamp: 2000, metadata: 'batch-7' });
  });

  it('clears pending on commit, but not for records processed after the committed offset', () => {
    offsets.assign('t', 0, { position: 0, highWatermark: 10 });
    offsets.markProcessed('t', 0, 4);
    const inFlight = offsets.pending();
    offsets.markProcessed('t', 0, 6);
    offsets.markCommitted(inFlight);
    expect(offsets.committed('t', 0)).to.equal(5);
    expect(offsets.pending()).to.deep.equal([{ topic: 't', partition: 0, offset: 7, metadata: '' }]);
    offsets.markCommitted(offsets.pending());
    expect(offsets.pending()).to.deep.equal([]);
  });

  it('sums lag over partitions and never reports negative lag', () => {
    offsets.assign('t', 1, { position: 10, highWatermark: 25 });
    offsets.assign('t', 0, { position: 0, highWatermark: 5 });
    offsets.assign('u', 0, { position: 7 });
    expect(offsets.totalLag()).to.equal(20);
    offsets.updateHighWatermark('u', 0, 3); // stale answer below the position
    expect(offsets.lag('u', 0)).to.equal(0);
    offsets.markProcessed('t', 1, 30); // read past a stale watermark
    expect(offsets.lag('t', 1)).to.equal(0);
    expect(offsets.info('t', 1)!.highWatermark).to.equal(31);
    offsets.updateHighWatermark('u', 0, 17);
    expect(offsets.totalLag()).to.equal(15);
    expect(offsets.partitions()).to.deep.equal([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
      { topic: 'u', partition: 0 },
    ]);
    expect(offsets.infos().map((info) => info.lag)).to.deep.equal([5, 0, 10]);
  });

  it('makes a reset position pending when it differs from the committed offset', () => {
    offsets.assign('t', 0, { position: 100, committed: 20, highWatermark: 150 });
    expect(offsets.pending()).to.deep.equal([{ topic: 't', partition: 0, offset: 100, metadata: '' }]);
  });

  it('makes a seek pending, even backwards, and nothing pending when seeking back to the committed offset', () => {
    offsets.assign('t', 0, { position: 50, committed: 50, highWatermark: 80 });
    offsets.seek('t', 0, 30);
    expect(offsets.pending()).to.deep.equal([{ topic: 't', partition: 0, offset: 30, metadata: '' }]);
    expect(offsets.lag('t', 0)).to.equal(50);
    offsets.seek('t', 0, 50);
    expect(offsets.pending()).to.deep.equal([]);
  });

  it('forgets revoked partitions and ignores their late commits', () => {
    offsets.assign('t', 0, { position: 0 });
    offsets.markProcessed('t', 0, 3);
    expect(offsets.remove('t', 0)).to.equal(true);
    expect(offsets.remove('t', 0)).to.equal(false);
    offsets.markCommitted([{ topic: 't', partition: 0, offset: 4, metadata: '' }]);
    expect(offsets.info('t', 0)).to.equal(undefined);
    expect(offsets.totalLag()).to.equal(0);
    expect(() => offsets.position('t', 0)).to.throw(UnknownTopicOrPartitionError, 't/0 is not assigned');
    expect(() => offsets.markProcessed('t', 0, 5)).to.throw(UnknownTopicOrPartitionError);
  });

  it('refuses negative and unsafe offsets', () => {
    expect(() => offsets.assign('t', 0, { position: -1 })).to.throw(InvalidRequestError, 'position of t/0');
    offsets.assign('t', 0, { position: 0 });
    expect(() => offsets.markProcessed('t', 0, 2 ** 53)).to.throw(InvalidRequestError, 'safe integer');
    expect(() => offsets.updateHighWatermark('t', 0, 1.5)).to.throw(InvalidRequestError, 'high watermark');
  });
});
