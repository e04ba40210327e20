import { expect } from 'chai';
import { from, of, range, toArray, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { sendBatches } from '../../../src/client/operators/sendBatches.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

/** Batches are ids whose first letter is their partition: 'x1' belongs to x. */
const batches = { a: 'x1', b: 'y1', c: 'x2', d: 'y2', e: 'z1' };
const keyOf = (batch: string) => batch[0]!;

describe('client/operators/sendBatches', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('keeps results in order within a partition while partitions run concurrently', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('     -abcd|', batches);
      const sends: Record<string, ReturnType<typeof cold<string>>> = {
        x1: cold('             -----(r|)', { r: 'ack x1' }), // slow
        y1: cold('             -(r|)', { r: 'ack y1' }),
        x2: cold('             -(r|)', { r: 'ack x2' }), // fast, but must wait for x1
        y2: cold('             ---(r|)', { r: 'ack y2' }),
      };
      const expected = '       ---y--x(YX|)';
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]!, maxConcurrency: 4 }));
      expectObservable(result).toBe(expected, { x: 'ack x1', y: 'ack y1', X: 'ack x2', Y: 'ack y2' });
      expectSubscriptions(sends.x1!.subscriptions).toBe('-^----!');
      expectSubscriptions(sends.x2!.subscriptions).toBe('------^!'); // only after x1 completed at 6
      expectSubscriptions(sends.y1!.subscriptions).toBe('--^!');
      expectSubscriptions(sends.y2!.subscriptions).toBe('----^--!'); // y is free again at 4
    });
  });

  it('with several sends in flight per partition still emits their results in order', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('     -a-c--|', batches);
      const x1 = cold('        -----(r|)', { r: 'ack x1' });
      const x2 = cold('          -(r|)', { r: 'ack x2' });
      const expected = '       ------(yz|)';
      const sends: Record<string, Observable<string>> = { x1, x2 };
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]!, maxInFlightPerPartition: 2 }));
      // x2 finishes at 4, before x1 (6): its ack is held back until x1's is out.
      expectObservable(result).toBe(expected, { y: 'ack x1', z: 'ack x2' });
      expectSubscriptions(x1.subscriptions).toBe('-^----!');
      expectSubscriptions(x2.subscriptions).toBe('---^!');
    });
  });

  it('counts a send that completed behind an earlier one until that one completes', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('     -acf--|', { ...batches, f: 'x3' });
      const x1 = cold('        ------(r|)', { r: 'ack x1' });
      const x2 = cold('         -(r|)', { r: 'ack x2' });
      const x3 = cold('               ----(r|)', { r: 'ack x3' });
      const sends: Record<string, Observable<string>> = { x1, x2, x3 };
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]!, maxInFlightPerPartition: 2 }));
      expectObservable(result).toBe('-------(yz)(u|)', { y: 'ack x1', z: 'ack x2', u: 'ack x3' });
      // x2 is done at 3, but x1 is not: the partition's two unsettled sends span x1..x2, so x3 waits for x1 (7).
      expectSubscriptions(x3.subscriptions).toBe('-------^---!');
    });
  });

  it('bounds the sends running at once across partitions', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('     -(abe)|', batches);
      const x1 = cold('        ---(r|)', { r: 'ack x1' });
      const y1 = cold('        ---(r|)', { r: 'ack y1' });
      const z1 = cold('        -----(r|)', { r: 'ack z1' });
      const expected = '       ----(xy)-(z|)';
      const sends: Record<string, Observable<string>> = { x1, y1, z1 };
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]!, maxConcurrency: 2 }));
      expectObservable(result).toBe(expected, { x: 'ack x1', y: 'ack y1', z: 'ack z1' });
      expectSubscriptions(z1.subscriptions).toBe('----^----!'); // waits for a free slot at 4
    });
  });

  it('runs synchronous sends one after another in arrival order', () => {
    const started: string[] = [];
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('     -(acb)|', batches);
      const send = (batch: string) => {
        started.push(`${testScheduler.now()} ${batch}`);
        return of(`ack ${batch}`);
      };
      const result = source.pipe(sendBatches({ keyOf, send, maxConcurrency: 1 }));
      expectObservable(result).toBe('-(xyz)|', { x: 'ack x1', y: 'ack x2', z: 'ack y1' });
    });
    // Synchronous sends: each one completes before the next batch arrives.
    expect(started).to.deep.equal(['1 x1', '1 x2', '1 y1']);
  });

  it('lets a waiting partition go before a busy partition sends again', () => {
    const started: string[] = [];
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('     -(acb)|', batches);
      const slow = (ack: string) => cold('--(r|)', { r: ack });
      const send = (batch: string) => {
        started.push(`${testScheduler.now()} ${batch}`);
        return slow(`ack ${batch}`);
      };
      const result = source.pipe(sendBatches({ keyOf, send, maxConcurrency: 1 }));
      // x1 runs 1..3; then y1 (waiting since 1) before x2; then x2 at 5..7.
      expectObservable(result).toBe('---x-y-(z|)', { x: 'ack x1', y: 'ack y1', z: 'ack x2' });
    });
    expect(started).to.deep.equal(['1 x1', '3 y1', '5 x2']);
  });

  it('waits for running sends before completing', () => {
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const source = hot('     -a|', batches);
      const x1 = cold('        ------(r|)', { r: 'ack x1' });
      const result = source.pipe(sendBatches({ keyOf, send: () => x1 }));
      expectObservable(result).toBe('-------(r|)', { r: 'ack x1' });
    });
  });

  it('fails on the first send error and cancels the other running sends', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('agent refused');
      const source = hot('     -ab---|', batches);
      const x1 = cold('        -----(r|)', { r: 'ack x1' });
      const y1 = cold('        --#', undefined, failure);
      const sends: Record<string, Observable<string>> = { x1, y1 };
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]! }));
      expectObservable(result).toBe('----#', undefined, failure);
      expectSubscriptions(x1.subscriptions).toBe('-^--!');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('cancels running sends when unsubscribed', () => {
    testScheduler.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = hot('     -a-c---', batches);
      const x1 = cold('        -----(r|)', { r: 'ack x1' });
      const x2 = cold('        -(r|)', { r: 'ack x2' });
      const sends: Record<string, Observable<string>> = { x1, x2 };
      const unsub = '          ^--!';
      const result = source.pipe(sendBatches({ keyOf, send: (b) => sends[b]! }));
      expectObservable(result, unsub).toBe('-------');
      expectSubscriptions(x1.subscriptions).toBe('-^-!');
      expectSubscriptions(x2.subscriptions).toBe([]);
      expectSubscriptions(source.subscriptions).toBe(unsub);
    });
  });

  it('forwards a source error', () => {
    testScheduler.run(({ hot, cold, expectObservable }) => {
      const failure = new Error('batching failed');
      const source = hot('     -a-#', batches, failure);
      const result = source.pipe(sendBatches({ keyOf, send: () => cold('-----(r|)', { r: 'ack' }) }));
      expectObservable(result).toBe('---#', undefined, failure);
    });
  });

  it('fails when keyOf or send throws', () => {
    testScheduler.run(({ cold, expectObservable }) => {
      const keyFailure = new TypeError('no key');
      const sendFailure = new TypeError('cannot encode');
      const badKey = cold('-a|', batches).pipe(
        sendBatches({
          keyOf: () => {
            throw keyFailure;
          },
          send: (b: string) => of(b),
        }),
      );
      const badSend = cold('-a|', batches).pipe(
        sendBatches({
          keyOf,
          send: (): Observable<string> => {
            throw sendFailure;
          },
        }),
      );
      expectObservable(badKey).toBe('-#', undefined, keyFailure);
      expectObservable(badSend).toBe('-#', undefined, sendFailure);
    });
  });

  it('handles many synchronous sends in order without growing the stack', async () => {
    const acks = await new Promise<number[]>((resolve, reject) =>
      range(0, 20_000)
        .pipe(sendBatches({ keyOf: (n: number) => n % 7, send: (n) => from([n]), maxConcurrency: 3 }), toArray())
        .subscribe({ next: resolve, error: reject }),
    );
    expect(acks).to.have.length(20_000);
    expect(acks.every((n, i) => n === i)).to.equal(true);
  });

  it('validates its limits', () => {
    const send = (b: string) => of(b);
    expect(() => sendBatches({ keyOf, send, maxConcurrency: 0 })).to.throw(
      InvalidConfigError,
      'maxConcurrency must be an integer ≥ 1 or Infinity, got 0',
    );
    expect(() => sendBatches({ keyOf, send, maxInFlightPerPartition: 1.5 })).to.throw(
      InvalidConfigError,
      'maxInFlightPerPartition must be an integer ≥ 1 or Infinity, got 1.5',
    );
  });
});
