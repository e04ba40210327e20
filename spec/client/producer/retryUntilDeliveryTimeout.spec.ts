import { expect } from 'chai';
import { catchError, defer, of, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { retryUntilDeliveryTimeout } from '../../../src/client/producer/retryUntilDeliveryTimeout.js';
import { DEFAULT_PRODUCER_RETRY } from '../../../src/client/producer/producerOptions.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/client/retryPolicy.js';
import {
  AgentUnavailableError,
  DeliveryTimeoutError,
  RecordTooLargeError,
  type StreamHouseError,
} from '../../../src/protocol/errors.js';

const half = () => 0.5;
const describeError = (error: unknown) => {
  const e = error as StreamHouseError;
  return { name: e.name, message: e.message, cause: e.cause };
};
const errorsAsValues = <T>(source: Observable<T>) => source.pipe(catchError((e: unknown) => of(describeError(e))));
const timeoutError = (cause: unknown) => new DeliveryTimeoutError('not acknowledged within 5000 ms', { cause });

describe('client/producer/retryUntilDeliveryTimeout', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  // Attempt n is subscribed at S(n) and fails 1 ms later; then it waits 100, 200, 400, 800, then 1000 ms each time:
  // 0, 101, 302, 703, 1504, 2505, 3506, 4507, 5508, 6509, 7510, 8511, 9512.
  const subscribedAt = [0, 101, 302, 703, 1504, 2505, 3506, 4507, 5508, 6509, 7510, 8511, 9512];

  it('rides out an outage longer than the old ten-retry budget with the producer defaults', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const unavailable = new AgentUnavailableError('connection refused');
      const down = cold('-#', undefined, unavailable);
      const up = cold('-a|', { a: 42 });
      let attempts = 0;
      const source = defer(() => (++attempts <= 12 ? down : up));
      const result = source.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_PRODUCER_RETRY,
          timeoutMs: 120_000,
          timeoutError,
          scheduler: testScheduler,
          random: half,
        }),
      );
      expectObservable(result).toBe('9513ms a|', { a: 42 });
      expectSubscriptions(down.subscriptions).toBe(subscribedAt.slice(0, 12).map((t) => `${t}ms ^!`));
      expectSubscriptions(up.subscriptions).toBe('9512ms ^-!');
    });
  });

  it('where ten retries (the old default) gave up after 7.5 s', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const unavailable = new AgentUnavailableError('connection refused');
      const down = cold('-#', undefined, unavailable);
      const result = down.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_RETRY_POLICY,
          timeoutMs: 120_000,
          timeoutError,
          scheduler: testScheduler,
          random: half,
        }),
      );
      expectObservable(errorsAsValues(result)).toBe('7511ms (x|)', {
        x: {
          name: 'RetriesExhaustedError',
          message: 'gave up after 11 attempts (10 retries): connection refused',
          cause: unavailable,
        },
      });
    });
  });

  it('fails at the delivery timeout with the last failure as cause, cancelling the backoff under way', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const unavailable = new AgentUnavailableError('connection refused');
      const down = cold('-#', undefined, unavailable);
      const result = down.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_PRODUCER_RETRY,
          timeoutMs: 5000,
          timeoutError,
          scheduler: testScheduler,
          random: half,
        }),
      );
      expectObservable(errorsAsValues(result)).toBe('5000ms (x|)', {
        x: { name: 'DeliveryTimeoutError', message: 'not acknowledged within 5000 ms', cause: unavailable },
      });
      // The eighth attempt fails at 4508; its wait (until 5508) is cut at 5000.
      expectSubscriptions(down.subscriptions).toBe(subscribedAt.slice(0, 8).map((t) => `${t}ms ^!`));
    });
  });

  it('ends an attempt still under way at the delivery timeout', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold('-');
      const result = silent.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_PRODUCER_RETRY,
          timeoutMs: 300,
          timeoutError,
          scheduler: testScheduler,
        }),
      );
      expectObservable(errorsAsValues(result)).toBe('300ms (x|)', {
        x: { name: 'DeliveryTimeoutError', message: 'not acknowledged within 5000 ms', cause: undefined },
      });
      expectSubscriptions(silent.subscriptions).toBe('^ 299ms !');
    });
  });

  it('passes a non-retriable error through at once', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const tooLarge = new RecordTooLargeError('batch of 2 MiB over max.message.bytes');
      const refused = cold('--#', undefined, tooLarge);
      const result = refused.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_PRODUCER_RETRY,
          timeoutMs: 5000,
          timeoutError,
          scheduler: testScheduler,
        }),
      );
      expectObservable(result).toBe('--#', undefined, tooLarge);
      expectSubscriptions(refused.subscriptions).toBe('^-!');
    });
  });

  it('cancels the wait and the timeout when unsubscribed', () => {
    testScheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const down = cold('-#', undefined, new AgentUnavailableError('connection refused'));
      const result = down.pipe(
        retryUntilDeliveryTimeout({
          policy: DEFAULT_PRODUCER_RETRY,
          timeoutMs: 5000,
          timeoutError,
          scheduler: testScheduler,
          random: half,
        }),
      );
      expectObservable(result, '^ 149ms !').toBe('');
      expectSubscriptions(down.subscriptions).toBe(['^!', '101ms ^!']);
    });
  });
});
