import { expect } from 'chai';
import { TestScheduler } from 'rxjs/testing';
import { batchByPartition } from '../../../src/client/operators/batchByPartition.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

/** Items are strings whose first letter is their partition: 'x1' belongs to x. */
const values = { a: 'x1', b: 'y1', c: 'x2', d: 'y2', e: 'x3', f: 'y3' };
const keyOf = (item: string) => item[0]!;

describe('client/operators/batchByPartition', () => {
  let testScheduler: TestScheduler;
  beforeEach(() => {
    testScheduler = new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    });
  });

  it('batches interleaved partitions independently, each timer from its own first item', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-bc----d-----|', values);
      const subs = '        ^--------------!';
      const expected = '    -----x-y-----z-|';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 4, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1', 'x2'] },
        y: { key: 'y', items: ['y1'] },
        z: { key: 'y', items: ['y2'] },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('applies maxCount per partition', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -abc-e---------|', values);
      const expected = '    ---x--y--z-----|';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 4, maxCount: 2, scheduler: testScheduler }));
      // x reaches 2 items at 3; y1 (from 2) lingers until 6; x3 (from 5) until 9.
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1', 'x2'] },
        y: { key: 'y', items: ['y1'] },
        z: { key: 'x', items: ['x3'] },
      });
    });
  });

  it('flushes every partition when flush$ emits', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -ab------------|', values);
      const flush = hot('   ---f-----------');
      const expected = '    ---(xy)--------|';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 10, flush$: flush, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1'] },
        y: { key: 'y', items: ['y1'] },
      });
    });
  });

  it('flushes every partition on completion', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -abc-|', values);
      const expected = '    -----(xy|)';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 10, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1', 'x2'] },
        y: { key: 'y', items: ['y1'] },
      });
    });
  });

  it('ends a partition group after idleMs without items and starts a new one on its next item', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      // Every group's linger subscribes flush$ for as long as the group lives.
      const source = hot('  -ab-c---------------e----|', values);
      const flush = hot('   --------------------------');
      const groups = [
        '                   -^------------!', //          x: items at 1 and 4, idle from 14
        '                   --^---------!', //            y: item at 2, idle from 12
        '                   --------------------^----!', // x again at 20, until completion
      ];
      const expected = '    ----xy-----------------z-|';
      const result = source.pipe(
        batchByPartition({ keyOf, lingerMs: 3, idleMs: 10, flush$: flush, scheduler: testScheduler }),
      );
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1', 'x2'] },
        y: { key: 'y', items: ['y1'] },
        z: { key: 'x', items: ['x3'] },
      });
      expectSubscriptions(flush.subscriptions).toBe(groups);
    });
  });

  it('unsubscribes its source when the result is unsubscribed, with groups still live', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-b-c-d-e-f-', values);
      const unsub = '       ^------!';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 4, idleMs: 100, scheduler: testScheduler }));
      expectObservable(result, unsub).toBe('-----x-', { x: { key: 'x', items: ['x1', 'x2'] } });
      expectSubscriptions(source.subscriptions).toBe(unsub);
    });
  });

  it('forwards an error and drops the pending batches', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const failure = new Error('records failed');
      const source = hot('  -ab-#', values, failure);
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 10, scheduler: testScheduler }));
      expectObservable(result).toBe('----#', undefined, failure);
    });
  });

  it('refuses an idleMs shorter than lingerMs', () => {
    expect(() => batchByPartition({ keyOf, lingerMs: 50, idleMs: 10 })).to.throw(
      InvalidConfigError,
      'idleMs must be a finite number ≥ lingerMs (50), got 10',
    );
    expect(() => batchByPartition({ keyOf, lingerMs: -1 })).to.throw(InvalidConfigError, 'lingerMs must be');
  });
});
