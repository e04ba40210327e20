/** Idempotent-producer bookkeeping of one partition (pure, no stores). */
import { expect } from 'chai';
import { nextSequence, ProducerSequences, RECENT_BATCHES } from '../../../src/agent/write/producerSequences.js';
import { InvalidProducerEpochError, OutOfOrderSequenceError } from '../../../src/protocol/errors.js';

const INT32_MAX = 2 ** 31 - 1;

describe('producer sequences', () => {
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
      expect(() => s.check(7, 0, 5, 3)).to.throw(
        OutOfOrderSequenceError,
        'producer 7 epoch 0 must start at sequence 0 on this partition, got 5',
      );
      expect(s.state(7)).to.equal(undefined);
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
      expect(s.check(7, 2, 5 + RECENT_BATCHES - 1, 1)).to.deep.equal({
        kind: 'duplicate',
        baseOffset: 200 + RECENT_BATCHES - 1,
        recordCount: 1,
      });
    });

    it('fences older epochs and makes a newer epoch start over at 0', () => {
      expect(() => s.check(7, 1, 5, 1)).to.throw(InvalidProducerEpochError, 'producer 7 epoch 1 is older than 2');
      expect(() => s.check(7, 3, 5, 1)).to.throw(
        OutOfOrderSequenceError,
        'producer 7 epoch 3 must start at sequence 0 on this partition, got 5',
      );
      expect(s.check(7, 3, 0, 1)).to.deep.equal({ kind: 'append' });
      s.record(7, 3, 0, 1, 120);
      expect(s.state(7)).to.deep.equal({
        producerId: 7,
        producerEpoch: 3,
        lastSequence: 0,
        lastBaseOffset: 120,
        lastRecordCount: 1,
      });
      expect(() => s.check(7, 3, 3, 2)).to.throw(OutOfOrderSequenceError); // the old epoch's batches are forgotten
    });

    it('states the recent batches as they are committed with a segment, the last in the last* fields', () => {
      expect(s.state(7)).to.deep.equal({
        producerId: 7,
        producerEpoch: 2,
        lastSequence: 4,
        lastBaseOffset: 110,
        lastRecordCount: 2,
        earlierBatches: [{ lastSequence: 2, baseOffset: 100, recordCount: 3 }],
      });
      for (let i = 0; i < RECENT_BATCHES; i++) s.record(7, 2, 5 + i, 1, 200 + i);
      expect(s.state(7)).to.deep.equal({
        producerId: 7,
        producerEpoch: 2,
        lastSequence: 9,
        lastBaseOffset: 204,
        lastRecordCount: 1,
        earlierBatches: [0, 1, 2, 3].map((i) => ({ lastSequence: 5 + i, baseOffset: 200 + i, recordCount: 1 })),
      });
      expect(s.state(8)).to.equal(undefined);
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
      expect(s.state(7)!.lastSequence).to.equal(11);
    });

    it(`recognises a retry of each of the ${RECENT_BATCHES} committed batches, and states them back as seeded`, () => {
      const s = new ProducerSequences();
      const stored = {
        producerId: 7,
        producerEpoch: 1,
        lastSequence: 10,
        lastBaseOffset: 60,
        lastRecordCount: 2,
        earlierBatches: [
          { lastSequence: 1, baseOffset: 40, recordCount: 2 },
          { lastSequence: 4, baseOffset: 45, recordCount: 3 },
          { lastSequence: 5, baseOffset: 50, recordCount: 1 },
          { lastSequence: 8, baseOffset: 55, recordCount: 3 },
        ],
      };
      s.seed(7, stored);
      const retries: [number, number][] = [
        [0, 2],
        [2, 3],
        [5, 1],
        [6, 3],
        [9, 2],
      ];
      expect(retries.map(([sequence, count]) => s.check(7, 1, sequence, count))).to.deep.equal(
        [
          [40, 2],
          [45, 3],
          [50, 1],
          [55, 3],
          [60, 2],
        ].map(([baseOffset, recordCount]) => ({ kind: 'duplicate', baseOffset, recordCount })),
      );
      expect(s.state(7)).to.deep.equal(stored);
      expect(s.check(7, 1, 11, 1)).to.deep.equal({ kind: 'append' });
    });

    it('handles a last batch whose sequences wrapped past int32 max', () => {
      const s = new ProducerSequences();
      // Three records with sequences INT32_MAX, 0, 1.
      s.seed(7, { producerId: 7, producerEpoch: 0, lastSequence: 1, lastBaseOffset: 80, lastRecordCount: 3 });
      expect(s.check(7, 0, INT32_MAX, 3)).to.deep.equal({ kind: 'duplicate', baseOffset: 80, recordCount: 3 });
      expect(s.check(7, 0, 2, 1)).to.deep.equal({ kind: 'append' });
    });
  });

  describe('expiry', () => {
    it('forgets a producer idle past the expiration, keeping the others, and remembers it again when seeded', () => {
      let now = 1_000;
      const s = new ProducerSequences(() => now, 500);
      s.record(1, 0, 0, 1, 0);
      now = 1_200;
      s.record(2, 0, 0, 1, 1);
      s.seed(3, undefined);
      now = 1_500; // 1 idle for exactly 500 ms: kept
      s.record(2, 0, 1, 1, 2);
      expect([s.has(1), s.has(2), s.has(3), s.size]).to.deep.equal([true, true, true, 3]);
      now = 1_701; // 1 idle 701 ms, 3 idle 501 ms; 2 used 201 ms ago
      s.record(2, 0, 2, 1, 3);
      expect([s.has(1), s.has(2), s.has(3), s.size]).to.deep.equal([false, true, false, 1]);
      // Forgotten, producer 1 must start over at sequence 0 unless the store still knows it.
      expect(() => s.check(1, 0, 1, 1)).to.throw(OutOfOrderSequenceError);
      s.seed(1, { producerId: 1, producerEpoch: 0, lastSequence: 0, lastBaseOffset: 0, lastRecordCount: 1 });
      expect(s.check(1, 0, 1, 1)).to.deep.equal({ kind: 'append' });
    });

    it('stays bounded when a stream of distinct producers each writes once', () => {
      let now = 0;
      const s = new ProducerSequences(() => now, 100);
      for (let id = 1; id <= 10_000; id++) {
        now = id;
        s.record(id, 0, 0, 1, id);
      }
      expect(s.size).to.equal(101);
    });
  });
});
