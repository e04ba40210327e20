/** Idempotent-producer bookkeeping of one partition (pure, no stores). */
import { expect } from 'chai';
import { nextSequence, ProducerSequences, RECENT_BATCHES } from '../../../src/agent/write/producerSequences.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../../src/protocol/errors.js';

const INT32_MAX = 2 ** 31 - 1;

describe('producer sequences', function () {
  describe('nextSequence', () => {
    it('counts up and wraps past int32 max to 0, as Kafka does', () => {
      expect(nextSequence(0)).to.equal(1);
      expect(nextSequence(41, 9)).to.equal(50);
      expect(nextSequence(INT32_MAX - 1)).to.equal(INT32_MAX);
      expect(nextSequence(INT32_MAX)).to.equal(0);
      expect(nextSequence(INT32_MAX - 2, 5)).to.equal(2);
    });
  });

  describe('a producer new to the partition', () => {
    it('must start at sequence 0', () => {
      const s = new ProducerSequences();
      s.seed(7, undefined);
      expect(s.has(7)).to.equal(true);
      expect(s.check(7, 0, 0, 3)).to.deep.equal({ kind: 'append' });
      expect(() => s.check(7, 0, 5, 3)).to.throw(OutOfOrderSequenceError, 'producer 7 epoch 0 must start at sequence 0 on this partition, got 5');
      expect(s.lastState(7)).to.equal(undefined);
    });
  });

  describe('after appends', () => {
    let s: ProducerSequences;
    beforeEach(() => {
      s = new ProducerSequences();
      s.seed(7, undefined);
      s.record(7, 2, 0, 3, 100); // sequences 0..2 at offsets 100..102
      s.record(7, 2, 3, 2, 110); // 3..4 at 110..111
    });

    it('accepts the next sequence and refuses gaps and reorderings', () => {
      expect(s.check(7, 2, 5, 1)).to.deep.equal({ kind: 'append' });
      expect(() => s.check(7, 2, 6, 1)).to.throw(OutOfOrderSequenceError, 'producer 7 sent sequence 6, expected 5');
      expect(() => s.check(7, 2, 4, 1)).to.throw(OutOfOrderSequenceError, 'producer 7 sent sequence 4, expected 5');
    });

    it('recognises a retry of a recent batch and names its original offsets', () => {
      expect(s.check(7, 2, 0, 3)).to.deep.equal({ kind: 'duplicate', baseOffset: 100, recordCount: 3 });
      expect(s.check(7, 2, 3, 2)).to.deep.equal({ kind: 'duplicate', baseOffset: 110, recordCount: 2 });
      // Same first sequence but a different extent is not the same batch.
      expect(() => s.check(7, 2, 3, 1)).to.throw(OutOfOrderSequenceError);
    });

    it(`remembers the last ${RECENT_BATCHES} batches only`, () => {
      for (let i = 0; i < RECENT_BATCHES; i++) s.record(7, 2, 5 + i, 1, 200 + i);
      expect(() => s.check(7, 2, 3, 2)).to.throw(OutOfOrderSequenceError); // pushed out
      expect(s.check(7, 2, 5, 1)).to.deep.equal({ kind: 'duplicate', baseOffset: 200, recordCount: 1 });
      expect(s.check(7, 2, 5 + RECENT_BATCHES - 1, 1)).to.deep.equal({ kind: 'duplicate', baseOffset: 200 + RECENT_BATCHES - 1, recordCount: 1 });
    });

    it('fences older epochs and makes a newer epoch start over at 0', () => {
      expect(() => s.check(7, 1, 5, 1)).to.throw(InvalidProducerEpochError, 'producer 7 epoch 1 is older than 2');
      expect(() => s.check(7, 3, 5, 1)).to.throw(OutOfOrderSequenceError, 'producer 7 epoch 3 must start at sequence 0 on this partition, got 5');
      expect(s.check(7, 3, 0, 1)).to.deep.equal({ kind: 'append' });
      s.record(7, 3, 0, 1, 120);
      expect(s.lastState(7)).to.deep.equal({ producerId: 7, producerEpoch: 3, lastSequence: 0, lastBaseOffset: 120, lastRecordCount: 1 });
      expect(() => s.check(7, 3, 3, 2)).to.throw(OutOfOrderSequenceError); // the old epoch's batches are forgotten
    });

    it('states the last batch as it is committed with a segment', () => {
      expect(s.lastState(7)).to.deep.equal({ producerId: 7, producerEpoch: 2, lastSequence: 4, lastBaseOffset: 110, lastRecordCount: 2 });
      expect(s.lastState(8)).to.equal(undefined);
    });
  });

  describe('seeded from the store (a new leader)', () => {
    it('recognises a retry of the last committed batch and continues after it', () => {
      const s = new ProducerSequences();
      s.seed(7, { producerId: 7, producerEpoch: 4, lastSequence: 9, lastBaseOffset: 50, lastRecordCount: 3 });
      expect(s.check(7, 4, 7, 3)).to.deep.equal({ kind: 'duplicate', baseOffset: 50, recordCount: 3 });
      expect(s.check(7, 4, 10, 2)).to.deep.equal({ kind: 'append' });
      expect(() => s.check(7, 4, 4, 3)).to.throw(OutOfOrderSequenceError, 'producer 7 sent sequence 4, expected 10');
      // A second seed does not overwrite what the writer has learnt since.
      s.record(7, 4, 10, 2, 53);
      s.seed(7, { producerId: 7, producerEpoch: 4, lastSequence: 9, lastBaseOffset: 50, lastRecordCount: 3 });
      expect(s.lastState(7)!.lastSequence).to.equal(11);
    });

    it('handles a last batch whose sequences wrapped past int32 max', () => {
      const s = new ProducerSequences();
      // Three records with sequences INT32_MAX, 0, 1.
      s.seed(7, { producerId: 7, producerEpoch: 0, lastSequence: 1, lastBaseOffset: 80, lastRecordCount: 3 });
      expect(s.check(7, 0, INT32_MAX, 3)).to.deep.equal({ kind: 'duplicate', baseOffset: 80, recordCount: 3 });
      expect(s.check(7, 0, 2, 1)).to.deep.equal({ kind: 'append' });
    });
  });
});
