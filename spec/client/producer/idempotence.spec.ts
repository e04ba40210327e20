import { expect } from 'chai';
import { defer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ProducerIdentity, type ProducerIdAndEpoch } from '../../../src/client/producer/idempotence.js';
import { DEFAULT_PRODUCER_RETRY } from '../../../src/client/producer/producerOptions.js';
import { AgentUnavailableError, InvalidRequestError } from '../../../src/protocol/errors.js';

const half = () => 0.5;

describe('client/producer/ProducerIdentity', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  /** An identity at producer 7, epoch 0, whose bumps are `attempts` in turn (the last one repeated). */
  function identityWith(attempts: Observable<ProducerIdAndEpoch>[]) {
    const asked: number[] = [];
    let n = 0;
    const identity = new ProducerIdentity(
      { producerId: 7, producerEpoch: 0 },
      {
        bump: (producerId) =>
          defer(() => {
            asked.push(producerId);
            return attempts[Math.min(n++, attempts.length - 1)]!;
          }),
        retry: DEFAULT_PRODUCER_RETRY,
        scheduler: testScheduler,
        random: half,
      },
    );
    const bumps: ProducerIdAndEpoch[] = [];
    identity.bumped$.subscribe((next) => bumps.push(next));
    return { identity, asked, bumps };
  }

  it('is ready at once while no bump is needed', () => {
    testScheduler.run(({ expectObservable }) => {
      const { identity } = identityWith([]);
      expectObservable(identity.ready()).toBe('(x|)', { x: undefined });
    });
  });

  it('retries a failing bump with backoff until it succeeds, one bump for every waiter', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const down = cold<ProducerIdAndEpoch>('-#', undefined, new AgentUnavailableError('connection refused'));
      const up = cold('-a|', { a: { producerId: 7, producerEpoch: 1 } });
      const { identity, asked, bumps } = identityWith([down, down, up]);
      identity.requireBump();
      // fails at 1, waits 100; fails at 102, waits 200; answers at 303.
      expectObservable(identity.ready()).toBe('303ms (x|)', { x: undefined });
      expectObservable(identity.ready(), '50ms ^').toBe('303ms (x|)', { x: undefined });
      flush();
      expectSubscriptions(down.subscriptions).toBe(['^!', '101ms ^!']);
      expectSubscriptions(up.subscriptions).toBe('302ms ^!');
      expect(asked).to.deep.equal([7, 7, 7]);
      expect(bumps).to.deep.equal([{ producerId: 7, producerEpoch: 1 }]);
      expect([identity.id, identity.currentEpoch, identity.needsBump]).to.deep.equal([7, 1, false]);
    });
  });

  it('stops bumping when nobody waits any more, and starts again for the next waiter', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const down = cold<ProducerIdAndEpoch>('-#', undefined, new AgentUnavailableError('connection refused'));
      const up = cold('-a|', { a: { producerId: 7, producerEpoch: 1 } });
      const { identity, bumps } = identityWith([down, down, up]);
      identity.requireBump();
      expectObservable(identity.ready(), '^ 149ms !').toBe('');
      // Nobody waits from 150 to 500: no attempt in between; the bump is still needed.
      expectObservable(identity.ready(), '500ms ^').toBe('500ms -(x|)', { x: undefined });
      flush();
      expectSubscriptions(down.subscriptions).toBe(['^!', '101ms ^!']);
      expectSubscriptions(up.subscriptions).toBe('500ms ^!');
      expect(bumps).to.deep.equal([{ producerId: 7, producerEpoch: 1 }]);
    });
  });

  it('fails the waiters with an error it does not retry, and tries again for the next waiter', () => {
    testScheduler.run(({ cold, expectObservable, flush }) => {
      const refused = new InvalidRequestError('bad producer id');
      const broken = cold<ProducerIdAndEpoch>('-#', undefined, refused);
      const newId = cold('-a|', { a: { producerId: 8, producerEpoch: 0 } });
      const { identity } = identityWith([broken, newId]);
      identity.requireBump();
      expectObservable(identity.ready()).toBe('-#', undefined, refused);
      expectObservable(identity.ready(), '10ms ^').toBe('11ms (x|)', { x: undefined });
      flush();
      expect([identity.id, identity.currentEpoch]).to.deep.equal([8, 0]);
    });
  });

  it('hands out sequences per partition, gives back only the last, and none while a bump is pending', () => {
    testScheduler.run(({ cold, flush }) => {
      const { identity } = identityWith([cold('-a|', { a: { producerId: 9, producerEpoch: 0 } })]);
      const first = identity.assign('t/0', 3);
      const second = identity.assign('t/0', 2);
      expect([first, second, identity.assign('t/1', 1)]).to.deep.equal([
        { producerId: 7, producerEpoch: 0, baseSequence: 0 },
        { producerId: 7, producerEpoch: 0, baseSequence: 3 },
        { producerId: 7, producerEpoch: 0, baseSequence: 0 },
      ]);
      identity.rollBack('t/0', first, 3); // not the last: kept
      expect(identity.assign('t/0', 1).baseSequence).to.equal(5);
      const last = identity.assign('t/0', 4);
      identity.rollBack('t/0', last, 4);
      expect(identity.assign('t/0', 1).baseSequence).to.equal(6);
      expect(() => identity.assign('t/0', 0)).to.throw(InvalidRequestError, 'a batch needs records, got 0');

      identity.requireBump();
      expect([identity.isCurrent(last), identity.sameEpoch(last)]).to.deep.equal([false, true]);
      expect(() => identity.assign('t/0', 1)).to.throw(
        InvalidRequestError,
        'no sequence for t/0 until the producer has a new epoch',
      );
      identity.ready().subscribe();
      flush();
      // A new id: every partition starts again at 0, and what was handed out before is of another epoch.
      expect([identity.assign('t/0', 1), identity.assign('t/1', 1)]).to.deep.equal([
        { producerId: 9, producerEpoch: 0, baseSequence: 0 },
        { producerId: 9, producerEpoch: 0, baseSequence: 0 },
      ]);
      expect(identity.sameEpoch(last)).to.equal(false);
      identity.rollBack('t/1', { producerId: 7, producerEpoch: 0, baseSequence: 0 }, 1);
      expect(identity.assign('t/1', 1).baseSequence).to.equal(1);
    });
  });

  it('wraps sequences at 2^31', () => {
    const identity = new ProducerIdentity(
      { producerId: 1, producerEpoch: 0 },
      { bump: () => [], retry: DEFAULT_PRODUCER_RETRY, scheduler: testScheduler },
    );
    identity.assign('t/0', 2 ** 31 - 2);
    expect(identity.assign('t/0', 3).baseSequence).to.equal(2 ** 31 - 2);
    expect(identity.assign('t/0', 1).baseSequence).to.equal(1);
  });
});
