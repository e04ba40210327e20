import { expect } from 'chai';
import type { SchedulerAction, SchedulerLike } from 'rxjs';
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

  it('holds no timer for a partition between its batches, and the next item starts a fresh linger', () => {
    testScheduler.run(({ hot, expectObservable, flush }) => {
      // The test scheduler, counting the timers the operator has running.
      let running = 0;
      const counting: SchedulerLike = {
        now: () => testScheduler.now(),
        schedule: <S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S) => {
          running++;
          const timer = testScheduler.schedule(work, delay, state);
          timer.add(() => running--);
          return timer;
        },
      };
      const source = hot('  -ab-c---------------e----|', values);
      const expected = '    ----xy-----------------z-|';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 3, scheduler: counting }));
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1', 'x2'] },
        y: { key: 'y', items: ['y1'] },
        z: { key: 'x', items: ['x3'] },
      });
      const seen: Record<number, number> = {};
      for (const frame of [3, 10, 21]) testScheduler.schedule(() => (seen[frame] = running), frame);
      flush();
      // two lingering batches at 3; none between batches; one again after e at 20
      expect(seen).to.deep.equal({ 3: 2, 10: 0, 21: 1 });
    });
  });

  it('closes each partition at its own byte limit, keeping its batches in input order', () => {
    testScheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -abcde----|', values);
      const expected = '    ---xyz----(w|)';
      // '…1' items weigh 6 bytes, the others 5; at most 10 bytes a batch.
      const sizeOf = (item: string) => (item.endsWith('1') ? 6 : 5);
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 6, maxBytes: 10, sizeOf, scheduler: testScheduler }));
      expectObservable(result).toBe(expected, {
        x: { key: 'x', items: ['x1'] }, // x2 at 3 would make 11 bytes: x1 goes alone, x2 opens the next batch
        y: { key: 'y', items: ['y1'] }, // likewise y2 at 4
        z: { key: 'x', items: ['x2', 'x3'] }, // exactly 10 bytes at 5: closes at once
        w: { key: 'y', items: ['y2'] }, // lingering until completion
      });
    });
  });

  it('unsubscribes its source when the result is unsubscribed, with batches still open', () => {
    testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-b-c-d-e-f-', values);
      const unsub = '       ^------!';
      const result = source.pipe(batchByPartition({ keyOf, lingerMs: 4, scheduler: testScheduler }));
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

  it('validates its limits when created', () => {
    expect(() => batchByPartition({ keyOf, lingerMs: -1 })).to.throw(InvalidConfigError, 'lingerMs must be a finite number ≥ 0, got -1');
    expect(() => batchByPartition({ keyOf, lingerMs: 1, maxBytes: 10 })).to.throw(
      InvalidConfigError,
      'maxBytes is 10 but no sizeOf was given to measure items',
    );
  });
});
