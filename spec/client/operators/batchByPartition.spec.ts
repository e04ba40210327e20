import { expect } from 'chai';
import {
  merge,
  NEVER,
  Subject,
  tap,
  type Observable,
  type OperatorFunction,
  type SchedulerAction,
  type SchedulerLike,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  batchByPartition,
  type BatchBuilder,
  type BuiltPartitionBatch,
  type PartitionBatch,
} from '../../../src/client/operators/batchByPartition.js';
import { InvalidConfigError } from '../../../src/protocol/errors.js';

/** Items are strings whose first letter is their partition: 'x1' belongs to x. */
const values = { a: 'x1', b: 'y1', c: 'x2', d: 'y2', e: 'x3', f: 'y3' };
const keyOf = (item: string) => item[0]!;

/**
 * A batch that keeps no item: only how many it took and their digits, e.g. 'x1' and 'x2' → { added: 2, digits: '12' }.
 */
type Tally = { added: number; digits: string };

/** A builder of {@link Tally} batches that records its calls, e.g. 'create x', 'add x1'. */
function tallyBuilder(): { builder: BatchBuilder<string, string, Tally>; calls: string[] } {
  const calls: string[] = [];
  const builder: BatchBuilder<string, string, Tally> = {
    create: (key) => {
      calls.push(`create ${key}`);
      return { added: 0, digits: '' };
    },
    add: (tally, item) => {
      calls.push(`add ${item}`);
      tally.added++;
      tally.digits += item.slice(1);
    },
  };
  return { builder, calls };
}

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
      const result = source.pipe(
        batchByPartition({ keyOf, lingerMs: 6, maxBytes: 10, sizeOf, scheduler: testScheduler }),
      );
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
    expect(() => batchByPartition({ keyOf, lingerMs: -1 })).to.throw(
      InvalidConfigError,
      'lingerMs must be a finite number ≥ 0, got -1',
    );
    expect(() => batchByPartition({ keyOf, lingerMs: 1, maxBytes: 10 })).to.throw(
      InvalidConfigError,
      'maxBytes is 10 but no sizeOf was given to measure items',
    );
  });

  describe('with a builder', () => {
    it('emits each batch as built, with its count and bytes, calling the builder in input order', () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { builder, calls } = tallyBuilder();
        const source = hot('  -a-bc----d-----|', values);
        const expected = '    -----x-y-----z-|';
        const sizeOf = (item: string) => item.length + 1;
        const result: Observable<BuiltPartitionBatch<string, Tally>> = source.pipe(
          batchByPartition({ keyOf, lingerMs: 4, sizeOf, builder, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', batch: { added: 2, digits: '12' }, count: 2, bytes: 6 },
          y: { key: 'y', batch: { added: 1, digits: '1' }, count: 1, bytes: 3 },
          z: { key: 'y', batch: { added: 1, digits: '2' }, count: 1, bytes: 3 },
        });
        flush();
        expect(calls).to.deep.equal(['create x', 'add x1', 'create y', 'add y1', 'add x2', 'create y', 'add y2']);
      });
    });

    it("closes a built batch at its partition's byte limit, bytes summed by sizeOf", () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const source = hot('  -abcde----|', values);
        const expected = '    ---xyz----(w|)';
        const sizeOf = (item: string) => (item.endsWith('1') ? 6 : 5);
        const { builder } = tallyBuilder();
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 6, maxBytes: 10, sizeOf, builder, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', batch: { added: 1, digits: '1' }, count: 1, bytes: 6 },
          y: { key: 'y', batch: { added: 1, digits: '1' }, count: 1, bytes: 6 },
          z: { key: 'x', batch: { added: 2, digits: '23' }, count: 2, bytes: 10 },
          w: { key: 'y', batch: { added: 1, digits: '2' }, count: 1, bytes: 5 },
        });
      });
    });

    it('closes a built batch at maxCount; bytes are 0 without sizeOf', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const source = hot('  -abc-e---------|', values);
        const expected = '    ---x--y--z-----|';
        const { builder } = tallyBuilder();
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 4, maxCount: 2, builder, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', batch: { added: 2, digits: '12' }, count: 2, bytes: 0 },
          y: { key: 'y', batch: { added: 1, digits: '1' }, count: 1, bytes: 0 },
          z: { key: 'x', batch: { added: 1, digits: '3' }, count: 1, bytes: 0 },
        });
      });
    });

    it('closes built batches on flush$ and on completion', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const source = hot('  -ab-c---|', values);
        const flush = hot('   ---f-----');
        const expected = '    ---(xy)-(z|)';
        const { builder } = tallyBuilder();
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 10, flush$: flush, builder, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', batch: { added: 1, digits: '1' }, count: 1, bytes: 0 },
          y: { key: 'y', batch: { added: 1, digits: '1' }, count: 1, bytes: 0 },
          z: { key: 'x', batch: { added: 1, digits: '2' }, count: 1, bytes: 0 },
        });
      });
    });

    it('fails when create throws, and unsubscribes its source', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const failure = new Error('no batch for y');
        const source = hot('  -ab-c-', values);
        const subs = '        ^-!';
        const builder: BatchBuilder<string, string, string[]> = {
          create: (key) => {
            if (key === 'y') throw failure;
            return [];
          },
          add: (batch, item) => void batch.push(item),
        };
        const result = source.pipe(batchByPartition({ keyOf, lingerMs: 1, builder, scheduler: testScheduler }));
        // x1's batch would close at 2: its timer went with the error.
        expectObservable(result).toBe('--#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('fails when add throws', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const failure = new Error('x2 does not fit');
        const source = hot('  -abc-', values);
        const subs = '        ^--!';
        const builder: BatchBuilder<string, string, string[]> = {
          create: () => [],
          add: (batch, item) => {
            if (item === 'x2') throw failure;
            batch.push(item);
          },
        };
        const result = source.pipe(batchByPartition({ keyOf, lingerMs: 10, builder, scheduler: testScheduler }));
        expectObservable(result).toBe('---#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('is typed by its form: built batches with a builder, item arrays without', () => {
      const { builder } = tallyBuilder();
      // Checked by tsc: the assignments compile only if each form has its precise type.
      const built: OperatorFunction<string, BuiltPartitionBatch<string, Tally>> = batchByPartition({
        keyOf,
        lingerMs: 1,
        builder,
      });
      const arrays: OperatorFunction<string, PartitionBatch<string, string>> = batchByPartition({ keyOf, lingerMs: 1 });
      // @ts-expect-error: without a builder the batches are arrays of items
      const wrong: OperatorFunction<string, BuiltPartitionBatch<string, Tally>> = batchByPartition({
        keyOf,
        lingerMs: 1,
      });
      expect([built, arrays, wrong].every((operator) => typeof operator === 'function')).to.equal(true);
    });
  });

  describe('holding a lingered batch while its partition is busy', () => {
    /** holdWhile that holds `heldKeys` and records when it was asked, e.g. 'x@4'. */
    function holdingRecorder(heldKeys: string[]): { holdWhile: (key: string) => boolean; asked: string[] } {
      const asked: string[] = [];
      const holdWhile = (key: string) => {
        asked.push(`${key}@${testScheduler.now()}`);
        return heldKeys.includes(key);
      };
      return { holdWhile, asked };
    }
    const more = { ...values, g: 'x4' };

    it('keeps a held batch taking items past its linger until release$ emits its key; completion closes it', () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { holdWhile, asked } = holdingRecorder(['x']);
        const source = hot('  -a-c-e----g----|', more);
        const release = hot(' --------x-------', { x: 'x' });
        const expected = '    --------x------(y|)';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 3, holdWhile, release$: release, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', items: ['x1', 'x2', 'x3'] }, // lingered at 4, held until the release at 8
          y: { key: 'x', items: ['x4'] }, // lingered at 13, held until completion
        });
        flush();
        expect(asked).to.deep.equal(['x@4', 'x@13']);
      });
    });

    it('closes a held batch at maxCount, and asks holdWhile only when a linger time is up', () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { holdWhile, asked } = holdingRecorder(['x']);
        const source = hot('  -ac--e-g--|', more);
        const expected = '    -----x----(y|)';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 2, maxCount: 3, holdWhile, release$: NEVER, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', items: ['x1', 'x2', 'x3'] },
          y: { key: 'x', items: ['x4'] },
        });
        flush();
        expect(asked).to.deep.equal(['x@3', 'x@9']);
      });
    });

    it('closes a held batch before an item that would take it over maxBytes', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const { holdWhile } = holdingRecorder(['x']);
        const source = hot('  -ac--e-g---|', more);
        const expected = '    -------x---(y|)';
        const sizeOf = () => 3;
        const result = source.pipe(
          batchByPartition({
            keyOf,
            lingerMs: 2,
            maxBytes: 10,
            sizeOf,
            holdWhile,
            release$: NEVER,
            scheduler: testScheduler,
          }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', items: ['x1', 'x2', 'x3'] }, // 9 bytes; x4 would make 12
          y: { key: 'x', items: ['x4'] },
        });
      });
    });

    it('closes held batches on flush$', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const { holdWhile } = holdingRecorder(['x', 'y']);
        const source = hot('  -ab--------|', values);
        const flush = hot('   -----f------');
        const expected = '    -----(xy)--|';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 1, flush$: flush, holdWhile, release$: NEVER, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, { x: { key: 'x', items: ['x1'] }, y: { key: 'y', items: ['y1'] } });
      });
    });

    it('holds only the busy partition; a release of a partition with nothing held changes nothing', () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { holdWhile, asked } = holdingRecorder(['x']);
        const source = hot('  -ab-c-d----|', values);
        const release = hot(' -----y---x--', { x: 'x', y: 'y' });
        const expected = '    ----y---zx-|';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 2, holdWhile, release$: release, scheduler: testScheduler }),
        );
        expectObservable(result).toBe(expected, {
          y: { key: 'y', items: ['y1'] }, // not held: closes when its linger time is up
          z: { key: 'y', items: ['y2'] }, // the release of y at 5 found no batch of y
          x: { key: 'x', items: ['x1', 'x2'] }, // held from 3 until its release at 9
        });
        flush();
        expect(asked).to.deep.equal(['x@3', 'y@4', 'y@8']);
      });
    });

    it('ignores a release that comes before the linger time is up', () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { holdWhile, asked } = holdingRecorder(['x']);
        const source = hot('  -a-------|', values);
        const release = hot(' --x-----x--', { x: 'x' });
        const expected = '    --------x|';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 4, holdWhile, release$: release, scheduler: testScheduler }),
        );
        // The release at 2 neither closes the lingering batch nor spares it the hold at 5.
        expectObservable(result).toBe(expected, { x: { key: 'x', items: ['x1'] } });
        flush();
        expect(asked).to.deep.equal(['x@5']);
      });
    });

    it('builds a held batch with a builder, counting every item it took', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const { holdWhile } = holdingRecorder(['x']);
        const { builder } = tallyBuilder();
        const source = hot('  -a-c-e-|', values);
        const release = hot(' ------x-', { x: 'x' });
        const expected = '    ------x|';
        const result = source.pipe(
          batchByPartition({
            keyOf,
            lingerMs: 2,
            sizeOf: () => 4,
            builder,
            holdWhile,
            release$: release,
            scheduler: testScheduler,
          }),
        );
        expectObservable(result).toBe(expected, {
          x: { key: 'x', batch: { added: 3, digits: '123' }, count: 3, bytes: 12 },
        });
      });
    });

    it('fails when release$ fails, and unsubscribes its source', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const failure = new Error('in-flight tracking failed');
        const { holdWhile } = holdingRecorder(['x']);
        const source = hot('  -a------', values);
        const release = hot(' ---#', undefined, failure);
        const subs = '        ^--!';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 1, holdWhile, release$: release, scheduler: testScheduler }),
        );
        expectObservable(result).toBe('---#', undefined, failure);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('fails when holdWhile throws', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const failure = new Error('no partition state');
        const holdWhile = (): boolean => {
          throw failure;
        };
        const source = hot('  -a------', values);
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 2, holdWhile, release$: NEVER, scheduler: testScheduler }),
        );
        expectObservable(result).toBe('---#', undefined, failure);
      });
    });

    it('unsubscribes release$ and cancels its timers when the result is unsubscribed', () => {
      testScheduler.run(({ hot, expectObservable, expectSubscriptions, flush }) => {
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
        const { holdWhile } = holdingRecorder(['x']);
        const source = hot('  -a-b------', values);
        const release = hot(' ----------');
        const unsub = '       ^---!';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 2, holdWhile, release$: release, scheduler: counting }),
        );
        expectObservable(result, unsub).toBe('-');
        expectSubscriptions(source.subscriptions).toBe(unsub);
        expectSubscriptions(release.subscriptions).toBe(unsub);
        const seen: Record<number, number> = {};
        for (const frame of [2, 3, 6]) testScheduler.schedule(() => (seen[frame] = running), frame);
        flush();
        // x's timer at 2; y's at 3 (x is held by then, with no timer); none after the unsubscribe at 4
        expect(seen).to.deep.equal({ 2: 1, 3: 1, 6: 0 });
      });
    });

    it("lets a reaction to a released batch push the partition's next item and release again", () => {
      testScheduler.run(({ hot, expectObservable, flush }) => {
        const { holdWhile, asked } = holdingRecorder(['x']);
        const pushed = new Subject<string>();
        const released = new Subject<string>();
        const source = merge(hot('  -a--------|', values), pushed);
        const release = merge(hot(' -----x-----', { x: 'x' }), released);
        const expected = '          -----x----(y|)';
        const result = source.pipe(
          batchByPartition({ keyOf, lingerMs: 2, holdWhile, release$: release, scheduler: testScheduler }),
          tap(({ items }) => {
            if (items[0] !== 'x1') return;
            pushed.next('x2'); // opens x's next batch, lingering until 7
            pushed.complete(); // the only push: the source completes with the hot part
            released.next('x'); // finds that batch not held: ignored
          }),
        );
        expectObservable(result).toBe(expected, { x: { key: 'x', items: ['x1'] }, y: { key: 'x', items: ['x2'] } });
        flush();
        expect(asked).to.deep.equal(['x@3', 'x@7']);
      });
    });

    it('emits a held batch once when a reaction to a flushed batch releases it', () => {
      testScheduler.run(({ hot, expectObservable }) => {
        const { holdWhile } = holdingRecorder(['x', 'y']);
        const released = new Subject<string>();
        const source = hot('  -ab------|', values);
        const flush = hot('   -----f----');
        const expected = '    -----(yx)|';
        const result = source.pipe(
          batchByPartition({
            keyOf,
            lingerMs: 1,
            flush$: flush,
            holdWhile,
            release$: released,
            scheduler: testScheduler,
          }),
          // Reacting to x before passing it on: y comes out first, from within the flush.
          tap(({ key }) => key === 'x' && released.next('y')),
        );
        expectObservable(result).toBe(expected, { x: { key: 'x', items: ['x1'] }, y: { key: 'y', items: ['y1'] } });
      });
    });

    it('needs release$ with holdWhile', () => {
      expect(() => batchByPartition({ keyOf, lingerMs: 1, holdWhile: () => true })).to.throw(
        InvalidConfigError,
        'holdWhile needs release$ to say when a held batch may go; pass both or neither',
      );
    });
  });
});
