import { expect } from 'chai';
import { defer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  ProducerIdentity,
  type ProducerIdAndEpoch,
  type SequenceAssignment,
} from '../../../src/client/producer/idempotence.js';
import { DEFAULT_PRODUCER_RETRY } from '../../../src/client/producer/producerOptions.js';
import { Sequencer, type SequencedBatch } from '../../../src/client/producer/sequencer.js';
import {
  AgentUnavailableError,
  InvalidProducerEpochError,
  InvalidRequestError,
  NotLeaderError,
  OutOfOrderSequenceError,
  RecordTooLargeError,
  RequestTimedOutError,
} from '../../../src/protocol/errors.js';

const half = () => 0.5;
const at = (producerEpoch: number, baseSequence: number): SequenceAssignment => ({
  producerId: 7,
  producerEpoch,
  baseSequence,
});

describe('client/producer/Sequencer', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** A sequencer over producer 7 at epoch 0, whose bumps are `bumps` in turn. */
  function sequencerWith(bumps: Observable<ProducerIdAndEpoch>[] = []) {
    let n = 0;
    const identity = new ProducerIdentity(
      { producerId: 7, producerEpoch: 0 },
      {
        bump: () => defer(() => bumps[n++]!),
        retry: DEFAULT_PRODUCER_RETRY,
        scheduler: testScheduler,
        random: half,
      },
    );
    return { identity, sequencer: new Sequencer(identity) };
  }

  /** Joins a batch of `count` records of partition t/0 and stamps it at once. */
  function sent(sequencer: Sequencer, count: number): SequencedBatch {
    const batch: SequencedBatch = { key: 't/0', count };
    sequencer.join(batch);
    let stamp: SequenceAssignment | undefined;
    sequencer.stamp(batch).subscribe((s) => (stamp = s));
    expect(stamp, 'stamped at once').to.not.equal(undefined);
    sequencer.sending(batch);
    return batch;
  }

  it("stamps each partition's batches in order, at once, and keeps a batch's stamp through its retries", () => {
    testScheduler.run(({ expectObservable }) => {
      const { sequencer } = sequencerWith();
      const b1 = sent(sequencer, 3);
      const b2 = sent(sequencer, 2);
      const other: SequencedBatch = { key: 't/1', count: 4 };
      sequencer.join(other);
      expect([b1.sequence, b2.sequence]).to.deep.equal([at(0, 0), at(0, 3)]);
      sequencer.failed(b1, new NotLeaderError('moved'));
      sequencer.failed(b2, new AgentUnavailableError('reset'));
      expectObservable(sequencer.stamp(b1)).toBe('(x|)', { x: at(0, 0) });
      expectObservable(sequencer.stamp(b2)).toBe('(x|)', { x: at(0, 3) });
      expectObservable(sequencer.stamp(other)).toBe('(x|)', { x: at(0, 0) });
    });
  });

  it("gives a batch's sequences back when it failed for good surely unwritten, and it was the last", () => {
    const { sequencer, identity } = sequencerWith();
    const b1 = sent(sequencer, 3);
    sequencer.failed(b1, new NotLeaderError('moved'));
    sequencer.failed(b1, new RecordTooLargeError('too large'));
    sequencer.gaveUp(b1);
    sequencer.leave(b1);
    expect(identity.needsBump).to.equal(false);
    expect(sent(sequencer, 1).sequence).to.deep.equal(at(0, 0));
  });

  for (const [what, settle] of [
    [
      "an attempt's outcome was unknown",
      (s: Sequencer, b: SequencedBatch) => s.failed(b, new RequestTimedOutError('slow')),
    ],
    ['it was given up while an attempt was under way', () => undefined],
    [
      "an earlier attempt's outcome was unknown, a later one refused",
      (s: Sequencer, b: SequencedBatch) => {
        s.failed(b, new AgentUnavailableError('reset'));
        s.sending(b);
        s.failed(b, new NotLeaderError('moved'));
      },
    ],
  ] as const) {
    it(`needs a new epoch when a batch failed for good and ${what}`, () => {
      const { sequencer, identity } = sequencerWith();
      const b1 = sent(sequencer, 3);
      settle(sequencer, b1);
      sequencer.gaveUp(b1);
      expect(identity.needsBump).to.equal(true);
    });
  }

  it('after a failure in doubt: re-sends in-doubt batches as is, re-stamps refused then new ones, new epoch', () => {
    testScheduler.run(({ cold, expectObservable, flush }) => {
      const { sequencer } = sequencerWith([cold('--a|', { a: { producerId: 7, producerEpoch: 1 } })]);
      const b1 = sent(sequencer, 3);
      const b2 = sent(sequencer, 2);
      const b3 = sent(sequencer, 4);
      sequencer.failed(b1, new AgentUnavailableError('reset'));
      sequencer.failed(b3, new AgentUnavailableError('reset'));
      // b1 runs out of time: maybe appended, maybe not.
      sequencer.gaveUp(b1);
      sequencer.leave(b1);
      // b2 was refused (b1 was not appended): it was not appended either.
      sequencer.failed(b2, new OutOfOrderSequenceError('expected 0'));
      const b4: SequencedBatch = { key: 't/0', count: 1 };
      sequencer.join(b4);

      // b3 may have been appended under epoch 0: it goes out as it was, without waiting.
      expectObservable(sequencer.stamp(b3)).toBe('(x|)', { x: at(0, 5) });
      // b2 waits for the new epoch (ready at 2) and is the partition's first batch under it.
      expectObservable(sequencer.stamp(b2)).toBe('--(x|)', { x: at(1, 0) });
      // b4 waits until b3, before it, is settled or re-stamped: here at 10, when the agent refuses b3's old epoch.
      expectObservable(sequencer.stamp(b4)).toBe('10ms (x|)', { x: at(1, 6) });
      testScheduler.schedule(() => {
        sequencer.sending(b3);
        sequencer.failed(b3, new InvalidProducerEpochError('epoch 0 is older than 1'));
        sequencer.stamp(b3).subscribe((s) => expect(s).to.deep.equal(at(1, 2)));
      }, 10);
      flush();
    });
  });

  it("new epoch when the oldest batch's sequence is refused; a later refused one is retried, then re-stamped", () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const { sequencer, identity } = sequencerWith([cold('-a|', { a: { producerId: 7, producerEpoch: 1 } })]);
      const b1 = sent(sequencer, 3);
      const b2 = sent(sequencer, 2);
      // b2 overtook b1: no new epoch for that.
      sequencer.failed(b2, new OutOfOrderSequenceError('expected 0, got 3'));
      expect(identity.needsBump).to.equal(false);
      expectObservable(sequencer.stamp(b2)).toBe('(x|)', { x: at(0, 3) });
      // b1, the oldest, refused: the agent lost the producer's sequence on this partition.
      testScheduler.schedule(() => {
        sequencer.failed(b1, new OutOfOrderSequenceError('expected 40, got 0'));
        sequencer.failed(b2, new OutOfOrderSequenceError('expected 40, got 3'));
        expect(identity.needsBump).to.equal(true);
      }, 5);
      expectObservable(sequencer.stamp(b2), '6ms ^').toBe('7ms (x|)', { x: at(1, 3) });
      expectObservable(sequencer.stamp(b1), '6ms ^').toBe('7ms (x|)', { x: at(1, 0) });
    });
  });

  it('fails a waiting batch with the error of a bump that cannot be had, and lets the next one try again', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const refused = new InvalidRequestError('no');
      const { sequencer } = sequencerWith([
        cold('-#', undefined, refused),
        cold('-a|', { a: { producerId: 8, producerEpoch: 0 } }),
      ]);
      const b1 = sent(sequencer, 3);
      sequencer.failed(b1, new OutOfOrderSequenceError('expected 12'));
      expectObservable(sequencer.stamp(b1)).toBe('-#', undefined, refused);
      expectObservable(sequencer.stamp(b1), '5ms ^').toBe('6ms (x|)', {
        x: { producerId: 8, producerEpoch: 0, baseSequence: 0 },
      });
    });
  });

  it('stops waiting (and bumping) when the waiting batch is unsubscribed, and forgets a batch that left', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const bump = cold<ProducerIdAndEpoch>('-----a|', { a: { producerId: 7, producerEpoch: 1 } });
      const { sequencer } = sequencerWith([bump]);
      const b1 = sent(sequencer, 3);
      sequencer.failed(b1, new OutOfOrderSequenceError('expected 12'));
      expectObservable(sequencer.stamp(b1), '^--!').toBe('---');
      expectSubscriptions(bump.subscriptions).toBe('^--!');
      testScheduler.schedule(() => {
        sequencer.leave(b1);
        expect(sequencer.hasEarlier(b1)).to.equal(false);
      }, 4);
    });
  });
});
