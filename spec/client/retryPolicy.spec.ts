import { expect } from 'chai';
import { catchError, defer, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  retryPolicy,
  retryWithBackoff,
  type RetryEvent,
} from '../../src/client/retryPolicy.js';
import {
  CorruptMessageError,
  InvalidConfigError,
  InvalidRequestError,
  NotLeaderError,
  type StreamHouseError,
} from '../../src/protocol/errors.js';

const half = () => 0.5;
/** Errors as plain data, so a marble diagram can show the exact error. */
const describeError = (error: unknown) => {
  const e = error as StreamHouseError;
  return { name: e.name, code: e.code, message: e.message, cause: e.cause, context: e.context };
};
const errorsAsValues = <T>(source: Observable<T>) => source.pipe(catchError((e: unknown) => of(describeError(e))));

describe('client/retryPolicy', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  describe('backoffDelay', () => {
    it('doubles from 100 ms up to the 1000 ms cap with the default policy', () => {
      const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(attempt, DEFAULT_RETRY_POLICY, half));
      expect(delays).to.deep.equal([100, 200, 400, 800, 1000, 1000, 1000]);
    });

    it('spreads each delay by ±20 % and never exceeds the cap', () => {
      const low = [1, 2, 3, 4, 5].map((a) => backoffDelay(a, DEFAULT_RETRY_POLICY, () => 0));
      const high = [1, 2, 3, 4, 5].map((a) => backoffDelay(a, DEFAULT_RETRY_POLICY, () => 0.9999));
      const quarter = [1, 2].map((a) => backoffDelay(a, DEFAULT_RETRY_POLICY, () => 0.25));
      expect(low).to.deep.equal([80, 160, 320, 640, 800]);
      expect(high).to.deep.equal([120, 240, 480, 960, 1000]);
      expect(quarter).to.deep.equal([90, 180]);
    });

    it('follows a custom multiplier and ignores random without jitter', () => {
      const policy = retryPolicy({ initialBackoffMs: 50, maxBackoffMs: 10_000, multiplier: 3, jitter: 0 });
      expect([1, 2, 3, 4].map((a) => backoffDelay(a, policy, () => 0))).to.deep.equal([50, 150, 450, 1350]);
    });

    it('stays finite for huge attempt numbers and a zero initial backoff', () => {
      expect(backoffDelay(5000, DEFAULT_RETRY_POLICY, half)).to.equal(1000);
      expect(backoffDelay(5000, retryPolicy({ initialBackoffMs: 0 }), half)).to.equal(0);
    });

    it('rejects attempts below 1', () => {
      expect(() => backoffDelay(0, DEFAULT_RETRY_POLICY)).to.throw(
        InvalidRequestError,
        'backoff attempt must be an integer ≥ 1, got 0',
      );
    });
  });

  describe('retryPolicy', () => {
    it('fills in the documented defaults', () => {
      expect(retryPolicy()).to.deep.equal({
        maxRetries: 10,
        initialBackoffMs: 100,
        maxBackoffMs: 1000,
        multiplier: 2,
        jitter: 0.2,
      });
      expect(retryPolicy({ maxRetries: Infinity, jitter: undefined }).maxRetries).to.equal(Infinity);
    });

    it('says which field to fix', () => {
      const cases: [Partial<typeof DEFAULT_RETRY_POLICY>, string][] = [
        [{ maxRetries: -1 }, 'retry maxRetries must be a non-negative integer or Infinity, got -1'],
        [{ maxRetries: 1.5 }, 'retry maxRetries must be a non-negative integer or Infinity, got 1.5'],
        [{ initialBackoffMs: -5 }, 'retry initialBackoffMs must be a finite number ≥ 0, got -5'],
        [{ maxBackoffMs: 50 }, 'retry maxBackoffMs must be finite and ≥ initialBackoffMs (100), got 50'],
        [{ multiplier: 0.5 }, 'retry multiplier must be a finite number ≥ 1, got 0.5'],
        [{ jitter: 1.5 }, 'retry jitter must be between 0 and 1, got 1.5'],
        [{ jitter: Number.NaN }, 'retry jitter must be between 0 and 1, got NaN'],
      ];
      for (const [overrides, message] of cases)
        expect(() => retryPolicy(overrides)).to.throw(InvalidConfigError, message);
    });
  });

  describe('retryWithBackoff', () => {
    const policy = { maxRetries: 3, initialBackoffMs: 10, maxBackoffMs: 40, multiplier: 2, jitter: 0.2 };

    it('waits exactly the backoff between attempts, then gives up with RetriesExhaustedError', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const notLeader = new NotLeaderError('agent-2 does not lead orders/1', {
          context: { topic: 'orders', partition: 1 },
        });
        const source = cold('-#', undefined, notLeader);
        const events: RetryEvent[] = [];
        const result = source.pipe(
          retryWithBackoff(policy, { scheduler: testScheduler, random: half, onRetry: (e) => events.push(e) }),
        );
        // attempt 1 fails at 1 → +10 → attempt 2 at 11 fails at 12 → +20 → 32..33 → +40 → 73..74.
        expectObservable(errorsAsValues(result)).toBe('74ms (x|)', {
          x: {
            name: 'RetriesExhaustedError',
            code: 'RETRIES_EXHAUSTED',
            message: 'gave up after 4 attempts (3 retries): agent-2 does not lead orders/1',
            cause: notLeader,
            context: { topic: 'orders', partition: 1 },
          },
        });
        expectSubscriptions(source.subscriptions).toBe(['^!', '11ms ^!', '32ms ^!', '73ms ^!']);
        testScheduler.flush();
        expect(events).to.deep.equal([
          { attempt: 1, delayMs: 10, error: notLeader },
          { attempt: 2, delayMs: 20, error: notLeader },
          { attempt: 3, delayMs: 40, error: notLeader },
        ]);
      });
    });

    it('emits what a later attempt emits once an attempt succeeds', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const failure = cold('-#', undefined, new NotLeaderError('moved'));
        const success = cold('--a|', { a: 'offset 42' });
        let attempts = 0;
        const source = defer(() => (++attempts <= 2 ? failure : success));
        const result = source.pipe(retryWithBackoff(policy, { scheduler: testScheduler, random: half }));
        // fails at 1 → +10 → fails at 12 → +20 → subscribed at 32, a at 34.
        expectObservable(result).toBe('34ms a|', { a: 'offset 42' });
        expectSubscriptions(failure.subscriptions).toBe(['^!', '11ms ^!']);
        expectSubscriptions(success.subscriptions).toBe('32ms ^--!');
      });
    });

    it('applies jitter from the injected random source', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const moved = new NotLeaderError('moved');
        const source = cold('#', undefined, moved);
        const result = source.pipe(
          retryWithBackoff({ ...policy, maxRetries: 2 }, { scheduler: testScheduler, random: () => 0 }),
        );
        // factor 0.8: waits 8 then 16.
        expectObservable(errorsAsValues(result)).toBe('24ms (x|)', {
          x: {
            name: 'RetriesExhaustedError',
            code: 'RETRIES_EXHAUSTED',
            message: 'gave up after 3 attempts (2 retries): moved',
            cause: moved,
            context: {},
          },
        });
        expectSubscriptions(source.subscriptions).toBe(['(^!)', '8ms (^!)', '24ms (^!)']);
      });
    });

    it('passes a non-retriable error through at once, unchanged', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const corrupt = new CorruptMessageError('bad crc');
        const source = cold('--#', undefined, corrupt);
        const result = source.pipe(retryWithBackoff(policy, { scheduler: testScheduler, random: half }));
        expectObservable(result).toBe('--#', undefined, corrupt);
        expectSubscriptions(source.subscriptions).toBe('^-!');
      });
    });

    it('never retries TypeError or RangeError, even when isRetriable says yes', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const typeError = new TypeError('x is undefined');
        const rangeError = new RangeError('offset out of bounds');
        const options = { scheduler: testScheduler, random: half, isRetriable: () => true };
        expectObservable(cold('-#', undefined, typeError).pipe(retryWithBackoff(policy, options))).toBe(
          '-#',
          undefined,
          typeError,
        );
        expectObservable(cold('-#', undefined, rangeError).pipe(retryWithBackoff(policy, options))).toBe(
          '-#',
          undefined,
          rangeError,
        );
      });
    });

    it('uses a custom isRetriable for other errors', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const flaky = new Error('flaky');
        const source = cold('-#', undefined, flaky);
        const result = source.pipe(
          retryWithBackoff(
            { ...policy, maxRetries: 1 },
            { scheduler: testScheduler, random: half, isRetriable: (e) => (e as Error).message === 'flaky' },
          ),
        );
        expectObservable(errorsAsValues(result)).toBe('12ms (x|)', {
          x: {
            name: 'RetriesExhaustedError',
            code: 'RETRIES_EXHAUSTED',
            message: 'gave up after 2 attempts (1 retry): flaky',
            cause: flaky,
            context: {},
          },
        });
        expectSubscriptions(source.subscriptions).toBe(['^!', '11ms ^!']);
      });
    });

    it('with maxRetries 0 fails a retriable error as exhausted after one attempt', () => {
      testScheduler.run(({ cold, expectObservable }) => {
        const unavailable = new NotLeaderError('gone');
        const result = cold('---#', undefined, unavailable).pipe(
          retryWithBackoff({ maxRetries: 0 }, { scheduler: testScheduler }),
        );
        expectObservable(errorsAsValues(result)).toBe('---(x|)', {
          x: {
            name: 'RetriesExhaustedError',
            code: 'RETRIES_EXHAUSTED',
            message: 'gave up after 1 attempt (0 retries): gone',
            cause: unavailable,
            context: {},
          },
        });
      });
    });

    it('cancels the backoff timer when unsubscribed while waiting', () => {
      testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-#', undefined, new NotLeaderError('moved'));
        const result = source.pipe(retryWithBackoff(policy, { scheduler: testScheduler, random: half }));
        expectObservable(result, '^----!').toBe('------');
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('validates the policy when the operator is created', () => {
      expect(() => retryWithBackoff({ multiplier: 0 })).to.throw(
        InvalidConfigError,
        'retry multiplier must be a finite number ≥ 1, got 0',
      );
    });
  });
});
